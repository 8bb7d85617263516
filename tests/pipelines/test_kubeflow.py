"""The Kubeflow pipeline: its compiled YAML is current, kfp's local runner runs it with Docker and
the real image, and its test AUC equals the SageMaker pipeline's on the same data and seed."""

import subprocess

import pytest

from tests.container.docker_helpers import ROOT
from tests.helpers import script
from tests.pipelines.conftest import pipelines_python, run_json

COMPILED = ROOT / "pipelines" / "attrition_pipelines" / "kubeflow_pipeline.yaml"


def test_the_committed_pipeline_yaml_is_what_the_code_compiles_to(tmp_path, pipeline_env):
    env = {k: v for k, v in pipeline_env.items() if k != "ATTRITION_IMAGE"}
    subprocess.run([script("attrition-pipeline-compile", pipelines_python()), "--output", str(tmp_path / "fresh.yaml")],
                   env=env, check=True, capture_output=True, timeout=300)
    assert (tmp_path / "fresh.yaml").read_text() == COMPILED.read_text(), (
        "kubeflow_pipeline.yaml is stale: run attrition-pipeline-compile")


@pytest.mark.container
def test_both_engines_run_locally_and_agree_on_the_test_auc(image, pipeline_env, mlflow_server):
    kubeflow = run_json([script("attrition-pipeline-kubeflow", pipelines_python()), "--image", image, "--seed", "5",
                         "--mlflow", mlflow_server, "--model-name", "attrition-kfp", "--promote", "--batch-score"],
                        pipeline_env)
    sagemaker = run_json([script("attrition-pipeline-sagemaker", pipelines_python()), "--image", image,
                          "--seed", "5"], pipeline_env)
    assert kubeflow["status"] == sagemaker["status"] == "Succeeded"
    assert kubeflow["test_auc"] == pytest.approx(sagemaker["test_auc"], abs=1e-6)
    assert kubeflow["gate_passed"] and kubeflow["registered"]["name"] == "attrition-kfp"
    assert kubeflow["replaced_champion"] and kubeflow["champion_before"] is None
    assert kubeflow["scored"] == 1470  # the batch step scored every employee of the scoring file
    assert "leavers expected (95 %" in kubeflow["cohorts"]["Sales"]  # and forecast each department's leavers
    # The same data and seed again: the evaluate step scores the champion (the run above) beside the
    # new model, which is as good and treats no group worse, so it passes the gate.
    again = run_json([script("attrition-pipeline-kubeflow", pipelines_python()), "--image", image, "--seed", "5",
                      "--mlflow", mlflow_server, "--model-name", "attrition-kfp"], pipeline_env)
    assert again["champion_before"] == kubeflow["registered"]["version"] and again["gate_passed"]
    assert again["reasons"][1].startswith(f"AUC {again['test_auc']:.4f} vs champion {kubeflow['test_auc']:.4f}")
    assert not again["replaced_champion"]  # without --promote a passing model waits for a reviewer
    # The same data, seed and settings make the same model: recognised, not registered twice (#23).
    assert again["registered"] == {**kubeflow["registered"], "already_registered": True}
    assert again["reasons"][-1].startswith(f"the same model as attrition-kfp v{kubeflow['registered']['version']}")
    # A refused model scores no one: the batch step is inside the gate, as on SageMaker (#23).
    refused = run_json([script("attrition-pipeline-kubeflow", pipelines_python()), "--image", image, "--seed", "5",
                        "--batch-score", "--auc-threshold", "0.99"], pipeline_env)
    assert refused["status"] == "Refused" and "scored" not in refused and "cohorts" not in refused
