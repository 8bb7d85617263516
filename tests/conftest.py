"""Shared fixtures: the bundled data, and a model trained on it in a temporary /opt/ml."""

from pathlib import Path

import pytest

from attrition import model
from tests.helpers import BUNDLED_CSV, FAST, make_opt_ml, run_training


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

