"""The pipelines' definitions, without Docker: the SageMaker pipeline's definition JSON for AWS
(parameters, the gate reading only evaluate's verdict, the package's metrics) and the command
that writes it, as the README runs it. (The Kubeflow pipeline's compiled YAML is checked in
test_kubeflow.py.)"""

import json
import subprocess

from tests.helpers import script
from tests.pipelines.conftest import pipelines_python, run_json


def test_the_definition_for_aws_registers_a_model_package_with_its_evaluation(pipeline_env):
    script = """
import boto3
from sagemaker.workflow.pipeline_context import PipelineSession
from attrition_pipelines.sagemaker_pipeline import get_pipeline
session = PipelineSession(boto_session=boto3.Session(region_name="eu-west-1"), default_bucket="my-hr-models")
pipeline = get_pipeline("eu-west-1", role="arn:aws:iam::123456789012:role/attrition", default_bucket="my-hr-models",
                        image_uri="123456789012.dkr.ecr.eu-west-1.amazonaws.com/attrition-sagemaker:abc1234",
                        input_data_uri="s3://my-hr-models/attrition/export/", sagemaker_session=session)
print(pipeline.definition())
"""
    definition = run_json([pipelines_python(), "-c", script], pipeline_env, timeout=300)
    steps = {s["Name"]: s for s in definition["Steps"]}
    assert [s["Type"] for s in definition["Steps"]] == ["Processing", "Training", "Processing", "Condition"]
    gate = steps["Gate"]["Arguments"]
    inside = {s["Name"]: s for s in gate["IfSteps"]}
    package = next(s for name, s in inside.items() if name.startswith("Register"))["Arguments"]
    assert package["ModelMetrics"]["ModelQuality"]["Statistics"]["ContentType"] == "application/json"
    assert package["ModelMetrics"]["Bias"]["Report"]["S3Uri"]["Std:Join"]["Values"][-1] == "bias.json"
    assert package["ModelApprovalStatus"] == {"Get": "Parameters.ApprovalStatus"}
    assert {p["Name"] for p in definition["Parameters"]} >= {"InputDataUrl", "Seed", "AucThreshold", "BatchScore"}
    # evaluate owns the whole gate (the AucThreshold bar included): the condition reads only its verdict
    assert [c["Type"] for c in gate["Conditions"]] == ["Equals"]
    assert gate["Conditions"][0]["LeftValue"]["Std:JsonGet"]["Path"] == "attrition.gate.passed"
    arguments = steps["Evaluate"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    threshold = {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.AucThreshold"}]}}
    assert arguments[:2] == ["--auc-threshold", threshold]
    evaluate = steps["Evaluate"]["Arguments"]
    champion = next(i for i in evaluate["ProcessingInputs"] if i["S3Input"]["LocalPath"].endswith("/champion"))
    assert champion["S3Input"]["S3Uri"] == {"Get": "Parameters.ChampionModelUrl"}
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert defaults["ChampionModelUrl"] == "s3://my-hr-models/attrition/champion/none/"


def test_the_readme_command_for_aws_writes_a_definition_upsert_accepts(pipeline_env, tmp_path):
    """#23: run as the README says, the script failed to import attrition_deploy (its traceback in
    the file), and the SDK's notices went to stdout ahead of the definition."""
    definition = tmp_path / "definition.json"
    with open(definition, "w") as out:
        done = subprocess.run([script("attrition-pipeline-definition", pipelines_python()), "--region",
                               "eu-west-1", "--role", "arn:aws:iam::123456789012:role/attrition", "--bucket",
                               "my-hr-models", "--image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/attrition:1",
                               "--input", "s3://my-hr-models/attrition/export/"],
                              stdout=out, stderr=subprocess.PIPE, text=True, env=pipeline_env, cwd=tmp_path,
                              timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(definition.read_text())["Version"] == "2020-12-01"
    upsert = subprocess.run([script("attrition-deploy"), "--dry-run", "--region",
                             "eu-west-1", "pipeline", "upsert", "--definition", str(definition), "--role",
                             "arn:aws:iam::123456789012:role/attrition"], capture_output=True, text=True,
                            env=pipeline_env, timeout=120)
    assert upsert.returncode == 0, upsert.stderr
    assert "create_pipeline" in upsert.stdout or "update_pipeline" in upsert.stdout
