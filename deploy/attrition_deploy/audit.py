"""The audit trail: one JSON object a line, appended, never rewritten.

Every registration, approval, promotion, deployment and retraining decision is recorded with who
or what triggered it, the model versions, the data hashes, the metrics and the verdict. Locally
the log lives beside the registry (ATTRITION_AUDIT_LOG, default ./attrition-audit.jsonl, e.g. next
to mlflow.db) and each record is also set as a tag on the MLflow model version it concerns;
`attrition-deploy history` prints it, newest first. Both the deploy CLI and the pipelines' local
runners write here (json and os only: the CLI needs boto3 alone).

The log is a hash chain, so an edit shows: `append` gives each record its line number (`seq`),
the hash of the record before it (`prev`) and its own hash (`hash`, SHA-256 of the record's
canonical JSON without that field). `verify` recomputes them and names the first line that was
changed, removed, inserted or reordered. Anyone who can write the file can rewrite the whole
chain: the head's hash, which `history --verify` prints, is what a reviewer writes down to prove
later that nothing was rewritten or cut off the end.
"""

import errno
import fcntl
import getpass
import hashlib
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

EVENTS = ("registered", "approved", "rejected", "promoted", "refused", "deployed", "deleted", "retraining-started",
          "retraining-skipped", "shadow-compared")
DIGEST = re.compile(r"[0-9a-f]{64}")  # a SHA-256, as hex
GENESIS = "0" * 64  # the `prev` of a log's first record
CHAIN = ("seq", "prev", "hash")
TAIL = 65536  # bytes read back at a time to find the last line


def default_log() -> Path:
    return Path(os.environ.get("ATTRITION_AUDIT_LOG") or "attrition-audit.jsonl")


def actor() -> str:
    """Who acts: the user and host, as a shell session knows them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def record(event: str, *, actor: str, trigger: str, model: dict | None = None, champion: dict | None = None,
           data: dict | None = None, metrics: dict | None = None, verdict: str = "",
           reasons: list[str] | None = None) -> dict:
    """The one record schema: every writer makes its records here. `data` is {channel: [SHA-256
    of each file]} (data_hashes and metadata_hashes make it), `metrics` {name:
    number}; anything else is a bug of the writer, refused before a line is written."""
    if event not in EVENTS:
        raise ValueError(f"audit event {event!r} must be one of {', '.join(EVENTS)}")
    for channel, hashes in (data or {}).items():
        if not (isinstance(channel, str) and isinstance(hashes, list)
                and all(isinstance(h, str) and DIGEST.fullmatch(h) for h in hashes)):
            raise TypeError(f"audit data {channel!r}: must be a list of SHA-256 hex digests, not {hashes!r}")
    for name, value in (metrics or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"audit metric {name!r}: must be a number, not {value!r}")
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "event": event, "actor": actor,
            "trigger": trigger, "model": model or {}, "champion": champion or {}, "data": data or {},
            "metrics": metrics or {}, "verdict": verdict, "reasons": reasons or []}


def data_hashes(manifest: dict) -> dict[str, list[str]]:
    """{channel: [SHA-256, ...]} from a manifest.json's data."""
    files = manifest.get("data") or {}
    return {channel: [entry["sha256"] for entry in entries] for channel, entries in files.items()}


def metadata_hashes(metadata: dict) -> dict[str, list[str]]:
    """The same from registry metadata (MLflow tags, a package's CustomerMetadataProperties):
    data_<channel>_<i> = "file sha256:<digest> rows:<n>"."""
    found: dict[str, list[str]] = {}
    for key, value in metadata.items():
        channel, _, index = key.removeprefix("data_").rpartition("_")
        digest = re.search(rf"sha256:({DIGEST.pattern})", str(value))
        if key.startswith("data_") and channel and index.isdigit() and digest:
            found.setdefault(channel, []).append(digest.group(1))
    return found


def metric_values(metadata: dict) -> dict[str, float]:
    """{name: number} from registry metadata's metric_<name> entries (strings there)."""
    found = {}
    for key, value in metadata.items():
        if key.startswith("metric_"):
            try:
                found[key.removeprefix("metric_")] = float(value)
            except (TypeError, ValueError):
                continue
    return found


def append(log: Path, entry: dict) -> dict:
    """One line, written by one write() on a file opened for appending, then fsync'd, under an
    exclusive lock: concurrent writers never interleave inside a line, no earlier line is ever
    touched, and a write the disk cuts short (ENOSPC) is cut back off before the error is raised,
    so the log stays readable and a failed append is never reported as done. Returns the record
    as written, with its place in the chain."""
    log.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(log, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        start = os.fstat(descriptor).st_size
        previous = _last_line(descriptor, start)
        chained = _chained(entry, previous, descriptor, start)
        line = (json.dumps(chained, sort_keys=True, separators=(",", ":")) + "\n").encode()
        if previous is not None and not previous.endswith(b"\n"):
            line = b"\n" + line  # a line cut short by hand stays a line of its own
        try:
            if os.write(descriptor, line) != len(line):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(log))
            os.fsync(descriptor)
        except OSError as error:
            os.ftruncate(descriptor, start)
            raise OSError(error.errno, f"the audit record was not written ({error.strerror})", str(log)) from None
    finally:
        os.close(descriptor)
    return chained


def digest(entry: dict) -> str:
    """A record's own hash: SHA-256 of its canonical JSON, without the hash itself."""
    body = {key: value for key, value in entry.items() if key != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _chained(entry: dict, previous: bytes | None, descriptor: int, size: int) -> dict:
    """The entry with its seq (its line number), prev and hash."""
    before = _parsed(previous) if previous is not None else None
    if previous is None:
        seq, prev = 1, GENESIS
    elif before is not None and isinstance(before.get("seq"), int) and isinstance(before.get("hash"), str):
        seq, prev = before["seq"] + 1, before["hash"]
    else:  # a record from before the chain, or a damaged line: linked by the line's own bytes
        seq = os.pread(descriptor, size, 0).count(b"\n") + 1 + (not previous.endswith(b"\n"))
        prev = hashlib.sha256(previous.rstrip(b"\n")).hexdigest()
    chained = {key: value for key, value in entry.items() if key not in CHAIN} | {"seq": seq, "prev": prev}
    return chained | {"hash": digest(chained)}


def _last_line(descriptor: int, size: int) -> bytes | None:
    """The file's last line (with its line break, if it has one), or None for an empty file."""
    if size == 0:
        return None
    end, tail = size, b""
    while end > 0:
        begin = max(0, end - TAIL)
        tail = os.pread(descriptor, end - begin, begin) + tail
        end = begin
        cut = tail.rfind(b"\n", 0, len(tail) - 1)
        if cut >= 0:
            return tail[cut + 1:]
    return tail


def _parsed(line: bytes) -> dict | None:
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return entry if isinstance(entry, dict) else None


@dataclass(frozen=True)
class Verification:
    """What `verify` found: how many records, how many from before the chain (at the start, not
    linked), the head's seq and hash, and the first break in words ("" when the chain holds)."""

    records: int
    unchained: int
    head: str
    broken: str


def verify(log: Path) -> Verification:
    """Walks the chain from the first line and stops at the first break."""
    if not log.is_file():
        raise UserError(f"no audit log at {log}: set ATTRITION_AUDIT_LOG or --audit-log")
    lines = log.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        return Verification(len(lines) - 1, 0, "", f"line {len(lines)}: cut short (no line break at the log's end)")
    unchained, prev = 0, GENESIS
    for number, raw in enumerate(lines, 1):
        broken = _break(number, raw, prev, chained_yet=unchained < number - 1)
        if broken:
            return Verification(number - 1, unchained, prev, broken)
        entry = _parsed(raw) or {}
        if "hash" in entry:
            prev = entry["hash"]
        else:
            unchained, prev = unchained + 1, hashlib.sha256(raw).hexdigest()
    return Verification(len(lines), unchained, prev, "")


def _break(number: int, raw: bytes, prev: str, chained_yet: bool) -> str:
    """Why line `number` breaks the chain, or ""."""
    entry = _parsed(raw)
    if entry is None:
        return f"line {number}: not an audit record (edited by hand or cut short)"
    if not all(key in entry for key in CHAIN):
        if chained_yet:
            return f"line {number}: a record without its place in the chain, after chained ones: inserted or edited"
        return ""
    if entry["hash"] != digest(entry):
        return f"line {number}: the record was changed after it was written (its hash does not match)"
    seq = entry["seq"]
    if not isinstance(seq, int) or seq < number:
        return f"line {number}: record {seq} where record {number} belongs: records were reordered or copied"
    if seq > number:
        return f"line {number}: record {seq} where record {number} belongs: {seq - number} record(s) removed before it"
    if entry["prev"] != prev:
        return (f"line {number}: the record before it is not the one it was written after: "
                f"line {number - 1} was changed, or records around it were replaced")
    return ""


@dataclass(frozen=True)
class Trail:
    """What `read` found: the records, newest first, and the numbers of the lines it skipped
    because they were not records (cut short, edited by hand)."""

    entries: list[dict]
    damaged: list[int]


def read(log: Path, model: str | None = None, limit: int | None = None) -> Trail:
    """The records, newest first (optionally of one registered model); damaged lines are skipped
    and named, never a reason to refuse the rest."""
    if not log.is_file():
        raise UserError(f"no audit log at {log}: set ATTRITION_AUDIT_LOG or --audit-log")
    entries, damaged = [], []
    for number, line in enumerate(log.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("model", {}), dict):
            damaged.append(number)
        elif model is None or entry.get("model", {}).get("name") == model:
            entries.append(entry)
    entries.reverse()
    return Trail(entries[:limit] if limit else entries, damaged)


def damage_note(log: Path, damaged: list[int]) -> str:
    """One line naming the skipped lines, or "" when there are none."""
    if not damaged:
        return ""
    shown = ", ".join(str(n) for n in damaged[:10]) + (f" and {len(damaged) - 10} more" if len(damaged) > 10 else "")
    return f"{log}: skipped {len(damaged)} damaged line(s) ({shown}): not audit records; edited by hand or cut short"


def line(entry: dict) -> str:
    """One readable line of a record (and its reasons indented below), for `history`. Every text
    is escaped: a line break in a reason cannot forge a record of its own."""
    metrics = entry.get("metrics") or {}
    champion = entry.get("champion") or {}
    parts = [entry.get("time", "?"), entry.get("event", "?"), _model(entry.get("model") or {}),
             f"champion v{champion['version']}" if isinstance(champion, dict) and champion.get("version") else "",
             f"auc={metrics['auc']:.4f}" if isinstance(metrics, dict) and isinstance(metrics.get("auc"), float) else "",
             f"by {entry.get('actor', '?')}", f"trigger: {entry['trigger']}" if entry.get("trigger") else "",
             f"verdict: {entry['verdict']}" if entry.get("verdict") else ""]
    text = "  ".join(escape(str(part)) for part in parts if part)
    reasons = entry.get("reasons")
    reasons = reasons if isinstance(reasons, list) else []
    return text + "".join(f"\n    {escape(str(reason))}" for reason in reasons if reason)


def escape(text: str) -> str:
    """Every character that is not printable (line breaks, terminal escapes) as a visible escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _model(model: dict) -> str:
    if model.get("endpoint"):
        return f"endpoint {model['endpoint']} ({', '.join(model.get('models', []))})"
    named = model.get("package") or model.get("name", "")
    version = f" v{model['version']}" if model.get("version") else ""
    return f"{named}{version}" + (f" (model {model['model_version']})" if model.get("model_version") else "")
