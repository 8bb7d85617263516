"""What data capture keeps of a request: data minimisation (ATTRITION_CAPTURE_* in docs/monitoring.md).

Without a policy the request is captured as it came. With one, the captured request is the
rows as parsed, written again as CSV with a header row (so `monitor` reads it as any request):
- identifier columns (ATTRITION_CAPTURE_HASH_COLUMNS, e.g. EmployeeNumber) hold a keyed hash,
  HMAC-SHA256 with ATTRITION_CAPTURE_HASH_KEY: the same employee gets the same pseudonym on every
  instance and after every restart (so ground truth can still be joined), and no one without the
  key can recompute it from a list of employee numbers;
- protected columns (ATTRITION_CAPTURE_PROTECTED_COLUMNS, e.g. Gender,MaritalStatus) are left
  out, and written to their own store (ATTRITION_CAPTURE_PROTECTED_DIR) under the record's
  eventId, for the bias monitor alone, or dropped when no store is named.
"""

from dataclasses import dataclass

from ..core.platform import mediatypes
from ..core.platform.environment import CaptureSettings
from ..core.table.values import is_missing
from ..core.wire import capture, codecs


@dataclass(frozen=True)
class Kept:
    """The request as captured, and the protected columns' values set apart (name -> values)."""

    body: bytes
    content_type: str
    protected: dict[str, list[str]]


class Policy:
    def __init__(self, settings: CaptureSettings):
        self.hashed = set(settings.hashed)
        self.protected = settings.protected
        self.key = settings.hash_key

    def keep(self, frames: list[codecs.Frame]) -> Kept:
        names = list(frames[0].columns) if frames else []
        kept = [name for name in names if name not in self.protected]
        lines = [codecs.csv_line(kept)]
        for frame in frames:
            cells = [self._cells(name, frame.columns[name]) for name in kept]
            lines += [codecs.csv_line(row) for row in zip(*cells)]
        protected = {name: [_text(v) for frame in frames for v in frame.columns[name]]
                     for name in self.protected if name in names}
        return Kept(("\n".join(lines) + "\n").encode(), mediatypes.CSV, protected)

    def _cells(self, name: str, values) -> list[str]:
        texts = [_text(v) for v in values]
        return [capture.pseudonym(self.key, t) for t in texts] if name in self.hashed else texts


def _text(value) -> str:
    return "" if value is None or (isinstance(value, str) and is_missing(value)) else str(value)
