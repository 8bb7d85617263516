"""Read a monitoring window: SageMaker data-capture files, or plain CSV files of employees.

Capture files are JSON Lines, one record per invocation:
  {"captureData": {"endpointInput": {"observedContentType", "mode", "data", "encoding"},
                   "endpointOutput": {...}}, "eventMetadata": {"eventId", "inferenceTime"}}
`data` is the request (or response) body, base64-encoded when `encoding` is BASE64. Requests are
decoded with the same codecs as /invocations. A record that cannot be used (a truncated line,
another content type, a body /invocations would refuse) is counted by reason and skipped;
no value from it is reported.
"""

import base64
import binascii
import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import codecs, mediatypes
from .errors import UserError


@dataclass
class Window:
    columns: dict = field(default_factory=dict)  # feature name -> raw values, all records joined
    n_rows: int = 0
    probabilities: list = field(default_factory=list)  # from captured responses, when readable
    records: int = 0
    files: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> records skipped

    def add(self, frame, names: list) -> None:
        for name in names:
            self.columns.setdefault(name, []).extend(frame.columns.get(name, [None] * frame.n_rows))
        self.n_rows += frame.n_rows


def read(folder: Path, schema, start: datetime | None = None, end: datetime | None = None) -> Window:
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


def _read_capture_file(path: Path, schema, start, end, window: Window) -> None:
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.strip():
                continue
            window.records += 1
            reason = _read_record(line, schema, start, end, window)
            if reason:
                window.skipped[reason] += 1


def _read_record(line: str, schema, start, end, window: Window) -> str | None:
    """Add one capture record to the window; return why it was skipped, or None."""
    try:
        record = json.loads(line)
        capture = record["captureData"]
        request = capture["endpointInput"]
    except (ValueError, KeyError, TypeError):
        return "truncated or malformed capture line"
    when = parse_time(record.get("eventMetadata", {}).get("inferenceTime"))
    if (start and when and when < start) or (end and when and when >= end):
        return "outside the analysis window"
    media_type, charset = _media_type(request.get("observedContentType", ""))
    if media_type not in mediatypes.REQUEST_TYPES:
        return f"request content type {media_type or '(none)'} is not one we decode"
    try:
        body = _body(request)
        frame = codecs.decode(body, media_type, charset, schema)
    except (UserError, ValueError, binascii.Error):
        return "request body the endpoint would refuse"
    window.add(frame, schema.feature_names)
    probabilities = _probabilities(capture.get("endpointOutput") or {})
    if probabilities is not None and len(probabilities) == frame.n_rows:
        window.probabilities.extend(probabilities)
    return None


def _read_csv_file(path: Path, schema, window: Window) -> None:
    window.records += 1
    try:
        frame = codecs.decode(path.read_bytes(), mediatypes.CSV, "", schema)
    except UserError as error:
        window.skipped[f"CSV file {path.name}: {str(error).split(':')[0]}"] += 1
        return
    window.add(frame, schema.feature_names)


def _body(part: dict) -> bytes:
    data = part.get("data", "")
    if part.get("encoding", "").upper() == "BASE64":
        return base64.b64decode(data, validate=True)
    return data.encode("utf-8")


def _probabilities(response: dict):
    """Positive-class probabilities from a captured /invocations response, or None."""
    media_type, _ = _media_type(response.get("observedContentType", ""))
    try:
        text = _body(response).decode("utf-8")
        if media_type == mediatypes.CSV:
            return [float(row[0]) for row in csv.reader(io.StringIO(text)) if row]
        if media_type == mediatypes.JSON:
            return [float(p["probability"]) for p in json.loads(text)["predictions"]]
        if media_type == mediatypes.JSONLINES:
            return [float(json.loads(line)["probability"]) for line in text.splitlines() if line.strip()]
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error):
        return None
    return None


def _media_type(header: str):
    kind, _, params = header.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"')
    return kind.strip().lower(), charset


def parse_time(text):
    """An ISO-8601 time as an aware datetime (UTC when no zone is given), or None."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
