"""shadow-report: a shadow variant's answers beside the production variant's, on the same requests.

The two variants' capture records carry one eventId per request (the local endpoint service
gives both the same; on AWS, SageMaker's shadow tests do). Paired by it, row by row: how often
the two labels agree (each model at its own threshold), how far the probabilities move, the share
of employees each flags as likely to leave, overall and per group of the audited columns (when
the requests name their columns: JSON records, or CSV with a header row). Promote when enough
requests were compared, the labels agree often enough and no group's flag rate moves further
than allowed beyond the noise of its size (paired, Bonferroni over the groups, as the gate judges
bias); otherwise keep the production model, saying why. The verdict goes to the audit trail.
"""

import csv
import datetime
import io
import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

from . import audit
from .aws import Runner
from .options import ShadowReport


@dataclass(frozen=True)
class Row:
    """One employee of a request, as both variants answered."""

    columns: dict[str, str]
    production: tuple[float, bool]  # probability, flagged (label "Yes")
    shadow: tuple[float, bool]


@dataclass(frozen=True)
class Limits:
    min_pairs: int
    min_agreement: float
    max_group_shift: float
    facets: tuple[str, ...]


def records(source: str, variant: str, aws: Runner) -> dict[str, dict]:
    """eventId -> capture record of one variant, from a folder or an s3:// prefix (the endpoint's)."""
    texts: list[str] = []
    if source.startswith("s3://"):
        bucket, _, prefix = source.removeprefix("s3://").partition("/")
        key = f"{prefix.rstrip('/')}/{variant}/"
        listed = aws.call("s3", "list_objects_v2", {"Bucket": bucket, "Prefix": key})
        for item in listed.get("Contents", []):
            body = aws.call("s3", "get_object", {"Bucket": bucket, "Key": item["Key"]})["Body"].read()
            texts.append(body.decode("utf-8"))
    else:
        texts = [p.read_text() for p in sorted((Path(source) / variant).rglob("*.jsonl"))]
    found = {}
    for line in (line for text in texts for line in text.splitlines() if line.strip()):
        record = json.loads(line)
        found[record["eventMetadata"]["eventId"]] = record
    return found


def paired(production: dict[str, dict], shadow: dict[str, dict], facets: tuple[str, ...]) -> list[Row]:
    rows = []
    for event in sorted(production.keys() & shadow.keys()):
        ours, theirs = answers(production[event]), answers(shadow[event])
        named = columns(production[event]["captureData"]["endpointInput"], facets)
        for k, (first, second) in enumerate(zip(ours, theirs)):
            rows.append(Row(named[k] if k < len(named) else {}, first, second))
    return rows


def answers(record: dict) -> list[tuple[float, bool]]:
    document = json.loads(record["captureData"]["endpointOutput"]["data"])
    return [(float(p["probability"]), p["label"] == "Yes") for p in document["predictions"]]


def columns(captured: dict, facets: tuple[str, ...]) -> list[dict[str, str]]:
    """The request's rows by column name, when it names its columns ([] otherwise: a CSV whose
    first row names none of the audited columns has no header)."""
    data, kind = captured.get("data", ""), str(captured.get("observedContentType", ""))
    if captured.get("encoding") == "BASE64":
        return []
    if "json" in kind:
        document = json.loads(data)
        document = document.get("instances", document) if isinstance(document, dict) else document
        listed = document if isinstance(document, list) else [document]
        return [{k: str(v) for k, v in r.items()} if isinstance(r, dict) else {} for r in listed]
    reader = csv.reader(io.StringIO(data))
    first = next(reader, [])
    if not set(first) & {part for facet in facets for part in facet.split("&")}:
        return []
    return [dict(zip(first, values)) for values in reader]


def judge(rows: list[Row], limits: Limits) -> tuple[bool, list[str], dict[str, float]]:
    """The verdict (promote?), its reasons in words, and the figures for the audit trail."""
    if not rows:
        return False, ["no request was answered by both variants: nothing to compare"], {"pairs": 0}
    agreement = sum(r.production[1] == r.shadow[1] for r in rows) / len(rows)
    moves = sorted(abs(r.production[0] - r.shadow[0]) for r in rows)
    flagged = (sum(r.production[1] for r in rows) / len(rows), sum(r.shadow[1] for r in rows) / len(rows))
    figures = {"pairs": float(len(rows)), "agreement": agreement, "delta_p_median": statistics.median(moves),
               "delta_p_p90": moves[int(0.9 * (len(moves) - 1))], "delta_p_max": moves[-1],
               "flag_rate_production": flagged[0], "flag_rate_shadow": flagged[1]}
    reasons = [f"{len(rows)} employees answered by both (at least {limits.min_pairs})",
               f"labels agree on {agreement:.1%} (at least {limits.min_agreement:.0%})",
               f"|Δ probability|: median {figures['delta_p_median']:.3f}, 90th percentile "
               f"{figures['delta_p_p90']:.3f}, largest {figures['delta_p_max']:.3f}",
               f"flagged as likely to leave: production {flagged[0]:.1%}, shadow {flagged[1]:.1%}"]
    shifts = group_shifts(rows, limits.facets)
    z = NormalDist().inv_cdf(1 - 0.05 / (2 * max(len(shifts), 1)))  # Bonferroni over the groups compared
    moved = [s for s in shifts if abs(s.shift) - z * s.error > limits.max_group_shift]
    if shifts:
        top = max(shifts, key=lambda s: abs(s.shift) - z * s.error)
        figures["largest_group_shift"] = top.shift
        reasons.append(f"largest change of a group's flag rate: {top.column}={top.value} ({top.size} employees) "
                       f"{top.shift:+.1%} ± {z * top.error:.1%} (95 %, {len(shifts)} groups compared), at most "
                       f"±{limits.max_group_shift:.0%} beyond noise: " + ("moved" if moved else "within"))
    else:
        reasons.append("groups: the requests do not name their columns (send JSON records or CSV with a header)")
    promote = len(rows) >= limits.min_pairs and agreement >= limits.min_agreement and not moved
    return promote, reasons, figures


@dataclass(frozen=True)
class Shift:
    """A group's flag rate, shadow minus production, on the same employees, and its standard error."""

    column: str
    value: str
    shift: float
    error: float
    size: int


def group_shifts(rows: list[Row], facets: tuple[str, ...]) -> list[Shift]:
    """Per group of each facet: a column ("Gender") or an intersection ("Gender&MaritalStatus",
    each combination a group; a row lacking a part is in none)."""
    found = []
    for column in facets:
        named = [group(r.columns, column) for r in rows]
        for value in sorted({v for v in named if v is not None}):
            changes = [int(r.shadow[1]) - int(r.production[1]) for r, v in zip(rows, named) if v == value]
            error = statistics.stdev(changes) / math.sqrt(len(changes)) if len(changes) > 1 else 1.0
            found.append(Shift(column, value, statistics.mean(changes), error, len(changes)))
    return found


def group(columns: dict[str, str], facet: str) -> str | None:
    """The row's group of a facet ("Female&Single"), or None when a part is missing."""
    parts = facet.split("&")
    if not all(columns.get(part) for part in parts):
        return None
    return "&".join(columns[part] for part in parts)


def latencies(aws: Runner, endpoint: str, variants: tuple[str, str]) -> list[str]:
    """Each variant's mean ModelLatency over the last day, from CloudWatch."""
    end = datetime.datetime.now(datetime.UTC)
    lines = []
    for variant in variants:
        points = aws.call("cloudwatch", "get_metric_statistics", {
            "Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "Statistics": ["Average"], "Period": 86400,
            "StartTime": end - datetime.timedelta(days=1), "EndTime": end,
            "Dimensions": [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
        }).get("Datapoints", [])
        mean = statistics.mean(p["Average"] for p in points) / 1000 if points else None
        lines.append(f"{variant}: model latency " + (f"{mean:.2f} ms" if mean is not None else "not measured"))
    return lines


def shadow_report(args: ShadowReport, aws: Runner) -> str:
    limits = Limits(args.min_pairs, args.min_agreement, args.max_group_shift,
                    tuple(f.strip() for f in args.facets.split(",") if f.strip()))
    rows = paired(records(args.capture, args.production, aws), records(args.capture, args.shadow, aws),
                  limits.facets)
    promote, reasons, figures = judge(rows, limits)
    if args.endpoint:
        reasons += latencies(aws, args.endpoint, (args.production, args.shadow))
    verdict = (f"promote: shadow {args.shadow} may replace {args.production}" if promote
               else f"keep: {args.production} stays")
    if aws.dry_run:
        return ""  # nothing to plan, nothing decided
    audit.append(args.audit_log, audit.record(
        "shadow-compared", actor=audit.actor(), trigger=f"attrition-deploy shadow-report {args.capture}",
        model={"endpoint": args.endpoint or "", "production": args.production, "shadow": args.shadow},
        metrics=figures, verdict=verdict, reasons=reasons))
    return "\n".join([verdict, *(f"  {line}" for line in reasons)])
