"""One data-capture record in SageMaker's format: written by `serve`, read by `monitor`.

Capture files are JSON Lines, one record per invocation:
  {"captureData": {"endpointInput": {"observedContentType", "mode", "data", "encoding"},
                   "endpointOutput": {...}}, "eventMetadata": {"eventId", "inferenceTime"}}
`data` is the request (or response) body, as text for CSV and JSON, base64 otherwise.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..platform.mediatypes import parse_content_type

TEXT_ENCODINGS = {"text/csv": "CSV", "application/json": "JSON", "application/jsonlines": "JSON"}
PSEUDONYM = "hmac-sha256:"


def pseudonym(key: bytes, value: str) -> str:
    """An identifier as a capture policy records it: its keyed hash ("" stays "": a missing value
    is not an identifier). serve writes it; groundtruth spells an HR export's identifiers the same."""
    if not value:
        return ""
    return PSEUDONYM + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def record_line(request_body: bytes, request_type: str, response_body: bytes, response_type: str,
                now: time.struct_time, inference_id: str = "", event_id: str = "") -> str:
    """One capture line (no newline) for an answered request; `inference_id`, the caller's
    X-Amzn-SageMaker-Inference-Id, is recorded when given, as SageMaker does. `event_id` (default:
    a new one) lets a production variant and its shadow record one request under one id."""
    return json.dumps({
        "captureData": {
            "endpointInput": _part(request_body, request_type, "INPUT"),
            "endpointOutput": _part(response_body, response_type, "OUTPUT"),
        },
        "eventMetadata": {"eventId": event_id or str(uuid.uuid4()),
                          **({"inferenceId": inference_id} if inference_id else {}),
                          "inferenceTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", now)},
        "eventVersion": "0",
    })


@dataclass
class Record:
    """A parsed capture line; bodies stay encoded until `body` is asked for them."""

    time: datetime | None
    request: dict[str, Any]
    response: dict[str, Any]
    event_id: str = ""
    inference_id: str = ""

    @property
    def join_id(self) -> str:
        """The id ground truth names this record by: its inferenceId when the caller gave one,
        its eventId otherwise (SageMaker's merge does the same)."""
        return self.inference_id or self.event_id

    @property
    def request_type(self) -> tuple[str, str]:
        return parse_content_type(str(self.request.get("observedContentType", "")))

    @property
    def response_type(self) -> tuple[str, str]:
        return parse_content_type(str(self.response.get("observedContentType", "")))


def parse_line(line: str) -> Record:
    """Raise ValueError when the line is not a capture record (truncated, malformed)."""
    try:
        record = json.loads(line)
        capture = record["captureData"]
        request = capture["endpointInput"]
        metadata = record.get("eventMetadata") or {}
        if not isinstance(request, dict) or not isinstance(metadata, dict):
            raise TypeError
    except (KeyError, TypeError, AttributeError, RecursionError):
        raise ValueError("not a capture record") from None
    response = capture.get("endpointOutput")
    return Record(parse_time(metadata.get("inferenceTime")), request,
                  response if isinstance(response, dict) else {}, str(metadata.get("eventId") or ""),
                  str(metadata.get("inferenceId") or ""))


def body(part: dict[str, Any]) -> bytes:
    """A part's body as bytes; ValueError when its base64 is broken."""
    data = str(part.get("data", ""))
    if str(part.get("encoding", "")).upper() == "BASE64":
        return base64.b64decode(data, validate=True)
    return data.encode("utf-8")


def parse_time(text: Any) -> datetime | None:
    """An ISO-8601 time as an aware datetime (UTC when no zone is given), or None."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _part(content: bytes, content_type: str, mode: str) -> dict[str, str]:
    encoding = TEXT_ENCODINGS.get(parse_content_type(content_type)[0])
    if encoding:
        try:
            return {"observedContentType": content_type, "mode": mode, "encoding": encoding,
                    "data": content.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"observedContentType": content_type, "mode": mode, "encoding": "BASE64",
            "data": base64.b64encode(content).decode("ascii")}
