"""attrition-retrain's decisions without Docker or a registry: what it refuses before any work (one
line, exit 2), how the data-quality and model-quality verdicts combine, and the pipeline command it
runs."""

import json
import subprocess
import sys

import pytest

from attrition_pipelines import retrain_on_drift
from tests.helpers import script


def run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([script("attrition-retrain"), "--image", "i", "--audit-log", str(tmp_path / "a.jsonl"),
                           *args], capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize(("args", "said"), [
    ([], "the following arguments are required: --capture"),
    (["--capture", "."], "--mlflow (or MLFLOW_TRACKING_URI) is needed"),
    (["--capture", "/nowhere", "--mlflow", "http://127.0.0.1:9"], "--capture /nowhere is not a folder"),
    (["--capture", ".", "--mlflow", "http://127.0.0.1:9"], "--data (none) is not a file"),
])
def test_bad_input_is_one_line_and_exit_2_before_any_work(tmp_path, args, said):
    done = run(tmp_path, *args)
    assert done.returncode == 2 and said in done.stderr and done.stdout == ""
    assert "Traceback" not in done.stderr and not (tmp_path / "a.jsonl").exists()


def test_either_monitor_recommending_retraining_is_enough():
    calm = {"retraining_recommended": False, "summary": "no drift", "reasons": []}
    worse = {"retraining_recommended": True, "summary": "AUC fell to 0.61", "reasons": ["auc"]}
    assert retrain_on_drift.both(calm, calm)["retraining_recommended"] is False
    combined = retrain_on_drift.both(calm, worse)
    assert combined["retraining_recommended"] and combined["reasons"] == ["AUC fell to 0.61"]
    assert combined["summary"] == "no drift; AUC fell to 0.61"


def test_the_chosen_engine_runs_as_its_own_command_with_the_gate_settings(tmp_path, monkeypatch):
    """The runner is the installed module, given every gate setting; its last line is the result."""
    seen = {}

    def fake_run(command, **_):
        seen["command"] = command
        return subprocess.CompletedProcess(command, 0, stdout='progress\n{"gate_passed": true}\n', stderr="")

    monkeypatch.setattr(retrain_on_drift.subprocess, "run", fake_run)
    parser = retrain_on_drift.local.parser("x")
    args = parser.parse_args(["--image", "img", "--mlflow", "http://m", "--auc-threshold", "0.75", "--promote"])
    args.engine, args.data = "kubeflow", tmp_path / "new.csv"
    assert retrain_on_drift.retrain(args, "drift in capture") == {"gate_passed": True}
    command = seen["command"]
    assert command[:3] == [sys.executable, "-m", "attrition_pipelines.kubeflow_runner"]
    assert command[command.index("--auc-threshold") + 1] == "0.75" and "--promote" in command
    assert command[command.index("--trigger") + 1] == "drift in capture"
    assert json.dumps(command)  # plain strings only
