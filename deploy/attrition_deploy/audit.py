"""The audit trail: one JSON object a line, appended, never rewritten.

Every registration, approval, promotion, deployment and retraining decision is recorded with who
or what triggered it, the model versions, the data hashes, the metrics and the verdict. Locally
the log lives beside the registry (ATTRITION_AUDIT_LOG, default ./attrition-audit.jsonl, e.g. next
to mlflow.db) and each record is also set as a tag on the MLflow model version it concerns;
`attrition-deploy history` prints it, newest first. Both the deploy CLI and the pipelines' local
runners write here (json and os only: the CLI needs boto3 alone).
"""

import errno
import fcntl
import getpass
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

EVENTS = ("registered", "approved", "rejected", "promoted", "refused", "deployed", "deleted", "retraining-started",
          "retraining-skipped", "shadow-compared")
DIGEST = re.compile(r"[0-9a-f]{64}")  # a SHA-256, as hex


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


def append(log: Path, entry: dict) -> None:
    """One line, written by one write() on a file opened for appending, then fsync'd, under an
    exclusive lock: concurrent writers never interleave inside a line, no earlier line is ever
    touched, and a write the disk cuts short (ENOSPC) is cut back off before the error is raised,
    so the log stays readable and a failed append is never reported as done."""
    line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()
    log.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        start = os.fstat(descriptor).st_size
        try:
            if os.write(descriptor, line) != len(line):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(log))
            os.fsync(descriptor)
        except OSError as error:
            os.ftruncate(descriptor, start)
            raise OSError(error.errno, f"the audit record was not written ({error.strerror})", str(log)) from None
    finally:
        os.close(descriptor)


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
        raise ValueError(f"no audit log at {log}: set ATTRITION_AUDIT_LOG or --audit-log")
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
