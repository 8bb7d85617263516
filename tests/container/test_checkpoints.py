"""Spot training: a container killed (-9) during the final fit, started again on the same
directories, resumes from its checkpoint and ends with the model an uninterrupted run gives."""

import csv
import io
import json
import os
import time

import numpy as np
import pytest

from attrition.core.predict import model
from attrition.core.quality import metrics
from attrition.core.table import features
from attrition_pipelines.next_year import sample
from tests.container.docker_helpers import docker
from tests.helpers import as_csv

pytestmark = pytest.mark.container
# Two folds and one thread: cross-validation short, the final fit long enough to be caught. No
# row or feature sampling: a resumed fit draws its samples afresh (LightGBM's random state is not
# in a model file), so with sampling the rounds after the resume differ from an uninterrupted
# run's; without it, the resumed model must be the same one.
HP = {"num_boost_round": "1500", "early_stopping_rounds": "0", "num_leaves": "15", "learning_rate": "0.02",
      "folds": "2", "num_threads": "1", "bagging_fraction": "1", "bagging_freq": "0", "feature_fraction": "1",
      "extra_trees": "false"}


def _opt_ml(base, employees):
    (base / "input" / "config").mkdir(parents=True)
    (base / "input" / "data" / "train").mkdir(parents=True)
    (base / "checkpoints").mkdir()
    (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(HP))
    (base / "input" / "data" / "train" / "employees.csv").write_text(as_csv(employees))
    return base


def _start(image, base) -> str:
    return docker("run", "-d", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}",
                  "-e", "ATTRITION_CHECKPOINT_SECONDS=0.2", "-v", f"{base}:/opt/ml", image, "train").stdout.strip()


def _wait(container) -> str:
    try:
        code = docker("wait", container, timeout=600).stdout.strip()
        assert code == "0", (code, docker("logs", container).stderr[-1500:])
        logs = docker("logs", container)
        return logs.stdout + logs.stderr
    finally:
        docker("rm", "-f", container, check=False)


def _auc(model_dir, employees) -> float:
    trained = model.load(model_dir)
    columns = {name: [e[name] for e in employees] for name in employees[0]}
    y = np.array([e["Attrition"] == "Yes" for e in employees], dtype=float)
    return metrics.roc_auc(y, trained.predict(features.encode(trained.schema, columns, len(employees))))


def test_a_killed_job_resumes_from_its_last_round(image, tmp_path, ibm_text):
    everyone = list(csv.DictReader(io.StringIO(ibm_text)))
    train, held_out = sample(everyone[:1200], 20000, seed=9, shifted=False), everyone[1200:]
    killed = _start(image, _opt_ml(tmp_path / "spot", train))
    try:
        deadline = time.monotonic() + 300
        while "final model saved at round" not in docker("logs", killed).stdout:
            assert time.monotonic() < deadline, docker("logs", killed).stdout
            time.sleep(0.05)
        docker("kill", "--signal", "KILL", killed)
    finally:
        docker("rm", "-f", killed, check=False)
    state = json.loads((tmp_path / "spot" / "checkpoints" / "state.json").read_text())
    assert 0 < state["final"]["rounds"] < 1500 and not (tmp_path / "spot" / "model" / "model.txt").exists()
    resumed = _wait(_start(image, tmp_path / "spot"))
    assert "checkpoint: resuming; done: folds, cross_validation, final" in resumed
    rounds = int(resumed.split("resuming the final model from round ")[1].split()[0])
    assert rounds >= state["final"]["rounds"]
    _wait(_start(image, _opt_ml(tmp_path / "whole", train)))
    assert abs(_auc(tmp_path / "spot" / "model", held_out) - _auc(tmp_path / "whole" / "model", held_out)) < 0.005
