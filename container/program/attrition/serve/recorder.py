"""Local data capture: what SageMaker's endpoint data capture records, for `docker run` users.

Off unless ATTRITION_CAPTURE_DIR is set. Each answered /invocations request is appended, as one
line in SageMaker's capture format (core/capture.py), to
<dir>/<yyyy>/<mm>/<dd>/<hh>/capture-<pid>.jsonl, so `monitor` reads local captures and
SageMaker's alike. The files hold employee records: keep them where the data is allowed to be.
"""

import os
import random
import time
from pathlib import Path

from ..core import capture
from ..core.environment import CaptureSettings


class Recorder:
    def __init__(self, folder: Path, percent: float):
        self.folder = folder
        self.percent = percent

    def record(self, request_body: bytes, request_type: str, response_body: bytes,
               response_type: str) -> None:
        if random.random() * 100 >= self.percent:
            return
        now = time.gmtime()
        line = capture.record_line(request_body, request_type, response_body, response_type, now)
        folder = self.folder / time.strftime("%Y/%m/%d/%H", now)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"capture-{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
            out.write(line + "\n")


def recorder(settings: CaptureSettings) -> Recorder | None:
    return Recorder(settings.folder, settings.percent) if settings.folder else None
