"""The `groundtruth` job: who actually left, as ground-truth files for the model quality monitor.

    /opt/ml/processing/leavers/      an HR export of leavers: CSV with an identifier column
                                     (--id-column, EmployeeNumber) and the date each left
                                     (--date-column, LeftOn; ISO dates)
    /opt/ml/processing/endpointdata/ the endpoint's data capture (the predictions to label)
    /opt/ml/processing/groundtruth/  where the ground-truth files go (core/wire/groundtruth.py)

Each captured employee is labelled as the model's positive class when they left within
--horizon-days of the prediction, the negative class when the whole horizon has passed by --as-of
(default: today) and they had not, and left unknown otherwise (their truth is not in yet). A
capture whose identifiers are pseudonyms (ATTRITION_CAPTURE_HASH_COLUMNS) is matched by hashing
the export's identifiers with the same ATTRITION_CAPTURE_HASH_KEY. The model directory gives the
classes and the columns. Everything that could not be labelled is counted in the summary.
"""

import argparse
import csv
import os
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ..core.platform import artifact, environment, jobs
from ..core.platform.errors import UserError
from ..core.predict import model
from ..core.table.schema import Schema
from ..core.wire import capture, codecs, groundtruth


def main(argv: list[str] | None = None, environ=None) -> int:
    environ = os.environ if environ is None else environ
    return jobs.run("groundtruth", environ, lambda paths: _work(paths, argv, environ))


def _work(paths: environment.Paths, argv: list[str] | None, environ) -> str:
    args = _parser(paths).parse_args(argv)
    jobs.leave_root("groundtruth", reads=[args.model, args.leavers, args.capture], writes=[args.output])
    trained = model.load_any(args.model, args.output)
    policy = environment.capture_settings({**environ, "ATTRITION_CAPTURE_DIR": "-"})  # how serve spelled ids
    left = _leavers(args.leavers, args.id_column, args.date_column, _pseudonyms(policy))
    counts = label(args.capture, args.output, trained.schema, left, args, bool(policy.hashed))
    shown = ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items()))
    if not counts["records labelled"]:
        raise UserError(f"no captured prediction could be labelled ({shown or 'no capture records'})")
    return f"groundtruth: {shown}"


def label(captured: Path, output: Path, schema: Schema, left: dict[str, date], args: argparse.Namespace,
          hashing: bool) -> Counter:
    """Write one ground-truth record per labellable capture record; returns the counts. The
    capture's identifiers and the export's must be spelled alike (both pseudonyms, or neither):
    otherwise nobody would match and everyone would be labelled as staying."""
    counts: Counter = Counter()
    by_hour: dict[str, list[str]] = {}
    for path in sorted(p for p in captured.rglob("*") if p.is_file() and p.suffix.lower() in (".jsonl", ".json")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                truth, when = _truth(line, schema, left, args, counts, hashing)
                if truth is not None and when is not None:
                    by_hour.setdefault(when.strftime("%Y/%m/%d/%H"), []).append(groundtruth.record_line(truth))
    for hour, lines in by_hour.items():
        artifact.write_text(output / hour / "groundtruth.jsonl", "".join(line + "\n" for line in lines))
    return counts


def _truth(line: str, schema: Schema, left: dict[str, date], args: argparse.Namespace,
           counts: Counter, hashing: bool) -> tuple[groundtruth.Truth | None, datetime | None]:
    counts["capture records"] += 1
    try:
        record = capture.parse_line(line)
        media_type, charset = record.request_type
        frame = codecs.decode(capture.body(record.request), media_type, charset, schema)
    except (ValueError, UserError):
        counts["capture records that cannot be read"] += 1
        return None, None
    if not record.join_id or record.time is None:
        counts["capture records without an id or a time"] += 1
        return None, None
    ids = frame.columns.get(args.id_column)
    if ids is None:
        counts[f"capture records without {args.id_column}"] += 1
        return None, None
    spelled = [str(value or "").strip() for value in ids]
    if any(value.startswith(capture.PSEUDONYM) != hashing for value in spelled if value):
        raise UserError(f"the capture's {args.id_column} values are {'not ' if hashing else ''}keyed hashes: "
                        + ("unset ATTRITION_CAPTURE_HASH_COLUMNS" if hashing else
                           "set ATTRITION_CAPTURE_HASH_COLUMNS and the same ATTRITION_CAPTURE_HASH_KEY serve used"))
    labels = [_label(value, record.time.date(), left, schema.classes, args, counts) for value in spelled]
    if not any(labels):
        counts["capture records whose truth is not known yet"] += 1
        return None, None
    counts["records labelled"] += 1
    return groundtruth.Truth(record.join_id, labels), record.time


def _label(employee: str, predicted: date, left: dict[str, date], classes: list[str], args: argparse.Namespace,
           counts: Counter) -> str:
    horizon = predicted + timedelta(days=args.horizon_days)
    if not employee:
        counts["rows without an identifier"] += 1
        return ""
    when = left.get(employee)
    if when is not None and predicted < when <= min(horizon, args.as_of):
        counts["rows: left within the horizon"] += 1
        return classes[1]
    if horizon <= args.as_of:
        counts["rows: stayed the whole horizon"] += 1
        return classes[0]
    counts["rows: horizon not over yet"] += 1
    return ""


def _leavers(folder: Path, id_column: str, date_column: str, pseudonyms) -> dict[str, date]:
    """{identifier (or its pseudonym): the date the employee left}, from every CSV file of a folder."""
    files = sorted(folder.rglob("*.csv")) if folder.is_dir() else [folder]
    if not files or not files[0].is_file():
        raise UserError(f"no leavers export at {folder}: a CSV file with {id_column} and {date_column}")
    found: dict[str, date] = {}
    for path in files:
        with open(path, newline="", encoding="utf-8-sig") as rows:
            reader = csv.DictReader(rows)
            missing = [c for c in (id_column, date_column) if c not in (reader.fieldnames or [])]
            if missing:
                raise UserError(f"{path.name} has no column {', '.join(missing)} (columns: "
                                f"{', '.join(reader.fieldnames or [])[:200]})")
            for number, row in enumerate(reader, 2):
                employee, text = (row.get(id_column) or "").strip(), (row.get(date_column) or "").strip()
                if not employee:
                    continue
                try:
                    found[pseudonyms(employee)] = date.fromisoformat(text[:10])
                except ValueError:
                    raise UserError(f"{path.name} line {number}: {date_column} {text!r} is not a date "
                                    "(YYYY-MM-DD)") from None
    return found


def _pseudonyms(settings: environment.CaptureSettings):
    """The function that spells an identifier as the capture does: as it is, or its keyed hash."""
    if not settings.hashed:
        return lambda employee: employee
    return lambda employee: capture.pseudonym(settings.hash_key, employee)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _parser(paths: environment.Paths) -> argparse.ArgumentParser:
    processing = paths.processing_dir
    parser = jobs.Arguments(prog="groundtruth", description="label captured predictions with who actually left")
    parser.add_model(processing / "model")
    parser.add_argument("--leavers", type=Path, default=processing / "leavers", help="the HR export of leavers")
    parser.add_argument("--capture", type=Path, default=processing / "endpointdata", help="the data capture")
    parser.add_argument("--output", type=Path, default=processing / "groundtruth", help="where the files go")
    parser.add_argument("--id-column", default="EmployeeNumber", help="the identifier, in both")
    parser.add_argument("--date-column", default="LeftOn", help="the date each left (YYYY-MM-DD)")
    parser.add_argument("--horizon-days", type=int, default=365, help="how long after a prediction a leaver counts")
    parser.add_argument("--as-of", type=_date, default=datetime.now(UTC).date(),
                        help="what is known by this date (default: today)")
    return parser
