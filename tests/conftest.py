"""Shared fixtures: a fake /opt/ml under tmp_path, and small models trained on real data."""

import json
from pathlib import Path

import pytest

from attrition import environment, model, training

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


@pytest.fixture(scope="session")
def ibm_text() -> str:
    return BUNDLED_CSV.read_text(encoding="utf-8-sig")


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory, ibm_text) -> Path:
    """A model trained on the bundled IBM data (fewer trees, for speed)."""
    base = tmp_path_factory.mktemp("opt_ml")
    paths = make_opt_ml(base, FAST, {"train": {"ibm.csv": ibm_text}})
    assert run_training(paths) == 0, (paths.failure_file.read_text()
                                      if paths.failure_file.exists() else "")
    return base


@pytest.fixture(scope="session")
def trained_model(trained_dir):
    return model.load(trained_dir / "model")


@pytest.fixture()
def opt_ml(tmp_path) -> Path:
    return tmp_path / "opt_ml"

