"""--wait: follow a job or an endpoint until it settles, as the SageMaker SDK's `logs=True` does:
status changes with the time since the start on stderr, the training job's CloudWatch log as it
comes, and the failure reason (with a non-zero exit) when it fails. Polls with backoff."""

import sys
import time
from collections.abc import Callable

from .aws import AwsError, Request, Runner

FIRST_DELAY, MAX_DELAY = 2.0, 30.0
TRAINING_LOGS = "/aws/sagemaker/TrainingJobs"


def training_job(aws: Runner, name: str) -> Request:
    logs = _LogFollower(aws, TRAINING_LOGS, f"{name}/")
    return _until(aws, f"training job {name}",
                  lambda: aws.call("sagemaker", "describe_training_job", {"TrainingJobName": name}),
                  "TrainingJobStatus", {"Completed"}, {"Failed", "Stopped"}, logs.follow)


def tuning_job(aws: Runner, name: str) -> Request:
    best: dict[str, str] = {}

    def describe() -> Request:
        described = aws.call("sagemaker", "describe_hyper_parameter_tuning_job",
                             {"HyperParameterTuningJobName": name})
        job = described.get("BestTrainingJob") or {}
        if job.get("TrainingJobName") and job.get("TrainingJobName") != best.get("name"):
            best["name"] = job["TrainingJobName"]
            metric = (job.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
            print(f"tuning job {name}: best so far {best['name']}"
                  + (f" (validation:auc={metric})" if metric is not None else ""), file=sys.stderr, flush=True)
        return described

    return _until(aws, f"tuning job {name}", describe, "HyperParameterTuningJobStatus", {"Completed"},
                  {"Failed", "Stopped"})


def pipeline_execution(aws: Runner, arn: str) -> Request:
    seen: dict[str, str] = {}

    def describe() -> Request:
        for step in pipeline_steps(aws, arn):
            if seen.get(step["StepName"]) != step["StepStatus"]:
                seen[step["StepName"]] = step["StepStatus"]
                print(f"  step {step['StepName']}: {step['StepStatus']}"
                      + (f" ({step['FailureReason']})" if step.get("FailureReason") else ""),
                      file=sys.stderr, flush=True)
        return aws.call("sagemaker", "describe_pipeline_execution", {"PipelineExecutionArn": arn})

    return _until(aws, f"pipeline execution {arn.rsplit('/', 1)[-1]}", describe, "PipelineExecutionStatus",
                  {"Succeeded"}, {"Failed", "Stopped"})


def pipeline_steps(aws: Runner, arn: str) -> list[Request]:
    """The execution's steps, oldest first ([] where the service does not list them, as moto)."""
    listed = aws.tolerate("sagemaker", "list_pipeline_execution_steps",
                          {"PipelineExecutionArn": arn, "SortOrder": "Ascending"}, ("500", "NotImplemented")) or {}
    return [{"StepName": s.get("StepName"), "StepStatus": s.get("StepStatus"), "FailureReason": s.get("FailureReason")}
            for s in listed.get("PipelineExecutionSteps", [])]


def endpoint(aws: Runner, name: str) -> Request:
    """Until the endpoint settles; a blue/green update's steps (the new configuration's share of the
    traffic) as they happen, and an update rolled back is a failure with SageMaker's reason."""
    started, shown = time.monotonic(), set()

    def describe() -> Request:
        described = aws.call("sagemaker", "describe_endpoint", {"EndpointName": name})
        pending = described.get("PendingDeploymentSummary")
        if pending:
            weights = ", ".join(f"{v['VariantName']} {v.get('CurrentWeight', 0):g} of {v.get('DesiredWeight', 0):g}"
                                for v in pending.get("ProductionVariants", []))
            step = f"new configuration {pending['EndpointConfigName']}: weight {weights}"
            if step not in shown:
                print(f"[{time.monotonic() - started:6.0f} s] endpoint {name}: {step}", file=sys.stderr, flush=True)
                shown.add(step)
        return described

    described = _until(aws, f"endpoint {name}", describe, "EndpointStatus", {"InService"}, {"Failed", "OutOfService"})
    reason = str(described.get("FailureReason") or "")
    if "rolled back" in reason:
        raise AwsError(f"endpoint {name}: {reason}")
    return described


def transform_job(aws: Runner, name: str) -> Request:
    return _until(aws, f"transform job {name}",
                  lambda: aws.call("sagemaker", "describe_transform_job", {"TransformJobName": name}),
                  "TransformJobStatus", {"Completed"}, {"Failed", "Stopped"})


def _until(aws: Runner, what: str, describe: Callable[[], Request], key: str, done: set[str], failed: set[str],
           between: Callable[[], None] = lambda: None) -> Request:
    if aws.dry_run:
        return {}
    started, delay, last = time.monotonic(), FIRST_DELAY, None
    while True:
        described = describe()
        status = (str(described.get(key)), described.get("SecondaryStatus"))
        if status != last:
            shown = status[0] + (f" ({status[1]})" if status[1] else "")
            print(f"[{time.monotonic() - started:6.0f} s] {what}: {shown}", file=sys.stderr, flush=True)
            last = status
        between()
        if status[0] in done:
            return described
        if status[0] in failed:
            raise AwsError(f"{what} {status[0].lower()}: {described.get('FailureReason') or 'no reason given'}")
        time.sleep(delay)
        delay = min(delay * 1.5, MAX_DELAY)


class _LogFollower:
    """New events of the log streams that start with a prefix, each printed once."""

    def __init__(self, aws: Runner, group: str, prefix: str):
        self.aws, self.group, self.prefix = aws, group, prefix
        self.tokens: dict[str, str | None] = {}

    def follow(self) -> None:
        found = self.aws.tolerate("logs", "describe_log_streams",
                                  {"logGroupName": self.group, "logStreamNamePrefix": self.prefix},
                                  ("ResourceNotFoundException",)) or {}
        for stream in sorted(s["logStreamName"] for s in found.get("logStreams", [])):
            request = {"logGroupName": self.group, "logStreamName": stream, "startFromHead": True}
            if self.tokens.get(stream):
                request["nextToken"] = self.tokens[stream]
            page = self.aws.call("logs", "get_log_events", request)
            for event in page.get("events", []):
                print(f"{stream.split('/')[-1]} | {event['message']}", file=sys.stderr, flush=True)
            self.tokens[stream] = page.get("nextForwardToken")
