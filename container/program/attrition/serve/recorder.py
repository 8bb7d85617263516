"""Local data capture: what SageMaker's endpoint data capture records, for `docker run` users.

Off unless ATTRITION_CAPTURE_DIR is set. Each answered /invocations request is appended, as one
line in SageMaker's capture format (core/capture.py), to
<dir>/<yyyy>/<mm>/<dd>/<hh>/capture-<pid>.jsonl, so `monitor` reads local captures and
SageMaker's alike. The files hold employee records: keep them where the data is allowed to be.

Capture never costs a prediction: a record that cannot be written (a full or read-only volume)
is dropped and counted, with one warning a minute, and a file never ends mid-record (each worker
writes its own file, so a failed append is cut back to where it started).
"""

import errno
import os
import random
import sys
import time
from pathlib import Path

from ..core import capture, environment, logs
from ..core.environment import CaptureSettings

WARNING_INTERVAL_S = 60.0


class Recorder:
    def __init__(self, folder: Path, percent: float):
        self.folder = folder
        self.percent = percent
        self.dropped = 0  # records lost since the last warning
        self.last_warning = float("-inf")

    def record(self, request_body: bytes, request_type: str, response_body: bytes,
               response_type: str, inference_id: str = "", event_id: str = "") -> None:
        if random.random() * 100 >= self.percent:
            return
        now = time.gmtime()
        line = capture.record_line(request_body, request_type, response_body, response_type, now, inference_id,
                                   event_id)
        folder = self.folder / time.strftime("%Y/%m/%d/%H", now)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            append_whole(folder / f"capture-{os.getpid()}.jsonl", (line + "\n").encode("utf-8"))
        except OSError as error:
            self._dropped(error)

    def _dropped(self, error: OSError) -> None:
        self.dropped += 1
        if time.monotonic() - self.last_warning >= WARNING_INTERVAL_S:
            logs.say(f"serve: capture dropped {self.dropped} record(s) since the last warning, predictions "
                     f"go on: {environment.os_error_message(error)}", sys.stderr)
            self.dropped = 0
            self.last_warning = time.monotonic()


def append_whole(path: Path, data: bytes) -> None:
    """Append `data` whole or not at all: a write the disk cuts short is truncated away."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        start = os.fstat(fd).st_size
        try:
            if os.write(fd, data) != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        except OSError:
            os.ftruncate(fd, start)
            raise
    finally:
        os.close(fd)


def recorder(settings: CaptureSettings) -> Recorder | None:
    return Recorder(settings.folder, settings.percent) if settings.folder else None
