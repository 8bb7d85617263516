"""Read a monitoring window: SageMaker data-capture files, or plain CSV files of employees.

Requests are decoded with the same codecs as /invocations. A record that cannot be used (a
truncated line, another content type, a body /invocations would refuse) is counted by reason
and skipped; no value from it is reported.
"""

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import cast

from ..core import capture, codecs, features, mediatypes
from ..core.errors import UserError
from ..core.schema import Schema

OUTSIDE = "outside the analysis window"


@dataclass
class Window:
    """Every usable request of the window joined into one frame, and an account of the rest."""

    frame: codecs.Frame = field(default_factory=lambda: codecs.Frame({}, 0))
    probabilities: list[float] = field(default_factory=list)  # from captured responses, if readable
    records: int = 0
    files: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> records skipped

    @property
    def refused(self) -> int:
        """Records that could not be used (records outside the time window are not refused)."""
        return sum(self.skipped.values()) - self.skipped.get(OUTSIDE, 0)

    def add(self, frame: codecs.Frame, names: list[str]) -> None:
        for name in names:
            column = cast(list, self.frame.columns.setdefault(name, []))
            column.extend(frame.columns.get(name, [None] * frame.n_rows))
        self.frame.n_rows += frame.n_rows


def read(folder: Path, schema: Schema, start: datetime | None = None,
         end: datetime | None = None) -> Window:
    window = Window()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        window.files += 1
        if path.suffix.lower() in (".jsonl", ".json"):
            _read_capture_file(path, schema, start, end, window)
        elif path.suffix.lower() == ".csv":
            _read_csv_file(path, schema, window)
        else:
            window.skipped[f"file type {path.suffix or '(none)'} is not read"] += 1
    return window


def _read_capture_file(path: Path, schema: Schema, start, end, window: Window) -> None:
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.strip():
                continue
            window.records += 1
            reason = _read_record(line, schema, start, end, window)
            if reason:
                window.skipped[reason] += 1


def _read_record(line: str, schema: Schema, start, end, window: Window) -> str | None:
    """Add one capture record to the window; return why it was skipped, or None."""
    try:
        record = capture.parse_line(line)
    except ValueError:
        return "truncated or malformed capture line"
    when = record.time
    if (start and when and when < start) or (end and when and when >= end):
        return OUTSIDE
    media_type, charset = record.request_type
    if media_type not in mediatypes.REQUEST_TYPES:
        return f"request content type {media_type or '(none)'} is not one we decode"
    try:
        frame = codecs.decode(capture.body(record.request), media_type, charset, schema)
        features.encode(schema, frame.columns, frame.n_rows)  # values the model could not read
    except (UserError, ValueError):
        return "request body the endpoint would refuse"
    window.add(frame, schema.feature_names)
    probabilities = _probabilities(record)
    if probabilities is not None and len(probabilities) == frame.n_rows:
        window.probabilities.extend(probabilities)
    return None


def _read_csv_file(path: Path, schema: Schema, window: Window) -> None:
    window.records += 1
    try:
        frame = codecs.decode(path.read_bytes(), mediatypes.CSV, "", schema)
        features.encode(schema, frame.columns, frame.n_rows)
    except UserError as error:
        window.skipped[f"CSV file {path.name}: {str(error).split(':')[0]}"] += 1
        return
    window.add(frame, schema.feature_names)


def _probabilities(record: capture.Record) -> list[float] | None:
    """Positive-class probabilities from a captured /invocations response, or None."""
    media_type, _ = record.response_type
    try:
        text = capture.body(record.response).decode("utf-8")
        if media_type == mediatypes.CSV:
            return [float(row[0]) for row in csv.reader(io.StringIO(text)) if row]
        if media_type == mediatypes.JSON:
            return [float(p["probability"]) for p in json.loads(text)["predictions"]]
        if media_type == mediatypes.JSONLINES:
            return [float(json.loads(line)["probability"]) for line in text.splitlines() if line.strip()]
    except (ValueError, KeyError, TypeError, IndexError, OverflowError, RecursionError):
        return None
    return None
