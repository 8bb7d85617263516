"""The model directory's files, by name, and how they are written: whole or not at all.

    model/model.txt         the booster, in LightGBM's own text format
    model/metadata.json     schema, label mapping, decision threshold, feature importance
    model/manifest.json     lineage: data files and their SHA-256, settings, metrics, image, job
    model/statistics.json, model/constraints.json   the Model Monitor baseline (core/quality/baseline.py)

Every file is written to a temporary name and renamed, so a reader never sees half a file.
Standard library only: `serve` checks the model directory before gunicorn starts, without
importing numpy or LightGBM (core/predict/model.py loads it).
"""

import hashlib
import json
import math
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from .errors import UserError

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
    with writing(path) as out:
        out.write(text)


@contextmanager
def writing(path: Path) -> Iterator[TextIO]:
    """An open text file that appears at `path` whole, when the block ends without an error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "w", encoding="utf-8") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_json(path: Path, document: Any) -> None:
    write_text(path, json.dumps(document, indent=2) + "\n")


def check_model_text(path: Path) -> None:
    """Refuse a LightGBM text model that is not whole. LightGBM's own loader can abort the
    process on a truncated file (every worker would crash and respawn), so the framing is checked
    first: the trees must fill exactly the bytes their header announces, and the file must end
    with its parameters."""
    data = path.read_bytes()
    sizes = re.search(rb"^tree_sizes=([0-9 ]*)$", data, re.M)
    start, end = data.find(b"Tree=0\n"), data.find(b"end of trees")
    if not data.startswith(b"tree\n") or sizes is None:
        problem = "it does not start like a LightGBM text model"
    elif start < 0 or end < 0 or sum(int(size) for size in sizes.group(1).split()) != end - start:
        problem = "its trees are cut short"
    elif b"end of parameters" not in data[end:]:
        problem = "it ends before its parameters"
    else:
        return
    raise UserError(f"{path} is not a whole LightGBM model ({len(data)} bytes): {problem}. "
                    "Copy the file again, or train again")


def check_metadata(metadata: Any, path: Path) -> None:
    """Refuse metadata that would serve nonsense: every check names the field."""
    problem = _metadata_problem(metadata)
    if problem:
        raise UserError(f"{path} is not valid model metadata: {problem}")


def _metadata_problem(metadata: Any) -> str:
    if not isinstance(metadata, dict):
        return "it is not a JSON object"
    if metadata.get("format_version") != FORMAT_VERSION:
        return f"format_version {metadata.get('format_version')!r} is not supported"
    threshold = metadata.get("decision_threshold")
    if not isinstance(threshold, int | float) or not (math.isfinite(threshold) and 0 < threshold < 1):
        return f"decision_threshold {threshold!r} must be a number between 0 and 1"
    schema = metadata.get("schema")
    if not isinstance(schema, dict):
        return "schema is missing"
    classes = schema.get("classes")
    if not (isinstance(classes, list) and len(classes) == 2 and all(isinstance(c, str) for c in classes)
            and classes[0] != classes[1]):
        return f"schema.classes {classes!r} must be two different labels [negative, positive]"
    inputs, features = schema.get("input_columns"), schema.get("features")
    if not isinstance(inputs, list) or not isinstance(features, list) or not features:
        return "schema.input_columns and schema.features must be non-empty lists"
    for feature in features:
        if not isinstance(feature, dict) or feature.get("name") not in inputs:
            return f"schema.features holds {str(feature)[:80]!r}, which is not one of the input columns"
        if feature.get("kind") not in ("numeric", "categorical"):
            return f"feature {feature['name']!r} has kind {feature.get('kind')!r}"
        levels = feature.get("levels", [])
        if not isinstance(levels, list) or not all(isinstance(level, str) for level in levels):
            return f"feature {feature['name']!r} has levels that are not a list of text"
    position = schema.get("label_position")
    if not isinstance(position, int) or not 0 <= position <= len(inputs):
        return f"schema.label_position {position!r} is outside 0..{len(inputs)}"
    return ""
