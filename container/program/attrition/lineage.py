"""Where a model came from: manifest.json beside the model, and the model's version.

The version is the start of the SHA-256 of model.txt, so any copy of the same model has the
same version wherever it is served, and the manifest ties that version to the SHA-256 of each
data file it was trained on, the resolved hyperparameters, the image and the job.
"""

import hashlib
import platform
import time
from pathlib import Path

import lightgbm
import numpy as np

MANIFEST_FILE = "manifest.json"


def model_version(model_file: Path) -> str:
    return _version(hashlib.sha256(model_file.read_bytes()).hexdigest())


def _version(sha256: str) -> str:
    return sha256[:16]


def manifest(model_file: Path, data: dict, hp: dict, results: dict, environ, started: float) -> dict:
    """data: channel name -> the files read from it ({"file", "sha256", "rows"})."""
    validation = results["validation"]
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()
    return {
        "model_version": _version(digest),
        "model_sha256": digest,
        "data": data,
        "hyperparameters": hp,
        "metrics": {
            "source": results["validation_source"],
            **{name: validation[name] for name in ("auc", "pr_auc", "f1", "precision", "recall")},
            "decision_threshold": results["threshold"],
            "trees": results["iterations"],
        },
        "versions": {"python": platform.python_version(), "lightgbm": lightgbm.__version__,
                     "numpy": np.__version__},
        "image_revision": environ.get("ATTRITION_IMAGE_REVISION", "unknown"),
        "training_job_name": environ.get("TRAINING_JOB_NAME"),
        "training_job_arn": environ.get("TRAINING_JOB_ARN"),
        "training_started_at": _iso(started),
        "trained_at": _iso(time.time()),
    }


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
