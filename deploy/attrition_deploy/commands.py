"""What each subcommand does: look at what exists, then make the calls its plan needs.

Request bodies come from plans.py; every call goes through aws.Runner, so a dry run records the
same requests that a real run sends.
"""

import base64
import hashlib
import io
import json
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from attrition.core import contract

from . import audit, declared, mlflow_registry, plans, waiting
from .aws import AwsError, Runner, dump
from .errors import UserError
from .options import (
    Delete,
    Deploy,
    Describe,
    Ecr,
    EcrPassword,
    Invoke,
    Networked,
    Package,
    Pipeline,
    Register,
    Role,
    Training,
    TrainJob,
    Transform,
    Tune,
)

EXISTS = ("AlreadyExists", "already exist", "EntityAlreadyExists", "BucketAlreadyOwnedByYou",
          "ResourceInUse")
MODEL_FILES = (contract.MODEL_FILE, contract.METADATA_FILE)


def package(args: Package, aws: Runner) -> str:
    """Upload under the model's own version (the start of model.txt's SHA-256, as the image names
    it): another model never lands on a registered model's key, the same model always does."""
    archive = tar_model(args.model_dir)
    key = f"{args.prefix.strip('/')}/{model_version(args.model_dir)}/model.tar.gz".lstrip("/")
    ensure_bucket(aws, args.bucket, args.tag)
    aws.call("s3", "put_object", plans.upload(args.bucket, key, archive, args.kms_key, args.tag))
    return f"s3://{args.bucket}/{key}"


def model_version(model_dir: Path) -> str:
    """The first 16 hex digits of model.txt's SHA-256: the image's model version."""
    digest = hashlib.sha256()
    with open(model_dir / contract.MODEL_FILE, "rb") as model_file:
        for block in iter(lambda: model_file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def tar_model(model_dir: Path, also: tuple[Path, ...] = ()) -> bytes:
    """model.tar.gz with the files at the archive root, as SageMaker extracts it to /opt/ml/model
    (`also`: further files beside them, under their own names)."""
    for name in MODEL_FILES:
        if not (model_dir / name).is_file():
            raise UserError(f"{model_dir} is not a trained model directory: {name} is missing")
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for path in [*sorted(model_dir.iterdir()), *also]:
            if path.is_file():
                info = archive.gettarinfo(str(path), arcname=path.name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with open(path, "rb") as content:
                    archive.addfile(info, content)
    return out.getvalue()


def ensure_bucket(aws: Runner, bucket: str, tag_pairs: tuple[tuple[str, str], ...] = ()) -> None:
    """Create the bucket, private and encrypted by default, unless it exists."""
    if aws.look("s3", "head_bucket", {"Bucket": bucket}, ("404", "NoSuchBucket")) is not None:
        return
    for service, operation, request in plans.bucket(bucket, aws.region, tag_pairs):
        aws.tolerate(service, operation, request, EXISTS)


def role(args: Role, aws: Runner) -> str:
    created = aws.tolerate("iam", "create_role", plans.role(args.name, args.tag), EXISTS)
    account = aws.account()
    policy = plans.role_policy(account, aws.region, grants(args), args.repository)
    aws.call("iam", "put_role_policy", plans.role_policy_request(args.name, policy))
    execution_role = f"arn:aws:iam::{account}:role/{args.name}"
    people = [_people_policy(aws, account, name, document, args.tag) for name, document in plans.people_policies(
        account, aws.region, args.people, execution_role, grants(args)).items()] if args.people else []
    if aws.dry_run:
        return ""
    existing = created or aws.call("iam", "get_role", {"RoleName": args.name})
    return "\n".join([str(existing["Role"]["Arn"]), *people])


def _people_policy(aws: Runner, account: str, name: str, document: dict, tag_pairs) -> str:
    """A managed policy for people to be attached to (created, or given a new default version:
    IAM keeps five, so the oldest non-default one goes first)."""
    arn = f"arn:aws:iam::{account}:policy/{name}"
    if aws.tolerate("iam", "create_policy", plans.people_policy_request(name, document, tuple(tag_pairs)),
                    EXISTS) is None and not aws.dry_run:
        versions = aws.call("iam", "list_policy_versions", {"PolicyArn": arn}).get("Versions", [])
        old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        if len(versions) >= 5 and old:
            aws.call("iam", "delete_policy_version", {"PolicyArn": arn, "VersionId": old[0]["VersionId"]})
        aws.call("iam", "create_policy_version", plans.policy_version(arn, document))
    return arn


def grants(args: Role) -> plans.Grants:
    """The S3 prefixes and KMS keys the role is given: --bucket/--prefix, and every --s3 URI."""
    prefixes = [f"s3://{args.bucket}/{args.prefix.strip('/')}/" if args.prefix.strip("/") else f"s3://{args.bucket}/"]
    return plans.Grants(tuple(prefixes + list(args.s3)), args.kms_key)


def network(args: Networked) -> plans.Network:
    return plans.Network(args.subnet, args.security_group, args.network_isolation)


def _job(args: Training, name: str) -> plans.TrainingJob:
    channels = {"train": args.train, **({"validation": args.validation} if args.validation else {})}
    return plans.TrainingJob(
        name=name, image=args.image, role=args.role,
        channels=channels, output=args.output, instance_type=args.instance_type,
        instance_count=args.instance_count, volume_gb=args.volume_gb, max_runtime=args.max_runtime,
        hyperparameters=dict(args.hp), spot=args.spot, max_wait=args.max_wait, checkpoint=args.checkpoint,
        network=network(args), volume_kms_key=args.volume_kms_key, output_kms_key=args.output_kms_key,
        encrypt_inter_container=args.inter_container_encryption, tags=args.tag)


def train_job(args: TrainJob, aws: Runner) -> str:
    job = _job(args, args.name or f"attrition-{time.strftime('%Y%m%d-%H%M%S')}")
    aws.call("sagemaker", "create_training_job", plans.training_job(job))
    if args.wait:
        done = waiting.training_job(aws, job.name)
        return str(done.get("ModelArtifacts", {}).get("S3ModelArtifacts", job.name))
    return job.name


def tune(args: Tune, aws: Runner) -> str:
    """A tuning job over the declared search ranges; --wait follows it and names the best trial."""
    if args.early_stopping and args.strategy == "Hyperband":
        raise UserError("--early-stopping cannot go with --strategy Hyperband: Hyperband stops the trials that fall "
                         "behind itself (SageMaker refuses both); leave one out")
    name = args.name or f"attrition-{time.strftime('%y%m%d-%H%M%S')}"
    tuning = plans.Tuning(name=name, job=_job(args, name), ranges=declared.TUNING_RANGES, strategy=args.strategy,
                          max_jobs=args.max_jobs,
                          max_parallel=args.max_parallel, early_stopping=args.early_stopping,
                          warm_start_from=args.warm_start_from, only=args.only)
    aws.call("sagemaker", "create_hyper_parameter_tuning_job", plans.tuning_job(tuning))
    if args.wait:
        best = waiting.tuning_job(aws, name).get("BestTrainingJob") or {}
        return str(best.get("TrainingJobName", name))
    return name


def pipeline(args: Pipeline, aws: Runner) -> str:
    """upsert, start or describe the pipeline."""
    return PIPELINE_ACTIONS[args.action](args, aws)


def pipeline_upsert(args: Pipeline, aws: Runner) -> str:
    """Create or update the pipeline from its definition."""
    if not (args.definition and args.role):
        raise UserError("pipeline upsert needs --definition and --role")
    definition = args.definition.read_text()
    try:
        document = json.loads(definition)
    except ValueError as error:
        raise UserError(f"--definition {args.definition} is not JSON: {error}") from None
    _no_champion_marker(aws, document, args.tag)
    exists = aws.look("sagemaker", "describe_pipeline", {"PipelineName": args.name},
                      ("does not exist", "Could not find pipeline", "ResourceNotFound"))
    if exists:
        created = aws.call("sagemaker", "update_pipeline", plans.pipeline(args.name, definition, args.role))
    else:
        created = aws.call("sagemaker", "create_pipeline", plans.pipeline(args.name, definition, args.role, args.tag))
    return str(created.get("PipelineArn", args.name))


def pipeline_start(args: Pipeline, aws: Runner) -> str:
    """An execution (--wait follows it step by step), the group's latest approved model as the
    champion to beat."""
    parameters = dict(args.param)
    if contract.CHAMPION_MODEL_URL not in parameters:
        champion = approved_model_data(aws, args.group)
        if champion:
            parameters[contract.CHAMPION_MODEL_URL] = champion
    started = aws.call("sagemaker", "start_pipeline_execution", plans.pipeline_execution(args.name, parameters))
    arn = str(started.get("PipelineExecutionArn", ""))
    if args.wait and arn:
        waiting.pipeline_execution(aws, arn)
    return arn


def pipeline_describe(args: Pipeline, aws: Runner) -> str:
    """The pipeline and its latest execution."""
    described = aws.call("sagemaker", "describe_pipeline", {"PipelineName": args.name})
    executions = aws.call("sagemaker", "list_pipeline_executions", {
        "PipelineName": args.name, "MaxResults": 1, "SortBy": "CreationTime", "SortOrder": "Descending"})
    latest = (executions.get("PipelineExecutionSummaries") or [{}])[0]
    return "" if aws.dry_run else dump({
        "PipelineName": described.get("PipelineName"), "PipelineStatus": described.get("PipelineStatus"),
        "LatestExecution": {k: latest.get(k) for k in ("PipelineExecutionArn", "PipelineExecutionStatus",
                                                       "StartTime")},
        "Steps": waiting.pipeline_steps(aws, latest["PipelineExecutionArn"]) if latest else []})


PIPELINE_ACTIONS = {"upsert": pipeline_upsert, "start": pipeline_start, "describe": pipeline_describe}

def _no_champion_marker(aws: Runner, definition: dict, tag_pairs: tuple[tuple[str, str], ...]) -> None:
    """The default ChampionModelUrl must hold a file (a Processing input may not be empty): one
    that says there is no champion yet."""
    for parameter in definition.get("Parameters") or []:
        default = str(parameter.get("DefaultValue", ""))
        if parameter.get("Name") == contract.CHAMPION_MODEL_URL and default.startswith("s3://"):
            bucket, key = plans.s3_parts(default)
            aws.call("s3", "put_object", plans.upload(bucket, f"{key.rstrip('/')}/{contract.NO_CHAMPION}",
                                                      b"no approved model yet\n", None, tag_pairs))


def approved_model_data(aws: Runner, group: str) -> str | None:
    """The model.tar.gz of the group's newest approved package (None in a dry run, or when none is)."""
    listed = aws.look("sagemaker", "list_model_packages", {
        "ModelPackageGroupName": group, "ModelApprovalStatus": "Approved", "SortBy": "CreationTime",
        "SortOrder": "Descending", "MaxResults": 1}, ("does not exist", "ResourceNotFound"))
    summaries = (listed or {}).get("ModelPackageSummaryList") or []
    if not summaries:
        return None
    package = aws.call("sagemaker", "describe_model_package", {"ModelPackageName": summaries[0]["ModelPackageArn"]})
    containers = package.get("InferenceSpecification", {}).get("Containers") or [{}]
    return containers[0].get("ModelDataUrl")


def best_of(aws: Runner, tuning_job: str) -> tuple[str, str]:
    """The image and model.tar.gz of a tuning job's best training job."""
    tuning = aws.call("sagemaker", "describe_hyper_parameter_tuning_job",
                      {"HyperParameterTuningJobName": tuning_job})
    best = (tuning.get("BestTrainingJob") or {}).get("TrainingJobName")
    if not best:
        status = tuning.get("HyperParameterTuningJobStatus")
        raise AwsError(f"tuning job {tuning_job} has no best training job yet ({status})")
    job = aws.call("sagemaker", "describe_training_job", {"TrainingJobName": best})
    return job["AlgorithmSpecification"]["TrainingImage"], job["ModelArtifacts"]["S3ModelArtifacts"]


@dataclass(frozen=True)
class Source:
    """What a registration is of: the image, the model data and its evidence, as the command line
    gives them, or as a tuning job's best trial or an approved MLflow version fills them in."""

    image: str | None
    model_data: str | None
    metrics: str | None
    manifest: Path | None
    approval: str


def register(args: Register, aws: Runner) -> str:
    given = Source(args.image, args.model_data, args.metrics, args.manifest, args.approval)
    if args.from_mlflow:  # the version's files (HR data's lineage, the model) are removed once registered
        with tempfile.TemporaryDirectory(prefix="attrition-promote-") as scratch:
            return _register(args, aws, _from_mlflow(args, args.from_mlflow, aws, Path(scratch), given))
    if args.from_tuning_job:
        if aws.dry_run:
            raise UserError("register --from-tuning-job reads the tuning job: run it without --dry-run")
        image, model_data = best_of(aws, args.from_tuning_job)
        return _register(args, aws, replace(given, image=image, model_data=model_data))
    return _register(args, aws, given)


def _register(args: Register, aws: Runner, source: Source) -> str:
    if not (source.image and source.model_data):
        raise UserError("register needs --image and --model-data, or --from-tuning-job")
    environment = dict(args.env)
    card = _model_card(args.model_card)
    existing = aws.look("sagemaker", "describe_model", {"ModelName": args.name}, ("Could not find model",))
    if existing:
        _same_model(existing, args.name, source)
    else:
        aws.call("sagemaker", "create_model", plans.model(args.name, source.image, source.model_data, args.role,
                                                          environment, network(args), args.tag))
    if not args.group:
        if card is not None:
            _card(aws, plans.model_card(args.name, card, None, args.tag))
        return str(args.name)
    aws.tolerate("sagemaker", "create_model_package_group", plans.model_package_group(args.group, args.tag),
                 ("already exist",))
    metadata = plans.lineage_metadata(_manifest(source.manifest), source.model_data, source.approval,
                                      args.name if card is not None else None)
    found = None if aws.dry_run else _registered_package(aws, args.group, metadata)
    if found:
        return found
    request = plans.model_package(args.group, source.image, source.model_data, environment,
                                  source.approval, {"metrics": source.metrics, "bias": args.bias,
                                                                 "explainability": args.explainability}, metadata,
                                  args.tag)
    arn = str(aws.call("sagemaker", "create_model_package", request).get("ModelPackageArn", ""))
    if card is not None:
        package = {"model_package_arn": arn, "model_package_group_name": args.group,
                   "model_approval_status": source.approval}
        _card(aws, plans.model_card(args.name, card, package, args.tag))
    if not aws.dry_run:
        audit.append(args.audit_log, audit.record(
            "registered", actor=audit.actor(),
            model={"package": arn, "model_version": metadata.get("model_version", "")},
            trigger="attrition-deploy register" + (f" --from-mlflow {args.from_mlflow}" if args.from_mlflow else ""),
            data=audit.metadata_hashes(metadata), metrics=audit.metric_values(metadata), verdict=source.approval))
    return arn


def _from_mlflow(args: Register, version: str, aws: Runner, folder: Path, given: Source) -> Source:
    """Promote an approved MLflow model version: its files packaged to S3, its evaluation beside
    them, its lineage in the package; `register` then goes on as usual, with what this returns."""
    name, _, number = version.partition("/")
    if not (name and number and args.mlflow and args.bucket and args.image and args.group):
        raise UserError("register --from-mlflow NAME/VERSION needs --mlflow URI, --bucket, --image and --group")
    found = mlflow_registry.version(args.mlflow, name, number)
    approval = found["tags"].get(contract.APPROVAL_TAG, "PendingManualApproval")
    if approval != "Approved":
        raise UserError(f"MLflow model {name} version {number} is {approval}: approve it first (its tag "
                         "approval=Approved), then promote it")
    evaluation = mlflow_registry.download(args.mlflow, found["run_id"], folder / "model")
    try:
        mlflow_registry.check_files(folder / "model", found["tags"], f"MLflow model {name} version {number}")
    except mlflow_registry.TamperedFiles as error:
        audit.append(args.audit_log, audit.record(
            "refused", actor=audit.actor(), trigger=f"attrition-deploy register --from-mlflow {args.from_mlflow}",
            model={"name": name, "version": number, "model_version": found["tags"].get("model_version", "")},
            data=audit.metadata_hashes(found["tags"]), metrics=audit.metric_values(found["tags"]),
            verdict="Refused: files differ from the registration", reasons=[str(error)]))
        raise
    prefix = f"{args.prefix.strip('/')}/mlflow/{name}/{number}"
    ensure_bucket(aws, args.bucket, args.tag)
    aws.call("s3", "put_object", plans.upload(args.bucket, f"{prefix}/model.tar.gz", tar_model(folder / "model"),
                                              None, args.tag))
    aws.call("s3", "put_object", plans.upload(args.bucket, f"{prefix}/{contract.EVALUATION_FILE}",
                                              json.dumps(evaluation).encode(), None, args.tag))
    return replace(given, model_data=f"s3://{args.bucket}/{prefix}/model.tar.gz",
                   metrics=f"s3://{args.bucket}/{prefix}/{contract.EVALUATION_FILE}",
                   manifest=folder / "model" / contract.MANIFEST_FILE, approval="Approved")


def _model_card(path: Path | None) -> dict | None:
    """model_card.json as the image wrote it: a Model Card content object within CreateModelCard's limit."""
    if path is None:
        return None
    try:
        text = path.read_text()
        document = json.loads(text)
    except ValueError as error:
        raise UserError(f"--model-card {path} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or "model_overview" not in document:
        raise UserError(f"--model-card {path} is not a model card (model_card.json, with model_overview)")
    if len(text) > plans.CARD_LIMIT:
        raise UserError(f"--model-card {path} is {len(text):,} characters, over CreateModelCard's "
                         f"{plans.CARD_LIMIT:,}")
    return document


def _card(aws: Runner, request: dict) -> None:
    """The card created, or, when one of that name exists (the model registered again), updated."""
    if aws.tolerate("sagemaker", "create_model_card", request, ("already exists",)) is None:
        aws.call("sagemaker", "update_model_card", plans.card_update(request["ModelCardName"],
                                                                     request["ModelCardStatus"], request["Content"]))


def _manifest(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text())
    except ValueError as error:
        raise UserError(f"--manifest {path} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise UserError(f"--manifest {path} is not a manifest.json object")
    return document


def _same_model(described: dict, name: str, source: Source) -> None:
    """A model of that name exists: fine if it is this model, an error if it is another."""
    container = described.get("PrimaryContainer", {})
    if (container.get("Image"), container.get("ModelDataUrl")) != (source.image, source.model_data):
        raise AwsError(f"model {name!r} already exists with another image or model data; "
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


def deploy(args: Deploy, aws: Runner) -> str:
    async_output = plans.AsyncOutput(args.async_output, args.async_success_topic, args.async_error_topic) \
        if args.async_output else None
    config = plans.endpoint_config(args.endpoint, args.variant, args.capture, args.capture_percent, args.kms_key,
                                   async_output, args.tag, args.shadow)
    name = config["EndpointConfigName"]  # same settings, same name: an unchanged deploy changes nothing
    aws.tolerate("sagemaker", "create_endpoint_config", config, ("already existing", "already exists"))
    current = aws.look("sagemaker", "describe_endpoint", {"EndpointName": args.endpoint},
                       ("Could not find endpoint",))
    # A dry run cannot look: --canary means the endpoint is expected to exist already.
    exists = args.canary is not None if aws.dry_run else current is not None
    if not exists:
        if args.canary is not None:
            print(f"attrition-deploy deploy: endpoint {args.endpoint} does not exist yet: it is created with its "
                  "variants at once; --canary applies to the updates that follow", file=sys.stderr)
        aws.call("sagemaker", "create_endpoint", plans.endpoint(args.endpoint, name, tag_pairs=args.tag))
    elif current is None or current.get("EndpointConfigName") != name:
        canary = (plans.canary_deployment(args.canary, args.canary_interval, args.alarm) if args.canary is not None
                  else None)
        aws.call("sagemaker", "update_endpoint", plans.endpoint(args.endpoint, name, canary))
    if args.autoscale:
        for v in args.variant:
            target, policy = plans.scaling(args.endpoint, v.name, args.autoscale, args.tag)
            aws.call("application-autoscaling", "register_scalable_target", target)
            aws.call("application-autoscaling", "put_scaling_policy", policy)
    if args.wait:
        waiting.endpoint(aws, args.endpoint)
    if not aws.dry_run:
        audit.append(args.audit_log, audit.record(
            "deployed", actor=audit.actor(), trigger="attrition-deploy deploy",
            model={"endpoint": args.endpoint, "models": [v.model for v in args.variant]},
            verdict=f"endpoint config {name}", reasons=[f"variant {v.name}: model {v.model}" for v in args.variant]))
    return str(args.endpoint)


def delete(args: Delete, aws: Runner) -> str:
    """The endpoint, its configs, the models only it uses, and their scaling; a dry run looks
    (read-only calls) and prints what it would delete."""
    endpoint = aws.call("sagemaker", "describe_endpoint", {"EndpointName": args.endpoint})
    configs = _configs_of(aws, args.endpoint, endpoint["EndpointConfigName"])
    variants = [v for config in configs.values() for v in config["ProductionVariants"]]
    elsewhere = _models_of_other_endpoints(aws, args.endpoint)
    for variant in sorted({v["VariantName"] for v in variants}):
        _delete_scaling(aws, f"endpoint/{args.endpoint}/variant/{variant}")
    aws.call("sagemaker", "delete_endpoint", {"EndpointName": args.endpoint})
    for name in sorted(configs):
        aws.call("sagemaker", "delete_endpoint_config", {"EndpointConfigName": name})
    removed = sorted({v["ModelName"] for v in variants} - elsewhere)
    for model in removed:
        aws.tolerate("sagemaker", "delete_model", {"ModelName": model}, ("Could not find model",))
    if not aws.dry_run:
        audit.append(args.audit_log, audit.record(
            "deleted", actor=audit.actor(), trigger="attrition-deploy delete",
            model={"endpoint": args.endpoint, "models": removed}, verdict=f"endpoint {args.endpoint} deleted",
            reasons=[f"endpoint config {name}" for name in sorted(configs)]
            + [f"model {model} (no other endpoint used it)" for model in removed]))
    return str(args.endpoint)


def _configs_of(aws: Runner, endpoint: str, current: str) -> dict[str, dict]:
    """The endpoint's current config and the older ones deploy made for it (named endpoint-<hash>)."""
    names = {current}
    listed = aws.call("sagemaker", "list_endpoint_configs", {"NameContains": endpoint[:63], "MaxResults": 100})
    names |= {c["EndpointConfigName"] for c in listed.get("EndpointConfigs", [])
              if c["EndpointConfigName"].startswith(f"{endpoint}-") and c["EndpointConfigName"] != current}
    return {name: aws.call("sagemaker", "describe_endpoint_config", {"EndpointConfigName": name})
            for name in names}


def _models_of_other_endpoints(aws: Runner, endpoint: str) -> set[str]:
    models: set[str] = set()
    for other in aws.call("sagemaker", "list_endpoints", {"MaxResults": 100}).get("Endpoints", []):
        if other["EndpointName"] != endpoint:
            config = aws.call("sagemaker", "describe_endpoint_config",
                              {"EndpointConfigName": aws.call("sagemaker", "describe_endpoint", {
                                  "EndpointName": other["EndpointName"]})["EndpointConfigName"]})
            models |= {v["ModelName"] for v in config["ProductionVariants"]}
    return models


def _delete_scaling(aws: Runner, resource: str) -> None:
    key = {"ServiceNamespace": "sagemaker", "ResourceId": resource}
    policies = aws.call("application-autoscaling", "describe_scaling_policies", key)
    for policy in policies.get("ScalingPolicies", []):
        aws.call("application-autoscaling", "delete_scaling_policy", {
            **key, "PolicyName": policy["PolicyName"], "ScalableDimension": policy["ScalableDimension"]})
    targets = aws.call("application-autoscaling", "describe_scalable_targets",
                       {"ServiceNamespace": "sagemaker", "ResourceIds": [resource]})
    for target in targets.get("ScalableTargets", []):
        aws.call("application-autoscaling", "deregister_scalable_target", {
            **key, "ScalableDimension": target["ScalableDimension"]})


def transform(args: Transform, aws: Runner) -> str:
    name = args.name or f"attrition-batch-{time.strftime('%Y%m%d-%H%M%S')}"
    aws.call("sagemaker", "create_transform_job", plans.transform_job(
        name, args.model, args.input, args.output, args.instance_type, args.instance_count, args.join,
        args.output_kms_key, args.volume_kms_key, args.tag))
    if args.wait:
        waiting.transform_job(aws, name)
    return str(name)


def invoke(args: Invoke, aws: Runner) -> str:
    content_type = args.content_type or {".json": "application/json", ".jsonl": "application/jsonlines"}.get(
        args.file.suffix.lower(), "text/csv")
    request = plans.invocation(args.endpoint, args.file.read_bytes(), content_type, args.accept, args.explain,
                               args.variant)
    answer = aws.call("sagemaker-runtime", "invoke_endpoint", request)
    return "" if aws.dry_run else str(answer["Body"].read().decode("utf-8", "replace"))


def describe(args: Describe, aws: Runner) -> str:
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


def ecr(args: Ecr, aws: Runner) -> str:
    """The repository (immutable tags, scan on push, encrypted), and its lifecycle policy. An existing
    repository is reused; where its settings differ from those asked for, a warning says so."""
    wanted = plans.repository(args.repository, not args.mutable, args.kms_key, args.tag)
    found = aws.look("ecr", "describe_repositories", {"repositoryNames": [args.repository]},
                     ("RepositoryNotFoundException",))
    if found:
        existing = found["repositories"][0]
        for difference in plans.repository_differences(existing, wanted):
            print(f"attrition-deploy ecr: warning: {difference}", file=sys.stderr)
        uri = str(existing["repositoryUri"])
    else:
        created = aws.call("ecr", "create_repository", wanted)
        uri = "" if aws.dry_run else str(created["repository"]["repositoryUri"])
    aws.call("ecr", "put_lifecycle_policy", plans.lifecycle_request(args.repository, args.keep))
    return uri


def ecr_password(args: EcrPassword, aws: Runner) -> str:
    token = aws.call("ecr", "get_authorization_token", {})
    if aws.dry_run:
        return ""
    user_and_password = base64.b64decode(token["authorizationData"][0]["authorizationToken"]).decode()
    return user_and_password.partition(":")[2]
