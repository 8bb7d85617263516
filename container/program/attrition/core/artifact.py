"""The model directory's files, by name, and how they are written: whole or not at all.

    model/model.txt         the booster, in LightGBM's own text format
    model/metadata.json     schema, label mapping, decision threshold, feature importance
    model/manifest.json     lineage: data files and their SHA-256, settings, metrics, image, job
    model/statistics.json, model/constraints.json   the Model Monitor baseline (core/baseline.py)

Every file is written to a temporary name and renamed, so a reader never sees half a file.
Standard library only: `serve` checks the model directory before gunicorn starts, without
importing numpy or LightGBM (core/model.py loads it).
"""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

MODEL_FILE = "model.txt"
METADATA_FILE = "metadata.json"
MANIFEST_FILE = "manifest.json"
STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
FORMAT_VERSION = 1


def model_version(model_file: Path) -> str:
    """The first 16 hex digits of model.txt's SHA-256: the same model has the same version anywhere."""
    return version_of(sha256_of(model_file))


def version_of(sha256: str) -> str:
    return sha256[:16]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_text(path: Path, text: str) -> None:
    """Write a file whole or not at all: a temporary name in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_json(path: Path, document: Any) -> None:
    write_text(path, json.dumps(document, indent=2) + "\n")
