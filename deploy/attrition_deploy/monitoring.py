"""Drift triggers retraining on AWS (`monitor-schedule`): every request, and the subcommand.

    MonitoringSchedule   the image's `monitor` on the endpoint's captured data, hourly by default,
                         against the model's statistics.json and constraints.json (the baseline);
                         it writes CloudWatch metrics in the custom-monitor contract
    CloudWatch alarm     on retraining_recommended (namespace NAMESPACE) reaching 1
    EventBridge rule     on that alarm entering ALARM: starts the retraining pipeline with the new
                         data window (InputDataUrl) and the served model as the champion
    IAM role             the one EventBridge assumes: sagemaker:StartPipelineExecution on that
                         pipeline, nothing else (the monitoring job runs as the `role` subcommand's
                         execution role, given with --role)

moto implements neither monitoring schedules nor SageMaker pipeline targets; every request is
checked against botocore's service model, so `--dry-run` shows and validates all of them.
"""

import json
import sys
from argparse import Namespace
from pathlib import Path

from . import plans
from .aws import Runner
from .plans import Request

NAMESPACE = "/aws/sagemaker/Endpoint/data-metrics"  # where SageMaker puts a custom monitor's metrics
METRIC = "retraining_recommended"
PROCESSING = "/opt/ml/processing"
EVENTS_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
EXISTS = ("EntityAlreadyExists",)


def monitor_schedule(args: Namespace, aws: Runner) -> str:
    account, region = aws.account(), aws.region
    name = args.name or f"{args.endpoint}-drift"[:63]
    baseline = args.baseline.rstrip("/")
    if args.model_dir:
        for file in ("statistics.json", "constraints.json"):
            bucket, key = plans.s3_parts(f"{baseline}/{file}")
            aws.call("s3", "put_object", plans.upload(bucket, key, _baseline_file(args.model_dir, file), None,
                                                      tuple(args.tag)))
    aws.call("sagemaker", "create_monitoring_schedule", schedule(name, args, baseline))
    alarm = f"{name}-retrain"
    aws.call("cloudwatch", "put_metric_alarm", drift_alarm(alarm, args.endpoint, name, tuple(args.tag)))
    pipeline_arn = f"arn:aws:sagemaker:{region}:{account}:pipeline/{args.pipeline.lower()}"
    role_name = args.events_role or f"{name}-events"[:64]
    aws.tolerate("iam", "create_role", events_role(role_name, tuple(args.tag)), EXISTS)
    aws.call("iam", "put_role_policy", {"RoleName": role_name, "PolicyName": "start-retraining-pipeline",
                                        "PolicyDocument": json.dumps(events_policy(pipeline_arn))})
    aws.call("events", "put_rule", alarm_rule(alarm, f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}",
                                              tuple(args.tag)))
    champion = args.champion_model_data or _served_model_data(aws, args.endpoint)
    if champion is None:
        print(f"attrition-deploy monitor-schedule: a dry run cannot look up the model {args.endpoint} serves: the "
              "planned pipeline target passes no ChampionModelUrl (give --champion-model-data to plan it); "
              "run for real, it is looked up", file=sys.stderr)
    aws.call("events", "put_targets", pipeline_target(alarm, pipeline_arn, f"arn:aws:iam::{account}:role/{role_name}",
                                                      args.retrain_data, champion))
    return name


def schedule(name: str, args: Namespace, baseline: str) -> Request:
    definition = {
        "BaselineConfig": {"ConstraintsResource": {"S3Uri": f"{baseline}/constraints.json"},
                           "StatisticsResource": {"S3Uri": f"{baseline}/statistics.json"}},
        "MonitoringInputs": [{"EndpointInput": {"EndpointName": args.endpoint,
                                                "LocalPath": f"{PROCESSING}/endpointdata",
                                                "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}}],
        "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": args.reports, "LocalPath": f"{PROCESSING}/resultdata", "S3UploadMode": "EndOfJob"}}]},
        "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": args.instance_type,
                                                  "VolumeSizeInGB": args.volume_gb}},
        "MonitoringAppSpecification": {"ImageUri": args.image, "ContainerEntrypoint": ["monitor"]},
        "StoppingCondition": {"MaxRuntimeInSeconds": args.max_runtime},
        "Environment": {"publish_cloudwatch_metrics": "Enabled"},
        "RoleArn": args.role,
    }
    return {"MonitoringScheduleName": name,
            "MonitoringScheduleConfig": {"ScheduleConfig": {"ScheduleExpression": args.schedule},
                                         "MonitoringJobDefinition": definition},
            **plans.tags(tuple(args.tag))}


def drift_alarm(name: str, endpoint: str, schedule_name: str, tag_pairs: tuple[tuple[str, str], ...]) -> Request:
    """ALARM when a monitoring run says retraining is recommended; no data is not a reason."""
    return {"AlarmName": name, "AlarmDescription": f"drift on endpoint {endpoint}: start the retraining pipeline",
            "Namespace": NAMESPACE, "MetricName": METRIC,
            "Dimensions": [{"Name": "Endpoint", "Value": endpoint},
                           {"Name": "MonitoringSchedule", "Value": schedule_name}],
            "Statistic": "Maximum", "Period": 3600, "EvaluationPeriods": 1, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
            **plans.tags(tag_pairs)}


def alarm_rule(name: str, alarm_arn: str, tag_pairs: tuple[tuple[str, str], ...]) -> Request:
    pattern = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
               "resources": [alarm_arn], "detail": {"state": {"value": ["ALARM"]}}}
    return {"Name": name, "EventPattern": json.dumps(pattern), "State": "ENABLED",
            "Description": "drift alarm -> retraining pipeline", **plans.tags(tag_pairs)}


def pipeline_target(rule: str, pipeline_arn: str, role_arn: str, data: str, champion: str | None) -> Request:
    parameters = [{"Name": "InputDataUrl", "Value": data}]
    if champion:
        parameters.append({"Name": "ChampionModelUrl", "Value": champion})
    return {"Rule": rule, "Targets": [{"Id": "retraining-pipeline", "Arn": pipeline_arn, "RoleArn": role_arn,
                                       "SageMakerPipelineParameters": {"PipelineParameterList": parameters}}]}


def events_role(name: str, tag_pairs: tuple[tuple[str, str], ...]) -> Request:
    return {"RoleName": name, "AssumeRolePolicyDocument": json.dumps(EVENTS_TRUST),
            "Description": "EventBridge starts the attrition retraining pipeline on drift", **plans.tags(tag_pairs)}


def events_policy(pipeline_arn: str) -> Request:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "StartRetraining", "Effect": "Allow", "Action": "sagemaker:StartPipelineExecution",
         "Resource": pipeline_arn}]}


def _served_model_data(aws: Runner, endpoint: str) -> str | None:
    """The model.tar.gz the endpoint serves (its first variant): the champion of a retraining run.
    A dry run cannot look it up; the pipeline then runs without a champion unless
    --champion-model-data names one."""
    found = aws.look("sagemaker", "describe_endpoint", {"EndpointName": endpoint}, ("Could not find endpoint",))
    if not found:
        return None
    config = aws.call("sagemaker", "describe_endpoint_config", {"EndpointConfigName": found["EndpointConfigName"]})
    model = aws.call("sagemaker", "describe_model", {"ModelName": config["ProductionVariants"][0]["ModelName"]})
    return model.get("PrimaryContainer", {}).get("ModelDataUrl")


def _baseline_file(model_dir: Path, file: str) -> bytes:
    path = model_dir / file
    if not path.is_file():
        raise ValueError(f"--model-dir {model_dir} has no {file}: give the model directory `train` wrote")
    return path.read_bytes()
