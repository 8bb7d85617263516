"""The SageMaker, IAM and autoscaling requests, built as plain dicts.

Pure functions of typed arguments: no AWS call, no file, no clock. The same request can then be
printed (--dry-run), checked, or sent, by commands.py through aws.Runner.
"""

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from attrition.core import contract

Request = dict[str, Any]

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


MAX_NAME = 63  # SageMaker resource names
MAX_METADATA = 50  # CustomerMetadataProperties entries


@dataclass(frozen=True)
class Network:
    """Where a job or model runs: a VPC (subnets and security groups), and whether it may reach
    the network at all."""

    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    isolated: bool = False

    def vpc(self) -> Request:
        return {"VpcConfig": {"Subnets": list(self.subnets), "SecurityGroupIds": list(self.security_groups)}} \
            if self.subnets else {}


@dataclass(frozen=True)
class TrainingJob:
    name: str
    image: str
    role: str
    channels: dict[str, str]  # channel name -> s3:// prefix
    output: str
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    volume_gb: int = 10
    max_runtime: int = 3600
    hyperparameters: dict[str, str] = field(default_factory=dict)
    spot: bool = False
    max_wait: int = 7200
    checkpoint: str | None = None
    network: Network = Network()
    volume_kms_key: str | None = None
    output_kms_key: str | None = None
    encrypt_inter_container: bool = False
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Variant:
    name: str
    model: str
    instance_type: str = "ml.m5.large"
    count: int = 1
    weight: float = 1.0
    serverless_memory: int | None = None  # MB: a serverless variant, with no instances
    max_concurrency: int = 5


@dataclass(frozen=True)
class AsyncOutput:
    """Asynchronous inference: answers go to S3, optionally announced on SNS topics."""

    s3_uri: str
    success_topic: str | None = None
    error_topic: str | None = None


@dataclass(frozen=True)
class Autoscale:
    low: int
    high: int
    target: float  # invocations per instance per minute


def metric_definitions() -> list[Request]:
    """Regexes for the `split:name=value` lines that `train` prints."""
    names = [f"{split}:{name}" for split in contract.METRIC_SPLITS for name in contract.METRIC_NAMES]
    return [{"Name": name, "Regex": f"^{name}=([0-9.eE+-]+)$"} for name in [*names, contract.CV_AUC_MEAN]]


@dataclass(frozen=True)
class Grants:
    """What an execution role may touch: S3 prefixes (data, output, capture, batch, monitoring) and
    the KMS keys that encrypt them."""

    s3: tuple[str, ...]  # s3://bucket/prefix URIs
    kms_keys: tuple[str, ...] = ()


def s3_parts(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def kms_arn(key: str, account: str, region: str) -> str:
    """A key given by id or alias, as the ARN an IAM policy names."""
    if key.startswith("arn:"):
        return key
    return f"arn:aws:kms:{region}:{account}:{key if key.startswith('alias/') else 'key/' + key}"


def role_policy(account: str, region: str, grants: Grants, repository: str) -> Request:
    """Least privilege: these S3 prefixes and KMS keys, pulling this repository, its own logs and metrics.
    No action is a wildcard; no S3 statement names every bucket."""
    parts = sorted({s3_parts(uri) for uri in grants.s3})
    buckets = sorted({bucket for bucket, _ in parts})
    statements: list[Request] = [
        {"Sid": "ReadWriteProjectObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
         "Resource": [f"arn:aws:s3:::{bucket}/{key}*" for bucket, key in parts]},
        *({"Sid": f"ListProjectPrefixes{i}", "Effect": "Allow", "Action": "s3:ListBucket",
           "Resource": f"arn:aws:s3:::{bucket}",
           "Condition": {"StringLike": {"s3:prefix": sorted({f"{key}*" for b, key in parts if b == bucket})}}}
          for i, bucket in enumerate(buckets)),
        {"Sid": "PullImage", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
         "Resource": f"arn:aws:ecr:{region}:{account}:repository/{repository}"},
        {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "Logs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
         "Resource": f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/*"},
        {"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData",
         "Resource": "*", "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}},
    ]
    if grants.kms_keys:
        statements.append({"Sid": "UseKmsKeys", "Effect": "Allow",
                           "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey",
                                      "kms:CreateGrant"],
                           "Resource": sorted({kms_arn(k, account, region) for k in grants.kms_keys})})
    return {"Version": "2012-10-17", "Statement": statements}


PEOPLE = ("attrition-data-scientist", "attrition-approver")


def people_policies(account: str, region: str, group: str, execution_role: str, grants: Grants) -> dict[str, Request]:
    """The two people's least-privilege policies (separation of duties): a data scientist trains
    and registers packages pending approval only (approving is denied outright); an approver
    approves packages of the group, moves their model cards, registers only as Approved (a model
    approved in MLflow, register --from-mlflow) and deploys, and may never train. Both may pass
    the execution role to SageMaker alone, and use the project's S3 prefixes and keys."""
    arn = f"arn:aws:sagemaker:{region}:{account}"
    pass_role = {"Sid": "PassExecutionRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": execution_role,
                 "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}
    data = [s for s in role_policy(account, region, grants, "-")["Statement"]
            if s["Sid"].startswith(("ReadWriteProjectObjects", "ListProjectPrefixes", "UseKmsKeys"))]
    packages = f"{arn}:model-package/{group.lower()}/*"
    read = {"Sid": "ReadRegistry", "Effect": "Allow",
            "Action": ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup",
                       "sagemaker:DescribeModel", "sagemaker:DescribeModelCard"],
            "Resource": [packages, f"{arn}:model-package-group/{group}", f"{arn}:model/*", f"{arn}:model-card/*"]}
    register = {"Sid": "RegisterModel", "Effect": "Allow",
                "Action": ["sagemaker:CreateModel", "sagemaker:CreateModelPackageGroup", "sagemaker:CreateModelCard"],
                "Resource": [f"{arn}:model/*", f"{arn}:model-package-group/{group}", f"{arn}:model-card/*"]}
    scientist = [
        {"Sid": "Train", "Effect": "Allow",
         "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
                    "sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob",
                    "sagemaker:AddTags"],
         "Resource": [f"{arn}:training-job/*", f"{arn}:hyper-parameter-tuning-job/*"]},
        {"Sid": "RegisterPendingApproval", "Effect": "Allow", "Action": "sagemaker:CreateModelPackage",
         "Resource": packages,
         "Condition": {"StringEquals": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}}},
        register,
        {"Sid": "NeverApprove", "Effect": "Deny", "Resource": "*",
         "Action": ["sagemaker:UpdateModelPackage", "sagemaker:UpdateModelCard"]},
        read, pass_role, *data,
    ]
    approver = [
        {"Sid": "Approve", "Effect": "Allow", "Action": "sagemaker:UpdateModelPackage", "Resource": packages},
        {"Sid": "MoveModelCards", "Effect": "Allow", "Action": "sagemaker:UpdateModelCard",
         "Resource": f"{arn}:model-card/*"},
        {"Sid": "RegisterApproved", "Effect": "Allow", "Action": "sagemaker:CreateModelPackage",
         "Resource": packages, "Condition": {"StringEquals": {"sagemaker:ModelApprovalStatus": "Approved"}}},
        register,
        {"Sid": "Deploy", "Effect": "Allow",
         "Action": ["sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint",
                    "sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig",
                    "sagemaker:AddTags"],
         "Resource": [f"{arn}:endpoint/*", f"{arn}:endpoint-config/*"]},
        {"Sid": "NeverTrain", "Effect": "Deny",
         "Action": ["sagemaker:CreateTrainingJob", "sagemaker:CreateHyperParameterTuningJob"], "Resource": "*"},
        read, pass_role, *data,
    ]
    return {PEOPLE[0]: {"Version": "2012-10-17", "Statement": scientist},
            PEOPLE[1]: {"Version": "2012-10-17", "Statement": approver}}


def people_policy_request(name: str, policy: Request, tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    return {"PolicyName": name, "PolicyDocument": json.dumps(policy),
            "Description": f"attrition-sagemaker: what a {name.removeprefix('attrition-')} may do", **tags(tag_pairs)}


def training_job(job: TrainingJob) -> Request:
    request: Request = {
        "TrainingJobName": job.name,
        "AlgorithmSpecification": {"TrainingImage": job.image, "TrainingInputMode": "File",
                                   "MetricDefinitions": metric_definitions()},
        "RoleArn": job.role,
        "InputDataConfig": [
            {"ChannelName": channel, "ContentType": "text/csv", "InputMode": "File",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                             "S3DataDistributionType": "FullyReplicated"}}}
            for channel, uri in job.channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": job.output, **_key("KmsKeyId", job.output_kms_key)},
        "ResourceConfig": {"InstanceType": job.instance_type, "InstanceCount": job.instance_count,
                           "VolumeSizeInGB": job.volume_gb, **_key("VolumeKmsKeyId", job.volume_kms_key)},
        "StoppingCondition": {"MaxRuntimeInSeconds": job.max_runtime},
        "HyperParameters": dict(job.hyperparameters),
        "EnableManagedSpotTraining": job.spot,
        "EnableNetworkIsolation": job.network.isolated,
        "EnableInterContainerTrafficEncryption": job.encrypt_inter_container,
        **job.network.vpc(),
        **tags(job.tags),
    }
    if job.spot:
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = max(job.max_wait, job.max_runtime + 1)
    if job.checkpoint:
        request["CheckpointConfig"] = {"S3Uri": job.checkpoint, "LocalPath": "/opt/ml/checkpoints"}
    return request



@dataclass(frozen=True)
class Tuning:
    """A SageMaker Automatic Model Tuning job over the image's declared search ranges."""

    name: str
    job: TrainingJob  # every trial's definition; its hyperparameters stay fixed
    ranges: dict  # ParameterRanges as the image declares them (declared.TUNING_RANGES)
    strategy: str = "Bayesian"
    max_jobs: int = 20
    max_parallel: int = 2
    early_stopping: bool = False
    warm_start_from: tuple[str, ...] = ()
    only: tuple[str, ...] = ()  # tune these hyperparameters only (default: every searched one)


def tuning_job(tuning: Tuning) -> Request:
    """The tuning job: objective validation:auc (Maximize), as `train` prints it."""
    definition = training_job(tuning.job)
    for name in ("TrainingJobName", "Tags"):
        definition.pop(name, None)
    definition["StaticHyperParameters"] = definition.pop("HyperParameters")
    ranges = tuning.ranges
    if tuning.only:
        ranges = {kind: [r for r in items if r["Name"] in tuning.only] for kind, items in ranges.items()}
    for kind in ranges.values():
        for searched in kind:
            definition["StaticHyperParameters"].pop(searched["Name"], None)
    request: Request = {
        "HyperParameterTuningJobName": tuning.name,
        "HyperParameterTuningJobConfig": {
            "Strategy": tuning.strategy,
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": contract.TUNING_OBJECTIVE},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": tuning.max_jobs,
                               "MaxParallelTrainingJobs": tuning.max_parallel},
            "ParameterRanges": {kind: items for kind, items in ranges.items() if items},
            # Hyperband stops trials itself; SageMaker refuses it together with early stopping.
            "TrainingJobEarlyStoppingType": "Auto" if tuning.early_stopping and tuning.strategy != "Hyperband"
            else "Off",
        },
        "TrainingJobDefinition": definition,
        **tags(tuning.job.tags),
    }
    if tuning.warm_start_from:
        request["WarmStartConfig"] = {
            "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": n} for n in tuning.warm_start_from],
            "WarmStartType": "IdenticalDataAndAlgorithm"}
    return request


def model(name: str, image: str, model_data: str, role: str, environment: dict[str, str],
          network: Network = Network(), tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    return {
        "ModelName": name,
        "ExecutionRoleArn": role,
        "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data,
                             "Environment": environment, "Mode": "SingleModel"},
        "EnableNetworkIsolation": network.isolated,
        **network.vpc(),
        **tags(tag_pairs),
    }


def model_package(group: str, image: str, model_data: str, environment: dict[str, str], approval: str,
                  reports: dict[str, str | None], metadata: dict[str, str],
                  tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    """reports: the s3:// URIs of evaluation.json ("metrics"), bias.json ("bias") and
    explainability.json ("explainability"), when known."""
    request: Request = {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": f"attrition model {metadata.get('model_version', '')}".strip(),
        "InferenceSpecification": {
            "Containers": [{"Image": image, "ModelDataUrl": model_data, "Environment": environment}],
            "SupportedContentTypes": ["text/csv", "application/json", "application/jsonlines"],
            "SupportedResponseMIMETypes": ["application/json", "text/csv", "application/jsonlines"],
            "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large", "ml.c5.large", "ml.c5.xlarge"],
            "SupportedTransformInstanceTypes": ["ml.m5.large", "ml.c5.xlarge"],
        },
        "ModelApprovalStatus": approval,
        "CustomerMetadataProperties": metadata,
        **tags(tag_pairs),
    }
    model_metrics = {}
    if reports.get("metrics"):
        model_metrics["ModelQuality"] = {"Statistics": {"ContentType": "application/json", "S3Uri": reports["metrics"]}}
    if reports.get("bias"):
        model_metrics["Bias"] = {"Report": {"ContentType": "application/json", "S3Uri": reports["bias"]}}
    if reports.get("explainability"):
        model_metrics["Explainability"] = {"Report": {"ContentType": "application/json",
                                                      "S3Uri": reports["explainability"]}}
    if model_metrics:
        request["ModelMetrics"] = model_metrics
    return request


# A model card's status follows its package's approval: in review while the package waits for a
# reviewer, approved with it, back to its author (Draft) when rejected or without a package.
CARD_LIMIT = 100_000  # CreateModelCard's Content, in characters
CARD_STATUS = {"PendingManualApproval": "PendingReview", "Approved": "Approved", "Rejected": "Draft"}


def model_card(name: str, content: dict[str, Any], package: dict[str, str] | None,
               tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    """CreateModelCard: the card the image wrote (model_card.json), with the package it documents
    (model_package_arn, model_package_group_name, model_approval_status) when there is one. A
    card belongs to a package or to a model id, never both (SageMaker's rule): with a package,
    model_overview's model_id goes (its model_name keeps the model version)."""
    if package:
        overview = {k: v for k, v in content.get("model_overview", {}).items() if k != "model_id"}
        content = content | {"model_overview": overview, "model_package_details": package}
    status = CARD_STATUS[package["model_approval_status"]] if package else "Draft"
    return {"ModelCardName": name, "Content": json.dumps(content, sort_keys=True, separators=(",", ":")),
            "ModelCardStatus": status, **tags(tag_pairs)}


def lineage_metadata(manifest: dict[str, Any], model_data: str, approval: str,
                     card: str | None = None) -> dict[str, str]:
    """CustomerMetadataProperties from manifest.json: the model points back to its data, and
    keeps the approval status it was registered with (the package shows only its current one),
    and the name of its model card, if it has one."""
    metadata = {"model_data": model_data, "registered_as": approval, **({"model_card": card} if card else {})}
    for key in ("model_version", "model_sha256", "image_revision", "trained_at", "training_job_name"):
        if manifest.get(key):
            metadata[key] = str(manifest[key])
    for name in ("auc", "f1", "decision_threshold"):
        if name in (manifest.get("metrics") or {}):
            metadata[f"metric_{name}"] = f"{manifest['metrics'][name]:.4f}"
    files = [(channel, i, entry) for channel, entries in (manifest.get("data") or {}).items()
             for i, entry in enumerate(entries)]
    room = MAX_METADATA - len(metadata) - 1  # one entry is kept to say how many files were left out
    for channel, i, entry in files[:room]:
        metadata[f"data_{channel}_{i}"] = f"{entry['file']} sha256:{entry['sha256']} rows:{entry['rows']}"
    if len(files) > room:
        metadata["data_more"] = f"{len(files) - room} more data files: see manifest.json"
    return {k[:128]: v[:256] for k, v in metadata.items()}


def endpoint_config(endpoint: str, variants: Sequence[Variant], capture_uri: str | None, capture_percent: int,
                    kms_key: str | None, async_output: AsyncOutput | None = None,
                    tag_pairs: tuple[tuple[str, str], ...] = (), shadow: Variant | None = None) -> Request:
    """Named after the endpoint and a hash of its settings: the same settings, the same name. A
    shadow's weight is its sampling (0..1): SageMaker copies that share of the production traffic,
    its weight against the production variants' total."""
    request: Request = {"ProductionVariants": [_variant(v) for v in variants]}
    if shadow:
        total = sum(v.weight for v in variants)
        request["ShadowProductionVariants"] = [_variant(dataclasses.replace(shadow, weight=shadow.weight * total))]
    if async_output:
        notify = {**_key("SuccessTopic", async_output.success_topic), **_key("ErrorTopic", async_output.error_topic)}
        request["AsyncInferenceConfig"] = {"OutputConfig": {
            "S3OutputPath": async_output.s3_uri, **_key("KmsKeyId", kms_key),
            **({"NotificationConfig": notify} if notify else {})}}
    if capture_uri:
        request["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": capture_percent,
            "DestinationS3Uri": capture_uri,
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
            # Listed types are captured as text, so `monitor` reads them without base64.
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"],
                                         "JsonContentTypes": ["application/json",
                                                              "application/jsonlines"]},
        }
        if kms_key:
            request["DataCaptureConfig"]["KmsKeyId"] = kms_key
    if kms_key:
        request["KmsKeyId"] = kms_key
    # The hash covers an empty name, as it always has, so existing configs keep their names.
    return {"EndpointConfigName": fitted_name(endpoint, digest({"EndpointConfigName": "", **request})),
            **request, **tags(tag_pairs)}


def _variant(v: Variant) -> Request:
    if v.serverless_memory:
        return {"VariantName": v.name, "ModelName": v.model, "ServerlessConfig": {
            "MemorySizeInMB": v.serverless_memory, "MaxConcurrency": v.max_concurrency}}
    return {"VariantName": v.name, "ModelName": v.model, "InstanceType": v.instance_type,
            "InitialInstanceCount": v.count, "InitialVariantWeight": v.weight}


def fitted_name(stem: str, suffix: str) -> str:
    """stem-suffix within SageMaker's 63 characters: the stem is shortened, the suffix kept whole."""
    return f"{stem[:MAX_NAME - len(suffix) - 1].rstrip('-')}-{suffix}"


def tags(pairs: tuple[tuple[str, str], ...]) -> Request:
    return {"Tags": [{"Key": k, "Value": v} for k, v in pairs]} if pairs else {}


def _key(name: str, value: str | None) -> Request:
    return {name: value} if value else {}


def canary_deployment(percent: int, wait_seconds: int, alarms: Sequence[str]) -> Request:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": percent},
                "WaitIntervalInSeconds": wait_seconds,
            },
            "TerminationWaitInSeconds": wait_seconds,
            "MaximumExecutionTimeoutInSeconds": max(1800, 3 * wait_seconds),
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a} for a in alarms]},
    }


def scaling(endpoint: str, variant: str, autoscale: Autoscale,
            tag_pairs: tuple[tuple[str, str], ...] = ()) -> tuple[Request, Request]:
    resource = f"endpoint/{endpoint}/variant/{variant}"
    target_request = {"ServiceNamespace": "sagemaker", "ResourceId": resource,
                      "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                      "MinCapacity": autoscale.low, "MaxCapacity": autoscale.high,
                      **({"Tags": dict(tag_pairs)} if tag_pairs else {})}
    policy_request = {
        "PolicyName": f"{endpoint}-{variant}-invocations",
        "ServiceNamespace": "sagemaker", "ResourceId": resource,
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": autoscale.target,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            "ScaleInCooldown": 600, "ScaleOutCooldown": 300,
        },
    }
    return target_request, policy_request


def transform_job(name: str, model_name: str, input_uri: str, output_uri: str, instance_type: str,
                  instance_count: int, join: bool, output_kms_key: str | None = None,
                  volume_kms_key: str | None = None, tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    # MaxConcurrentTransforms is left out: SageMaker then asks the container (/execution-parameters).
    request: Request = {
        "TransformJobName": name,
        "ModelName": model_name,
        "MaxPayloadInMB": 6,
        "BatchStrategy": "MultiRecord",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                           "S3Uri": input_uri}},
                           "ContentType": "text/csv", "SplitType": "Line",
                           "CompressionType": "None"},
        "TransformOutput": {"S3OutputPath": output_uri, "Accept": "text/csv", "AssembleWith": "Line",
                            **_key("KmsKeyId", output_kms_key)},
        "TransformResources": {"InstanceType": instance_type, "InstanceCount": instance_count,
                               **_key("VolumeKmsKeyId", volume_kms_key)},
        **tags(tag_pairs),
    }
    if join:
        request["DataProcessing"] = {"JoinSource": "Input"}
    return request


def bucket(name: str, region: str, tag_pairs: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str, Request]]:
    """A private bucket, encrypted by default (and tagged): the calls that make one."""
    create: Request = {"Bucket": name}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    tagging = [("s3", "put_bucket_tagging", {"Bucket": name, "Tagging": {"TagSet": tags(tag_pairs)["Tags"]}})] \
        if tag_pairs else []
    return [
        ("s3", "create_bucket", create),
        ("s3", "put_public_access_block", {"Bucket": name, "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}}),
        ("s3", "put_bucket_encryption", {"Bucket": name, "ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}),
        *tagging,
    ]


def upload(bucket_name: str, key: str, body: bytes, kms_key: str | None,
           tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    encryption = ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key
                  else {"ServerSideEncryption": "AES256"})
    tagging = {"Tagging": urlencode(tag_pairs)} if tag_pairs else {}
    return {"Bucket": bucket_name, "Key": key, "Body": body, **encryption, **tagging}


def role(name: str, tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    return {"RoleName": name, "AssumeRolePolicyDocument": json.dumps(TRUST_POLICY),
            "Description": "SageMaker execution role for attrition-sagemaker (least privilege)", **tags(tag_pairs)}


def role_policy_request(name: str, policy: Request) -> Request:
    return {"RoleName": name, "PolicyName": "attrition-least-privilege", "PolicyDocument": json.dumps(policy)}


def model_package_group(name: str, tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    return {"ModelPackageGroupName": name,
            "ModelPackageGroupDescription": "Employee attrition models (attrition-sagemaker)", **tags(tag_pairs)}


def repository(name: str, immutable: bool, kms_key: str | None, tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    encryption = {"encryptionType": "KMS", "kmsKey": kms_key} if kms_key else {"encryptionType": "AES256"}
    request: Request = {"repositoryName": name, "imageScanningConfiguration": {"scanOnPush": True},
                        "imageTagMutability": "IMMUTABLE" if immutable else "MUTABLE",
                        "encryptionConfiguration": encryption}
    if tag_pairs:
        request["tags"] = [{"Key": k, "Value": v} for k, v in tag_pairs]
    return request


def repository_differences(existing: Request, wanted: Request) -> list[str]:
    """How an existing ECR repository differs from the settings asked for (it is not changed)."""
    found = []
    if existing.get("imageTagMutability") != wanted["imageTagMutability"]:
        found.append(f"repository {wanted['repositoryName']} has {existing.get('imageTagMutability')} tags, "
                     f"not {wanted['imageTagMutability']}")
    have, want = existing.get("encryptionConfiguration") or {}, wanted["encryptionConfiguration"]
    if (have.get("encryptionType"), have.get("kmsKey")) != (want["encryptionType"], want.get("kmsKey")):
        found.append(f"repository {wanted['repositoryName']} is encrypted with {have.get('encryptionType')} "
                     f"{have.get('kmsKey') or ''}, not {want['encryptionType']} {want.get('kmsKey') or ''}".rstrip())
    return found


def lifecycle_policy(keep: int) -> str:
    """ECR keeps the newest `keep` images and expires the rest."""
    return json.dumps({"rules": [{"rulePriority": 1, "description": f"keep the newest {keep} images",
                                  "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                                "countNumber": keep},
                                  "action": {"type": "expire"}}]})


def policy_version(arn: str, policy: Request) -> Request:
    """A managed policy's new default version."""
    return {"PolicyArn": arn, "PolicyDocument": json.dumps(policy), "SetAsDefault": True}


def pipeline(name: str, definition: str, role: str, tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    """CreatePipeline's request (with tags), or UpdatePipeline's (which takes none)."""
    return {"PipelineName": name, "PipelineDefinition": definition, "RoleArn": role,
            "PipelineDescription": "Prepare, train, evaluate, gate and register an attrition model",
            **tags(tag_pairs)}


def pipeline_execution(name: str, parameters: dict[str, str]) -> Request:
    return {"PipelineName": name, "PipelineParameters": [{"Name": k, "Value": v} for k, v in parameters.items()]}


def endpoint(name: str, config: str, deployment: Request | None = None,
             tag_pairs: tuple[tuple[str, str], ...] = ()) -> Request:
    """CreateEndpoint's request (with tags), or UpdateEndpoint's (with a canary's deployment)."""
    return {"EndpointName": name, "EndpointConfigName": config, **({"DeploymentConfig": deployment} if deployment
                                                                    else {}), **tags(tag_pairs)}


APPROVAL_DESCRIPTION_LIMIT = 1024  # ApprovalDescription's length limit


def approval(package: str, status: str, reason: str, who: str) -> Request:
    """A package's approval status, with why and by whom (cut to SageMaker's limit)."""
    return {"ModelPackageArn": package, "ModelApprovalStatus": status,
            "ApprovalDescription": f"{reason} (by {who})"[:APPROVAL_DESCRIPTION_LIMIT]}


def card_update(name: str, status: str, content: str | None = None) -> Request:
    """A model card's new status (following its package's approval), and its new content if given."""
    return {"ModelCardName": name, **({"Content": content} if content is not None else {}), "ModelCardStatus": status}


def lifecycle_request(repository_name: str, keep: int) -> Request:
    return {"repositoryName": repository_name, "lifecyclePolicyText": lifecycle_policy(keep)}


def invocation(endpoint: str, body: bytes, content_type: str, accept: str, explain: int | None,
               variant: str | None) -> Request:
    request: Request = {"EndpointName": endpoint, "Body": body, "ContentType": content_type, "Accept": accept}
    if explain:
        request["CustomAttributes"] = f"explain={explain}"
    if variant:
        request["TargetVariant"] = variant
    return request


def digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:10]
