"""Every request is checked against botocore's model of the API (and SageMaker's own rules)
before it is printed or sent. Offline: dry runs only, no moto, no credentials."""

import json

import pytest

from attrition_deploy import parser, validate
from tests.deploy.offline import run

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/attrition-sagemaker:abc1234"
ROLE = "arn:aws:iam::123456789012:role/attrition-sagemaker-execution"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:attrition"
# The options train-job and tune share (parser.py's training()), then every subcommand with every
# option it has: the test below checks that none is left out.
TRAINING = ["--image", IMAGE, "--role", ROLE, "--train", "s3://hr-models/attrition/train/",
            "--validation", "s3://hr-models/attrition/validation/", "--output", "s3://hr-models/attrition/out/",
            "--instance-type", "ml.m5.xlarge", "--volume-gb", "30", "--hp", "folds=5", "--spot", "--max-wait", "9000",
            "--checkpoint", "s3://hr-models/attrition/checkpoints/", "--volume-kms-key", KEY, "--output-kms-key", KEY,
            "--inter-container-encryption", "--subnet", "subnet-0abc", "--security-group", "sg-0abc",
            "--network-isolation"]
EVERYTHING = {
    "package": ["MODEL", "--bucket", "hr-models", "--prefix", "attrition/models", "--kms-key", KEY],
    "role": ["--name", "attrition-role", "--bucket", "hr-models", "--prefix", "attrition", "--s3",
             "s3://hr-capture/attrition/", "--kms-key", KEY, "--repository", "attrition-sagemaker",
             "--people", "attrition-models"],
    "train-job": [*TRAINING, "--name", "attrition-1", "--instance-count", "2", "--max-runtime", "7200", "--wait"],
    "tune": [*TRAINING, "--name", "attrition-tune-1", "--instance-count", "1", "--max-runtime", "3600",
             "--strategy", "Bayesian", "--max-jobs", "30", "--max-parallel", "3", "--early-stopping",
             "--warm-start-from", "attrition-tune-0", "--only", "learning_rate", "--only", "num_leaves", "--wait"],
    "register": ["--name", "attrition-v1", "--image", IMAGE, "--model-data", "s3://hr-models/attrition/m.tar.gz",
                 "--role", ROLE, "--env", "SAGEMAKER_MODEL_SERVER_WORKERS=2", "--group", "attrition-models",
                 "--approval", "Approved", "--model-card", "CARD", "--metrics", "s3://hr-models/attrition/out/evaluation.json",
                 "--bias", "s3://hr-models/attrition/out/bias.json",
                 "--explainability", "s3://hr-models/attrition/out/explainability.json",
                 "--manifest", "MANIFEST", "--subnet", "subnet-0abc", "--security-group", "sg-0abc",
                 "--network-isolation", "--audit-log", "AUDIT"],
    "deploy": ["--endpoint", "attrition", "--variant", "name=main,model=attrition-v1,instance-type=ml.c5.large,"
               "count=2,weight=0.9", "--variant", "name=challenger,model=attrition-v2,weight=0.1",
               "--capture", "s3://hr-models/attrition/capture/", "--capture-percent", "50", "--kms-key", KEY,
               "--canary", "10", "--canary-interval", "300", "--alarm", "attrition-5xx", "--autoscale", "1:4:1000",
               "--async-output", "s3://hr-models/attrition/async/", "--async-success-topic", TOPIC,
               "--async-error-topic", TOPIC, "--wait", "--audit-log", "AUDIT"],
    "approve": ["--package", "arn:aws:sagemaker:eu-west-1:123456789012:model-package/attrition-models/3", "--reject",
                "--reason", "DI for Age>40 outside 0.8..1.25 in the bias report", "--audit-log", "AUDIT"],
    "history": ["--group", "attrition-models", "--limit", "10", "--json", "--audit-log", "AUDIT"],
    "monitor-schedule": ["--endpoint", "attrition", "--name", "attrition-drift", "--image", IMAGE, "--role", ROLE,
                         "--baseline", "s3://hr-models/attrition/baseline/", "--model-dir", "MODEL",
                         "--reports", "s3://hr-models/attrition/monitoring/", "--schedule", "cron(0 */6 ? * * *)",
                         "--instance-type", "ml.m5.xlarge", "--volume-gb", "20", "--max-runtime", "3000",
                         "--pipeline", "AttritionPipeline", "--retrain-data", "s3://hr-models/attrition/export/",
                         "--champion-model-data", "s3://hr-models/attrition/models/v1/model.tar.gz",
                         "--kind", "model-quality", "--ground-truth", "s3://hr-models/attrition/groundtruth/",
                         "--alarm", "auc<0.7",
                         "--events-role", "attrition-drift-events"],
    "delete": ["--endpoint", "attrition", "--audit-log", "AUDIT"],
    "pipeline": ["upsert", "--name", "AttritionPipeline", "--definition", "DEFINITION", "--role", ROLE,
                 "--param", "Seed=1", "--wait", "--group", "attrition-models"],
    "transform": ["--model", "attrition-v1", "--input", "s3://hr-models/attrition/batch/in/",
                  "--output", "s3://hr-models/attrition/batch/out/", "--name", "attrition-batch-1",
                  "--instance-type", "ml.m5.large", "--instance-count", "2", "--join", "--output-kms-key", KEY,
                  "--volume-kms-key", KEY, "--wait"],
    "invoke": ["--endpoint", "attrition", "PAYLOAD", "--content-type", "text/csv", "--accept", "text/csv",
               "--explain", "3", "--variant", "main"],
    "describe": ["--endpoint", "attrition"],
    "ecr": ["--repository", "attrition-sagemaker", "--mutable", "--kms-key", KEY, "--keep", "20"],
    "ecr-password": [],
}
GLOBAL = ["--region", "eu-west-1", "--profile", "default", "--dry-run"]
# These read a tuning job, or an MLflow registry (tested in tests/pipelines/test_promote.py), to plan.
# approve --version, history --model and --verify work on MLflow and the local audit log (test_governance.py).
# shadow-report reads captures and plans no request (tests/deploy/test_shadow.py, tests/endpoints).
LIVE_ONLY = {"register": {"--from-tuning-job", "--from-mlflow", "--mlflow", "--bucket", "--prefix"},
             "approve": {"--version", "--mlflow"}, "history": {"--model", "--verify"},
             "shadow-report": {"--capture", "--production", "--shadow", "--endpoint", "--facets", "--min-pairs",
                               "--min-agreement", "--max-group-shift", "--audit-log"}}
# A shadow variant cannot go with asynchronous inference (SageMaker refuses it): its own walk.
SHADOWED = ["--endpoint", "attrition", "--variant", "name=main,model=attrition-v1", "--shadow",
            "name=challenger,model=attrition-v2,instance-type=ml.c5.large,count=1,sampling=25"]
# Bias and attribution drift on AWS: the model and training's audit go up as a baseline archive.
MONITOR_KINDS = [[*EVERYTHING["monitor-schedule"][:EVERYTHING["monitor-schedule"].index("--kind")], "--kind", kind,
                  *extra, "--alarm", "retraining_recommended>=1"]
                 for kind, extra in (("model-bias", ["--ground-truth", "s3://hr-models/attrition/groundtruth/",
                                                     "--bias-report", "BIAS"]), ("model-explainability", []))]
for _name in ("package", "role", "train-job", "tune", "register", "deploy", "transform", "ecr", "pipeline",
              "monitor-schedule"):
    EVERYTHING[_name] += ["--tag", "team=hr-analytics"]


def concrete(args, model_dir, trained_dir):
    payload = trained_dir / "payload.csv"
    payload.write_text("41,Yes\n")
    definition = trained_dir / "definition.json"
    definition.write_text('{"Version": "2020-12-01", "Steps": []}')
    files = {"MODEL": model_dir, "MANIFEST": model_dir / "manifest.json", "PAYLOAD": payload, "DEFINITION": definition,
             "AUDIT": trained_dir / "dry-run-audit.jsonl", "BIAS": trained_dir / "output" / "data" / "bias.json",
             "CARD": trained_dir / "output" / "data" / "model_card.json"}
    return [files.get(a, a) for a in args]


def test_the_walk_below_uses_every_option_of_every_subcommand():
    subparsers = next(a for a in parser.build()._actions if a.dest == "command").choices
    for name, sub in subparsers.items():
        options = {o for a in sub._actions for o in a.option_strings if o.startswith("--") and o != "--help"}
        used = set(EVERYTHING.get(name, [])) | set(GLOBAL) | LIVE_ONLY.get(name, set())
        used |= set(SHADOWED) if name == "deploy" else set()
        used |= {a for kind in MONITOR_KINDS for a in kind} if name == "monitor-schedule" else set()
        assert options <= used, f"{name}: not walked: {sorted(options - used)}"


@pytest.mark.parametrize("command, args", [*((c, EVERYTHING[c]) for c in sorted(set(EVERYTHING) - {"delete"})),
                                           ("deploy", SHADOWED), *(("monitor-schedule", k) for k in MONITOR_KINDS)])
def test_every_subcommand_with_every_option_plans_only_valid_requests(offline, capsys, trained_dir, command, args):
    args = concrete(args, trained_dir / "model", trained_dir)
    code, out, err = run(capsys, command, *args, *GLOBAL)
    assert code == 0, err
    plan = json.loads(out)
    assert plan
    for call in plan:  # what was printed passes the validator again, and names eu-west-1, not us-east-1
        validate.check(call["service"], call["operation"], _unprintable(call["params"]))
    assert "us-east-1" not in out
    assert not (trained_dir / "dry-run-audit.jsonl").exists()  # a dry run decides nothing: no audit record


def _unprintable(params):
    """--dry-run shows bytes by size and hash; give the validator bytes back."""
    if isinstance(params, dict):
        if set(params) == {"bytes", "sha256"}:
            return b"x"
        return {k: _unprintable(v) for k, v in params.items()}
    if isinstance(params, list):
        return [_unprintable(v) for v in params]
    return params


@pytest.mark.parametrize("args, message", [
    (["register", "--name", "m", "--image", IMAGE, "--model-data", "s3://hr-models/m.tar.gz", "--role", "admin"],
     "CreateModel.ExecutionRoleArn has 5 characters; at least 20 are needed"),
    (["register", "--name", "m", "--image", IMAGE, "--model-data", "s3://hr-models/m.tar.gz", "--role",
      "arn:aws:iam::12:role/attrition-sagemaker"], "CreateModel.ExecutionRoleArn 'arn:aws:iam::12:role/attrition-"),
    (["register", "--name", "m", "--image", "my image", "--model-data", "s3://hr-models/m.tar.gz", "--role", ROLE],
     "CreateModel.PrimaryContainer.Image 'my image' does not match"),
    (["train-job", "--image", IMAGE, "--role", ROLE, "--train", "s3://hr-models/t/", "--output", "s3://hr-models/o/",
      "--subnet", "subnet 1"], "CreateTrainingJob.VpcConfig.Subnets[0] 'subnet 1' does not match"),
    (["train-job", "--image", IMAGE, "--role", ROLE, "--train", "s3://hr-models/t/", "--output", "s3://hr-models/o/",
      "--subnet", "subnet-1"], "CreateTrainingJob.VpcConfig.SecurityGroupIds has 0 items; at least 1 are needed"),
    (["deploy", "--endpoint", "e", "--variant", "name=a,model=m", "--kms-key", "k" * 2100],
     "CreateEndpointConfig.KmsKeyId has 2100 characters; at most 2048 are allowed"),
    (["deploy", "--endpoint", "e", "--variant", "name=a,model=m", "--async-output", "s3://hr-models/a/",
      "--async-success-topic", "not-a-topic"], "SuccessTopic 'not-a-topic' does not match"),
])
def test_a_request_aws_would_refuse_is_one_line_and_exit_2(offline, capsys, args, message):
    code, out, err = run(capsys, *args, "--dry-run")
    assert code == 2 and out == "" and message in err and err.count("\n") == 1, err


def test_generated_names_always_fit(offline, capsys):
    endpoint = "attrition-" + "x" * 47  # a valid 57-character endpoint name
    code, out, _ = run(capsys, "deploy", "--endpoint", endpoint, "--variant", "name=a,model=m", "--dry-run")
    (config, create) = json.loads(out)
    name = config["params"]["EndpointConfigName"]
    assert code == 0 and len(name) <= 63 and name.startswith("attrition-xxx")
    assert create["params"]["EndpointName"] == endpoint


def test_a_manifest_with_many_files_fits_the_metadata_limit(offline, capsys, trained_dir, tmp_path):
    manifest = json.loads((trained_dir / "model" / "manifest.json").read_text())
    manifest["data"] = {"train": [{"file": f"train/part-{i}.csv", "sha256": "ab" * 32, "rows": 10} for i in range(60)]}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    code, out, err = run(capsys, "register", "--name", "m", "--image", IMAGE, "--model-data", "s3://hr-models/m.tar.gz",
                         "--role", ROLE, "--group", "g", "--manifest", path, "--dry-run")
    assert code == 0, err
    metadata = json.loads(out)[-1]["params"]["CustomerMetadataProperties"]
    assert len(metadata) == 50 and metadata["data_more"].endswith("more data files: see manifest.json")


def test_the_plan_is_in_the_configured_region(offline, capsys, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    _, out, _ = run(capsys, "role", "--bucket", "hr-models", "--dry-run")
    assert "arn:aws:ecr:eu-west-1:" in out and "us-east-1" not in out
    _, out, _ = run(capsys, "--region", "ap-southeast-2", "role", "--bucket", "hr-models", "--dry-run")
    assert "arn:aws:ecr:ap-southeast-2:" in out


def test_an_unknown_profile_and_a_broken_manifest_are_one_line(offline, capsys, tmp_path):
    code, _, err = run(capsys, "--profile", "nosuch", "describe", "--endpoint", "e")
    assert code == 2 and "AWS profile 'nosuch' is not configured" in err and err.count("\n") == 1
    broken = tmp_path / "manifest.json"
    broken.write_text("{not json")
    code, _, err = run(capsys, "register", "--name", "m", "--image", IMAGE, "--model-data", "s3://hr-models/m.tar.gz",
                       "--role", ROLE, "--group", "g", "--manifest", broken, "--dry-run")
    assert code == 2 and "is not valid JSON" in err and err.count("\n") == 1 and "Traceback" not in err


def test_registering_a_tuning_jobs_best_model_has_no_dry_run(offline, capsys):
    code, _, err = run(capsys, "register", "--name", "m", "--from-tuning-job", "t", "--role", ROLE, "--dry-run")
    assert code == 2 and "reads the tuning job: run it without --dry-run" in err
    code, _, err = run(capsys, "register", "--name", "m", "--role", ROLE, "--dry-run")
    assert code == 2 and "needs --image and --model-data, or --from-tuning-job" in err
