"""The execution role allows exactly what the plans use: every S3 URI and KMS key in a full run
from data to endpoint (the README's steps), and nothing broader. Offline: dry runs only."""

import fnmatch
import json

import pytest

from tests.deploy.offline import run

KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/attrition-sagemaker:abc1234"
ROLE = "arn:aws:iam::123456789012:role/attrition-sagemaker-execution"
S3 = "s3://my-hr-models/attrition"
STEPS = [  # the README's shipping steps, with every S3 and KMS option they offer
    ["train-job", "--image", IMAGE, "--role", ROLE, "--train", f"{S3}/data/train/", "--validation",
     f"{S3}/data/validation/", "--output", f"{S3}/training/", "--checkpoint", f"{S3}/checkpoints/",
     "--volume-kms-key", KEY, "--output-kms-key", KEY],
    ["register", "--name", "attrition-v1", "--image", IMAGE, "--model-data", f"{S3}/models/model.tar.gz",
     "--role", ROLE, "--group", "attrition-models", "--metrics", f"{S3}/training/evaluation.json"],
    ["deploy", "--endpoint", "attrition", "--variant", "name=main,model=attrition-v1", "--capture",
     f"{S3}/capture/", "--kms-key", KEY, "--async-output", f"{S3}/async/"],
    ["transform", "--model", "attrition-v1", "--input", f"{S3}/batch/in/", "--output", f"{S3}/batch/out/",
     "--output-kms-key", KEY, "--volume-kms-key", KEY],
]


@pytest.fixture()
def policy(offline, capsys) -> dict:
    code, out, err = run(capsys, "role", "--bucket", "my-hr-models", "--prefix", "attrition", "--kms-key", KEY,
                         "--dry-run")
    assert code == 0, err
    (put,) = [c for c in json.loads(out) if c["operation"] == "put_role_policy"]
    return json.loads(put["params"]["PolicyDocument"])


def used(plan, keys=("S3Uri", "S3OutputPath", "DestinationS3Uri", "ModelDataUrl", "KmsKeyId",
                     "VolumeKmsKeyId", "SSEKMSKeyId")):
    found = []
    if isinstance(plan, dict):
        for name, value in plan.items():
            if name in keys and isinstance(value, str):
                found.append(value)
            found += used(value, keys)
    elif isinstance(plan, list):
        for value in plan:
            found += used(value, keys)
    return found


def allows(policy: dict, action: str, resource: str) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if action in actions and any(fnmatch.fnmatchcase(resource, r) for r in resources):
            return True
    return False


def test_every_s3_uri_and_kms_key_the_plans_use_is_allowed(policy, capsys):
    uris, keys = set(), set()
    for step in STEPS:
        code, out, err = run(capsys, *step, "--region", "eu-west-1", "--dry-run")
        assert code == 0, err
        for value in used(json.loads(out)):
            (uris if value.startswith("s3://") else keys).add(value)
    assert len(uris) >= 10 and keys == {KEY}
    for uri in uris:
        arn = "arn:aws:s3:::" + uri.removeprefix("s3://")
        assert allows(policy, "s3:GetObject", arn + "x") and allows(policy, "s3:PutObject", arn + "x"), uri
    assert allows(policy, "kms:GenerateDataKey", KEY) and allows(policy, "kms:Decrypt", KEY)


def test_nothing_broader_is_allowed(policy):
    assert not allows(policy, "s3:GetObject", "arn:aws:s3:::my-hr-models/payroll/salaries.csv")
    assert not allows(policy, "s3:GetObject", "arn:aws:s3:::another-bucket/attrition/x")
    assert not allows(policy, "kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/another")
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), actions
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if any(a.startswith("s3:") for a in actions):
            assert all(r.startswith("arn:aws:s3:::my-hr-models") for r in resources), resources


def test_a_prefix_outside_the_default_is_granted_with_s3(offline, capsys):
    code, out, _ = run(capsys, "role", "--bucket", "my-hr-models", "--s3", "s3://hr-capture/endpoints/", "--dry-run")
    (put,) = [c for c in json.loads(out) if c["operation"] == "put_role_policy"]
    policy = json.loads(put["params"]["PolicyDocument"])
    assert code == 0 and allows(policy, "s3:PutObject", "arn:aws:s3:::hr-capture/endpoints/attrition/x.jsonl")
