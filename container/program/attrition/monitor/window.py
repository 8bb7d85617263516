"""Read a monitoring window: SageMaker data-capture files, or plain CSV files of employees.

Requests are decoded with the same codecs as /invocations. A record that cannot be used (a
truncated line, another content type, a body /invocations would refuse) is counted by reason
and skipped; no value from it is reported.
"""

import csv
import io
import json
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..core.platform import mediatypes
from ..core.platform.errors import UserError
from ..core.table import features
from ..core.table.columns import Column
from ..core.table.schema import CATEGORICAL, Schema
from ..core.wire import capture, codecs

OUTSIDE = "outside the analysis window"
BATCH = 4096  # rows gathered as cells before they join the compact columns


@dataclass
class Window:
    """Every usable request of the window, its features held as compact columns (core.table.columns:
    a million captured records take tens of MB, not the GBs of their cells as Python strings),
    and an account of the rest."""

    columns: dict[str, Column] = field(default_factory=dict)
    rows: int = 0
    probabilities: array = field(default_factory=lambda: array("d"))  # from captured responses, if readable
    records: int = 0
    files: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> records skipped
    present: set[str] = field(default_factory=set)  # features that at least one record holds
    _pending: dict[str, list] = field(default_factory=dict)  # cells not yet in columns: a batch at a time
    _pending_rows: int = 0

    @property
    def refused(self) -> int:
        """Records that could not be used (records outside the time window are not refused)."""
        return sum(self.skipped.values()) - self.skipped.get(OUTSIDE, 0)

    def add(self, frame: codecs.Frame, schema: Schema) -> None:
        for feature in schema.features:
            cells = frame.columns.get(feature.name)
            if cells is not None:
                self.present.add(feature.name)
            pending = self._pending.setdefault(feature.name, [])
            pending.extend(map(_cell, cells) if cells is not None else [""] * frame.n_rows)
        self.rows += frame.n_rows
        self._pending_rows += frame.n_rows
        if self._pending_rows >= BATCH:
            self.flush(schema)

    def flush(self, schema: Schema) -> None:
        for feature in schema.features:
            column = self.columns.setdefault(feature.name, Column(keep_spellings=feature.kind == CATEGORICAL))
            column.extend(self._pending.pop(feature.name, []))
        self._pending_rows = 0


def _cell(value) -> str:
    """A decoded cell as the text a CSV export would hold (JSON gives numbers, booleans, null)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else str(value)


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
    window.flush(schema)
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
        withheld = {name: [""] * frame.n_rows for name in schema.feature_names if name not in frame.columns}
        features.encode(schema, frame.columns | withheld, frame.n_rows)  # values the model could not read
    except (UserError, ValueError):
        return "request body the endpoint would refuse"
    window.add(frame, schema)
    probabilities = probabilities_of(record)
    if probabilities is not None and len(probabilities) == frame.n_rows:
        window.probabilities.extend(probabilities)
    return None


def _read_csv_file(path: Path, schema: Schema, window: Window) -> None:
    """A CSV file of employees, taken whole or not at all: every frame is checked as /invocations
    checks a body before any row joins the window. A frame at a time, twice over, so that a big
    file is never all Python strings at once (a 1.5 M-row window took 6 GB read whole)."""
    window.records += 1
    body = path.read_bytes()
    try:
        for frame in codecs.decode_frames(body, mediatypes.CSV, "", schema)[0]:
            features.encode(schema, frame.columns, frame.n_rows)
    except UserError as error:
        window.skipped[f"CSV file {path.name}: {str(error).split(':')[0]}"] += 1
        return
    for frame in codecs.decode_frames(body, mediatypes.CSV, "", schema)[0]:
        window.add(frame, schema)


def probabilities_of(record: capture.Record) -> list[float] | None:
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
