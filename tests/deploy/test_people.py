"""Separation of duties on AWS: `role --people GROUP` writes a data scientist's and an approver's
policies, checked offline against the requests each person's commands plan (dry runs), as the
execution role is (test_role.py): each may do their part and not the other's."""

import fnmatch
import json

import pytest

from tests.deploy.offline import run

ACCOUNT, REGION = "123456789012", "eu-west-1"
ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/attrition-sagemaker:abc1234"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/attrition-sagemaker-execution"
S3 = "s3://my-hr-models/attrition"
PACKAGE = f"{ARN}:model-package/attrition-models/3"
TRAIN = ["train-job", "--name", "attrition-7", "--image", IMAGE, "--role", ROLE, "--train", f"{S3}/data/train/",
         "--output", f"{S3}/training/"]
REGISTER = ["register", "--name", "attrition-v7", "--image", IMAGE, "--model-data", f"{S3}/training/model.tar.gz",
            "--role", ROLE, "--group", "attrition-models", "--model-card", "CARD"]
APPROVE = ["approve", "--package", PACKAGE, "--reason", "reviewed"]
DEPLOY = ["deploy", "--endpoint", "attrition", "--variant", "name=main,model=attrition-v7"]


@pytest.fixture()
def policies(offline, capsys) -> dict:
    code, out, err = run(capsys, "role", "--bucket", "my-hr-models", "--prefix", "attrition", "--people",
                         "attrition-models", "--dry-run")
    assert code == 0, err
    return {c["params"]["PolicyName"]: json.loads(c["params"]["PolicyDocument"])
            for c in json.loads(out) if c["operation"] == "create_policy"}


def requests(capsys, args, trained_dir) -> list[tuple[str, str, dict]]:
    """(action, resource, condition context) of every call a command plans."""
    card = trained_dir / "output" / "data" / "model_card.json"
    code, out, err = run(capsys, *[card if a == "CARD" else a for a in args], "--region", REGION, "--dry-run")
    assert code == 0, err
    found = []
    for call in json.loads(out):
        operation, params = call["operation"], call["params"]
        action = "sagemaker:" + "".join(part.capitalize() for part in operation.split("_"))
        found.append((action, _resource(operation, params), _context(params)))
        role = params.get("ExecutionRoleArn") or params.get("RoleArn")
        if role:
            found.append(("iam:PassRole", role, {"iam:PassedToService": "sagemaker.amazonaws.com"}))
    return found


def _resource(operation: str, params: dict) -> str:
    if "ModelPackageArn" in params or "ModelPackageName" in params:
        return params.get("ModelPackageArn") or params["ModelPackageName"]
    if operation == "create_model_package":
        return f"{ARN}:model-package/{params['ModelPackageGroupName'].lower()}/1"
    for key, kind in (("TrainingJobName", "training-job"), ("ModelCardName", "model-card"),
                      ("ModelPackageGroupName", "model-package-group"), ("EndpointName", "endpoint"),
                      ("EndpointConfigName", "endpoint-config"), ("ModelName", "model")):
        if key in params:
            return f"{ARN}:{kind}/{params[key].lower()}"
    raise AssertionError(f"no resource known for {operation}")


def _context(params: dict) -> dict:
    return {"sagemaker:ModelApprovalStatus": params["ModelApprovalStatus"]} if "ModelApprovalStatus" in params else {}


def allowed(policy: dict, action: str, resource: str, context: dict) -> bool:
    """IAM's rule: an explicit deny wins, then some allow must match (conditions included)."""
    def matches(statement: dict) -> bool:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        conditions = statement.get("Condition", {}).get("StringEquals", {})
        return (action in actions and any(fnmatch.fnmatchcase(resource, r) for r in resources)
                and all(context.get(key) == value for key, value in conditions.items()))
    statements = policy["Statement"]
    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and matches(s) for s in statements)


def test_a_data_scientist_may_train_and_register_pending_approval_and_nothing_an_approver_does(
        policies, capsys, trained_dir):
    scientist = policies["attrition-data-scientist"]
    for args in (TRAIN, REGISTER):
        for action, resource, context in requests(capsys, args, trained_dir):
            assert allowed(scientist, action, resource, context), (action, resource, context)
    for args in (APPROVE, DEPLOY, [*REGISTER, "--approval", "Approved"]):
        refused = [r for r in requests(capsys, args, trained_dir) if not allowed(scientist, *r)]
        assert refused, args
    approving = [r for r in requests(capsys, APPROVE, trained_dir) if r[0] == "sagemaker:UpdateModelPackage"]
    assert approving and not allowed(scientist, *approving[0])


def test_an_approver_may_approve_promote_and_deploy_but_not_train_or_register_pending(policies, capsys, trained_dir):
    approver = policies["attrition-approver"]
    promote = [*REGISTER, "--approval", "Approved"]  # what register --from-mlflow sends for an approved version
    for args in (APPROVE, DEPLOY, promote):
        for action, resource, context in requests(capsys, args, trained_dir):
            assert allowed(approver, action, resource, context), (action, resource, context)
    for args in (TRAIN, REGISTER):
        refused = [r[0] for r in requests(capsys, args, trained_dir) if not allowed(approver, *r)]
        assert refused == ["sagemaker:CreateTrainingJob" if args is TRAIN else "sagemaker:CreateModelPackage"]


def test_no_action_is_a_wildcard_and_the_role_passes_to_sagemaker_alone(policies):
    for policy in policies.values():
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all(a.split(":")[1] != "*" for a in actions)
        (passing,) = [s for s in policy["Statement"] if s["Sid"] == "PassExecutionRole"]
        assert passing["Resource"] == ROLE and passing["Condition"] == {
            "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_the_policies_are_created_then_given_a_new_version_never_more_than_five(aws_env):
    from tests.deploy.test_cli import cli, client

    for _ in range(6):
        shown = cli(aws_env, "role", "--bucket", "hr-models", "--people", "attrition-models").stdout.splitlines()
    assert shown[1:] == [f"arn:aws:iam::{ACCOUNT}:policy/attrition-data-scientist",
                         f"arn:aws:iam::{ACCOUNT}:policy/attrition-approver"]
    iam = client(aws_env, "iam")
    for arn in shown[1:]:
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        default = next(v for v in versions if v["IsDefaultVersion"])
        document = iam.get_policy_version(PolicyArn=arn, VersionId=default["VersionId"])["PolicyVersion"]
        assert len(versions) == 5 and default["VersionId"] == "v6"
        assert {s["Sid"] for s in _document(document)["Statement"]} >= {"PassExecutionRole", "ReadRegistry"}


def _document(version: dict) -> dict:
    document = version["Document"]
    if isinstance(document, str):
        import urllib.parse

        document = json.loads(urllib.parse.unquote(document))
    return document
