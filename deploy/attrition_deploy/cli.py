"""The attrition-deploy command line: one subcommand per step from model to endpoint.

Each prints its result (a URI, an ARN, a name) on stdout, or with --dry-run the JSON list of
every request it would make. Re-running a step that already happened reuses what exists.
"""

import argparse
import io
import json
import sys
import tarfile
import time
from pathlib import Path

from . import plans
from .aws import AwsError, Runner, dump

EXISTS = ("AlreadyExists", "already exist", "EntityAlreadyExists", "BucketAlreadyOwnedByYou",
          "ResourceInUse")


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        runner = Runner(args.region, args.dry_run)
        result = args.handler(args, runner)
    except AwsError as error:
        print(f"attrition-deploy {args.command}: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"attrition-deploy {args.command}: {error}", file=sys.stderr)
        return 2
    print(dump(runner.plan) if args.dry_run else result)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="attrition-deploy", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    def command(name, handler, text):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("--region", help="AWS region (default: boto3's configuration)")
        sub.add_argument("--dry-run", action="store_true",
                         help="print every API request as JSON; no credentials or network needed")
        sub.set_defaults(handler=handler)
        return sub

    p = command("package", package, "tar a model directory into model.tar.gz and upload it to S3")
    p.add_argument("model_dir", type=Path)
    p.add_argument("--bucket", required=True)
    p.add_argument("--prefix", default="attrition/models")
    p.add_argument("--kms-key", help="SSE-KMS key id or ARN (default: SSE-S3, AES256)")

    p = command("role", role, "create or reuse a least-privilege SageMaker execution role")
    p.add_argument("--name", default="attrition-sagemaker-execution")
    p.add_argument("--bucket", required=True)
    p.add_argument("--prefix", default="attrition")
    p.add_argument("--repository", default="attrition-sagemaker", help="ECR repository to pull")

    p = command("train-job", train_job, "start a SageMaker training job on the image")
    p.add_argument("--image", required=True)
    p.add_argument("--role", required=True)
    p.add_argument("--train", required=True, help="s3:// prefix of the training CSV files")
    p.add_argument("--validation", help="s3:// prefix of validation CSV files")
    p.add_argument("--output", required=True, help="s3:// prefix for model.tar.gz")
    p.add_argument("--name", help="default: attrition-<timestamp>")
    p.add_argument("--instance-type", default="ml.m5.large")
    p.add_argument("--instance-count", type=int, default=1)
    p.add_argument("--volume-gb", type=int, default=10)
    p.add_argument("--max-runtime", type=int, default=3600, help="seconds")
    p.add_argument("--hp", action="append", default=[], metavar="NAME=VALUE",
                   help="a hyperparameter (repeat)")
    p.add_argument("--spot", action="store_true", help="managed spot training")
    p.add_argument("--max-wait", type=int, default=7200, help="seconds, with --spot")
    p.add_argument("--checkpoint", help="s3:// prefix for checkpoints")

    p = command("register", register, "CreateModel, and optionally a Model Registry package")
    p.add_argument("--name", required=True, help="the SageMaker model name")
    p.add_argument("--image", required=True)
    p.add_argument("--model-data", required=True, help="s3://.../model.tar.gz")
    p.add_argument("--role", required=True)
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--group", help="Model Registry package group: also register a package")
    p.add_argument("--approval", default="PendingManualApproval",
                   choices=["PendingManualApproval", "Approved", "Rejected"])
    p.add_argument("--metrics", help="s3:// URI of evaluation.json (model quality)")
    p.add_argument("--manifest", type=Path, help="manifest.json from the model directory")

    p = command("deploy", deploy, "create or update an endpoint with one or more variants")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--variant", action="append", required=True, metavar="SPEC",
                   help="name=A,model=M[,instance-type=ml.m5.large][,count=1][,weight=1] (repeat)")
    p.add_argument("--capture", help="s3:// prefix for data capture (input and output)")
    p.add_argument("--capture-percent", type=int, default=100)
    p.add_argument("--kms-key")
    p.add_argument("--canary", type=int, metavar="PERCENT",
                   help="on update: blue/green canary with this share of capacity first")
    p.add_argument("--wait", type=int, default=600, help="canary wait interval, seconds")
    p.add_argument("--alarm", action="append", default=[], help="CloudWatch alarm for rollback")
    p.add_argument("--autoscale", metavar="MIN:MAX:INVOCATIONS",
                   help="target tracking per variant, e.g. 1:4:1000 invocations/instance/minute")

    p = command("transform", transform, "a Batch Transform job over headerless CSV")
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--name")
    p.add_argument("--instance-type", default="ml.m5.large")
    p.add_argument("--instance-count", type=int, default=1)
    p.add_argument("--join", action="store_true", help="write each input row next to its output")

    p = command("invoke", invoke, "send a CSV or JSON file to an endpoint, print the answer")
    p.add_argument("--endpoint", required=True)
    p.add_argument("file", type=Path)
    p.add_argument("--content-type", help="default from the file's extension")
    p.add_argument("--accept", default="application/json")
    p.add_argument("--explain", type=int, help="top-k drivers per prediction")
    p.add_argument("--variant", help="TargetVariant")

    p = command("describe", describe, "show an endpoint, its variants and their weights")
    p.add_argument("--endpoint", required=True)

    p = command("ecr", ecr, "create the ECR repository if missing; print its URI")
    p.add_argument("--repository", default="attrition-sagemaker")
    p.add_argument("--immutable", action="store_true", help="tags cannot be overwritten")
    p.add_argument("--kms-key", help="encrypt with this KMS key (default: AES256)")

    p = command("ecr-password", ecr_password,
                "print a Docker password for ECR (for docker login --password-stdin)")
    return top


def package(args, aws: Runner) -> str:
    archive = tar_model(args.model_dir)
    key = f"{args.prefix.strip('/')}/model.tar.gz"
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": args.kms_key} if args.kms_key \
        else {"ServerSideEncryption": "AES256"}
    ensure_bucket(aws, args.bucket)
    aws.call("s3", "put_object", {"Bucket": args.bucket, "Key": key, "Body": archive, **encryption})
    return f"s3://{args.bucket}/{key}"


def tar_model(model_dir: Path) -> bytes:
    """model.tar.gz with the files at the archive root, as SageMaker extracts it to /opt/ml/model."""
    for name in ("model.txt", "metadata.json"):
        if not (model_dir / name).is_file():
            raise ValueError(f"{model_dir} is not a trained model directory: {name} is missing")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for path in sorted(model_dir.iterdir()):
            if path.is_file():
                info = archive.gettarinfo(str(path), arcname=path.name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with open(path, "rb") as content:
                    archive.addfile(info, content)
    return out.getvalue()


def ensure_bucket(aws: Runner, bucket: str) -> None:
    """Create the bucket, private and encrypted by default, unless it exists."""
    if not aws.dry_run:
        found = aws.call("s3", "head_bucket", {"Bucket": bucket}, tolerate=("404", "NoSuchBucket"))
        if found is not None:
            return
    request = {"Bucket": bucket}
    if aws.region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
    aws.call("s3", "create_bucket", request, tolerate=EXISTS)
    aws.call("s3", "put_public_access_block", {"Bucket": bucket, "PublicAccessBlockConfiguration": {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True}})
    aws.call("s3", "put_bucket_encryption", {"Bucket": bucket, "ServerSideEncryptionConfiguration": {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}})


def role(args, aws: Runner) -> str:
    created = aws.call("iam", "create_role", {
        "RoleName": args.name, "AssumeRolePolicyDocument": json.dumps(plans.TRUST_POLICY),
        "Description": "SageMaker execution role for attrition-sagemaker (least privilege)",
    }, tolerate=EXISTS)
    policy = plans.role_policy(aws.account(), aws.region, args.bucket, args.prefix, args.repository)
    aws.call("iam", "put_role_policy", {"RoleName": args.name, "PolicyName": "attrition-least-privilege",
                                        "PolicyDocument": json.dumps(policy)})
    if aws.dry_run:
        return ""
    existing = created or aws.call("iam", "get_role", {"RoleName": args.name})
    return existing["Role"]["Arn"]


def train_job(args, aws: Runner) -> str:
    channels = {"train": args.train, **({"validation": args.validation} if args.validation else {})}
    name = args.name or f"attrition-{time.strftime('%Y%m%d-%H%M%S')}"
    request = plans.training_job(name, args.image, args.role, channels, args.output,
                                 args.instance_type, args.instance_count, args.volume_gb,
                                 args.max_runtime, pairs(args.hp), args.spot, args.max_wait,
                                 args.checkpoint)
    aws.call("sagemaker", "create_training_job", request)
    return name


def register(args, aws: Runner) -> str:
    environment = pairs(args.env)
    existing = None if aws.dry_run else aws.call(
        "sagemaker", "describe_model", {"ModelName": args.name}, tolerate=("Could not find model",))
    if existing:
        same_model(existing, args)
    else:
        aws.call("sagemaker", "create_model",
                 plans.model(args.name, args.image, args.model_data, args.role, environment))
    if not args.group:
        return args.name
    aws.call("sagemaker", "create_model_package_group", {
        "ModelPackageGroupName": args.group,
        "ModelPackageGroupDescription": "Employee attrition models (attrition-sagemaker)",
    }, tolerate=("already exist",))
    manifest = json.loads(args.manifest.read_text()) if args.manifest else {}
    metadata = plans.lineage_metadata(manifest, args.model_data)
    existing = None if aws.dry_run else registered_package(aws, args.group, metadata)
    if existing:
        return existing
    request = plans.model_package(args.group, args.image, args.model_data, environment,
                                  args.approval, args.metrics, metadata)
    created = aws.call("sagemaker", "create_model_package", request)
    return created.get("ModelPackageArn", "")


def same_model(described: dict, args) -> None:
    """A model of that name exists: fine if it is this model, an error if it is another."""
    container = described.get("PrimaryContainer", {})
    if (container.get("Image"), container.get("ModelDataUrl")) != (args.image, args.model_data):
        raise AwsError(f"model {args.name!r} already exists with another image or model data; "
                       "choose another --name")


def registered_package(aws: Runner, group: str, metadata: dict) -> str | None:
    """The package in the group already registered for this model data, if any."""
    listed = aws.call("sagemaker", "list_model_packages", {
        "ModelPackageGroupName": group, "SortBy": "CreationTime", "SortOrder": "Descending",
        "MaxResults": 50})
    for summary in listed.get("ModelPackageSummaryList", []):
        described = aws.call("sagemaker", "describe_model_package",
                             {"ModelPackageName": summary["ModelPackageArn"]})
        if (described.get("CustomerMetadataProperties") or {}).get("model_data") == metadata["model_data"]:
            return summary["ModelPackageArn"]
    return None


def deploy(args, aws: Runner) -> str:
    variants = [variant(spec) for spec in args.variant]
    config = plans.endpoint_config("", variants, args.capture, args.capture_percent, args.kms_key)
    config_name = f"{args.endpoint}-{plans.digest(config)}"  # same settings, same name: idempotent
    config["EndpointConfigName"] = config_name
    aws.call("sagemaker", "create_endpoint_config", config, tolerate=("already existing", "already exists"))
    current = None if aws.dry_run else aws.call(
        "sagemaker", "describe_endpoint", {"EndpointName": args.endpoint},
        tolerate=("Could not find endpoint",))
    # A dry run cannot look: --canary means the endpoint is expected to exist already.
    exists = args.canary is not None if aws.dry_run else current is not None
    if not exists:
        aws.call("sagemaker", "create_endpoint", {"EndpointName": args.endpoint,
                                                  "EndpointConfigName": config_name})
    elif aws.dry_run or current.get("EndpointConfigName") != config_name:
        update = {"EndpointName": args.endpoint, "EndpointConfigName": config_name}
        if args.canary is not None:
            update["DeploymentConfig"] = plans.canary_deployment(args.canary, args.wait, args.alarm)
        aws.call("sagemaker", "update_endpoint", update)
    if args.autoscale:
        low, high, target = args.autoscale.split(":")
        for v in variants:
            target_request, policy = plans.scaling(args.endpoint, v["name"], int(low), int(high), float(target))
            aws.call("application-autoscaling", "register_scalable_target", target_request)
            aws.call("application-autoscaling", "put_scaling_policy", policy)
    return args.endpoint


def variant(spec: str) -> dict:
    fields = pairs(spec.split(","))
    unknown = set(fields) - {"name", "model", "instance-type", "count", "weight"}
    if unknown or "name" not in fields or "model" not in fields:
        raise ValueError(f"--variant {spec!r}: needs name= and model=, may have instance-type=, "
                         "count=, weight=")
    return {"name": fields["name"], "model": fields["model"],
            "instance_type": fields.get("instance-type", "ml.m5.large"),
            "count": int(fields.get("count", 1)), "weight": float(fields.get("weight", 1))}


def transform(args, aws: Runner) -> str:
    name = args.name or f"attrition-batch-{time.strftime('%Y%m%d-%H%M%S')}"
    aws.call("sagemaker", "create_transform_job", plans.transform_job(
        name, args.model, args.input, args.output, args.instance_type, args.instance_count, args.join))
    return name


def invoke(args, aws: Runner) -> str:
    body = args.file.read_bytes()
    content_type = args.content_type or {".json": "application/json", ".jsonl": "application/jsonlines"}.get(
        args.file.suffix.lower(), "text/csv")
    request = {"EndpointName": args.endpoint, "Body": body, "ContentType": content_type,
               "Accept": args.accept}
    if args.explain:
        request["CustomAttributes"] = f"explain={args.explain}"
    if args.variant:
        request["TargetVariant"] = args.variant
    answer = aws.call("sagemaker-runtime", "invoke_endpoint", request)
    return "" if aws.dry_run else answer["Body"].read().decode("utf-8", "replace")


def describe(args, aws: Runner) -> str:
    endpoint = aws.call("sagemaker", "describe_endpoint", {"EndpointName": args.endpoint})
    if aws.dry_run:
        return ""
    config = aws.call("sagemaker", "describe_endpoint_config",
                      {"EndpointConfigName": endpoint["EndpointConfigName"]})
    weights = {v["VariantName"]: v for v in endpoint.get("ProductionVariants", [])}
    return dump({
        "EndpointName": endpoint["EndpointName"], "EndpointStatus": endpoint["EndpointStatus"],
        "EndpointConfigName": endpoint["EndpointConfigName"],
        "Variants": [{"VariantName": v["VariantName"], "ModelName": v["ModelName"],
                      "InstanceType": v["InstanceType"],
                      "InitialVariantWeight": v["InitialVariantWeight"],
                      "CurrentWeight": weights.get(v["VariantName"], {}).get("CurrentWeight")}
                     for v in config["ProductionVariants"]],
        "DataCapture": endpoint.get("DataCaptureConfig"),
    })


def ecr(args, aws: Runner) -> str:
    found = None if aws.dry_run else aws.call(
        "ecr", "describe_repositories", {"repositoryNames": [args.repository]},
        tolerate=("RepositoryNotFoundException",))
    if found:
        return found["repositories"][0]["repositoryUri"]
    encryption = {"encryptionType": "KMS", "kmsKey": args.kms_key} if args.kms_key \
        else {"encryptionType": "AES256"}
    created = aws.call("ecr", "create_repository", {
        "repositoryName": args.repository,
        "imageScanningConfiguration": {"scanOnPush": True},
        "imageTagMutability": "IMMUTABLE" if args.immutable else "MUTABLE",
        "encryptionConfiguration": encryption,
    })
    return "" if aws.dry_run else created["repository"]["repositoryUri"]


def ecr_password(args, aws: Runner) -> str:
    import base64

    token = aws.call("ecr", "get_authorization_token", {})
    if aws.dry_run:
        return ""
    user_and_password = base64.b64decode(token["authorizationData"][0]["authorizationToken"]).decode()
    return user_and_password.partition(":")[2]


def pairs(items) -> dict:
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{item!r} is not NAME=VALUE")
        result[key.strip()] = value.strip()
    return result
