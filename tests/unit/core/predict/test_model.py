"""Saving and loading a model: text and JSON only, and every broken directory explained."""

import json
import shutil

import numpy as np
import pytest

from attrition.core import contract
from attrition.core.platform.errors import UserError
from attrition.core.predict import model


@pytest.fixture()
def model_dir(tmp_path, trained_dir):
    folder = tmp_path / "model"
    shutil.copytree(trained_dir / "model", folder)
    return folder


def test_save_and_load_give_the_same_predictions(tmp_path, trained_model):
    copy = tmp_path / "copy"
    model.save(copy, trained_model.booster, {k: v for k, v in trained_model.metadata.items()
                                             if k not in ("format_version", "model_file")})
    loaded = model.load(copy)
    x = np.array([[np.nan] * len(trained_model.schema.features)])
    assert loaded.predict(x) == pytest.approx(trained_model.predict(x), abs=1e-12)
    assert loaded.threshold == trained_model.threshold and loaded.version == trained_model.version


def test_missing_files_are_named(model_dir):
    (model_dir / contract.MODEL_FILE).unlink()
    with pytest.raises(UserError, match="model.txt is missing. Run `train` first"):
        model.load(model_dir)


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(format_version=9), "format_version 9 is not supported"),
    (lambda m: m.pop("schema"), "is not valid model metadata"),
    (lambda m: m.update(decision_threshold="high"), "is not valid model metadata"),
])
def test_bad_metadata_is_explained(model_dir, change, message):
    path = model_dir / contract.METADATA_FILE
    metadata = json.loads(path.read_text())
    change(metadata)
    path.write_text(json.dumps(metadata))
    with pytest.raises(UserError, match=message):
        model.load(model_dir)


def test_metadata_from_another_training_is_refused(model_dir):
    path = model_dir / contract.METADATA_FILE
    metadata = json.loads(path.read_text())
    metadata["schema"]["features"] = metadata["schema"]["features"][:3]
    path.write_text(json.dumps(metadata))
    with pytest.raises(UserError, match="the two files come from different trainings"):
        model.load(model_dir)
