"""Every path and environment variable the container reads, in one place.

SageMaker mounts everything under /opt/ml. SAGEMAKER_BASE_DIR moves that root, so the
same code runs on a laptop or in tests against a temporary folder. Nothing here is read
at import time: call the functions when the value is needed.
"""

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

DEFAULT_BASE_DIR = "/opt/ml"
MODEL_FILE = "model.txt"  # in the model directory: LightGBM's text model
METADATA_FILE = "metadata.json"  # ... and what serving needs besides (see model.py)
TRAIN_CHANNELS = ("train", "training")
VALIDATION_CHANNEL = "validation"


@dataclass(frozen=True)
class Paths:
    """The /opt/ml layout, rooted at `base`."""

    base: Path

    @property
    def config_dir(self) -> Path:
        return self.base / "input" / "config"

    @property
    def hyperparameters_file(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def input_data_config_file(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    @property
    def resource_config_file(self) -> Path:
        return self.config_dir / "resourceconfig.json"

    @property
    def data_dir(self) -> Path:
        return self.base / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    def channel_dir(self, name: str) -> Path:
        return self.data_dir / name

    def write_failure(self, message: str) -> str:
        """Write the one-line reason SageMaker shows for a failed job (its first 1024 characters)."""
        text = message.strip().replace("\n", " ")[:1000]
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            self.failure_file.write_text(text + "\n")
        except OSError as error:
            print(f"could not write {self.failure_file}: {error}", file=sys.stderr)
        return text


def paths(environ=os.environ) -> Paths:
    return Paths(Path(environ.get("SAGEMAKER_BASE_DIR", DEFAULT_BASE_DIR)))


def read_json_file(path: Path, default):
    """Read an optional SageMaker config file; a missing or empty file gives `default`."""
    if not path.is_file() or path.stat().st_size == 0:
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except ValueError as error:
        raise UserError(f"{path.name} is not valid JSON: {error}") from None


@dataclass(frozen=True)
class ServingSettings:
    """Serving knobs, each from one environment variable (documented in the README)."""

    port: int
    workers: int
    timeout: int
    max_payload_mb: float
    default_accept: str
    predict_threads: int
    access_log: bool

    @property
    def max_payload_bytes(self) -> int:
        return int(self.max_payload_mb * 1024 * 1024)


def serving_settings(environ=os.environ) -> ServingSettings:
    return ServingSettings(
        port=_int(environ, "SAGEMAKER_BIND_TO_PORT", 8080, 1, 65535),
        workers=_int(environ, "SAGEMAKER_MODEL_SERVER_WORKERS", os.cpu_count() or 1, 1, 256),
        # Batch Transform allows 600 s per mini-batch by default; real-time requests, 60 s.
        timeout=_int(environ, "SAGEMAKER_MODEL_SERVER_TIMEOUT",
                     600 if environ.get("SAGEMAKER_BATCH", "").lower() == "true" else 60, 1, 3600),
        max_payload_mb=_float(environ, "SAGEMAKER_MAX_PAYLOAD_IN_MB", 6.0, 0.001, 1024.0),
        default_accept=environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "application/json"),
        predict_threads=_int(environ, "ATTRITION_PREDICT_THREADS", 1, 0, 256),
        access_log=environ.get("ATTRITION_ACCESS_LOG", "").strip().lower() in ("1", "true", "yes"),
    )


def _int(environ, name, default, low, high) -> int:
    return int(_number(environ, name, default, low, high, int))


def _float(environ, name, default, low, high) -> float:
    return _number(environ, name, default, low, high, float)


def _number(environ, name, default, low, high, cast):
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a valid {cast.__name__}") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={raw!r} is outside {low}..{high}")
    return value
