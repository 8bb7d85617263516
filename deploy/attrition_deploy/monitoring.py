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

--kind model-quality schedules the image's model quality monitor instead: a model quality job
definition (the image, ground truth from --ground-truth, the baseline prefix's
model_quality_constraints.json) and a schedule of type ModelQuality; its metrics land in
QUALITY_NAMESPACE. --alarm picks the metric the alarm watches and its bound ("auc<0.7");
by default the verdict, retraining_recommended>=1.

--kind model-bias and model-explainability read the model itself (its facets and threshold, its
trees for TreeSHAP), and SageMaker mounts no model into a monitoring job. So --model-dir is
packed into a baseline archive (model.tar.gz's files, and --bias-report's bias.json for bias
drift) uploaded under --baseline and given as the baseline constraints, which SageMaker does
copy into the job; the image's monitor unpacks it. SageMaker's own ModelBias and
ModelExplainability job definitions run Clarify's container (they take no entrypoint), so the
image runs as what carries the inputs it needs: bias drift as a model quality job definition
(captured predictions and ground truth; QUALITY_NAMESPACE), attribution drift as a schedule like
the data-quality one (captured inputs; NAMESPACE), each with its analysis_type.

moto implements neither monitoring schedules nor SageMaker pipeline targets; every request is
checked against botocore's service model, so `--dry-run` shows and validates all of them.
"""

import json
import sys
from pathlib import Path

from attrition.core import contract

from . import commands, plans
from .aws import Runner
from .errors import UserError
from .options import MonitorSchedule
from .plans import Request

NAMESPACE = "/aws/sagemaker/Endpoint/data-metrics"  # where SageMaker puts a custom monitor's metrics
QUALITY_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"  # a model quality monitor's
METRIC = "retraining_recommended"
OPERATORS = {"<": "LessThanThreshold", "<=": "LessThanOrEqualToThreshold", ">": "GreaterThanThreshold",
             ">=": "GreaterThanOrEqualToThreshold"}
PROCESSING = "/opt/ml/processing"
EVENTS_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
EXISTS = ("EntityAlreadyExists",)
KINDS = ("data-quality", "model-quality", "model-bias", "model-explainability")
LABELLED = ("model-quality", "model-bias")  # they need ground truth
ANALYSIS = dict(zip(KINDS, contract.ANALYSIS_TYPES, strict=True))  # the image's analysis_type for each kind
ARCHIVES = {"model-bias": "model_bias_baseline.tar.gz", "model-explainability": "model_explainability_baseline.tar.gz"}


def monitor_schedule(args: MonitorSchedule, aws: Runner) -> str:
    account, region = aws.account(), aws.region
    name = args.name or f"{args.endpoint}-drift"[:63]
    if args.kind in LABELLED and not args.ground_truth:
        raise UserError(f"--kind {args.kind} needs --ground-truth s3://... (what the image's groundtruth wrote)")
    baseline = args.baseline.rstrip("/")
    constraints = _upload_baseline(args, aws, baseline)
    if args.kind in LABELLED:
        definition = f"{name}-{args.kind.removeprefix('model-')}"
        aws.call("sagemaker", "create_model_quality_job_definition", quality_definition(definition, args, constraints))
        aws.call("sagemaker", "create_monitoring_schedule", definition_schedule(name, args, definition))
    else:
        aws.call("sagemaker", "create_monitoring_schedule", schedule(name, args, baseline, constraints))
    alarm = f"{name}-retrain"
    aws.call("cloudwatch", "put_metric_alarm", drift_alarm(alarm, args.endpoint, name, args.tag, args.alarm,
                                                           QUALITY_NAMESPACE if args.kind in LABELLED
                                                           else NAMESPACE))
    pipeline_arn = f"arn:aws:sagemaker:{region}:{account}:pipeline/{args.pipeline.lower()}"
    role_name = args.events_role or f"{name}-events"[:64]
    aws.tolerate("iam", "create_role", events_role(role_name, args.tag), EXISTS)
    aws.call("iam", "put_role_policy", events_role_policy(role_name, pipeline_arn))
    aws.call("events", "put_rule", alarm_rule(alarm, f"arn:aws:cloudwatch:{region}:{account}:alarm:{alarm}",
                                              args.tag))
    champion = args.champion_model_data or _served_model_data(aws, args.endpoint)
    if champion is None:
        print(f"attrition-deploy monitor-schedule: a dry run cannot look up the model {args.endpoint} serves: the "
              "planned pipeline target passes no ChampionModelUrl (give --champion-model-data to plan it); "
              "run for real, it is looked up", file=sys.stderr)
    aws.call("events", "put_targets", pipeline_target(alarm, pipeline_arn, f"arn:aws:iam::{account}:role/{role_name}",
                                                      args.retrain_data, champion))
    return name


def _upload_baseline(args: MonitorSchedule, aws: Runner, baseline: str) -> str:
    """Upload what the kind reads as its baseline (from --model-dir, when given; the archive kinds
    always), and return the S3 URI of its constraints."""
    if args.kind in ARCHIVES:
        constraints = f"{baseline}/{ARCHIVES[args.kind]}"
        bucket, key = plans.s3_parts(constraints)
        aws.call("s3", "put_object", plans.upload(bucket, key, baseline_archive(args), None, args.tag))
        return constraints
    if args.model_dir:
        for file in (contract.STATISTICS_FILE, contract.CONSTRAINTS_FILE):
            bucket, key = plans.s3_parts(f"{baseline}/{file}")
            aws.call("s3", "put_object", plans.upload(bucket, key, _baseline_file(args.model_dir, file), None,
                                                      args.tag))
    file = contract.QUALITY_CONSTRAINTS_FILE if args.kind == "model-quality" else contract.CONSTRAINTS_FILE
    return f"{baseline}/{file}"


def schedule(name: str, args: MonitorSchedule, baseline: str, constraints: str) -> Request:
    """The image's monitor on the captured inputs: data quality, or (with its baseline archive as
    the constraints) attribution drift."""
    definition = {
        "BaselineConfig": {"ConstraintsResource": {"S3Uri": constraints}, **({} if args.kind in ARCHIVES else {
            "StatisticsResource": {"S3Uri": f"{baseline}/{contract.STATISTICS_FILE}"}})},
        "MonitoringInputs": [{"EndpointInput": {"EndpointName": args.endpoint,
                                                "LocalPath": f"{PROCESSING}/endpointdata",
                                                "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"}}],
        "MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": args.reports, "LocalPath": f"{PROCESSING}/resultdata", "S3UploadMode": "EndOfJob"}}]},
        "MonitoringResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": args.instance_type,
                                                  "VolumeSizeInGB": args.volume_gb}},
        "MonitoringAppSpecification": {"ImageUri": args.image, "ContainerEntrypoint": ["monitor"]},
        "StoppingCondition": {"MaxRuntimeInSeconds": args.max_runtime},
        "Environment": {"publish_cloudwatch_metrics": "Enabled", "analysis_type": ANALYSIS[args.kind]},
        "RoleArn": args.role,
    }
    return {"MonitoringScheduleName": name,
            "MonitoringScheduleConfig": {"ScheduleConfig": {"ScheduleExpression": args.schedule},
                                         "MonitoringJobDefinition": definition},
            **plans.tags(args.tag)}


def definition_schedule(name: str, args: MonitorSchedule, definition: str) -> Request:
    """A schedule running a model quality job definition (the image's model quality or bias drift)."""
    return {"MonitoringScheduleName": name, "MonitoringScheduleConfig": {
        "ScheduleConfig": {"ScheduleExpression": args.schedule},
        "MonitoringJobDefinitionName": definition, "MonitoringType": "ModelQuality"}, **plans.tags(args.tag)}


def quality_definition(name: str, args: MonitorSchedule, constraints: str) -> Request:
    """The image's monitor on captured predictions joined with the ground truth: model quality, or
    (with its baseline archive as the constraints) bias drift."""
    return {
        "JobDefinitionName": name,
        "ModelQualityBaselineConfig": {"ConstraintsResource": {"S3Uri": constraints}},
        "ModelQualityAppSpecification": {
            "ImageUri": args.image, "ContainerEntrypoint": ["monitor"], "ProblemType": "BinaryClassification",
            "Environment": {"analysis_type": ANALYSIS[args.kind], "publish_cloudwatch_metrics": "Enabled",
                            "ground_truth_source": f"{PROCESSING}/groundtruth"}},
        "ModelQualityJobInput": {
            "EndpointInput": {"EndpointName": args.endpoint, "LocalPath": f"{PROCESSING}/endpointdata",
                              "S3InputMode": "File", "S3DataDistributionType": "FullyReplicated"},
            "GroundTruthS3Input": {"S3Uri": args.ground_truth}},
        "ModelQualityJobOutputConfig": {"MonitoringOutputs": [{"S3Output": {
            "S3Uri": args.reports, "LocalPath": f"{PROCESSING}/resultdata", "S3UploadMode": "EndOfJob"}}]},
        "JobResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": args.instance_type,
                                           "VolumeSizeInGB": args.volume_gb}},
        "RoleArn": args.role,
        "StoppingCondition": {"MaxRuntimeInSeconds": args.max_runtime},
        **plans.tags(args.tag),
    }


def alarm_bound(text: str) -> tuple[str, str, float]:
    """"auc<0.7" -> ("auc", "LessThanThreshold", 0.7): the metric an alarm watches, and its bound."""
    for symbol in sorted(OPERATORS, key=len, reverse=True):
        name, found, value = text.partition(symbol)
        if found:
            try:
                return name.strip(), OPERATORS[symbol], float(value)
            except ValueError:
                break
    raise UserError(f"--alarm {text!r} must be a metric, an operator (<, <=, >, >=) and a number: auc<0.7")


def drift_alarm(name: str, endpoint: str, schedule_name: str, tag_pairs: tuple[tuple[str, str], ...],
                bound: tuple[str, str, float] = (METRIC, "GreaterThanOrEqualToThreshold", 1.0),
                namespace: str = NAMESPACE) -> Request:
    """ALARM when a monitoring run's metric crosses its bound (by default: retraining is
    recommended); no data is not a reason."""
    metric, operator, threshold = bound
    return {"AlarmName": name, "AlarmDescription": f"{metric} on endpoint {endpoint}: start the retraining pipeline",
            "Namespace": namespace, "MetricName": metric,
            "Dimensions": [{"Name": "Endpoint", "Value": endpoint},
                           {"Name": "MonitoringSchedule", "Value": schedule_name}],
            "Statistic": "Minimum" if operator.startswith("Less") else "Maximum", "Period": 3600,
            "EvaluationPeriods": 1, "Threshold": threshold, "ComparisonOperator": operator,
            "TreatMissingData": "notBreaching", **plans.tags(tag_pairs)}


def alarm_rule(name: str, alarm_arn: str, tag_pairs: tuple[tuple[str, str], ...]) -> Request:
    pattern = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
               "resources": [alarm_arn], "detail": {"state": {"value": ["ALARM"]}}}
    return {"Name": name, "EventPattern": json.dumps(pattern), "State": "ENABLED",
            "Description": "drift alarm -> retraining pipeline", **plans.tags(tag_pairs)}


def pipeline_target(rule: str, pipeline_arn: str, role_arn: str, data: str, champion: str | None) -> Request:
    parameters = [{"Name": contract.INPUT_DATA_URL, "Value": data}]
    if champion:
        parameters.append({"Name": contract.CHAMPION_MODEL_URL, "Value": champion})
    return {"Rule": rule, "Targets": [{"Id": "retraining-pipeline", "Arn": pipeline_arn, "RoleArn": role_arn,
                                       "SageMakerPipelineParameters": {"PipelineParameterList": parameters}}]}


def events_role(name: str, tag_pairs: tuple[tuple[str, str], ...]) -> Request:
    return {"RoleName": name, "AssumeRolePolicyDocument": json.dumps(EVENTS_TRUST),
            "Description": "EventBridge starts the attrition retraining pipeline on drift", **plans.tags(tag_pairs)}


def events_role_policy(role_name: str, pipeline_arn: str) -> Request:
    return {"RoleName": role_name, "PolicyName": "start-retraining-pipeline",
            "PolicyDocument": json.dumps(events_policy(pipeline_arn))}


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


def baseline_archive(args: MonitorSchedule) -> bytes:
    """What a bias or attribution drift job reads in place of a mounted model: model.tar.gz's files
    (and training's bias.json for bias drift), checked here so a job cannot fail on them later."""
    if args.model_dir is None:
        raise UserError(f"--kind {args.kind} reads the model, which SageMaker does not mount into a monitoring job: "
                        "give --model-dir (the model directory `train` wrote), to be uploaded as its baseline")
    also: tuple[Path, ...] = ()
    if args.kind == "model-bias":
        if args.bias_report is None or not args.bias_report.is_file():
            raise UserError("--kind model-bias compares each window with training's audit: give --bias-report, the "
                            "bias.json `train` wrote (output/data)")
        try:
            audit = json.loads(args.bias_report.read_text())
        except ValueError as error:
            raise UserError(f"--bias-report {args.bias_report} is not JSON: {error}") from None
        if not isinstance(audit, dict) or "post_training_bias_metrics" not in audit:
            raise UserError(f"--bias-report {args.bias_report} is not a bias.json with post-training metrics")
        if args.bias_report.name != contract.BIAS_FILE:
            raise UserError(f"--bias-report must be named {contract.BIAS_FILE}, as `train` writes it "
                            f"(the monitor looks for that name): {args.bias_report}")
        also = (args.bias_report,)
    return commands.tar_model(args.model_dir, also)


def _baseline_file(model_dir: Path, file: str) -> bytes:
    path = model_dir / file
    if not path.is_file():
        raise UserError(f"--model-dir {model_dir} has no {file}: give the model directory `train` wrote")
    return path.read_bytes()
