"""The SageMaker, IAM and autoscaling requests, built as plain dicts.

Pure functions of typed arguments: no AWS call, no file, no clock. The same request can then be
printed (--dry-run), checked, or sent, by commands.py through aws.Runner.
"""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

Request = dict[str, Any]

METRIC_NAMES = ("auc", "pr_auc", "logloss", "accuracy", "precision", "recall", "f1")
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


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


@dataclass(frozen=True)
class Variant:
    name: str
    model: str
    instance_type: str = "ml.m5.large"
    count: int = 1
    weight: float = 1.0


@dataclass(frozen=True)
class Autoscale:
    low: int
    high: int
    target: float  # invocations per instance per minute


def metric_definitions() -> list[Request]:
    """Regexes for the `split:name=value` lines that `train` prints."""
    return [{"Name": f"{split}:{name}", "Regex": f"^{split}:{name}=([0-9.eE+-]+)$"}
            for split in ("validation", "train") for name in METRIC_NAMES] + [
        {"Name": "cv:auc_mean", "Regex": "^cv:auc_mean=([0-9.eE+-]+)$"}]


def role_policy(account: str, region: str, bucket: str, prefix: str, repository: str) -> Request:
    """Least privilege: this bucket prefix, pulling this repository, its own logs and metrics."""
    prefix = prefix.strip("/")
    objects = f"arn:aws:s3:::{bucket}/{prefix}/*" if prefix else f"arn:aws:s3:::{bucket}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadWriteProjectObjects", "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
             "Resource": objects},
            {"Sid": "ListProjectPrefix", "Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": f"arn:aws:s3:::{bucket}",
             "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*" if prefix else "*"]}}},
            {"Sid": "PullImage", "Effect": "Allow",
             "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                        "ecr:BatchGetImage"],
             "Resource": f"arn:aws:ecr:{region}:{account}:repository/{repository}"},
            {"Sid": "EcrToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken",
             "Resource": "*"},
            {"Sid": "Logs", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                        "logs:DescribeLogStreams"],
             "Resource": f"arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/*"},
            {"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData",
             "Resource": "*", "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}},
        ],
    }


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
        "OutputDataConfig": {"S3OutputPath": job.output},
        "ResourceConfig": {"InstanceType": job.instance_type, "InstanceCount": job.instance_count,
                           "VolumeSizeInGB": job.volume_gb},
        "StoppingCondition": {"MaxRuntimeInSeconds": job.max_runtime},
        "HyperParameters": dict(job.hyperparameters),
        "EnableManagedSpotTraining": job.spot,
    }
    if job.spot:
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = max(job.max_wait, job.max_runtime + 1)
    if job.checkpoint:
        request["CheckpointConfig"] = {"S3Uri": job.checkpoint, "LocalPath": "/opt/ml/checkpoints"}
    return request


def model(name: str, image: str, model_data: str, role: str, environment: dict[str, str]) -> Request:
    return {
        "ModelName": name,
        "ExecutionRoleArn": role,
        "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data,
                             "Environment": environment, "Mode": "SingleModel"},
    }


def model_package(group: str, image: str, model_data: str, environment: dict[str, str], approval: str,
                  metrics_uri: str | None, metadata: dict[str, str]) -> Request:
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
    }
    if metrics_uri:
        request["ModelMetrics"] = {"ModelQuality": {"Statistics": {
            "ContentType": "application/json", "S3Uri": metrics_uri}}}
    return request


def lineage_metadata(manifest: dict[str, Any], model_data: str) -> dict[str, str]:
    """CustomerMetadataProperties from manifest.json: the model points back to its data."""
    metadata = {"model_data": model_data}
    for key in ("model_version", "model_sha256", "image_revision", "trained_at", "training_job_name"):
        if manifest.get(key):
            metadata[key] = str(manifest[key])
    for channel, files in (manifest.get("data") or {}).items():
        for i, entry in enumerate(files):
            metadata[f"data_{channel}_{i}"] = f"{entry['file']} sha256:{entry['sha256']} rows:{entry['rows']}"
    for name in ("auc", "f1", "decision_threshold"):
        if name in (manifest.get("metrics") or {}):
            metadata[f"metric_{name}"] = f"{manifest['metrics'][name]:.4f}"
    return {k[:128]: v[:256] for k, v in metadata.items()}


def endpoint_config(endpoint: str, variants: list[Variant], capture_uri: str | None, capture_percent: int,
                    kms_key: str | None) -> Request:
    """Named after the endpoint and a hash of its settings: the same settings, the same name."""
    request: Request = {
        "ProductionVariants": [
            {"VariantName": v.name, "ModelName": v.model, "InstanceType": v.instance_type,
             "InitialInstanceCount": v.count, "InitialVariantWeight": v.weight}
            for v in variants
        ],
    }
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
    return {"EndpointConfigName": f"{endpoint}-{digest({'EndpointConfigName': '', **request})}", **request}


def canary_deployment(percent: int, wait_seconds: int, alarms: list[str]) -> Request:
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


def scaling(endpoint: str, variant: str, autoscale: Autoscale) -> tuple[Request, Request]:
    resource = f"endpoint/{endpoint}/variant/{variant}"
    target_request = {"ServiceNamespace": "sagemaker", "ResourceId": resource,
                      "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                      "MinCapacity": autoscale.low, "MaxCapacity": autoscale.high}
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
                  instance_count: int, join: bool) -> Request:
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
        "TransformOutput": {"S3OutputPath": output_uri, "Accept": "text/csv", "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": instance_type, "InstanceCount": instance_count},
    }
    if join:
        request["DataProcessing"] = {"JoinSource": "Input"}
    return request


def bucket(name: str, region: str) -> list[tuple[str, str, Request]]:
    """A private bucket, encrypted by default: the three calls that make one."""
    create: Request = {"Bucket": name}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    return [
        ("s3", "create_bucket", create),
        ("s3", "put_public_access_block", {"Bucket": name, "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}}),
        ("s3", "put_bucket_encryption", {"Bucket": name, "ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}),
    ]


def upload(bucket_name: str, key: str, body: bytes, kms_key: str | None) -> Request:
    encryption = ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key
                  else {"ServerSideEncryption": "AES256"})
    return {"Bucket": bucket_name, "Key": key, "Body": body, **encryption}


def role(name: str) -> Request:
    return {"RoleName": name, "AssumeRolePolicyDocument": json.dumps(TRUST_POLICY),
            "Description": "SageMaker execution role for attrition-sagemaker (least privilege)"}


def role_policy_request(name: str, policy: Request) -> Request:
    return {"RoleName": name, "PolicyName": "attrition-least-privilege", "PolicyDocument": json.dumps(policy)}


def model_package_group(name: str) -> Request:
    return {"ModelPackageGroupName": name,
            "ModelPackageGroupDescription": "Employee attrition models (attrition-sagemaker)"}


def repository(name: str, immutable: bool, kms_key: str | None) -> Request:
    encryption = {"encryptionType": "KMS", "kmsKey": kms_key} if kms_key else {"encryptionType": "AES256"}
    return {"repositoryName": name, "imageScanningConfiguration": {"scanOnPush": True},
            "imageTagMutability": "IMMUTABLE" if immutable else "MUTABLE",
            "encryptionConfiguration": encryption}


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
