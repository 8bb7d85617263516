"""Outputs out: the warnings a person should read before trusting a model, and the move that
makes a model directory servable only once every file of it is complete."""

import json

import numpy as np

from attrition.core import contract
from attrition.train import outputs


def results(auc: float, iterations: int = 50) -> dict:
    return {"cross_validation": {"auc_mean": auc}, "iterations": iterations}


def test_too_few_rows_a_rare_class_chance_auc_and_one_tree_are_each_said():
    y = np.array([1] * 5 + [0] * 45)
    said = outputs._warnings(y, results(0.55, iterations=1))
    assert len(said) == 4
    assert said[0].startswith("only 50 labelled rows") and said[1].startswith("only 5 rows of the rarer class")
    assert "close to chance" in said[2] and "a single tree" in said[3]
    assert outputs._warnings(np.array([1] * 300 + [0] * 700), results(0.85)) == []


def test_the_move_in_replaces_the_old_model_with_metadata_last(tmp_path):
    model_dir, staging = tmp_path / "model", tmp_path / "model" / outputs.STAGING
    staging.mkdir(parents=True)
    (model_dir / contract.MODEL_FILE).write_text("old tree")
    (model_dir / contract.METADATA_FILE).write_text(json.dumps({"old": True}))
    (staging / contract.MODEL_FILE).write_text("new tree")
    (staging / contract.METADATA_FILE).write_text(json.dumps({"old": False}))
    outputs._move_in(staging, model_dir)
    assert (model_dir / contract.MODEL_FILE).read_text() == "new tree"
    assert json.loads((model_dir / contract.METADATA_FILE).read_text()) == {"old": False}
    assert list(staging.iterdir()) == []
