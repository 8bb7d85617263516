"""The audit trail: one JSON object a line, appended, never rewritten.

Every registration, approval, promotion, deployment and retraining decision is recorded with who
or what triggered it, the model versions, the data hashes, the metrics and the verdict. Locally
the log lives beside the registry (ATTRITION_AUDIT_LOG, default ./attrition-audit.jsonl, e.g. next
to mlflow.db) and each record is also set as a tag on the MLflow model version it concerns;
`attrition-deploy history` prints it, newest first. Both the deploy CLI and the pipelines' local
runners write here (json and os only: the CLI needs boto3 alone).
"""

import getpass
import json
import os
import socket
import time
from pathlib import Path

EVENTS = ("registered", "approved", "rejected", "promoted", "refused", "deployed", "retraining-started",
          "retraining-skipped")


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
    if event not in EVENTS:
        raise ValueError(f"audit event {event!r} must be one of {', '.join(EVENTS)}")
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "event": event, "actor": actor,
            "trigger": trigger, "model": model or {}, "champion": champion or {}, "data": data or {},
            "metrics": metrics or {}, "verdict": verdict, "reasons": reasons or []}


def append(log: Path, entry: dict) -> None:
    """One line, written by one write() on a file opened for appending, then fsync'd: concurrent
    writers never interleave inside a line, and no earlier line is ever touched."""
    line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()
    log.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read(log: Path, model: str | None = None, limit: int | None = None) -> list[dict]:
    """The records, newest first (optionally of one registered model); a damaged line is reported."""
    if not log.is_file():
        raise ValueError(f"no audit log at {log}: set ATTRITION_AUDIT_LOG or --audit-log")
    entries = []
    for number, line in enumerate(log.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise ValueError(f"{log} line {number} is not JSON: the log was edited by hand or cut short") from None
        if model is None or entry.get("model", {}).get("name") == model:
            entries.append(entry)
    entries.reverse()
    return entries[:limit] if limit else entries


def line(entry: dict) -> str:
    """One readable line of a record (and its reasons indented below), for `history`."""
    metrics = entry.get("metrics") or {}
    parts = [entry.get("time", "?"), entry.get("event", "?"), _model(entry.get("model") or {}),
             f"champion v{entry['champion']['version']}" if (entry.get("champion") or {}).get("version") else "",
             f"auc={metrics['auc']:.4f}" if isinstance(metrics.get("auc"), float) else "",
             f"by {entry.get('actor', '?')}", f"trigger: {entry['trigger']}" if entry.get("trigger") else "",
             f"verdict: {entry['verdict']}" if entry.get("verdict") else ""]
    text = "  ".join(part for part in parts if part)
    return text + "".join(f"\n    {reason}" for reason in entry.get("reasons") or [] if reason)


def _model(model: dict) -> str:
    if model.get("endpoint"):
        return f"endpoint {model['endpoint']} ({', '.join(model.get('models', []))})"
    named = model.get("package") or model.get("name", "")
    version = f" v{model['version']}" if model.get("version") else ""
    return f"{named}{version}" + (f" (model {model['model_version']})" if model.get("model_version") else "")
