"""The SageMaker, IAM and autoscaling requests, built as plain dicts (no AWS calls here)."""

import json

METRIC_NAMES = ("auc", "pr_auc", "logloss", "accuracy", "precision", "recall", "f1")
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


def metric_definitions() -> list:
    """Regexes for the `split:name=value` lines that `train` prints."""
    return [{"Name": f"{split}:{name}", "Regex": f"^{split}:{name}=([0-9.eE+-]+)$"}
            for split in ("validation", "train") for name in METRIC_NAMES] + [
        {"Name": "cv:auc_mean", "Regex": "^cv:auc_mean=([0-9.eE+-]+)$"}]


def role_policy(account: str, region: str, bucket: str, prefix: str, repository: str) -> dict:
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


def training_job(name, image, role, channels: dict, output, instance_type, instance_count,
                 volume_gb, max_runtime, hyperparameters: dict, spot: bool, max_wait,
                 checkpoint) -> dict:
    request = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File",
                                   "MetricDefinitions": metric_definitions()},
        "RoleArn": role,
        "InputDataConfig": [
            {"ChannelName": channel, "ContentType": "text/csv", "InputMode": "File",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri,
                                             "S3DataDistributionType": "FullyReplicated"}}}
            for channel, uri in channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": instance_count,
                           "VolumeSizeInGB": volume_gb},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        "HyperParameters": {k: str(v) for k, v in hyperparameters.items()},
        "EnableManagedSpotTraining": spot,
    }
    if spot:
        request["StoppingCondition"]["MaxWaitTimeInSeconds"] = max(max_wait, max_runtime + 1)
    if checkpoint:
        request["CheckpointConfig"] = {"S3Uri": checkpoint, "LocalPath": "/opt/ml/checkpoints"}
    return request


def model(name, image, model_data, role, environment: dict) -> dict:
    return {
        "ModelName": name,
        "ExecutionRoleArn": role,
        "PrimaryContainer": {"Image": image, "ModelDataUrl": model_data,
                             "Environment": environment, "Mode": "SingleModel"},
    }


def model_package(group, image, model_data, environment, approval, metrics_uri, metadata) -> dict:
    request = {
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


def lineage_metadata(manifest: dict, model_data: str) -> dict:
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


def endpoint_config(name, variants: list, capture_uri, capture_percent, kms_key) -> dict:
    request = {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {"VariantName": v["name"], "ModelName": v["model"], "InstanceType": v["instance_type"],
             "InitialInstanceCount": v["count"], "InitialVariantWeight": v["weight"]}
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
    return request


def canary_deployment(percent: int, wait_seconds: int, alarms: list) -> dict:
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


def scaling(endpoint: str, variant: str, low: int, high: int, target: float) -> tuple:
    resource = f"endpoint/{endpoint}/variant/{variant}"
    target_request = {"ServiceNamespace": "sagemaker", "ResourceId": resource,
                      "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                      "MinCapacity": low, "MaxCapacity": high}
    policy_request = {
        "PolicyName": f"{endpoint}-{variant}-invocations",
        "ServiceNamespace": "sagemaker", "ResourceId": resource,
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": target,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
            "ScaleInCooldown": 600, "ScaleOutCooldown": 300,
        },
    }
    return target_request, policy_request


def transform_job(name, model_name, input_uri, output_uri, instance_type, instance_count, join) -> dict:
    # MaxConcurrentTransforms is left out: SageMaker then asks the container (/execution-parameters).
    request = {
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


def digest(document) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:10]
