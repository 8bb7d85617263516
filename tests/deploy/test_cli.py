"""attrition-deploy as a user runs it (a subprocess), against moto in server mode on 127.0.0.1."""

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from attrition_deploy import audit
from tests.helpers import FAST, ROOT, make_opt_ml, run_training, script

CLI = script("attrition-deploy")
MODEL_DIR_FILES = ("model.txt", "metadata.json", "manifest.json")
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/attrition-sagemaker:abc1234"
ROLE = "arn:aws:iam::123456789012:role/attrition-sagemaker-execution"


def cli(env, *args, check=True):
    result = subprocess.run([CLI, *map(str, args)], env=env,
                            capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def client(env, service):
    return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture()
def model_dir(trained_dir):
    return trained_dir / "model"


def test_package_uploads_an_encrypted_tarball_with_files_at_the_root(aws_env, model_dir):
    uri = cli(aws_env, "package", model_dir, "--bucket", "hr-models", "--prefix", "attrition/v1").stdout.strip()
    version = json.loads((model_dir / "manifest.json").read_text())["model_version"]
    assert uri == f"s3://hr-models/attrition/v1/{version}/model.tar.gz"
    s3 = client(aws_env, "s3")
    head = s3.head_object(Bucket="hr-models", Key=f"attrition/v1/{version}/model.tar.gz")
    assert head["ServerSideEncryption"] == "AES256"
    body = s3.get_object(Bucket="hr-models", Key=f"attrition/v1/{version}/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        names = archive.getnames()
    assert set(MODEL_DIR_FILES) <= set(names) and all("/" not in n for n in names)
    assert cli(aws_env, "package", model_dir, "--bucket", "hr-models", "--prefix", "attrition/v1").stdout.strip() == uri
    assert s3.get_public_access_block(Bucket="hr-models")["PublicAccessBlockConfiguration"]["BlockPublicAcls"]


def test_another_model_never_replaces_a_packaged_one(aws_env, model_dir, tmp_path):
    """#23: two models packaged to the same bucket used to share one key, the second silently
    replacing the first (perhaps a registered model's artifact)."""
    other = tmp_path / "other"
    shutil.copytree(model_dir, other)
    (other / "model.txt").write_text((model_dir / "model.txt").read_text() + "\n")
    first = cli(aws_env, "package", model_dir, "--bucket", "hr-models").stdout.strip()
    second = cli(aws_env, "package", other, "--bucket", "hr-models").stdout.strip()
    assert first != second
    s3 = client(aws_env, "s3")
    for uri in (first, second):
        assert s3.head_object(Bucket="hr-models", Key=uri.removeprefix("s3://hr-models/"))["ContentLength"] > 0


def test_package_refuses_a_directory_that_is_not_a_model(aws_env, tmp_path):
    result = cli(aws_env, "package", tmp_path, "--bucket", "hr-models", check=False)
    assert result.returncode == 2 and "model.txt is missing" in result.stderr


def test_role_is_least_privilege_and_reused(aws_env):
    arn = cli(aws_env, "role", "--bucket", "hr-models", "--prefix", "attrition").stdout.strip()
    assert arn == ROLE
    assert cli(aws_env, "role", "--bucket", "hr-models", "--prefix", "attrition").stdout.strip() == arn
    iam = client(aws_env, "iam")
    policy = iam.get_role_policy(RoleName="attrition-sagemaker-execution", PolicyName="attrition-least-privilege")
    statements = policy["PolicyDocument"]["Statement"]
    assert iam.list_attached_role_policies(RoleName="attrition-sagemaker-execution")["AttachedPolicies"] == []
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(a.split(":")[1] != "*" for a in actions)
    objects = next(s for s in statements if s["Sid"] == "ReadWriteProjectObjects")
    assert objects["Resource"] == ["arn:aws:s3:::hr-models/attrition/*"]


def test_training_job_metric_definitions_match_what_train_prints(aws_env, tmp_path, ibm_text, capsys):
    plan = json.loads(cli(aws_env, "train-job", "--dry-run", "--image", IMAGE, "--role", ROLE,
                          "--train", "s3://hr-data/train/", "--output", "s3://hr-data/out/", "--hp", "folds=5").stdout)
    (call,) = plan
    definitions = call["params"]["AlgorithmSpecification"]["MetricDefinitions"]
    capsys.readouterr()
    assert run_training(make_opt_ml(tmp_path, FAST, {"train": {"ibm.csv": ibm_text}})) == 0
    printed = capsys.readouterr().out.splitlines()  # what `train` really prints
    for definition in definitions:
        matches = [m for line in printed if (m := re.search(definition["Regex"], line))]
        assert len(matches) == 1, definition
        float(matches[0].group(1))
    assert call["params"]["HyperParameters"] == {"folds": "5"}


def test_training_job_is_created_with_spot_and_checkpoints(aws_env):
    name = cli(aws_env, "train-job", "--image", IMAGE, "--role", ROLE, "--train", "s3://hr-data/train/",
               "--validation", "s3://hr-data/validation/", "--output", "s3://hr-data/out/", "--name", "attrition-1",
               "--spot", "--checkpoint", "s3://hr-data/checkpoints/").stdout.strip()
    job = client(aws_env, "sagemaker").describe_training_job(TrainingJobName=name)
    assert [c["ChannelName"] for c in job["InputDataConfig"]] == ["train", "validation"]
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"]["MaxWaitTimeInSeconds"] > job["StoppingCondition"]["MaxRuntimeInSeconds"]


def test_register_model_and_package_with_lineage_idempotently(aws_env, model_dir):
    args = ["register", "--name", "attrition-a", "--image", IMAGE, "--model-data", "s3://hr-data/m/model.tar.gz",
            "--role", ROLE, "--group", "attrition-models", "--approval", "Approved",
            "--metrics", "s3://hr-data/out/evaluation.json", "--bias", "s3://hr-data/out/bias.json",
            "--explainability", "s3://hr-data/out/explainability.json", "--manifest", model_dir / "manifest.json"]
    first = cli(aws_env, *args).stdout.strip()
    assert first.endswith(":model-package/attrition-models/1")
    assert cli(aws_env, *args).stdout.strip() == first  # no second version for the same model
    sagemaker = client(aws_env, "sagemaker")
    package = sagemaker.describe_model_package(ModelPackageName=first)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    metadata = package["CustomerMetadataProperties"]
    assert metadata["model_version"] == manifest["model_version"]
    assert manifest["data"]["train"][0]["sha256"] in metadata["data_train_0"]
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == "s3://hr-data/out/evaluation.json"
    assert package["ModelMetrics"]["Bias"]["Report"]["S3Uri"] == "s3://hr-data/out/bias.json"
    assert package["ModelMetrics"]["Explainability"]["Report"]["S3Uri"] == "s3://hr-data/out/explainability.json"
    model = sagemaker.describe_model(ModelName="attrition-a")
    assert model["PrimaryContainer"]["ModelDataUrl"] == "s3://hr-data/m/model.tar.gz"
    clash = cli(aws_env, "register", "--name", "attrition-a", "--image", IMAGE, "--model-data",
                "s3://hr-data/other/model.tar.gz", "--role", ROLE, check=False)
    assert clash.returncode == 1
    assert clash.stderr.strip().endswith("already exists with another image or model data; choose another --name")


def deploy_args(*extra):
    return ["deploy", "--endpoint", "attrition", "--variant", "name=A,model=attrition-a,weight=0.9",
            "--variant", "name=B,model=attrition-b,weight=0.1,instance-type=ml.c5.large",
            "--capture", "s3://hr-data/capture/", "--autoscale", "1:4:1000", *extra]


def test_deploy_two_variants_with_capture_and_autoscaling(aws_env):
    for name in ("attrition-a", "attrition-b"):
        cli(aws_env, "register", "--name", name, "--image", IMAGE, "--model-data",
            f"s3://hr-data/{name}/model.tar.gz", "--role", ROLE)
    assert cli(aws_env, *deploy_args()).stdout.strip() == "attrition"
    assert cli(aws_env, *deploy_args()).returncode == 0  # nothing changed: nothing to do
    described = json.loads(cli(aws_env, "describe", "--endpoint", "attrition").stdout)
    assert [(v["VariantName"], v["InitialVariantWeight"]) for v in described["Variants"]] == [("A", 0.9), ("B", 0.1)]
    assert described["DataCapture"]["DestinationS3Uri"] == "s3://hr-data/capture/"
    targets = client(aws_env, "application-autoscaling").describe_scalable_targets(ServiceNamespace="sagemaker")
    assert {t["ResourceId"] for t in targets["ScalableTargets"]} == {
        "endpoint/attrition/variant/A", "endpoint/attrition/variant/B"}


def test_a_canary_on_an_endpoint_that_does_not_exist_yet_says_so(aws_env):
    """#23: --canary on a first deploy was silently ignored."""
    for name in ("attrition-a", "attrition-b"):
        cli(aws_env, "register", "--name", name, "--image", IMAGE, "--model-data",
            f"s3://hr-data/{name}/model.tar.gz", "--role", ROLE)
    done = cli(aws_env, *deploy_args("--canary", "10", "--alarm", "attrition-5xx"))
    assert "endpoint attrition does not exist yet: it is created with its variants at once; --canary applies to " \
           "the updates that follow" in done.stderr


def test_hyperband_with_early_stopping_is_refused(aws_env):
    done = cli(aws_env, "--dry-run", "tune", "--image", IMAGE, "--role", ROLE, "--train", "s3://hr-data/train/",
               "--output", "s3://hr-data/out/", "--strategy", "Hyperband", "--early-stopping", check=False)
    assert done.returncode == 2 and "--early-stopping cannot go with --strategy Hyperband" in done.stderr
    assert done.stderr.count("\n") == 1


def test_update_with_a_canary_is_planned_in_full(aws_env):
    """moto has no UpdateEndpoint: the update path is checked as the request --dry-run prints."""
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens: a dry run must not call out
    plan = json.loads(cli(env, *deploy_args("--dry-run", "--canary", "10", "--alarm", "attrition-5xx")).stdout)
    operations = [(c["service"], c["operation"]) for c in plan]
    assert operations == [("sagemaker", "create_endpoint_config"), ("sagemaker", "update_endpoint"),
                          *[("application-autoscaling", op) for op in
                            ("register_scalable_target", "put_scaling_policy") * 2]]
    update = plan[1]["params"]
    routing = update["DeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                       "WaitIntervalInSeconds": 600}
    assert update["DeploymentConfig"]["AutoRollbackConfiguration"] == {"Alarms": [{"AlarmName": "attrition-5xx"}]}
    assert update["EndpointConfigName"] == plan[0]["params"]["EndpointConfigName"]


@pytest.mark.parametrize("command", [
    ["package", "MODEL", "--bucket", "hr-models"], ["role", "--bucket", "hr-models"], ["ecr"], ["ecr-password"],
    ["register", "--name", "m", "--image", IMAGE, "--model-data", "s3://hr-models/m.tar.gz", "--role", ROLE,
     "--group", "g"],
    ["transform", "--model", "m", "--input", "s3://hr-models/in/", "--output", "s3://hr-models/out/", "--join"],
    ["invoke", "--endpoint", "e", "PAYLOAD"], ["describe", "--endpoint", "e"],
])
def test_every_command_has_a_dry_run_needing_no_credentials(tmp_path, model_dir, command):
    env = {"PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    payload = ROOT / "container" / "local_test" / "payload.csv"
    args = [model_dir if a == "MODEL" else payload if a == "PAYLOAD" else a for a in command]
    plan = json.loads(cli(env, *args, "--dry-run").stdout)
    assert plan and all({"service", "operation", "params"} == set(call) for call in plan)


def test_transform_job(aws_env):
    name = cli(aws_env, "transform", "--model", "attrition-a", "--input", "s3://hr-data/batch/",
               "--output", "s3://hr-data/batch-out/", "--name", "attrition-batch-1", "--join").stdout.strip()
    job = client(aws_env, "sagemaker").describe_transform_job(TransformJobName=name)
    assert job["TransformInput"]["SplitType"] == "Line" and job["BatchStrategy"] == "MultiRecord"
    assert job["DataProcessing"]["JoinSource"] == "Input"


def test_invoke_prints_the_endpoint_answer(aws_env):
    answer = '{"predictions":[{"probability":0.74,"label":"Yes"}]}'
    request = urllib.request.Request(
        aws_env["AWS_ENDPOINT_URL"] + "/moto-api/static/sagemaker/endpoint-results", method="POST",
        data=json.dumps({"results": [{"Body": answer, "ContentType": "application/json"}]}).encode())
    urllib.request.urlopen(request)
    payload = ROOT / "container" / "local_test" / "payload.json"
    assert cli(aws_env, "invoke", "--endpoint", "attrition", payload).stdout.strip() == answer


def test_ecr_repository_is_created_once_with_a_lifecycle_and_the_password_printed(aws_env):
    uri = cli(aws_env, "ecr", "--repository", "attrition-sagemaker", "--keep", "10").stdout.strip()
    assert uri == "123456789012.dkr.ecr.us-east-1.amazonaws.com/attrition-sagemaker"
    ecr = client(aws_env, "ecr")
    rule = json.loads(ecr.get_lifecycle_policy(repositoryName="attrition-sagemaker")["lifecyclePolicyText"])
    assert rule["rules"][0]["selection"]["countNumber"] == 10
    again = cli(aws_env, "ecr", "--repository", "attrition-sagemaker")
    assert again.stdout.strip() == uri and "warning" not in again.stderr
    (repository,) = ecr.describe_repositories()["repositories"]
    assert repository["imageScanningConfiguration"]["scanOnPush"] is True
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert cli(aws_env, "ecr-password").stdout.strip()


def test_an_existing_repository_with_other_settings_is_reused_with_a_warning(aws_env):
    cli(aws_env, "ecr", "--repository", "attrition-sagemaker", "--mutable")
    again = cli(aws_env, "ecr", "--repository", "attrition-sagemaker", "--kms-key", "alias/hr")
    assert "warning: repository attrition-sagemaker has MUTABLE tags, not IMMUTABLE" in again.stderr
    assert "is encrypted with AES256" in again.stderr and "not KMS alias/hr" in again.stderr


def test_aws_errors_are_one_clear_line(aws_env, tmp_path):
    missing = cli(aws_env, "describe", "--endpoint", "nope", check=False)
    assert missing.returncode == 1
    assert missing.stderr.count("\n") == 1 and "Could not find endpoint" in missing.stderr
    env = {k: v for k, v in aws_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    no_keys = cli(env, "describe", "--endpoint", "x", check=False)
    assert no_keys.returncode == 1 and "no AWS credentials found" in no_keys.stderr
    assert "Traceback" not in no_keys.stderr + missing.stderr


def test_train_job_wait_follows_the_job_and_streams_its_log(aws_env):
    logs, now = client(aws_env, "logs"), int(time.time() * 1000)
    logs.create_log_group(logGroupName="/aws/sagemaker/TrainingJobs")
    logs.create_log_stream(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName="attrition-7/algo-1-1700000000")
    logs.put_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName="attrition-7/algo-1-1700000000",
                        logEvents=[{"timestamp": now, "message": "validation:auc=0.8553"},
                                   {"timestamp": now + 1, "message": "model version 0123456789abcdef"}])
    done = cli(aws_env, "train-job", "--image", IMAGE, "--role", ROLE, "--train", "s3://hr-data/train/",
               "--output", "s3://hr-data/out/", "--name", "attrition-7", "--wait")
    assert done.stdout.strip() == "s3://hr-data/out/attrition-7/output/model.tar.gz"
    assert re.search(r"\[\s+\d+ s\] training job attrition-7: Completed", done.stderr)
    assert "algo-1-1700000000 | validation:auc=0.8553" in done.stderr
    assert done.stderr.count("model version 0123456789abcdef") == 1


def test_deploy_and_transform_wait_until_they_settle(aws_env):
    cli(aws_env, "register", "--name", "attrition-a", "--image", IMAGE, "--model-data",
        "s3://hr-data/a/model.tar.gz", "--role", ROLE)
    deployed = cli(aws_env, "deploy", "--endpoint", "attrition", "--variant", "name=A,model=attrition-a", "--wait")
    assert "endpoint attrition: InService" in deployed.stderr
    batch = cli(aws_env, "transform", "--model", "attrition-a", "--input", "s3://hr-data/batch/",
                "--output", "s3://hr-data/out/", "--name", "attrition-batch-2", "--wait")
    assert "transform job attrition-batch-2: Completed" in batch.stderr


def test_a_failed_job_exits_1_with_its_reason(monkeypatch, capsys):
    """moto's jobs always succeed: the failure path is checked with a job that fails, in-process."""
    from attrition_deploy import waiting
    from attrition_deploy.aws import AwsError

    states = iter([{"TrainingJobStatus": "InProgress", "SecondaryStatus": "Training"},
                   {"TrainingJobStatus": "Failed", "FailureReason": "AlgorithmError: label column 'Attrition' ..."}])
    monkeypatch.setattr(waiting, "FIRST_DELAY", 0.0)
    runner = type("Runner", (), {"dry_run": False})()
    with pytest.raises(AwsError, match="training job x failed: AlgorithmError: label column"):
        waiting._until(runner, "training job x", lambda: next(states), "TrainingJobStatus", {"Completed"}, {"Failed"})
    assert "training job x: InProgress (Training)" in capsys.readouterr().err


def test_delete_removes_the_endpoint_its_configs_scaling_and_the_models_only_it_uses(aws_env):
    for name in ("attrition-a", "attrition-b", "shared"):
        cli(aws_env, "register", "--name", name, "--image", IMAGE, "--model-data", f"s3://hr-data/{name}/m.tar.gz",
            "--role", ROLE)
    cli(aws_env, *deploy_args())
    sagemaker = client(aws_env, "sagemaker")
    sagemaker.create_endpoint_config(EndpointConfigName="attrition-0123456789", ProductionVariants=[  # an older one
        {"VariantName": "A", "ModelName": "shared", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    cli(aws_env, "deploy", "--endpoint", "other", "--variant", "name=A,model=shared")

    planned = json.loads(cli(aws_env, "delete", "--endpoint", "attrition", "--dry-run").stdout)
    operations = [c["operation"] for c in planned]
    assert operations.count("delete_endpoint_config") == 2 and "delete_endpoint" in operations
    assert {c["params"]["ModelName"] for c in planned if c["operation"] == "delete_model"} == {
        "attrition-a", "attrition-b"}  # not "shared": the endpoint "other" uses it
    assert sagemaker.describe_endpoint(EndpointName="attrition")  # the dry run changed nothing

    cli(aws_env, "delete", "--endpoint", "attrition")
    assert "Could not find endpoint" in cli(aws_env, "describe", "--endpoint", "attrition", check=False).stderr
    configs = {c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]}
    assert all(not name.startswith("attrition-") for name in configs)
    assert {m["ModelName"] for m in sagemaker.list_models()["Models"]} == {"shared"}
    targets = client(aws_env, "application-autoscaling").describe_scalable_targets(ServiceNamespace="sagemaker")
    assert targets["ScalableTargets"] == []
    deleted = audit.read(Path(aws_env["ATTRITION_AUDIT_LOG"])).entries[0]  # recorded, as a deployment is (#23)
    assert deleted["event"] == "deleted" and deleted["model"] == {"endpoint": "attrition",
                                                                   "models": ["attrition-a", "attrition-b"]}
    assert "endpoint config attrition-0123456789" in deleted["reasons"]


def test_tags_reach_every_resource(aws_env):
    cli(aws_env, "register", "--name", "attrition-a", "--image", IMAGE, "--model-data", "s3://hr-data/a/m.tar.gz",
        "--role", ROLE, "--tag", "team=hr-analytics", "--tag", "cost-centre=42")
    cli(aws_env, "deploy", "--endpoint", "attrition", "--variant", "name=A,model=attrition-a",
        "--tag", "team=hr-analytics")
    sagemaker = client(aws_env, "sagemaker")
    model = sagemaker.describe_model(ModelName="attrition-a")["ModelArn"]
    endpoint = sagemaker.describe_endpoint(EndpointName="attrition")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    for arn in (model, endpoint["EndpointArn"], config["EndpointConfigArn"]):
        tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
        assert tags["team"] == "hr-analytics", arn


def test_tune_over_the_declared_ranges_waits_and_registers_the_best_model(aws_env):
    name = cli(aws_env, "tune", "--image", IMAGE, "--role", ROLE, "--train", "s3://hr-data/train/",
               "--output", "s3://hr-data/out/", "--name", "attrition-tune-1", "--max-jobs", "8",
               "--max-parallel", "2", "--early-stopping", "--hp", "folds=5").stdout.strip()
    described = client(aws_env, "sagemaker").describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    config = described["HyperParameterTuningJobConfig"]
    assert config["HyperParameterTuningJobObjective"] == {"Type": "Maximize", "MetricName": "validation:auc"}
    assert config["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 8 and config["TrainingJobEarlyStoppingType"] == "Auto"
    tuned = {r["Name"] for kind in config["ParameterRanges"].values() for r in kind}
    assert {"learning_rate", "num_leaves", "extra_trees"} <= tuned
    assert described["TrainingJobDefinition"]["StaticHyperParameters"]["folds"] == "5"

    waited = cli(aws_env, "tune", "--image", IMAGE, "--role", ROLE, "--train", "s3://hr-data/train/",
                 "--output", "s3://hr-data/out/", "--name", "attrition-tune-2", "--warm-start-from", name, "--wait")
    best = waited.stdout.strip()
    assert "tuning job attrition-tune-2: Completed" in waited.stderr and f"best so far {best}" in waited.stderr
    # moto names a best trial it never ran: run it, so that its model can be registered
    cli(aws_env, "train-job", "--image", IMAGE, "--role", ROLE, "--train", "s3://hr-data/train/",
        "--output", "s3://hr-data/out/", "--name", best)
    cli(aws_env, "register", "--name", "attrition-tuned", "--from-tuning-job", "attrition-tune-2", "--role", ROLE)
    model = client(aws_env, "sagemaker").describe_model(ModelName="attrition-tuned")["PrimaryContainer"]
    assert model["Image"] == IMAGE and model["ModelDataUrl"] == f"s3://hr-data/out/{best}/output/model.tar.gz"


def test_pipeline_upsert_start_and_describe(aws_env, tmp_path):
    definition = tmp_path / "definition.json"
    definition.write_text(json.dumps({"Version": "2020-12-01", "Steps": [], "Parameters": [
        {"Name": "ChampionModelUrl", "Type": "String", "DefaultValue": "s3://hr-data/attrition/champion/none/"}]}))
    client(aws_env, "s3").create_bucket(Bucket="hr-data")
    arn = cli(aws_env, "pipeline", "upsert", "--definition", definition, "--role", ROLE).stdout.strip()
    assert arn.endswith(":pipeline/AttritionPipeline")
    assert client(aws_env, "s3").get_object(Bucket="hr-data", Key="attrition/champion/none/no-champion.txt")
    assert cli(aws_env, "pipeline", "upsert", "--definition", definition, "--role", ROLE).stdout.strip() == arn
    for approval in ("Approved", "PendingManualApproval"):  # the newest approved one is the champion
        cli(aws_env, "register", "--name", f"attrition-{approval.lower()}", "--image", IMAGE, "--role", ROLE,
            "--model-data", f"s3://hr-data/{approval}/model.tar.gz", "--group", "attrition-pipe",
            "--approval", approval)
    started = cli(aws_env, "pipeline", "start", "--param", "Seed=3", "--param", "BatchScore=true", "--wait",
                  "--group", "attrition-pipe")
    assert "AttritionPipeline/execution/" in started.stdout and ": Succeeded" in started.stderr
    passed = client(aws_env, "sagemaker").list_pipeline_parameters_for_execution(
        PipelineExecutionArn=started.stdout.strip())["PipelineParameters"]
    assert {"Name": "ChampionModelUrl", "Value": "s3://hr-data/Approved/model.tar.gz"} in passed
    described = json.loads(cli(aws_env, "pipeline", "describe").stdout)
    assert described["PipelineName"] == "AttritionPipeline"
    assert described["LatestExecution"]["PipelineExecutionStatus"] == "Succeeded"
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    failed = cli(aws_env, "pipeline", "upsert", "--definition", broken, "--role", ROLE, check=False)
    assert failed.returncode == 2 and "is not JSON" in failed.stderr


def test_a_profile_that_is_not_configured_is_one_line_exit_2_and_a_dry_run_needs_none(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    deploy = ["deploy", "--endpoint", "attrition", "--variant", "name=main,model=attrition-v1"]
    planned = cli(env, "--profile", "nosuch", "--dry-run", *deploy)
    assert json.loads(planned.stdout) and "profile 'nosuch' is not configured; a dry run needs none" in planned.stderr
    refused = cli(env, "--profile", "nosuch", "--region", "us-east-1", *deploy, check=False)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "AWS profile 'nosuch' is not configured" in refused.stderr


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`attrition-deploy --dry-run ... | head`: the reader is gone before the plan is written; it ends
    quietly, exit 0, as a shell tool does."""
    command = (f"{CLI} --dry-run --region eu-west-1 register --name m --image {IMAGE} "
               f"--model-data s3://hr-models/m.tar.gz --role {ROLE} | true; "
               "echo exit=${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    assert done.stdout.strip() == "exit=0" and "Traceback" not in done.stderr, done.stderr
