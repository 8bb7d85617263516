"""What each subcommand does: look at what exists, then make the calls its plan needs.

Request bodies come from plans.py; every call goes through aws.Runner, so a dry run records the
same requests that a real run sends.
"""

import base64
import io
import json
import tarfile
import time
from argparse import Namespace
from pathlib import Path

from . import plans
from .aws import AwsError, Runner, dump

EXISTS = ("AlreadyExists", "already exist", "EntityAlreadyExists", "BucketAlreadyOwnedByYou",
          "ResourceInUse")
MODEL_FILES = ("model.txt", "metadata.json")


def package(args: Namespace, aws: Runner) -> str:
    archive = tar_model(args.model_dir)
    key = f"{args.prefix.strip('/')}/model.tar.gz"
    ensure_bucket(aws, args.bucket)
    aws.call("s3", "put_object", plans.upload(args.bucket, key, archive, args.kms_key))
    return f"s3://{args.bucket}/{key}"


def tar_model(model_dir: Path) -> bytes:
    """model.tar.gz with the files at the archive root, as SageMaker extracts it to /opt/ml/model."""
    for name in MODEL_FILES:
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
    if aws.look("s3", "head_bucket", {"Bucket": bucket}, ("404", "NoSuchBucket")) is not None:
        return
    for service, operation, request in plans.bucket(bucket, aws.region):
        aws.tolerate(service, operation, request, EXISTS)


def role(args: Namespace, aws: Runner) -> str:
    created = aws.tolerate("iam", "create_role", plans.role(args.name), EXISTS)
    policy = plans.role_policy(aws.account(), aws.region, args.bucket, args.prefix, args.repository)
    aws.call("iam", "put_role_policy", plans.role_policy_request(args.name, policy))
    if aws.dry_run:
        return ""
    existing = created or aws.call("iam", "get_role", {"RoleName": args.name})
    return str(existing["Role"]["Arn"])


def train_job(args: Namespace, aws: Runner) -> str:
    channels = {"train": args.train, **({"validation": args.validation} if args.validation else {})}
    job = plans.TrainingJob(
        name=args.name or f"attrition-{time.strftime('%Y%m%d-%H%M%S')}", image=args.image, role=args.role,
        channels=channels, output=args.output, instance_type=args.instance_type,
        instance_count=args.instance_count, volume_gb=args.volume_gb, max_runtime=args.max_runtime,
        hyperparameters=dict(args.hp), spot=args.spot, max_wait=args.max_wait, checkpoint=args.checkpoint)
    aws.call("sagemaker", "create_training_job", plans.training_job(job))
    return job.name


def register(args: Namespace, aws: Runner) -> str:
    environment = dict(args.env)
    existing = aws.look("sagemaker", "describe_model", {"ModelName": args.name}, ("Could not find model",))
    if existing:
        _same_model(existing, args)
    else:
        aws.call("sagemaker", "create_model",
                 plans.model(args.name, args.image, args.model_data, args.role, environment))
    if not args.group:
        return str(args.name)
    aws.tolerate("sagemaker", "create_model_package_group", plans.model_package_group(args.group),
                 ("already exist",))
    metadata = plans.lineage_metadata(_manifest(args.manifest), args.model_data)
    found = None if aws.dry_run else _registered_package(aws, args.group, metadata)
    if found:
        return found
    request = plans.model_package(args.group, args.image, args.model_data, environment,
                                  args.approval, args.metrics, metadata)
    return str(aws.call("sagemaker", "create_model_package", request).get("ModelPackageArn", ""))


def _manifest(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"--manifest {path} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ValueError(f"--manifest {path} is not a manifest.json object")
    return document


def _same_model(described: dict, args: Namespace) -> None:
    """A model of that name exists: fine if it is this model, an error if it is another."""
    container = described.get("PrimaryContainer", {})
    if (container.get("Image"), container.get("ModelDataUrl")) != (args.image, args.model_data):
        raise AwsError(f"model {args.name!r} already exists with another image or model data; "
                       "choose another --name")


def _registered_package(aws: Runner, group: str, metadata: dict) -> str | None:
    """The package in the group already registered for this model data, if any."""
    listed = aws.call("sagemaker", "list_model_packages", {
        "ModelPackageGroupName": group, "SortBy": "CreationTime", "SortOrder": "Descending",
        "MaxResults": 50})
    for summary in listed.get("ModelPackageSummaryList", []):
        described = aws.call("sagemaker", "describe_model_package",
                             {"ModelPackageName": summary["ModelPackageArn"]})
        if (described.get("CustomerMetadataProperties") or {}).get("model_data") == metadata["model_data"]:
            return str(summary["ModelPackageArn"])
    return None


def deploy(args: Namespace, aws: Runner) -> str:
    config = plans.endpoint_config(args.endpoint, args.variant, args.capture, args.capture_percent, args.kms_key)
    name = config["EndpointConfigName"]  # same settings, same name: an unchanged deploy changes nothing
    aws.tolerate("sagemaker", "create_endpoint_config", config, ("already existing", "already exists"))
    current = aws.look("sagemaker", "describe_endpoint", {"EndpointName": args.endpoint},
                       ("Could not find endpoint",))
    # A dry run cannot look: --canary means the endpoint is expected to exist already.
    exists = args.canary is not None if aws.dry_run else current is not None
    if not exists:
        aws.call("sagemaker", "create_endpoint", {"EndpointName": args.endpoint, "EndpointConfigName": name})
    elif current is None or current.get("EndpointConfigName") != name:
        update = {"EndpointName": args.endpoint, "EndpointConfigName": name}
        if args.canary is not None:
            update["DeploymentConfig"] = plans.canary_deployment(args.canary, args.wait, args.alarm)
        aws.call("sagemaker", "update_endpoint", update)
    if args.autoscale:
        for v in args.variant:
            target, policy = plans.scaling(args.endpoint, v.name, args.autoscale)
            aws.call("application-autoscaling", "register_scalable_target", target)
            aws.call("application-autoscaling", "put_scaling_policy", policy)
    return str(args.endpoint)


def transform(args: Namespace, aws: Runner) -> str:
    name = args.name or f"attrition-batch-{time.strftime('%Y%m%d-%H%M%S')}"
    aws.call("sagemaker", "create_transform_job", plans.transform_job(
        name, args.model, args.input, args.output, args.instance_type, args.instance_count, args.join))
    return str(name)


def invoke(args: Namespace, aws: Runner) -> str:
    content_type = args.content_type or {".json": "application/json", ".jsonl": "application/jsonlines"}.get(
        args.file.suffix.lower(), "text/csv")
    request = plans.invocation(args.endpoint, args.file.read_bytes(), content_type, args.accept, args.explain,
                               args.variant)
    answer = aws.call("sagemaker-runtime", "invoke_endpoint", request)
    return "" if aws.dry_run else str(answer["Body"].read().decode("utf-8", "replace"))


def describe(args: Namespace, aws: Runner) -> str:
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


def ecr(args: Namespace, aws: Runner) -> str:
    found = aws.look("ecr", "describe_repositories", {"repositoryNames": [args.repository]},
                     ("RepositoryNotFoundException",))
    if found:
        return str(found["repositories"][0]["repositoryUri"])
    created = aws.call("ecr", "create_repository", plans.repository(args.repository, args.immutable, args.kms_key))
    return "" if aws.dry_run else str(created["repository"]["repositoryUri"])


def ecr_password(args: Namespace, aws: Runner) -> str:
    token = aws.call("ecr", "get_authorization_token", {})
    if aws.dry_run:
        return ""
    user_and_password = base64.b64decode(token["authorizationData"][0]["authorizationToken"]).decode()
    return user_and_password.partition(":")[2]
