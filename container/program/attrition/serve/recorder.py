"""Local data capture: what SageMaker's endpoint data capture records, for `docker run` users.

Off unless ATTRITION_CAPTURE_DIR is set. Each answered /invocations request is appended, as one
line in SageMaker's capture format (core/wire/capture.py), to
<dir>/<yyyy>/<mm>/<dd>/<hh>/capture-<pid>.jsonl, so `monitor` reads local captures and
SageMaker's alike. The files hold employee records: keep them where the data is allowed to be.

Capture never costs a prediction: a record that cannot be written (a full or read-only volume)
is dropped and counted, with one warning a minute, and a file never ends mid-record (each worker
writes its own file, so a failed append is cut back to where it started).

What is kept follows the capture policy (policy.py): identifiers hashed, protected columns in
their own store (<protected dir>/yyyy/mm/dd/hh/protected-<pid>.jsonl, one {"eventId",
"inferenceId", "inferenceTime", "columns": {name: [values]}} a record) or dropped. With
ATTRITION_CAPTURE_RETENTION_DAYS, every hour folder older than that is deleted, from both
stores: when the recorder starts and each time it opens a new hour.
"""

import errno
import json
import os
import random
import shutil
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..core.platform import environment, logs
from ..core.platform.environment import CaptureSettings
from ..core.wire import capture
from .policy import Kept, Policy

WARNING_INTERVAL_S = 60.0
HOUR_FOLDER = "%Y/%m/%d/%H"


class Recorder:
    def __init__(self, settings: CaptureSettings):
        assert settings.folder is not None
        self.folder = settings.folder
        self.percent = settings.percent
        self.policy = Policy(settings) if settings.minimising else None
        self.protected_folder = settings.protected_folder
        self.retention_days = settings.retention_days
        self.dropped = 0  # records lost since the last warning
        self.last_warning = float("-inf")
        self.hour = ""
        self._expire(time.gmtime())

    def sampled(self) -> bool:
        """Whether this request is one to record (ATTRITION_CAPTURE_PERCENT)."""
        return random.random() * 100 < self.percent

    def record(self, kept: Kept, response_body: bytes, response_type: str, inference_id: str = "",
               event_id: str = "") -> None:
        now = time.gmtime()
        event_id = event_id or str(uuid.uuid4())
        line = capture.record_line(kept.body, kept.content_type, response_body, response_type, now, inference_id,
                                   event_id)
        hour = time.strftime(HOUR_FOLDER, now)
        if hour != self.hour:
            self._expire(now)
        try:
            if kept.protected and self.protected_folder is not None:
                apart = {"eventId": event_id, "inferenceId": inference_id,
                         "inferenceTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", now), "columns": kept.protected}
                self._append(self.protected_folder / hour / f"protected-{os.getpid()}.jsonl", json.dumps(apart))
            self._append(self.folder / hour / f"capture-{os.getpid()}.jsonl", line)
        except OSError as error:
            self._dropped(error)

    def _append(self, path: Path, line: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        append_whole(path, (line + "\n").encode("utf-8"))

    def _expire(self, now: time.struct_time) -> None:
        """Delete the hour folders older than the retention period (none without one)."""
        self.hour = time.strftime(HOUR_FOLDER, now)
        if not self.retention_days:
            return
        oldest = datetime(*now[:4], tzinfo=UTC) - timedelta(days=self.retention_days)
        for store in (self.folder, self.protected_folder):
            for hour in expired(store, oldest) if store is not None else []:
                shutil.rmtree(hour, ignore_errors=True)  # another worker may be deleting it too

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


def expired(store: Path, oldest: datetime) -> list[Path]:
    """The yyyy/mm/dd/hh folders of a store that hold an hour before `oldest`."""
    found = []
    for hour in store.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/[0-9][0-9]"):
        try:
            when = datetime.strptime("/".join(hour.parts[-4:]), HOUR_FOLDER).replace(tzinfo=UTC)
        except ValueError:
            continue
        if when < oldest:
            found.append(hour)
    return found


def recorder(settings: CaptureSettings) -> Recorder | None:
    return Recorder(settings) if settings.folder else None
