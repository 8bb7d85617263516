"""A model a local pipeline registered in MLflow, approved there, promoted to SageMaker's Model
Registry (moto) by attrition-deploy, which reads MLflow over its REST API with boto3 alone."""

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

from tests.helpers import script
from tests.pipelines.conftest import pipelines_python

CLI = script("attrition-deploy")
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/attrition-sagemaker:abc1234"
ROLE = "arn:aws:iam::123456789012:role/attrition-sagemaker-execution"


def registered_version(mlflow_server, trained_dir, env, name: str = "attrition-promote") -> str:
    script = ("import json, sys;"
              "from pathlib import Path; from attrition_pipelines.registry import register;"
              f"e = json.loads(Path({str(trained_dir / 'output' / 'data' / 'evaluation.json')!r}).read_text());"
              f"c = json.loads(Path({str(trained_dir / 'output' / 'data' / 'model_card.json')!r}).read_text());"
              f"print(register({name!r}, Path({str(trained_dir / 'model')!r}), e, 'attrition:local',"
              f" tracking_uri={mlflow_server!r}, card=c)['version'])")
    done = subprocess.run([pipelines_python(), "-c", script], capture_output=True, text=True, check=True, env=env)
    return done.stdout.strip().splitlines()[-1]  # MLflow prints lines of its own first


def approve(aws_env, mlflow_server, version: str, name: str = "attrition-promote", *more: str) -> str:
    """As a reviewer does: attrition-deploy approve, which also makes the version the champion."""
    done = subprocess.run([CLI, "approve", "--version", f"{name}/{version}",
                           "--mlflow", mlflow_server, "--reason", "bias report reviewed", *more],
                          env=aws_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_approve_says_how_the_champion_changed(aws_env, mlflow_server, trained_dir, tmp_path):
    """#23: approve printed only "Approved"; the trail now keeps the champion it displaced."""
    name = "attrition-approve"
    other = tmp_path / "other"  # a second model: the registry keeps one version per model
    shutil.copytree(trained_dir / "model", other / "model")
    shutil.copytree(trained_dir / "output", other / "output")
    manifest = json.loads((other / "model" / "manifest.json").read_text())
    (other / "model" / "manifest.json").write_text(json.dumps({**manifest, "model_version": "0" * 16}))
    first, second = (registered_version(mlflow_server, folder, aws_env, name) for folder in (trained_dir, other))
    assert _tags(mlflow_server, name, first)["model_card_status"] == "PendingReview"  # its card, in review
    assert approve(aws_env, mlflow_server, first, name) == f"Approved {name}/{first}: champion {name}: none -> v{first}"
    assert _tags(mlflow_server, name, first)["model_card_status"] == "Approved"
    assert approve(aws_env, mlflow_server, second, name) == (
        f"Approved {name}/{second}: champion {name} v{first} -> v{second}")
    assert approve(aws_env, mlflow_server, first, name, "--reject") == (
        f"Rejected {name}/{first}: the champion stays {name} v{second}")
    assert approve(aws_env, mlflow_server, second, name, "--reject") == (
        f"Rejected {name}/{second}: {name} v{second} was the champion: {name} has no champion now")
    assert _tags(mlflow_server, name, first)["model_card_status"] == "Draft"  # rejected: back to its author
    with pytest.raises(urllib.error.HTTPError):
        version_of(mlflow_server, f"registered-models/alias?name={name}&alias=champion")
    trail = [json.loads(line) for line in Path(aws_env["ATTRITION_AUDIT_LOG"]).read_text().splitlines()]
    decisions = [(e["event"], e["model"]["version"], e["champion"].get("version")) for e in trail
                 if e["event"] in ("approved", "rejected") and e["model"].get("name") == name]
    assert decisions == [("approved", first, None), ("approved", second, first), ("rejected", first, second),
                         ("rejected", second, second)]
    for entry in (e for e in trail if e["event"] in ("approved", "rejected") and e["model"].get("name") == name):
        # each decision carries the data's hashes per channel and the test metrics it was made on (#23)
        assert entry["data"]["train"] == [f["sha256"] for f in manifest["data"]["train"]], entry
        assert 0.5 < entry["metrics"]["auc"] <= 1, entry


def _tags(mlflow_server, name: str, version: str) -> dict:
    found = version_of(mlflow_server, f"model-versions/get?name={name}&version={version}")
    return {tag["key"]: tag["value"] for tag in found.get("tags", [])}


def version_of(mlflow_server, path: str) -> dict:
    with urllib.request.urlopen(f"{mlflow_server}/api/2.0/mlflow/{path}", timeout=10) as answer:
        return json.loads(answer.read())["model_version"]


def promote(aws_env, mlflow_server, version: str):
    return subprocess.run([CLI, "register", "--name", "attrition-promoted", "--from-mlflow",
                           f"attrition-promote/{version}", "--mlflow", mlflow_server, "--bucket", "hr-models",
                           "--image", IMAGE, "--role", ROLE, "--group", "attrition-models"],
                          env={**aws_env, "TMPDIR": str(Path(aws_env["ATTRITION_AUDIT_LOG"]).parent)},
                          capture_output=True, text=True, timeout=120)


def test_only_an_approved_version_is_promoted_with_its_lineage(aws_env, mlflow_server, trained_dir):
    version = registered_version(mlflow_server, trained_dir, aws_env)
    pending = promote(aws_env, mlflow_server, version)
    assert pending.returncode == 2 and "is PendingManualApproval: approve it first" in pending.stderr
    approve(aws_env, mlflow_server, version)
    approved = version_of(mlflow_server, f"model-versions/get?name=attrition-promote&version={version}")
    tags = {t["key"]: t["value"] for t in approved["tags"]}
    assert tags["approval"] == "Approved" and json.loads(tags["audit.approved"])["reasons"] == ["bias report reviewed"]
    assert "audit.registered" in tags
    champion = version_of(mlflow_server, "registered-models/alias?name=attrition-promote&alias=champion")
    assert champion["version"] == version
    promoted = promote(aws_env, mlflow_server, version)
    assert promoted.returncode == 0, promoted.stderr
    scratch = Path(aws_env["ATTRITION_AUDIT_LOG"]).parent
    assert not list(scratch.glob("attrition-promote-*"))  # #23: the model's files are not left behind
    sagemaker = boto3.client("sagemaker", endpoint_url=aws_env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                             aws_access_key_id="testing", aws_secret_access_key="testing")
    package = sagemaker.describe_model_package(ModelPackageName=promoted.stdout.strip())
    manifest = json.loads((trained_dir / "model" / "manifest.json").read_text())
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["CustomerMetadataProperties"]["model_version"] == manifest["model_version"]
    assert package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"].endswith(
        f"attrition/mlflow/attrition-promote/{version}/evaluation.json")
    missing = promote(aws_env, mlflow_server, "999")
    assert missing.returncode == 2 and "MLflow answered" in missing.stderr and missing.stderr.count("\n") == 1
    history = subprocess.run([CLI, "history", "--model", "attrition-promote"], env=aws_env,
                             capture_output=True, text=True, timeout=60).stdout
    events = [line.split()[1] for line in history.splitlines() if not line.startswith(" ")]
    assert events[:2] == ["approved", "registered"]  # newest first; the SageMaker registration has no name


def test_files_replaced_in_mlflow_after_registration_are_refused_and_recorded(aws_env, mlflow_server, trained_dir,
                                                                              tmp_path):
    version = registered_version(mlflow_server, trained_dir, aws_env)
    approve(aws_env, mlflow_server, version)
    run_id = version_of(mlflow_server, f"model-versions/get?name=attrition-promote&version={version}")["run_id"]
    forged = tmp_path / "forged"
    forged.mkdir()
    metadata = json.loads((trained_dir / "model" / "metadata.json").read_text())
    (forged / "metadata.json").write_text(json.dumps({**metadata, "decision_threshold": 0.999999}))
    script = (f"import mlflow; mlflow.set_tracking_uri({mlflow_server!r});"
              f"mlflow.MlflowClient().log_artifact({run_id!r}, {str(forged / 'metadata.json')!r}, 'model')")
    subprocess.run([pipelines_python(), "-c", script], env=aws_env, check=True, capture_output=True, timeout=120)
    refused = promote(aws_env, mlflow_server, version)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "metadata.json is not the file registered with it" in refused.stderr
    download = ("from pathlib import Path; from attrition_pipelines.registry import champion;"
                f"champion('attrition-promote', Path({str(tmp_path / 'champion')!r}), {mlflow_server!r})")
    fetched = subprocess.run([pipelines_python(), "-c", download], env=aws_env, capture_output=True, text=True,
                             timeout=120)
    assert fetched.returncode == 1 and "metadata.json is not the file registered with it" in fetched.stderr
    history = subprocess.run([CLI, "history", "--model", "attrition-promote", "--json"],
                             env=aws_env, capture_output=True, text=True, timeout=60).stdout
    refusals = [e for e in json.loads(history) if e["event"] == "refused"]
    assert len(refusals) == 2 and all("replaced after registration" in e["reasons"][0] for e in refusals)
