"""The model artifact: LightGBM's text model plus JSON metadata. No pickle anywhere.

    model/model.txt       the booster, in LightGBM's own text format
    model/metadata.json   schema, label mapping, decision threshold, feature importance
    model/manifest.json   lineage: data files and their SHA-256, settings, metrics, image, job
    model/statistics.json, model/constraints.json   the Model Monitor baseline (see drift.py)

Loading reads text and JSON only, so a model file cannot run code.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import lightgbm
import numpy as np

from . import environment, lineage
from .errors import UserError
from .predictor import Predictor
from .schema import Schema
from .stumps import StumpPredictor, compile_stumps

MODEL_FILE = environment.MODEL_FILE
METADATA_FILE = environment.METADATA_FILE
FORMAT_VERSION = 1


@dataclass
class Model:
    booster: lightgbm.Booster
    schema: Schema
    threshold: float
    metadata: dict
    predictor: StumpPredictor | Predictor  # stumps.py for sums of stumps, else LightGBM's C API
    version: str  # start of model.txt's SHA-256, see lineage.py
    manifest: dict  # lineage.MANIFEST_FILE, or {} for a model saved without one

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of an encoded feature matrix."""
        return self.predictor.predict(matrix)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature TreeSHAP contributions in log-odds (the base value column dropped)."""
        return self.predictor.contributions(matrix)

    def labels(self, probabilities: list) -> list:
        negative, positive = self.schema.classes
        threshold = self.threshold
        return [positive if p >= threshold else negative for p in probabilities]


def save(model_dir: Path, booster: lightgbm.Booster, metadata: dict) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / MODEL_FILE))
    document = {"format_version": FORMAT_VERSION, "model_file": MODEL_FILE, **metadata}
    (model_dir / METADATA_FILE).write_text(json.dumps(document, indent=2) + "\n")


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
        if metadata.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"format_version {metadata.get('format_version')!r} is not supported")
        schema = Schema.from_dict(metadata["schema"])
        threshold = float(metadata["decision_threshold"])
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"{metadata_path} is not valid model metadata: {error}") from None
    try:
        booster = lightgbm.Booster(model_file=str(model_path))
    except lightgbm.basic.LightGBMError as error:
        raise UserError(f"{model_path} is not a LightGBM model: {error}") from None
    if booster.num_feature() != len(schema.features):
        raise UserError(
            f"{model_path} expects {booster.num_feature()} features but the metadata lists "
            f"{len(schema.features)}: the two files come from different trainings"
        )
    manifest_path = model_dir / lineage.MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    predictor = compile_stumps(booster) or Predictor(booster, predict_threads)
    return Model(booster, schema, threshold, metadata, predictor, lineage.model_version(model_path),
                 manifest)
