"""Leave root before doing any work, whenever the job can do without it.

The image starts as root because SageMaker's own tooling expects to (its local modes and
training volumes mount folders that only root can write). Each entrypoint then checks, with its
effective user switched to SERVICE_UID, that the files it must read and the folders it must write
are usable by that user, and if so drops root for good. Started as any other user (docker run
--user), nothing changes. Without CAP_SETUID (--cap-drop ALL as root) it cannot switch, and says so.
"""

import os
import tempfile
from pathlib import Path

SERVICE_UID = SERVICE_GID = 10001  # the image's `model` user


def drop_root(reads: list[Path], writes: list[Path]) -> str:
    """Become SERVICE_UID for good when it can read `reads` and write `writes`; return why not
    ("" when the process does not run as root, or has dropped it)."""
    if os.geteuid() != 0:
        return ""
    try:
        os.setegid(SERVICE_GID)
        os.seteuid(SERVICE_UID)
    except PermissionError:
        return "runs as root: it may not change its user (no CAP_SETUID)"
    try:
        problem = _unusable(reads, writes)
    finally:
        os.seteuid(0)
        os.setegid(0)
    if problem:
        return f"runs as root: uid {SERVICE_UID} cannot {problem}"
    os.setgroups([])
    os.setgid(SERVICE_GID)
    os.setuid(SERVICE_UID)
    return ""


def _unusable(reads: list[Path], writes: list[Path]) -> str:
    """What the current effective user cannot do with these paths ("" when it can do all)."""
    for path in reads:
        try:
            for item in [path, *path.rglob("*")] if path.is_dir() else [path] if path.exists() else []:
                if not os.access(item, os.R_OK | (os.X_OK if item.is_dir() else 0), effective_ids=True):
                    return f"read {item}"
        except OSError:
            return f"read {path}"
    for folder in writes:
        target = folder
        try:
            while not target.exists():  # a folder the job will create: its nearest existing parent
                target = target.parent
            with tempfile.TemporaryFile(dir=target):
                pass
        except OSError:
            return f"write {folder}"
    return ""
