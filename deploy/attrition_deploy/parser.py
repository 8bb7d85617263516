"""The attrition-deploy command line: every subcommand and option, each typed and checked by
argparse, so a wrong value fails at once (exit 2, one line) before any request is made."""

import argparse
import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from attrition.core import contract

from . import audit, commands, declared, governance, monitoring, options, shadow
from .aws import Runner
from .options import Creates, Deploy, Options, Tune
from .plans import Autoscale, Variant

OptionsT = TypeVar("OptionsT", bound=Options)

NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # SageMaker's rule for resource names
DESCRIPTION = """From a trained model directory to a SageMaker endpoint, with boto3.

Each subcommand prints its result (a URI, an ARN, a name) on stdout, or with --dry-run the JSON
list of every request it would make. Re-running a step that already happened reuses what exists."""


class Parser(argparse.ArgumentParser):
    """argparse, but a wrong command line is one line on stderr (and exit code 2), not the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: its handler, its options' class and the function that adds its arguments."""
    name: str
    handler: Callable[[Any, Runner], str]
    options: type[Options]
    arguments: Callable[[argparse.ArgumentParser], None]
    text: str


def subcommand(name: str, handler: Callable[[OptionsT, Runner], str], options: type[OptionsT],
               arguments: Callable[[argparse.ArgumentParser], None], text: str) -> Subcommand:
    """A Subcommand whose handler takes its options' class: mypy checks the pair here."""
    return Subcommand(name, handler, options, arguments, text)


def subcommands() -> list[Subcommand]:
    """Every subcommand, in the order --help lists them. A function: the handlers are looked up
    at each parse, so a test may replace one."""
    return [
        subcommand("package", commands.package, options.Package, _package,
                   "tar a model directory into model.tar.gz and upload it to S3"),
        subcommand("role", commands.role, options.Role, _role,
                   "create or reuse a least-privilege SageMaker execution role"),
        subcommand("train-job", commands.train_job, options.TrainJob, _train_job,
                   "start a SageMaker training job on the image"),
        subcommand("tune", commands.tune, options.Tune, _tune,
                   "a SageMaker tuning job over the image's declared search ranges, maximising validation:auc"),
        subcommand("register", commands.register, options.Register, _register,
                   "CreateModel, and optionally a Model Registry package"),
        subcommand("deploy", commands.deploy, options.Deploy, _deploy,
                   "create or update an endpoint with one or more variants"),
        subcommand("monitor-schedule", monitoring.monitor_schedule, options.MonitorSchedule, _monitor_schedule,
                   "drift triggers retraining: a monitoring schedule running the image's monitor on an endpoint's "
                   "captured data, an alarm on its verdict, and an EventBridge rule that starts the retraining "
                   "pipeline"),
        subcommand("approve", governance.approve, options.Approve, _approve,
                   "approve or reject a model: an MLflow version (approved: the new champion) or a Model Registry "
                   "package; recorded with who and why"),
        subcommand("history", governance.history, options.History, _history,
                   "the audit trail, newest first: the local log, or a Model Registry group's packages"),
        subcommand("shadow-report", shadow.shadow_report, options.ShadowReport, _shadow_report,
                   "a shadow variant's answers beside the production variant's on the same requests (paired "
                   "captures): promote or keep, and why"),
        subcommand("pipeline", commands.pipeline, options.Pipeline, _pipeline,
                   "a SageMaker pipeline: upsert its definition, start an execution, or describe it"),
        subcommand("delete", commands.delete, options.Delete, _delete,
                   "delete an endpoint, its configs, the models only it uses, its scaling"),
        subcommand("transform", commands.transform, options.Transform, _transform,
                   "a Batch Transform job over headerless CSV"),
        subcommand("invoke", commands.invoke, options.Invoke, _invoke,
                   "send a CSV or JSON file to an endpoint, print the answer"),
        subcommand("describe", commands.describe, options.Describe, _describe,
                   "show an endpoint, its variants and their weights"),
        subcommand("ecr", commands.ecr, options.Ecr, _ecr,
                   "create the ECR repository if missing; print its URI"),
        subcommand("ecr-password", commands.ecr_password, options.EcrPassword, _ecr_password,
                   "print a Docker password for ECR (for docker login --password-stdin)"),
    ]


@dataclass(frozen=True)
class Command:
    """A parsed command line: the subcommand's typed options, and its handler."""
    options: Options
    handler: Callable[[Any, Runner], str]

    def run(self, runner: Runner) -> str:
        return self.handler(self.options, runner)


def build() -> argparse.ArgumentParser:
    # --region and --dry-run may stand before or after the subcommand.
    common = Parser(add_help=False)
    common.add_argument("--region", default=argparse.SUPPRESS, help="AWS region (default: boto3's configuration)")
    common.add_argument("--profile", default=argparse.SUPPRESS, help="AWS profile (default: boto3's configuration)")
    common.add_argument("--dry-run", action="store_true", default=argparse.SUPPRESS,
                        help="print every API request as JSON; no credentials or network needed")
    top = Parser(prog="attrition-deploy", description=DESCRIPTION, parents=[common],
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    added = top.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    for each in subcommands():
        sub = added.add_parser(each.name, help=each.text, description=each.text, parents=[common])
        sub.set_defaults(subcommand=each)
        if issubclass(each.options, Creates):
            sub.add_argument("--tag", action="append", default=[], type=pair, metavar="KEY=VALUE",
                             help="a tag on every resource this creates (repeat)")
        each.arguments(sub)
    return top


def parse(argv: list[str] | None) -> Command:
    top = build()
    values = vars(top.parse_args(argv))
    chosen: Subcommand = values["subcommand"]
    # Defaults here, not on the shared actions: a subcommand's default would hide a value given before it.
    values = {"region": None, "profile": None, "dry_run": False, **values}
    given = chosen.options(**{f.name: _frozen(values[f.name]) for f in fields(chosen.options)})
    if isinstance(given, Deploy):
        _check_deploy(top, given)
    if isinstance(given, Tune) and len(given.warm_start_from) > 5:
        top.error("tune: at most 5 --warm-start-from tuning jobs")
    return Command(given, chosen.handler)


def _frozen(value: Any) -> Any:
    """A repeated option's list as a tuple: the options stay as parsed."""
    return tuple(value) if isinstance(value, list) else value


def _check_deploy(top: argparse.ArgumentParser, args: Deploy) -> None:
    names = [v.name for v in args.variant]
    if len(set(names)) < len(names):
        top.error(f"deploy: --variant names must differ: {', '.join(names)}")
    if args.canary is not None and not args.alarm:
        top.error("deploy: --canary needs at least one --alarm to roll back on")
    if (args.async_success_topic or args.async_error_topic) and not args.async_output:
        top.error("deploy: --async-success-topic and --async-error-topic need --async-output")
    if args.async_output and any(v.serverless_memory for v in args.variant):
        top.error("deploy: asynchronous inference needs instances; a serverless variant has none")
    serverless = [v.name for v in args.variant if v.serverless_memory]
    if args.shadow and (serverless or args.async_output):
        top.error("deploy: a shadow variant needs a real-time endpoint of instances: SageMaker refuses it with "
                  "serverless variants or --async-output")
    if args.shadow and args.shadow.name in names:
        top.error(f"deploy: the shadow variant's name {args.shadow.name} is also a --variant's")
    if args.autoscale and serverless:
        top.error(f"deploy: --autoscale scales instances; serverless variant(s) {', '.join(serverless)} have none "
                  "(they scale by themselves, up to max-concurrency)")


def _package(p: argparse.ArgumentParser) -> None:
    p.add_argument("model_dir", type=Path, help="a directory written by `train` (model.txt, metadata.json, ...)")
    p.add_argument("--bucket", required=True, type=bucket, help="S3 bucket (created private and encrypted if missing)")
    p.add_argument("--prefix", default="attrition/models", help="key prefix for model.tar.gz")
    p.add_argument("--kms-key", help="SSE-KMS key id or ARN (default: SSE-S3, AES256)")


def _role(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", default="attrition-sagemaker-execution", type=iam_name, help="IAM role name")
    p.add_argument("--bucket", required=True, type=bucket, help="the bucket the role may read and write")
    p.add_argument("--prefix", default="attrition", help="the key prefix within it ('' for the whole bucket)")
    p.add_argument("--s3", action="append", default=[], type=s3_uri, metavar="URI",
                   help="a further s3:// prefix the role may use: capture, batch, monitoring (repeat)")
    p.add_argument("--kms-key", action="append", default=[], help="a KMS key the role may use (repeat)")
    p.add_argument("--repository", default="attrition-sagemaker", help="ECR repository to pull")
    p.add_argument("--people", type=sagemaker_name, metavar="GROUP",
                   help="also the managed policies attrition-data-scientist and attrition-approver for this model "
                        "package group (separation of duties)")


def _train_job(p: argparse.ArgumentParser) -> None:
    training(p, "job name (default: attrition-<timestamp>)")
    waits(p, "training job (and stream its log)")


def _tune(p: argparse.ArgumentParser) -> None:
    training(p, "tuning job name, at most 32 characters (default: attrition-<timestamp>)")
    p.add_argument("--strategy", default="Bayesian", choices=["Bayesian", "Hyperband", "Random"],
                   help="how SageMaker picks the next trial")
    p.add_argument("--max-jobs", type=bounded(int, 1, 500), default=20, help="training jobs in all")
    p.add_argument("--max-parallel", type=bounded(int, 1, 100), default=2, help="training jobs at once")
    p.add_argument("--early-stopping", action="store_true", help="let SageMaker stop trials that fall behind")
    p.add_argument("--warm-start-from", action="append", default=[], metavar="TUNING_JOB",
                   help="a finished tuning job to learn from (repeat, at most 5)")
    p.add_argument("--only", action="append", default=[], metavar="NAME", choices=declared.TUNED,
                   help="tune only this hyperparameter (repeat; default: all of " + ", ".join(declared.TUNED) + ")")
    waits(p, "tuning job (and name the best trial)")


def _register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", required=True, type=sagemaker_name, help="the SageMaker model name")
    p.add_argument("--image", help="image URI in ECR")
    p.add_argument("--model-data", type=s3_uri, help="s3://.../model.tar.gz")
    p.add_argument("--from-tuning-job", metavar="NAME",
                   help="register the best model of this tuning job (its image and model.tar.gz)")
    p.add_argument("--from-mlflow", metavar="NAME/VERSION",
                   help="promote this approved MLflow model version (needs --mlflow, --bucket, --image, --group)")
    p.add_argument("--mlflow", default=os.environ.get("MLFLOW_TRACKING_URI"),
                   help="MLflow tracking URI, with --from-mlflow (default: $MLFLOW_TRACKING_URI)")
    p.add_argument("--bucket", type=bucket, help="with --from-mlflow: the bucket for the model's files")
    p.add_argument("--prefix", default="attrition", help="with --from-mlflow: the key prefix within it")
    p.add_argument("--role", required=True, help="execution role ARN")
    p.add_argument("--env", action="append", default=[], type=pair, metavar="NAME=VALUE",
                   help="an environment variable of the serving container (repeat)")
    p.add_argument("--group", type=sagemaker_name, help="Model Registry package group: also register a package")
    p.add_argument("--approval", default="PendingManualApproval",
                   choices=["PendingManualApproval", "Approved", "Rejected"], help="the package's approval status")
    p.add_argument("--metrics", type=s3_uri, help="s3:// URI of evaluation.json (model quality)")
    p.add_argument("--bias", type=s3_uri, help="s3:// URI of bias.json (the bias audit, Clarify's shape)")
    p.add_argument("--explainability", type=s3_uri, help="s3:// URI of explainability.json (Clarify's shape)")
    p.add_argument("--manifest", type=Path, help="manifest.json from the model directory")
    p.add_argument("--model-card", type=Path, help="model_card.json (train's or evaluate's): CreateModelCard, its "
                                                   "status following the package's approval")
    networked(p)
    audited(p)


def _deploy(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", required=True, type=sagemaker_name, help="endpoint name")
    p.add_argument("--variant", action="append", required=True, type=variant, metavar="SPEC",
                   help="name=A,model=M[,instance-type=ml.m5.large][,count=1][,weight=1] (repeat); serverless: "
                        "name=A,model=M,serverless-memory=2048[,max-concurrency=5]")
    p.add_argument("--shadow", type=shadow_variant, metavar="SPEC",
                   help="a shadow variant: name=S,model=M[,instance-type=..][,count=..],sampling=PERCENT; it gets a "
                        "copy of that share of the requests, and its answers are only captured")
    p.add_argument("--capture", type=s3_uri, help="s3:// prefix for data capture (input and output)")
    p.add_argument("--capture-percent", type=bounded(int, 0, 100), default=100, help="share of requests captured")
    p.add_argument("--kms-key", help="KMS key for the endpoint's storage and captured data")
    p.add_argument("--canary", type=bounded(int, 1, 50), metavar="PERCENT",
                   help="on update: blue/green canary with this share of capacity first (needs --alarm)")
    p.add_argument("--canary-interval", type=bounded(int, 0, 3600), default=600,
                   help="seconds the canary runs before the rest of the traffic moves")
    p.add_argument("--alarm", action="append", default=[], help="CloudWatch alarm that rolls the canary back")
    p.add_argument("--autoscale", type=autoscale, metavar="MIN:MAX:INVOCATIONS",
                   help="target tracking per variant, e.g. 1:4:1000 invocations/instance/minute")
    p.add_argument("--async-output", type=s3_uri, help="asynchronous inference: s3:// prefix for the answers")
    p.add_argument("--async-success-topic", help="SNS topic ARN told of each answer (with --async-output)")
    p.add_argument("--async-error-topic", help="SNS topic ARN told of each failure (with --async-output)")
    waits(p, "endpoint")
    audited(p)


def _monitor_schedule(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", required=True, type=sagemaker_name, help="the endpoint (with data capture on)")
    p.add_argument("--name", type=sagemaker_name, help="the schedule's name (default: <endpoint>-drift)")
    p.add_argument("--image", required=True, help="image URI in ECR (its `monitor` entry runs)")
    p.add_argument("--role", required=True, help="execution role ARN of the monitoring jobs (see `role`)")
    p.add_argument("--baseline", required=True, type=s3_uri,
                   help="s3:// prefix holding the model's statistics.json and constraints.json")
    p.add_argument("--model-dir", type=Path, help="upload the baseline from this model directory first")
    p.add_argument("--reports", required=True, type=s3_uri, help="s3:// prefix for the monitoring reports")
    p.add_argument("--schedule", default="cron(0 * ? * * *)", type=cron,
                   help="when to run: cron(...) as SageMaker takes it (default: hourly)")
    p.add_argument("--instance-type", default="ml.m5.large", type=instance_type, help="monitoring instance type")
    p.add_argument("--volume-gb", type=bounded(int, 1, 16384), default=10, help="storage per instance, GB")
    p.add_argument("--max-runtime", type=bounded(int, 1, 86400), default=1800, help="seconds per run")
    p.add_argument("--pipeline", required=True, type=sagemaker_name, help="the retraining pipeline's name")
    p.add_argument("--retrain-data", required=True, type=s3_uri,
                   help="s3:// prefix of the newest labelled export: the pipeline's InputDataUrl")
    p.add_argument("--champion-model-data", type=s3_uri,
                   help="the champion's model.tar.gz (default: the model the endpoint serves)")
    p.add_argument("--events-role", type=iam_name, help="the role EventBridge assumes (default: <name>-events)")
    p.add_argument("--kind", choices=list(monitoring.KINDS), default="data-quality",
                   help="what is monitored: the inputs (and the estimated performance); the realised model quality, "
                        "or the groups' bias drift, once ground truth arrives; the attributions' drift")
    p.add_argument("--ground-truth", type=s3_uri,
                   help="with --kind model-quality or model-bias: s3:// prefix of the ground truth")
    p.add_argument("--bias-report", type=Path,
                   help="with --kind model-bias: the bias.json `train` wrote (output/data), the audit each window is "
                        "compared with")
    p.add_argument("--alarm", type=alarm, default=monitoring.alarm_bound("retraining_recommended>=1"),
                   metavar="METRIC<BOUND", help="the metric the alarm watches and its bound, e.g. auc<0.7 or "
                                                "estimated_auc<0.72 (default: retraining_recommended>=1)")


def _approve(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", metavar="NAME/VERSION", help="an MLflow model version")
    p.add_argument("--mlflow", default=os.environ.get("MLFLOW_TRACKING_URI"),
                   help="MLflow tracking URI, with --version (default: $MLFLOW_TRACKING_URI)")
    p.add_argument("--package", metavar="ARN", help="a SageMaker model package")
    p.add_argument("--reject", action="store_true", help="reject instead of approve")
    p.add_argument("--reason", required=True, type=reason, help="why: kept in the audit trail (not empty)")
    audited(p)


def _history(p: argparse.ArgumentParser) -> None:
    p.add_argument("--group", type=sagemaker_name, help="read this SageMaker package group instead of the log")
    p.add_argument("--model", help="only the records of this registered model (the log)")
    p.add_argument("--limit", type=bounded(int, 1, 100000), default=50, help="at most this many records")
    p.add_argument("--json", action="store_true", help="the records as JSON")
    p.add_argument("--verify", action="store_true", help="check the log's hash chain: print its head, or name the "
                                                         "first record changed, removed or reordered (exit 2)")
    audited(p)


def _shadow_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("--capture", required=True,
                   help="the endpoint's capture: a folder, or the s3:// prefix <DestinationS3Uri>/<endpoint>")
    p.add_argument("--production", required=True, help="the production variant's name")
    p.add_argument("--shadow", required=True, help="the shadow variant's name")
    p.add_argument("--endpoint", type=sagemaker_name, help="also each variant's ModelLatency from CloudWatch")
    p.add_argument("--facets", default="Gender,MaritalStatus,Department",
                   help="the columns whose groups' flag rates are compared, or intersections joined by & "
                        "(Gender&MaritalStatus) (default: %(default)s)")
    p.add_argument("--min-pairs", type=bounded(int, 1, 10**9), default=100,
                   help="employees answered by both needed to promote (default %(default)s)")
    p.add_argument("--min-agreement", type=bounded(float, 0.0, 1.0), default=0.9,
                   help="share of labels that must agree (default %(default)s)")
    p.add_argument("--max-group-shift", type=bounded(float, 0.0, 1.0), default=0.1,
                   help="largest change of a group's flag rate allowed (default %(default)s)")
    audited(p)


def _pipeline(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["upsert", "start", "describe"], help="what to do")
    p.add_argument("--name", default="AttritionPipeline", type=sagemaker_name, help="the pipeline's name")
    p.add_argument("--definition", type=Path,
                   help="upsert: the definition JSON (python pipelines/sagemaker/pipeline.py ... > definition.json)")
    p.add_argument("--role", help="upsert: the role the pipeline runs as")
    p.add_argument("--param", action="append", default=[], type=pair, metavar="NAME=VALUE",
                   help="start: a pipeline parameter, e.g. Seed=1, AucThreshold=0.85, BatchScore=true (repeat)")
    p.add_argument("--group", default="AttritionModels", type=sagemaker_name,
                   help="start: the package group whose newest approved model is the champion to beat, unless "
                        "--param ChampionModelUrl=... names one (default: %(default)s)")
    waits(p, "pipeline execution (start), step by step")


def _delete(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", required=True, type=sagemaker_name, help="endpoint name")
    audited(p)


def _transform(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=sagemaker_name, help="the SageMaker model name")
    p.add_argument("--input", required=True, type=s3_uri, help="s3:// prefix of the CSV files to score")
    p.add_argument("--output", required=True, type=s3_uri, help="s3:// prefix for the scores")
    p.add_argument("--name", type=sagemaker_name, help="job name (default: attrition-batch-<timestamp>)")
    p.add_argument("--instance-type", default="ml.m5.large", type=instance_type, help="instance type")
    p.add_argument("--instance-count", type=bounded(int, 1, 100), default=1, help="number of instances")
    p.add_argument("--join", action="store_true", help="write each input row next to its output")
    p.add_argument("--output-kms-key", help="KMS key for the scores in S3")
    p.add_argument("--volume-kms-key", help="KMS key for the instances' storage")
    waits(p, "transform job")


def _invoke(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", required=True, type=sagemaker_name, help="endpoint name")
    p.add_argument("file", type=Path, help="a CSV, JSON or JSON Lines file")
    p.add_argument("--content-type", help="default from the file's extension")
    p.add_argument("--accept", default="application/json", help="the response media type")
    p.add_argument("--explain", type=bounded(int, 1, 100), help="top-k drivers per prediction")
    p.add_argument("--variant", help="TargetVariant")


def _describe(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint", required=True, type=sagemaker_name, help="endpoint name")


def _ecr(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repository", default="attrition-sagemaker", help="repository name")
    p.add_argument("--mutable", action="store_true", help="let tags be overwritten (default: immutable tags)")
    p.add_argument("--kms-key", help="encrypt with this KMS key (default: AES256)")
    p.add_argument("--keep", type=bounded(int, 1, 1000), default=30,
                   help="lifecycle policy: keep the newest N images, expire older ones")


def _ecr_password(p: argparse.ArgumentParser) -> None:
    """No options but the common ones."""


def waits(sub: argparse.ArgumentParser, what: str) -> None:
    sub.add_argument("--wait", action="store_true",
                     help=f"follow the {what} until it settles: status on stderr, failure reason and exit 1")



def networked(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--subnet", action="append", default=[], help="a VPC subnet id (repeat)")
    sub.add_argument("--security-group", action="append", default=[], help="a VPC security group id (repeat)")
    sub.add_argument("--network-isolation", action="store_true", help="no network access from the container")



def audited(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--audit-log", type=Path, default=audit.default_log(),
                     help="the audit trail, JSON Lines (default: $ATTRITION_AUDIT_LOG or %(default)s)")


def training(sub: argparse.ArgumentParser, name_help: str) -> None:
    sub.add_argument("--image", required=True, help="image URI in ECR")
    sub.add_argument("--role", required=True, help="execution role ARN")
    sub.add_argument("--train", required=True, type=s3_uri, help="s3:// prefix of the training CSV files")
    sub.add_argument("--validation", type=s3_uri, help="s3:// prefix of validation CSV files")
    sub.add_argument("--output", required=True, type=s3_uri, help="s3:// prefix for model.tar.gz")
    sub.add_argument("--name", type=sagemaker_name, help=name_help)
    sub.add_argument("--instance-type", default="ml.m5.large", type=instance_type, help="training instance type")
    sub.add_argument("--instance-count", type=bounded(int, 1, 100), default=1, help="number of instances")
    sub.add_argument("--volume-gb", type=bounded(int, 1, 16384), default=10, help="storage per instance, GB")
    sub.add_argument("--max-runtime", type=bounded(int, 1, 2419200), default=3600, help="seconds")
    sub.add_argument("--hp", action="append", default=[], type=hyperparameter, metavar="NAME=VALUE",
                   help="a hyperparameter of the image, checked as the image checks it (repeat)")
    sub.add_argument("--spot", action="store_true", help="managed spot training")
    sub.add_argument("--max-wait", type=bounded(int, 1, 2419200), default=7200, help="seconds, with --spot")
    sub.add_argument("--checkpoint", type=s3_uri, help="s3:// prefix for checkpoints")
    sub.add_argument("--volume-kms-key", help="KMS key for the instances' storage")
    sub.add_argument("--output-kms-key", help="KMS key for model.tar.gz in S3")
    sub.add_argument("--inter-container-encryption", action="store_true",
                   help="encrypt traffic between the instances of a multi-host job")
    networked(sub)


def alarm(text: str) -> tuple[str, str, float]:
    try:
        return monitoring.alarm_bound(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def reason(text: str) -> str:
    """A reviewer's reason: the audit trail is worth nothing without one."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a reason is required: say why, for the audit trail")
    return text.strip()


def bounded(kind: type, low: float, high: float) -> Callable[[str], Any]:
    def parse_value(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is outside {low}..{high}")
        return value

    parse_value.__name__ = kind.__name__
    return parse_value


def sagemaker_name(text: str) -> str:
    if not NAME.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a SageMaker name: 1-63 letters, digits and hyphens, starting and ending "
            "with a letter or digit")
    return text


def iam_name(text: str) -> str:
    if not re.fullmatch(r"[\w+=,.@-]{1,64}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an IAM role name (1-64 of letters, digits, +=,.@_-)")
    return text


BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"


def bucket(text: str) -> str:
    if not re.fullmatch(BUCKET, text) or ".." in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not an S3 bucket name (3-63 of a-z, 0-9, '.', '-')")
    return text


def s3_uri(text: str) -> str:
    if not re.fullmatch(rf"s3://{BUCKET}(/.*)?", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an s3://bucket/prefix URI")
    return text


def instance_type(text: str) -> str:
    if not re.fullmatch(r"ml\.[a-z0-9]+\.[a-z0-9]+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a SageMaker instance type such as ml.m5.large")
    return text


def cron(text: str) -> str:
    """A schedule expression as Model Monitor takes it: cron(...) with six fields."""
    fields = text.removeprefix("cron(").removesuffix(")").split()
    if not (text.startswith("cron(") and text.endswith(")") and len(fields) == 6):
        raise argparse.ArgumentTypeError(f"{text!r} is not cron(minutes hours day-of-month month "
                                         "day-of-week year), e.g. cron(0 * ? * * *)")
    return text


def pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return key.strip(), value.strip()


def hyperparameter(text: str) -> tuple[str, str]:
    """NAME=VALUE for a hyperparameter the image declares, of its type and in its range: a job
    that would fail on it is refused before it is planned."""
    name, value = pair(text)
    spec = declared.HYPERPARAMETERS.get(name)
    if spec is None:
        raise argparse.ArgumentTypeError(f"unknown hyperparameter {name!r}; the image takes: "
                                         f"{', '.join(declared.HYPERPARAMETERS)}")
    kind, low, high, choices = spec["type"], spec["low"], spec["high"], spec["choices"]
    try:
        number = float(value) if kind in ("int", "float") else None
    except ValueError:
        number = None
    if kind in ("int", "float") and (number is None or number != number or abs(number) == float("inf")
                                     or (kind == "int" and not number.is_integer())):
        raise argparse.ArgumentTypeError(f"hyperparameter {name}={value!r} is not a valid {kind}")
    if kind == "bool" and value.lower() not in (*contract.TRUE_VALUES, *contract.FALSE_VALUES):
        raise argparse.ArgumentTypeError(f"hyperparameter {name}={value!r} must be true or false")
    if choices and value.lower() not in choices:
        raise argparse.ArgumentTypeError(f"hyperparameter {name}={value!r} must be one of {', '.join(choices)}")
    if number is not None and ((low is not None and number < low) or (high is not None and number > high)):
        raise argparse.ArgumentTypeError(f"hyperparameter {name}={value!r} is out of range: must be {low}..{high}")
    return name, value


def variant(spec: str) -> Variant:
    fields = dict(pair(item) for item in spec.split(","))
    unknown = set(fields) - {"name", "model", "instance-type", "count", "weight", "serverless-memory",
                             "max-concurrency"}
    if unknown or "name" not in fields or "model" not in fields:
        raise argparse.ArgumentTypeError(
            f"{spec!r}: needs name= and model=, may have instance-type=, count=, weight=, or "
            "serverless-memory= and max-concurrency=")
    serverless = "serverless-memory" in fields
    if serverless and {"instance-type", "count"} & set(fields):
        raise argparse.ArgumentTypeError(f"{spec!r}: a serverless variant has no instance-type or count")
    memory = bounded(int, 1024, 6144)(fields["serverless-memory"]) if serverless else None
    if memory is not None and memory % 1024:
        raise argparse.ArgumentTypeError(f"{spec!r}: serverless-memory must be 1024, 2048, ... 6144")
    return Variant(
        name=sagemaker_name(fields["name"]),
        model=sagemaker_name(fields["model"]),
        instance_type=instance_type(fields.get("instance-type", "ml.m5.large")),
        count=bounded(int, 1, 1000)(fields.get("count", "1")),
        weight=bounded(float, 1e-9, 1e9)(fields.get("weight", "1")),
        serverless_memory=memory,
        max_concurrency=bounded(int, 1, 200)(fields.get("max-concurrency", "5")),
    )


def shadow_variant(spec: str) -> Variant:
    """A --shadow SPEC: a variant of instances whose weight is its sampling, a share of 1 (the
    production variants' weights are scaled to add up to 1 beside it)."""
    fields = dict(pair(item) for item in spec.split(","))
    if "sampling" not in fields or "serverless-memory" in fields:
        raise argparse.ArgumentTypeError(f"{spec!r}: needs sampling=PERCENT (1-100), and instances")
    sampling = bounded(float, 1.0, 100.0)(fields.pop("sampling"))
    return dataclasses.replace(variant(",".join(f"{k}={v}" for k, v in fields.items())), weight=sampling / 100)


def autoscale(text: str) -> Autoscale:
    parts = text.split(":")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN:MAX:INVOCATIONS, e.g. 1:4:1000")
    low, high = bounded(int, 1, 1000)(parts[0]), bounded(int, 1, 1000)(parts[1])
    if low > high:
        raise argparse.ArgumentTypeError(f"{text!r}: MIN {low} is above MAX {high}")
    return Autoscale(low, high, bounded(float, 0.001, 1e9)(parts[2]))
