"""The SageMaker pipeline, run by SageMaker Pipelines' own local mode on Docker with the real image,
end to end to a model registered in MLflow (its definition for AWS: test_definitions.py)."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import script
from tests.pipelines.conftest import pipelines_python

pytestmark = pytest.mark.container


def runner() -> str:
    return script("attrition-pipeline-sagemaker", pipelines_python())


def test_the_pipeline_runs_locally_end_to_end_and_registers_in_mlflow(image, pipeline_env, mlflow_server):
    done = subprocess.run([runner(), "--image", image, "--mlflow", mlflow_server, "--seed", "0",
                           "--batch-score"], env=pipeline_env, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    # The verdict is not buried (#23): stdout is the result alone, stderr a progress line a step with
    # the elapsed time; the SDK's notices and the containers' logs stay in the run's engine.log.
    (line,) = done.stdout.splitlines()
    result = json.loads(line)
    progress = done.stderr.splitlines()
    assert all(re.match(r"\[ *\d+\.\d s\] ", row) for row in progress), done.stderr[-3000:]
    assert "Train: succeeded" in done.stderr and progress[-1].endswith("] done") and len(progress) < 40
    assert result["status"] == "Succeeded"
    assert {"Prepare", "Train", "Evaluate", "Gate"} <= {name for name, s in result["steps"].items() if s == "Succeeded"}
    assert 0.8 <= result["test_auc"] < 1
    assert result["gate_passed"] and result["reasons"][1].startswith("no champion yet")
    assert result["steps"]["BatchScore"] == "Succeeded" and result["scored"] == 1470  # Batch Transform, locally
    assert result["steps"]["Cohorts"] == "Succeeded"  # score --cohorts: leavers forecast per department
    assert set(result["cohorts"]) == {"Research & Development", "Sales", "Human Resources"}
    # Nothing left behind: no folder of HR data, no stopped container of the SDK's local mode.
    tmp = pipeline_env["TMPDIR"]
    assert not [p.name for p in Path(tmp).iterdir() if p.name.startswith("attrition-pipeline-")]
    left = subprocess.run(["docker", "ps", "-a", "--format", '{{.Label "com.docker.compose.project.working_dir"}}'],
                          capture_output=True, text=True, check=True).stdout.split()
    assert not [folder for folder in left if folder.startswith(tmp)]
    version = result["registered"]
    probe = ("import json, sys; from mlflow.tracking import MlflowClient; c = MlflowClient(sys.argv[1]);"
             "v = c.get_model_version('attrition', sys.argv[2]); r = c.get_run(v.run_id);"
             "a = [f.path for f in c.list_artifacts(v.run_id)];"
             "print(json.dumps({'tags': v.tags, 'metrics': r.data.metrics, 'artifacts': a}))")
    registered = json.loads(subprocess.run([pipelines_python(), "-c", probe, mlflow_server, version["version"]],
                                           capture_output=True, text=True, check=True).stdout)
    assert registered["tags"]["approval"] == "PendingManualApproval"
    assert registered["tags"]["model_card_status"] == "PendingReview" and "model_card.json" in registered["artifacts"]
    assert len(registered["tags"]["model_version"]) == 16 and "sha256:" in registered["tags"]["data_train_0"]
    assert registered["metrics"]["test_auc"] == pytest.approx(result["test_auc"])
