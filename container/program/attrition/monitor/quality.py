"""Model quality once the truth is known: captured predictions joined with ground truth, scored
as SageMaker's model quality monitor scores them.

The join is SageMaker's: a ground-truth record names a capture record by its inferenceId, or by
its eventId when the request carried none (core/wire/groundtruth.py). Nothing unmatched is fatal; every
kind of leftover is counted and reported: capture records with no truth yet, truth naming no
captured record, duplicated ids (the first kept), labels that are not the model's classes, rows
whose truth is unknown. The metrics are core/metrics' (the same functions as `evaluate`, at the
model's decision threshold), each with a bootstrap standard deviation, and those of the best
constant classifier (always the most frequent class), in Model Monitor's statistics.json shape.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from ..core.platform.errors import UserError
from ..core.quality import metrics
from ..core.table.schema import Schema
from ..core.wire import capture, codecs, groundtruth
from . import window

BOOTSTRAP = 200  # resamples for each metric's standard deviation
SEED = 0
BETAS = {"f0_5": 0.5, "f1": 1.0, "f2": 2.0}
POSITIVE_SPELLINGS = ("1", "true")
NEGATIVE_SPELLINGS = ("0", "false")


@dataclass
class Joined:
    """The labelled rows (truth y, predicted probability p), the asked-for columns' values of each
    row (for the bias monitor), and an account of everything else."""

    y: list[int] = field(default_factory=list)
    p: list[float] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    columns: dict[str, list] = field(default_factory=dict)


@dataclass(frozen=True)
class Columns:
    """Which request columns to keep for each joined row, read with the model's schema; those a
    capture policy set apart are read from its protected store (by the record's eventId)."""

    names: tuple[str, ...]
    schema: Schema
    protected: Path | None = None


def join(captured: Path, truth: Path, classes: list[str], start: datetime | None = None,
         end: datetime | None = None, wanted: Columns | None = None) -> Joined:
    predictions = _predictions(captured, start, end)
    labels = _truth(truth)
    apart = _protected(wanted.protected) if wanted and wanted.protected else {}
    joined = Joined(columns={name: [] for name in (wanted.names if wanted else ())})
    joined.counts.update(predictions.counts)
    joined.counts.update(labels.counts)
    for event_id, rows in labels.by_id.items():
        if event_id not in predictions.by_id:
            joined.counts["ground truth naming no captured record"] += 1
            continue
        probabilities, record = predictions.by_id.pop(event_id)
        if len(rows) != len(probabilities):
            joined.counts["ground truth with another number of rows than its record"] += 1
            continue
        values = _values(record, wanted, apart, len(rows), joined.counts) if wanted else {}
        joined.counts["records joined"] += 1
        for i, (label, probability) in enumerate(zip(rows, probabilities)):
            value = _label(label, classes)
            if value is None:
                joined.counts["rows whose label is not one of the model's classes"] += 1
            elif value >= 0:
                joined.y.append(value)
                joined.p.append(probability)
                for name in joined.columns:
                    joined.columns[name].append(values[name][i])
            else:
                joined.counts["rows whose truth is not known yet"] += 1
    joined.counts["captured records with no ground truth yet"] += len(predictions.by_id)
    return joined


def _label(text: str, classes: list[str]) -> int | None:
    """1 for the positive class, 0 for the other, -1 for unknown (empty), None for anything else."""
    spelled = text.strip()
    if not spelled:
        return -1
    if spelled == classes[1] or spelled.lower() in POSITIVE_SPELLINGS:
        return 1
    if spelled == classes[0] or spelled.lower() in NEGATIVE_SPELLINGS:
        return 0
    return None


@dataclass
class _Read:
    by_id: dict = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)


def _predictions(folder: Path, start: datetime | None, end: datetime | None) -> _Read:
    """Each captured record's positive-class probabilities, by its join id."""
    found = _Read()
    for line in _lines(folder):
        found.counts["captured records"] += 1
        try:
            record = capture.parse_line(line)
        except ValueError:
            found.counts["malformed capture lines"] += 1
            continue
        if (start and record.time and record.time < start) or (end and record.time and record.time >= end):
            found.counts["captured records outside the window"] += 1
            continue
        if not record.join_id:
            found.counts["captured records without an inferenceId or eventId"] += 1
            continue
        if not record.inference_id:
            found.counts["captured records without an inferenceId (joined by eventId)"] += 1
        probabilities = window.probabilities_of(record)
        if probabilities is None:
            found.counts["captured responses that cannot be read"] += 1
        elif record.join_id in found.by_id:
            found.counts["captured records with a duplicated id (the first kept)"] += 1
        else:
            found.by_id[record.join_id] = (probabilities, record)
    return found


def _values(record: capture.Record, wanted: Columns, apart: dict, n_rows: int, counts: Counter) -> dict[str, list]:
    """The wanted columns of one record's rows: from its request, else from the protected store,
    else missing (counted)."""
    media_type, charset = record.request_type
    try:
        frame = codecs.decode(capture.body(record.request), media_type, charset, wanted.schema)
        columns = frame.columns if frame.n_rows == n_rows else {}
    except (ValueError, UserError):
        columns = {}
    found = {}
    for name in wanted.names:
        values = columns.get(name) or apart.get(record.event_id, {}).get(name)
        if values is None or len(values) != n_rows:
            counts[f"joined records without {name}"] += 1
            values = [""] * n_rows
        found[name] = ["" if v is None else str(v) for v in values]
    return found


def _protected(folder: Path) -> dict[str, dict[str, list]]:
    """The protected store a capture policy writes: {eventId: {column: values}}."""
    found: dict[str, dict[str, list]] = {}
    for line in _lines(folder):
        try:
            record = json.loads(line)
            found[str(record["eventId"])] = dict(record["columns"])
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
    return found


def _truth(folder: Path) -> _Read:
    found = _Read()
    for line in _lines(folder):
        found.counts["ground-truth records"] += 1
        try:
            truth = groundtruth.parse_line(line)
        except ValueError:
            found.counts["malformed ground-truth lines"] += 1
            continue
        if truth.event_id in found.by_id:
            found.counts["ground-truth records with a duplicated id (the first kept)"] += 1
        else:
            found.by_id[truth.event_id] = truth.labels
    return found


def _lines(folder: Path):
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".jsonl", ".json")):
        with open(path, encoding="utf-8", errors="replace") as lines:
            yield from (line for line in lines if line.strip())


def statistics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    """binary_classification_metrics as Model Monitor writes them: each {"value",
    "standard_deviation"}; a metric undefined on these rows (AUC with one class) is null."""
    values = _metrics(y, p, threshold)
    spread = _bootstrap(y, p, threshold)
    cm = metrics.at_threshold(y, p, threshold)["confusion_matrix"]
    found: dict = {"confusion_matrix": {"0": {"0": cm["tn"], "1": cm["fp"]}, "1": {"0": cm["fn"], "1": cm["tp"]}}}
    for name, value in values.items():
        found[name] = {"value": _number(value), "standard_deviation": _number(spread.get(name, float("nan")))}
    return found


def _metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    result = metrics.evaluate(y, p, threshold)
    cm = result["confusion_matrix"]
    positives, negatives = cm["tp"] + cm["fn"], cm["tn"] + cm["fp"]
    found = {name: float(result[name]) for name in ("accuracy", "precision", "recall", "auc", "pr_auc")}
    for name, beta in BETAS.items():
        found[name] = _f_beta(result["precision"], result["recall"], beta)
    found.update(true_positive_rate=cm["tp"] / positives if positives else float("nan"),
                 false_negative_rate=cm["fn"] / positives if positives else float("nan"),
                 true_negative_rate=cm["tn"] / negatives if negatives else float("nan"),
                 false_positive_rate=cm["fp"] / negatives if negatives else float("nan"))
    constant = 1 if positives > negatives else 0  # the best constant classifier: the most frequent class
    constant_recall = float(constant == 1)
    constant_precision = positives / len(y) if constant == 1 and len(y) else 0.0
    found.update(accuracy_best_constant_classifier=max(positives, negatives) / len(y) if len(y) else float("nan"),
                 precision_best_constant_classifier=constant_precision,
                 recall_best_constant_classifier=constant_recall)
    for name, beta in BETAS.items():
        found[f"{name}_best_constant_classifier"] = _f_beta(constant_precision, constant_recall, beta)
    return found


def _f_beta(precision: float, recall: float, beta: float) -> float:
    both = beta * beta * precision + recall
    return (1 + beta * beta) * precision * recall / both if both else 0.0


def _bootstrap(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Each metric's standard deviation over BOOTSTRAP resamples of the rows (seeded)."""
    if len(y) < 2:
        return {}
    rng = np.random.default_rng(SEED)
    draws: dict[str, list[float]] = {}
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, len(y), len(y))
        for name, value in _metrics(y[pick], p[pick], threshold).items():
            draws.setdefault(name, []).append(value)
    return {name: float(np.nanstd(values, ddof=1)) if np.isfinite(values).sum() > 1 else float("nan")
            for name, values in draws.items()}


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


Z = 1.96  # a window's metric breaks its floor only when even the upper end of its 95 % interval does
OPERATORS = {"LessThanThreshold": lambda value, margin, floor: value + margin < floor,
             "GreaterThanThreshold": lambda value, margin, ceiling: value - margin > ceiling}


def violations(measured: dict, constraints: dict) -> list[dict]:
    """constraint_violations.json entries: a metric beyond its threshold by more than the noise of
    the window's rows (Z bootstrap standard deviations)."""
    found = []
    for name, rule in constraints.get("binary_classification_constraints", {}).items():
        value, spread = (measured.get(name) or {}).get("value"), (measured.get(name) or {}).get("standard_deviation")
        operator = rule.get("comparison_operator")
        if value is None or operator not in OPERATORS:
            continue
        margin = Z * (spread or 0.0)
        if OPERATORS[operator](value, margin, rule["threshold"]):
            found.append({"metric_name": name, "constraint_check_type": operator,
                          "description": f"Metric {name} with {value:.4f} ± {margin:.4f} (95 %) was {operator} "
                                         f"{rule['threshold']:.4f}"})
    return found


def undefined(measured: dict, y: np.ndarray) -> list[str]:
    """Why a metric has no value on these rows, in words."""
    if len(set(y.tolist())) < 2:
        only = "leavers" if y.all() else "stayers"
        return [f"only {only} in the labelled rows: AUC, PR AUC and the rates of the missing class are undefined"]
    return []
