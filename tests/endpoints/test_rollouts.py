"""#25: rollouts rehearsed on the local endpoints: endpoint metrics in CloudWatch (moto), a canary
that rolls back on its alarm, one that completes, as `attrition-deploy deploy --canary --wait`
drives them."""

import json
import math
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.endpoints.conftest import BUCKET, DEPLOY
from tests.endpoints.test_service import ROWS, WAIT, one_row, register

pytestmark = pytest.mark.container
DIMENSIONS = [{"Name": "EndpointName", "Value": "rollout"}, {"Name": "VariantName", "Value": "main"}]


@pytest.fixture(scope="module")
def champion(stack):
    register(stack, "rollout-champion", "seed-1")
    register(stack, "rollout-bad", "wider")
    register(stack, "rollout-good", "seed-2")
    done = stack.deploy_cli("deploy", "--endpoint", "rollout", "--variant", "name=main,model=rollout-champion",
                            "--wait")
    assert done.returncode == 0, done.stderr
    stack.client("cloudwatch").put_metric_alarm(
        AlarmName="rollout-errors", Namespace="AWS/SageMaker", MetricName="Invocation4XXErrors",
        Dimensions=DIMENSIONS, Statistic="Sum", Period=5, EvaluationPeriods=1, Threshold=0,
        ComparisonOperator="GreaterThanThreshold")
    return "rollout"


class Traffic:
    """Requests sent one after another while a rollout runs, counted by what the caller saw."""

    def __init__(self, stack, endpoint: str):
        self.runtime = stack.client("sagemaker-runtime", Config(retries={"mode": "standard", "max_attempts": 1}))
        self.endpoint, self.seen, self.stop = endpoint, Counter(), threading.Event()
        self.thread = threading.Thread(target=self.send)

    def send(self) -> None:
        i = 0
        while not self.stop.is_set():
            try:
                self.runtime.invoke_endpoint(EndpointName=self.endpoint, ContentType="text/csv", Body=one_row(i))
                self.seen["answered"] += 1
            except ClientError as error:
                self.seen[error.response["Error"]["Code"]] += 1
            i += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def deploy_canary(stack, model: str, interval: int) -> subprocess.CompletedProcess:
    return subprocess.run([DEPLOY, "deploy", "--endpoint", "rollout", "--variant",
                           f"name=main,model={model}", "--canary", "20", "--canary-interval", str(interval),
                           "--alarm", "rollout-errors", "--wait"],
                          env=stack.env, capture_output=True, text=True, timeout=600)


def test_endpoint_metrics_reach_cloudwatch_as_sagemaker_names_them(stack, champion):
    runtime = stack.client("sagemaker-runtime")
    for i in range(40):
        runtime.invoke_endpoint(EndpointName=champion, ContentType="text/csv", Body=one_row(i))
    with pytest.raises(ClientError):
        runtime.invoke_endpoint(EndpointName=champion, ContentType="text/csv", Body="1,2\n")
    time.sleep(3)  # the service publishes every second here (--metrics-period 1)
    cloudwatch = stack.client("cloudwatch")
    now = datetime.now(UTC)

    def total(metric: str) -> float:
        points = cloudwatch.get_metric_statistics(Namespace="AWS/SageMaker", MetricName=metric, Dimensions=DIMENSIONS,
                                                  StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(
                                                      seconds=1), Period=300, Statistics=["Sum"])["Datapoints"]
        return sum(p["Sum"] for p in points)

    assert total("Invocations") >= 41 and total("Invocation4XXErrors") >= 1
    assert total("InvocationsPerInstance") == total("Invocations")  # one instance
    assert total("ModelLatency") >= 0 and total("Invocation5XXErrors") == 0


def test_a_canary_that_answers_errors_rolls_back_within_its_bake(stack, champion):
    time.sleep(6)  # the alarm's 5-second period starts clean
    with Traffic(stack, champion) as traffic:
        rolled = deploy_canary(stack, "rollout-bad", 30)
    assert rolled.returncode == 1, rolled.stderr
    assert "rolled back because alarm rollout-errors went into ALARM" in rolled.stderr
    log = (stack.state / "endpoints.log").read_text()
    assert "takes 20% of the traffic" in log and "rolling back: alarm rollout-errors went into ALARM" in log
    described = stack.client("sagemaker").describe_endpoint(EndpointName=champion)
    assert described["EndpointStatus"] == "InService" and described["LastDeploymentConfig"]
    variants = stack.client("sagemaker").describe_endpoint_config(
        EndpointConfigName=described["EndpointConfigName"])["ProductionVariants"]
    assert variants[0]["ModelName"] == "rollout-champion"
    errors = traffic.seen["ModelError"]
    sent = sum(traffic.seen.values())
    assert errors > 0 and errors / sent < 0.35, traffic.seen  # only the canary's share ever failed
    assert set(traffic.seen) <= {"answered", "ModelError"}, traffic.seen
    alarm = stack.client("cloudwatch").describe_alarms(AlarmNames=["rollout-errors"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    names = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True).stdout
    assert names.count("attrition-rollout-main-") == 1  # the canary's instance is gone


def test_a_good_canary_completes_with_no_failed_request(stack, champion):
    time.sleep(6)  # the bad canary's errors leave the alarm's period
    with Traffic(stack, champion) as traffic:
        done = deploy_canary(stack, "rollout-good", 3)
    assert done.returncode == 0, done.stderr
    assert set(traffic.seen) == {"answered"}, traffic.seen
    sm = stack.client("sagemaker")
    described = sm.describe_endpoint(EndpointName=champion)
    assert "PendingDeploymentSummary" not in described and not described.get("FailureReason")
    config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    assert config["ProductionVariants"][0]["ModelName"] == "rollout-good"
    assert stack.client("cloudwatch").describe_alarms(AlarmNames=["rollout-errors"])["MetricAlarms"][0][
        "StateValue"] == "OK"


def test_a_canary_with_an_alarm_that_does_not_exist_is_refused_and_nothing_starts(stack, champion):
    done = subprocess.run([DEPLOY, "deploy", "--endpoint", "rollout", "--variant",
                           "name=main,model=rollout-champion", "--canary", "20", "--alarm", "no-such-alarm"],
                          env=stack.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "no-such-alarm" in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert stack.client("sagemaker").describe_endpoint(EndpointName=champion)["EndpointStatus"] == "InService"
    names = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True).stdout
    assert names.count("attrition-rollout-main-") == 1


def test_load_scales_a_variant_out_to_its_maximum_and_back_when_it_ends(stack, champion):
    resource = "endpoint/rollout/variant/main"
    scaling = stack.client("application-autoscaling")
    scaling.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=resource, MinCapacity=1, MaxCapacity=2,
                                     ScalableDimension="sagemaker:variant:DesiredInstanceCount")
    scaling.put_scaling_policy(
        PolicyName="rollout-invocations", ServiceNamespace="sagemaker", ResourceId=resource,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount", PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 300.0, "ScaleOutCooldown": 1, "ScaleInCooldown": 4,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})
    sm = stack.client("sagemaker")

    def instances() -> int:
        return sm.describe_endpoint(EndpointName=champion)["ProductionVariants"][0]["CurrentInstanceCount"]

    with Traffic(stack, champion) as traffic:  # some thousands a minute against a target of 300 per instance
        deadline = time.monotonic() + 60
        while instances() < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert instances() == 2
    deadline = time.monotonic() + 60
    while instances() > 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert instances() == 1
    assert set(traffic.seen) == {"answered"}, traffic.seen  # no request lost while the fleet changed
    log = (stack.state / "endpoints.log").read_text()
    assert f"{resource}: 1 -> 2 instance(s)" in log and f"{resource}: 2 -> 1 instance(s)" in log


def test_a_shadow_gets_a_sampled_copy_callers_never_see_and_the_report_pairs_them(stack, champion, tmp_path):
    done = stack.deploy_cli("deploy", "--endpoint", "shadowed", "--variant", "name=main,model=rollout-champion",
                            "--shadow", "name=challenger,model=rollout-good,sampling=50",
                            "--capture", f"s3://{BUCKET}/capture", "--wait")
    assert done.returncode == 0, done.stderr
    described = stack.client("sagemaker").describe_endpoint(EndpointName="shadowed")
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["challenger"]
    runtime = stack.client("sagemaker-runtime")
    for k in range(40):  # ten employees a request, with a header row: the report can group them
        body = "\n".join([ROWS[0], *(one_row(10 * k + i) for i in range(10))])
        answer = runtime.invoke_endpoint(EndpointName="shadowed", ContentType="text/csv", Body=body)
        assert answer["InvokedProductionVariant"] == "main"
    time.sleep(1)  # the last copies are sent in the background
    assert stack.deploy_cli("delete", "--endpoint", "shadowed").returncode == 0  # the last captures sent
    stack.client("sagemaker").get_waiter("endpoint_deleted").wait(EndpointName="shadowed", WaiterConfig=WAIT)
    folder = stack.state / "capture" / BUCKET / "capture" / "shadowed"
    events = {variant: [json.loads(line)["eventMetadata"]["eventId"] for path in (folder / variant).rglob("*.jsonl")
                        for line in path.read_text().splitlines()] for variant in ("main", "challenger")}
    assert len(events["main"]) == 40
    assert abs(len(events["challenger"]) - 20) < 3.29 * math.sqrt(40 * 0.25), events  # 50 %, 99.9 % interval
    assert set(events["challenger"]) <= set(events["main"])  # each copy under its request's eventId

    audit_log = tmp_path / "audit.jsonl"
    for source in (str(folder), f"s3://{BUCKET}/capture/shadowed"):
        shown = stack.deploy_cli("shadow-report", "--capture", source, "--production", "main", "--shadow",
                                 "challenger", "--min-pairs", "50", "--audit-log", str(audit_log),
                                 "--endpoint", "shadowed")
        assert shown.returncode == 0, shown.stderr
        verdict, *reasons = shown.stdout.strip().splitlines()
        assert verdict in ("promote: shadow challenger may replace main", "keep: main stays"), shown.stdout
        assert reasons[0].strip() == f"{10 * len(events['challenger'])} employees answered by both (at least 50)"
        assert "labels agree on" in reasons[1] and "largest change of a group's flag rate: " in shown.stdout
        assert reasons[-2].strip().startswith("main: model latency ") and reasons[-2].strip().endswith(" ms")
        assert reasons[-1].strip().startswith("challenger: model latency ")
    trail = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert [e["event"] for e in trail] == ["shadow-compared"] * 2 and 0 <= trail[0]["metrics"]["agreement"] <= 1
    kept = stack.deploy_cli("shadow-report", "--capture", str(folder), "--production", "main", "--shadow",
                            "challenger", "--min-pairs", "100000", "--audit-log", str(audit_log))
    assert kept.stdout.startswith("keep: main stays")
