"""Checkpoints: saved only where the folder exists, resumed only for the same data and settings."""

import json

import pytest

from attrition.core.platform.errors import UserError
from attrition.train import checkpoints
from tests.helpers import FAST, make_opt_ml

DATA = [{"sha256": "a" * 64}]


def test_without_the_folder_nothing_is_saved(tmp_path):
    saved = checkpoints.Checkpoints.open(tmp_path / "absent", {"seed": 0}, DATA, 0)
    saved.save_stage("cross_validation", {"iterations": 3})
    assert saved.final_model() == (None, 0) and not (tmp_path / "absent").exists()


def test_a_checkpoint_of_other_settings_is_set_aside_not_resumed(tmp_path, capsys):
    first = checkpoints.Checkpoints.open(tmp_path, {"seed": 0}, DATA, 0)
    first.save_stage("cross_validation", {"iterations": 3})
    assert checkpoints.Checkpoints.open(tmp_path, {"seed": 0}, DATA, 0).stage("cross_validation") == {"iterations": 3}
    other = checkpoints.Checkpoints.open(tmp_path, {"seed": 1}, DATA, 0)
    assert other.stage("cross_validation") is None and (tmp_path / "state.json.set-aside").is_file()
    assert "of other data or settings" in capsys.readouterr().out


def test_a_training_job_saves_its_stages_and_the_next_run_resumes_them(tmp_path, ibm_text, capsys):
    paths = make_opt_ml(tmp_path, FAST, {"train": {"ibm.csv": ibm_text}})
    paths.checkpoint_dir.mkdir()
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path), "ATTRITION_CHECKPOINT_SECONDS": "0"}
    from attrition.train import job

    assert job.main(environ) == 0
    state = json.loads((paths.checkpoint_dir / "state.json").read_text())
    assert state["final"]["rounds"] == 60 and len(checkpoints.unpack(state["cross_validation"]["out_of_fold"])) == 1470
    first = (paths.model_dir / "model.txt").read_text()
    capsys.readouterr()
    assert job.main(environ) == 0  # everything was done: nothing is trained again
    out = capsys.readouterr().out
    assert "resuming the final model from round 60" in out and (paths.model_dir / "model.txt").read_text() == first


def test_a_job_stopped_during_cross_validation_repeats_only_the_unfinished_folds(tmp_path, ibm_text, capsys):
    paths = make_opt_ml(tmp_path, FAST, {"train": {"ibm.csv": ibm_text}})
    paths.checkpoint_dir.mkdir()
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path), "ATTRITION_CHECKPOINT_SECONDS": "0"}
    from attrition.train import job

    assert job.main(environ) == 0
    uninterrupted = (paths.model_dir / "model.txt").read_text()
    state_file = paths.checkpoint_dir / "state.json"
    state = json.loads(state_file.read_text())
    assert len(state["folds"]["folds"]) == 5
    # as if stopped during the third fold: two folds saved, nothing after them
    state = {"fingerprint": state["fingerprint"], "folds": {**state["folds"], "folds": state["folds"]["folds"][:2]}}
    state_file.write_text(json.dumps(state))
    (paths.checkpoint_dir / "final.txt").unlink()
    capsys.readouterr()
    assert job.main(environ) == 0
    out = capsys.readouterr().out
    assert "resuming; done: folds" in out and "fold 3 of 5 saved" in out and "fold 2 of 5 saved" not in out
    assert (paths.model_dir / "model.txt").read_text() == uninterrupted


def test_a_stopped_job_says_where_its_progress_is(tmp_path):
    from attrition.train import job

    paths = make_opt_ml(tmp_path, FAST, {})
    with pytest.raises(UserError, match="no model was written$"):
        job._stop(paths)
    paths.checkpoint_dir.mkdir()
    with pytest.raises(UserError, match="checkpoints: a job started again .* resumes from there"):
        job._stop(paths)
