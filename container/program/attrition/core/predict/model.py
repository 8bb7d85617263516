"""A trained model in memory: LightGBM's booster, its schema and threshold, and its predictor.

`save` writes model.txt (LightGBM's text format) and metadata.json; `load` reads text and
JSON only, so a model file cannot run code.
"""

import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np

from ..contract import MANIFEST_FILE, METADATA_FILE, MODEL_FILE
from ..platform.artifact import (
    FORMAT_VERSION,
    check_metadata,
    check_model_text,
    model_version,
    write_json,
    write_text,
)
from ..platform.errors import UserError
from ..table.schema import Schema
from .predictors import Predictor, for_booster

MAX_MEMBER = 2 << 30  # bytes a file of a model.tar.gz may unpack to (a big model.txt is tens of MB)


@dataclass
class Model:
    booster: lightgbm.Booster
    schema: Schema
    threshold: float
    metadata: dict[str, Any]
    predictor: Predictor
    version: str  # start of model.txt's SHA-256: see model_version
    manifest: dict[str, Any]  # MANIFEST_FILE, or {} for a model saved without one

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of an encoded feature matrix."""
        return self.predictor.predict(matrix)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature TreeSHAP contributions in log-odds (the base value column dropped)."""
        return self.predictor.contributions(matrix)

    def labels(self, probabilities: list[float]) -> list[str]:
        negative, positive = self.schema.classes
        threshold = self.threshold
        return [positive if p >= threshold else negative for p in probabilities]


def save(model_dir: Path, booster: lightgbm.Booster, metadata: dict[str, Any]) -> None:
    write_text(model_dir / MODEL_FILE, booster.model_to_string())
    write_json(model_dir / METADATA_FILE, {"format_version": FORMAT_VERSION, "model_file": MODEL_FILE,
                                           **metadata})


def load(model_dir: Path, predict_threads: int = 1) -> Model:
    """Load a model directory written by `save`; raise UserError saying what is wrong."""
    metadata_path, model_path = model_dir / METADATA_FILE, model_dir / MODEL_FILE
    for path in (metadata_path, model_path):
        if not path.is_file():
            raise UserError(
                f"no model at {model_dir}: {path.name} is missing. Run `train` first, or "
                "mount a directory holding model.txt and metadata.json"
            )
    try:
        metadata = json.loads(metadata_path.read_text())
    except ValueError as error:
        raise UserError(f"{metadata_path} is not valid JSON: {error}") from None
    check_metadata(metadata, metadata_path)
    try:
        schema = Schema.from_dict(metadata["schema"])
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"{metadata_path} is not valid model metadata: {error}") from None
    threshold = float(metadata["decision_threshold"])
    check_model_text(model_path)
    try:
        booster = lightgbm.Booster(model_file=str(model_path))
    except lightgbm.basic.LightGBMError as error:
        raise UserError(f"{model_path} is not a LightGBM model: {error}") from None
    if booster.num_feature() != len(schema.features):
        raise UserError(
            f"{model_path} expects {booster.num_feature()} features but the metadata lists "
            f"{len(schema.features)}: the two files come from different trainings"
        )
    manifest_path = model_dir / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    return Model(booster, schema, threshold, metadata, for_booster(booster, predict_threads),
                 model_version(model_path), manifest)


def load_any(source: Path, scratch_in: Path) -> Model:
    """A model directory, a model.tar.gz, or a folder holding one (as a Processing job mounts it).
    An archive is unpacked into a hidden folder of `scratch_in` (a folder the job writes anyway,
    under /opt/ml: /tmp may be read-only), removed once the model is loaded."""
    scratch_in.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".unpacking-", dir=scratch_in) as scratch:
        return load(unpacked(source, Path(scratch)))


def unpacked(source: Path, scratch: Path) -> Path:
    """A model directory as given, or the files of a model.tar.gz: plain files only, at the
    archive's root as `deploy package` and SageMaker write them (no links, devices or paths that
    leave the folder; Debian's Python 3.11.2 has no tarfile filters, so this checks by hand)."""
    archive = source if source.is_file() else source / "model.tar.gz"
    if (source / MODEL_FILE).is_file() or not archive.is_file():
        return source
    try:
        with tarfile.open(archive) as tar:
            for member in _plain_files(tar, archive):
                with tar.extractfile(member) as packed, open(scratch / Path(member.name).name, "wb") as out:  # type: ignore[union-attr]
                    shutil.copyfileobj(packed, out, 1 << 20)
    except (tarfile.TarError, OSError) as error:
        raise UserError(f"{archive} is not a readable model.tar.gz: {error}") from None
    return scratch


def _plain_files(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    """The archive's files, each at its root ("model.txt" or "./model.txt"); its "./" folder aside."""
    files = []
    for member in tar:  # one header at a time: a member is checked before the next is sought
        name = member.name.removeprefix("./")
        if member.isdir() and name in ("", "."):
            continue
        if not member.isfile() or not name or "/" in name or name.startswith(".."):
            raise UserError(f"{archive} is not a readable model.tar.gz: {member.name!r} is not a plain file "
                            "at its root")
        if member.size > MAX_MEMBER:
            raise UserError(f"{archive} is not a model.tar.gz of this image: {name} is {member.size / 2**30:.1f} GiB, "
                            f"over the {MAX_MEMBER // 2**30} GiB a model file may be")
        files.append(member)
    return files
