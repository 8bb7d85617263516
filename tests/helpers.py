"""Helpers shared by the unit tests: a fake /opt/ml under a temporary folder, and training in it."""

import json
from pathlib import Path

from attrition import environment, training

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CSV = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"
FAST = {"num_boost_round": "60", "early_stopping_rounds": "0"}


def make_opt_ml(base: Path, hyperparameters=None, channels=None) -> environment.Paths:
    """Lay out /opt/ml under `base`: config files plus channel name -> {file name: text}."""
    paths = environment.Paths(base)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.hyperparameters_file.write_text(json.dumps(hyperparameters or {}))
    for channel, files in (channels or {}).items():
        folder = paths.channel_dir(channel)
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    return paths


def run_training(paths: environment.Paths) -> int:
    return training.main({"SAGEMAKER_BASE_DIR": str(paths.base)})
