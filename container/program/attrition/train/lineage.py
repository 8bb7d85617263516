"""Where a model came from: manifest.json beside the model.

The model's version is the start of the SHA-256 of model.txt (core/platform/artifact.py), so any copy of
the same model has the same version wherever it is served; the manifest ties that version to the
SHA-256 of each data file it was trained on, the resolved hyperparameters, the image and the job.
"""

import platform
import time
from pathlib import Path

import lightgbm
import numpy as np

from ..core.contract import CONSTRAINTS_FILE, METADATA_FILE, MODEL_FILE, STATISTICS_FILE
from ..core.platform.artifact import sha256_of, version_of
from ..core.platform.environment import JobIdentity

CHECKED_FILES = (METADATA_FILE, STATISTICS_FILE, CONSTRAINTS_FILE)


def manifest(model_dir: Path, data: dict, hp: dict, results: dict, job: JobIdentity,
             started: float) -> dict:
    """data: channel name -> the files read from it ({"file", "sha256", "rows"}). The SHA-256 of
    every file beside the manifest lets a copy be checked whole (a registry's files replaced after
    registration are refused, not served)."""
    validation = results["validation"]
    digest = sha256_of(model_dir / MODEL_FILE)
    return {
        "model_version": version_of(digest),
        "model_sha256": digest,
        "files_sha256": {name: sha256_of(model_dir / name) for name in (MODEL_FILE, *CHECKED_FILES)},
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
        "image_revision": job.image_revision,
        "training_job_name": job.training_job_name,
        "training_job_arn": job.training_job_arn,
        "training_started_at": _iso(started),
        "trained_at": _iso(time.time()),
    }


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
