"""Local data capture: what SageMaker's endpoint data capture records, for `docker run` users.

Off unless ATTRITION_CAPTURE_DIR is set. Each answered /invocations request is appended, as one
JSON line in SageMaker's capture format, to <dir>/<yyyy>/<mm>/<dd>/<hh>/capture-<pid>.jsonl,
so `monitor` reads local captures and SageMaker's alike. The files hold employee records:
keep them where the data is allowed to be.
"""

import base64
import json
import os
import random
import time
import uuid
from pathlib import Path

TEXT_ENCODINGS = {"text/csv": "CSV", "application/json": "JSON", "application/jsonlines": "JSON"}


class Recorder:
    def __init__(self, folder: Path, percent: float):
        self.folder = folder
        self.percent = percent

    def record(self, request_body: bytes, request_type: str, response_body: bytes,
               response_type: str) -> None:
        if random.random() * 100 >= self.percent:
            return
        now = time.gmtime()
        line = json.dumps({
            "captureData": {
                "endpointInput": _part(request_body, request_type, "INPUT"),
                "endpointOutput": _part(response_body, response_type, "OUTPUT"),
            },
            "eventMetadata": {"eventId": str(uuid.uuid4()),
                              "inferenceTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", now)},
            "eventVersion": "0",
        })
        folder = self.folder / time.strftime("%Y/%m/%d/%H", now)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"capture-{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
            out.write(line + "\n")


def recorder(environ) -> Recorder | None:
    folder = environ.get("ATTRITION_CAPTURE_DIR", "").strip()
    if not folder:
        return None
    return Recorder(Path(folder), float(environ.get("ATTRITION_CAPTURE_PERCENT", "100")))


def _part(body: bytes, content_type: str, mode: str) -> dict:
    media_type = content_type.split(";")[0].strip().lower()
    encoding = TEXT_ENCODINGS.get(media_type)
    if encoding:
        try:
            return {"observedContentType": content_type, "mode": mode, "encoding": encoding,
                    "data": body.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"observedContentType": content_type, "mode": mode, "encoding": "BASE64",
            "data": base64.b64encode(body).decode("ascii")}
