"""SageMaker endpoints on this machine, driven by boto3, attrition-deploy and the SageMaker SDK as
they drive AWS: variants behind HAProxy, capture, the lifecycle, SageMaker's errors."""

import json
import math
import os
import signal
import subprocess
import threading
import time
from collections import Counter

import pytest
from botocore.exceptions import ClientError, WaiterError

from attrition_endpoints import neighbours
from tests.endpoints.conftest import BUCKET, ROLE
from tests.helpers import BUNDLED_CSV
from tests.sdk.conftest import TELEMETRY_OFF, sdk_venv

pytestmark = pytest.mark.container
ROWS = BUNDLED_CSV.read_text(encoding="utf-8-sig").splitlines()
WAIT = {"Delay": 1, "MaxAttempts": 180}
CALLS = 10_000


def one_row(i: int) -> str:
    return ROWS[1 + i % (len(ROWS) - 1)]


def register(stack, name: str, seed: str, image: str | None = None) -> None:
    done = stack.deploy_cli("register", "--name", name, "--image", image or stack.image, "--role", ROLE,
                            "--model-data", f"s3://{BUCKET}/models/{seed}/model.tar.gz")
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def two_variants(stack):
    """blue (seed 1) at 0.9 and green (seed 2) at 0.1, capture on, made by attrition-deploy unchanged."""
    register(stack, "attrition-seed-1", "seed-1")
    register(stack, "attrition-seed-2", "seed-2")
    done = stack.deploy_cli("deploy", "--endpoint", "attrition-ab",
                            "--variant", "name=blue,model=attrition-seed-1,weight=0.9",
                            "--variant", "name=green,model=attrition-seed-2,weight=0.1",
                            "--capture", f"s3://{BUCKET}/capture", "--wait")
    assert done.returncode == 0, done.stderr
    return "attrition-ab"


def captured(stack, endpoint: str) -> dict[str, list[dict]]:
    """The capture records in the S3 stand-in, by variant."""
    records: dict[str, list[dict]] = {}
    pages = stack.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"capture/{endpoint}/")
    for page in pages:
        for item in page.get("Contents", []):
            variant = item["Key"].split("/")[2]
            body = stack.s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read().decode()
            records.setdefault(variant, []).extend(json.loads(line) for line in body.splitlines())
    return records


def test_weights_split_ten_thousand_calls_and_capture_records_each_answer(stack, two_variants):
    runtime = stack.client("sagemaker-runtime")
    invoked: Counter = Counter()
    lock = threading.Lock()

    def caller(start: int) -> None:
        for i in range(start, CALLS, 4):
            answer = runtime.invoke_endpoint(EndpointName=two_variants, ContentType="text/csv", Body=one_row(i),
                                             InferenceId=f"call-{i}")
            assert json.loads(answer["Body"].read())["predictions"][0]["label"] in ("Yes", "No")
            with lock:
                invoked[answer["InvokedProductionVariant"]] += 1

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(invoked.values()) == CALLS
    share = invoked["green"] / CALLS
    spread = 3.29 * math.sqrt(0.1 * 0.9 / CALLS)  # the 99.9 % binomial interval around 0.1
    assert abs(share - 0.1) < spread, invoked

    targeted = Counter(runtime.invoke_endpoint(EndpointName=two_variants, ContentType="text/csv", Body=one_row(i),
                                               TargetVariant="green")["InvokedProductionVariant"] for i in range(200))
    assert targeted == Counter({"green": 200})
    invoked["green"] += 200

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        records = captured(stack, two_variants)
        if {v: len(r) for v, r in records.items()} == dict(invoked):
            break
        time.sleep(1)
    assert {v: len(r) for v, r in records.items()} == dict(invoked)
    shown = stack.service("status")  # where a user finds the capture on disk, for monitor or retraining
    assert f"endpoint {two_variants}: InService, captured in {stack.state}/capture/{BUCKET}/capture/{two_variants}" \
        in shown.stderr
    ids = {r["eventMetadata"].get("inferenceId") for r in records["blue"] + records["green"]}
    assert f"call-{CALLS - 1}" in ids and len({r["eventMetadata"]["eventId"] for r in records["blue"]}) \
        == invoked["blue"]


def test_the_capture_samples_its_initial_sampling_percentage(stack, two_variants):
    done = stack.deploy_cli("deploy", "--endpoint", "attrition-sampled", "--wait", "--variant",
                            "name=main,model=attrition-seed-1", "--capture", f"s3://{BUCKET}/capture",
                            "--capture-percent", "30")
    assert done.returncode == 0, done.stderr
    runtime = stack.client("sagemaker-runtime")
    for i in range(1000):
        runtime.invoke_endpoint(EndpointName="attrition-sampled", ContentType="text/csv", Body=one_row(i))
    assert stack.deploy_cli("delete", "--endpoint", "attrition-sampled").returncode == 0  # its last captures sent
    sm = stack.client("sagemaker")
    sm.get_waiter("endpoint_deleted").wait(EndpointName="attrition-sampled", WaiterConfig=WAIT)
    kept = len(captured(stack, "attrition-sampled")["main"])
    assert abs(kept - 300) < 3.29 * math.sqrt(1000 * 0.3 * 0.7), kept  # the 99.9 % binomial interval


def test_describe_shows_every_variant_and_the_cli_reads_it(stack, two_variants):
    described = stack.client("sagemaker").describe_endpoint(EndpointName=two_variants)
    assert described["EndpointStatus"] == "InService"
    assert {(v["VariantName"], v["CurrentWeight"], v["DesiredWeight"], v["CurrentInstanceCount"],
             v["DesiredInstanceCount"]) for v in described["ProductionVariants"]} \
        == {("blue", 0.9, 0.9, 1, 1), ("green", 0.1, 0.1, 1, 1)}
    shown = stack.deploy_cli("describe", "--endpoint", two_variants)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["EndpointStatus"] == "InService"


def test_the_cli_invokes_a_variant_and_a_model_error_is_sagemakers(stack, two_variants, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text(one_row(3) + "\n")
    answered = stack.deploy_cli("invoke", "--endpoint", two_variants, str(rows), "--variant", "green")
    assert answered.returncode == 0, answered.stderr
    assert "probability" in answered.stdout
    with pytest.raises(ClientError) as refused:
        stack.client("sagemaker-runtime").invoke_endpoint(EndpointName=two_variants, ContentType="text/csv",
                                                          Body="1,2\n")
    error = refused.value.response
    assert error["Error"]["Code"] == "ModelError" and error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["OriginalStatusCode"] == 400 and "fields" in error["OriginalMessage"]


@pytest.mark.parametrize(("call", "code", "says"), [
    (lambda sm: sm.describe_endpoint(EndpointName="nowhere"), "ValidationException", "Could not find endpoint"),
    (lambda sm: sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[
        {"VariantName": "a", "ModelName": "no-such-model", "InstanceType": "ml.m5.large",
         "InitialInstanceCount": 1}]), "ValidationException", "Could not find model"),
    (lambda sm: sm.create_endpoint(EndpointName="e", EndpointConfigName="no-such-config"),
     "ValidationException", "Could not find endpoint configuration"),
    (lambda sm: sm.create_model(ModelName="bad name!", ExecutionRoleArn=ROLE,
                                PrimaryContainer={"Image": "x"}), "ValidationException", "pattern"),
    (lambda sm: sm.update_endpoint_weights_and_capacities(EndpointName="attrition-ab", DesiredWeightsAndCapacities=[
        {"VariantName": "purple", "DesiredWeight": 1.0}]), "ValidationException", "purple"),
])
def test_bad_requests_get_sagemakers_errors(stack, two_variants, call, code, says):
    with pytest.raises(ClientError) as refused:
        call(stack.client("sagemaker"))
    assert refused.value.response["Error"]["Code"] == code
    assert says in refused.value.response["Error"]["Message"]


def test_unknown_endpoints_and_variants_get_the_runtimes_errors(stack, two_variants):
    runtime = stack.client("sagemaker-runtime")
    for request, says in (({"EndpointName": "nowhere"}, "Endpoint nowhere of account"),
                          ({"EndpointName": two_variants, "TargetVariant": "purple"}, "purple")):
        with pytest.raises(ClientError) as refused:
            runtime.invoke_endpoint(ContentType="text/csv", Body=one_row(0), **request)
        assert refused.value.response["Error"]["Code"] == "ValidationError"
        assert says in refused.value.response["Error"]["Message"]


def test_a_model_that_does_not_unpack_or_load_and_an_image_that_is_not_there_fail_with_their_reason(stack):
    sm = stack.client("sagemaker")
    register(stack, "attrition-broken", "broken")
    register(stack, "attrition-unloadable", "unloadable")
    register(stack, "attrition-no-image", "seed-1", image="attrition-sagemaker:not-built")
    for model, says in (("attrition-broken", "valid tar.gz archive"), ("attrition-unloadable", "exited before"),
                        ("attrition-no-image", "does not exist")):
        sm.create_endpoint_config(EndpointConfigName=model, ProductionVariants=[
            {"VariantName": "only", "ModelName": model, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
        sm.create_endpoint(EndpointName=model, EndpointConfigName=model)
        with pytest.raises(WaiterError):
            sm.get_waiter("endpoint_in_service").wait(EndpointName=model, WaiterConfig=WAIT)
        described = sm.describe_endpoint(EndpointName=model)
        assert described["EndpointStatus"] == "Failed" and says in described["FailureReason"]
        sm.delete_endpoint(EndpointName=model)
        sm.get_waiter("endpoint_deleted").wait(EndpointName=model, WaiterConfig=WAIT)


def test_weights_and_capacities_change_in_place(stack, two_variants):
    sm, runtime = stack.client("sagemaker"), stack.client("sagemaker-runtime")
    sm.update_endpoint_weights_and_capacities(EndpointName=two_variants, DesiredWeightsAndCapacities=[
        {"VariantName": "blue", "DesiredWeight": 0.0}, {"VariantName": "green", "DesiredInstanceCount": 2}])
    sm.get_waiter("endpoint_in_service").wait(EndpointName=two_variants, WaiterConfig=WAIT)
    variants = {v["VariantName"]: v for v in sm.describe_endpoint(EndpointName=two_variants)["ProductionVariants"]}
    assert variants["blue"]["CurrentWeight"] == 0.0 and variants["green"]["CurrentInstanceCount"] == 2
    invoked = Counter(runtime.invoke_endpoint(EndpointName=two_variants, ContentType="text/csv", Body=one_row(i))[
        "InvokedProductionVariant"] for i in range(100))
    assert invoked == Counter({"green": 100})


SDK2_PREDICTOR = """
import json, sys
import sagemaker
from attrition_deploy import sdk

predictor = sdk.predictor(sys.argv[1], sagemaker_session=sagemaker.Session())
rows = [line.split(",") for line in open(sys.argv[2], encoding="utf-8-sig").read().splitlines()[1:4]]
green = predictor.predict(",".join(rows[0]), target_variant="green")
print(json.dumps({"three": predictor.predict(rows), "green": green}))
"""


def test_the_sdk2_predictor_works_unchanged(stack, two_variants, tmp_path):
    """Not local mode: the SDK's own Predictor, its session made from the environment as on AWS."""
    config = tmp_path / "sdk-config.yaml"
    config.write_text(TELEMETRY_OFF)
    env = {**stack.env, "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
           "SAGEMAKER_SUPPRESS_V2_WARNING": "1"}
    done = subprocess.run([str(sdk_venv("2")), "-c", SDK2_PREDICTOR, two_variants, str(BUNDLED_CSV)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(answer["three"]["predictions"]) == 3 and len(answer["green"]["predictions"]) == 1


def test_a_serverless_variant_starts_cold_throttles_beyond_its_concurrency_and_scales_to_zero(stack, two_variants):
    done = stack.deploy_cli("deploy", "--endpoint", "attrition-serverless", "--wait", "--variant",
                            "name=only,model=attrition-seed-1,serverless-memory=2048,max-concurrency=1")
    assert done.returncode == 0, done.stderr
    sm = stack.client("sagemaker")
    assert instances_of(sm, "attrition-serverless") == 0
    runtime = stack.client("sagemaker-runtime")
    started = time.monotonic()
    first = runtime.invoke_endpoint(EndpointName="attrition-serverless", ContentType="text/csv", Body=one_row(0))
    cold = time.monotonic() - started
    assert first["InvokedProductionVariant"] == "only" and instances_of(sm, "attrition-serverless") == 1
    assert "cold start of attrition-serverless/only" in (stack.state / "endpoints.log").read_text()

    from botocore.config import Config
    once = stack.client("sagemaker-runtime", Config(retries={"mode": "standard", "max_attempts": 1}))
    big = "\n".join(one_row(i) for i in range(4000))  # some 0.1 s of work for the instance
    answers: list[str] = []
    gate = threading.Barrier(8)

    def caller() -> None:
        gate.wait()
        try:
            once.invoke_endpoint(EndpointName="attrition-serverless", ContentType="text/csv", Body=big,
                                 CustomAttributes="explain=3")
            answers.append("answered")
        except ClientError as error:
            answers.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(answers) == {"answered", "ThrottlingException"}, answers

    deadline = time.monotonic() + 30
    while instances_of(sm, "attrition-serverless") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert instances_of(sm, "attrition-serverless") == 0, "the idle serverless instance did not stop"
    again = runtime.invoke_endpoint(EndpointName="attrition-serverless", ContentType="text/csv", Body=one_row(1))
    assert again["InvokedProductionVariant"] == "only" and cold > 0
    assert stack.deploy_cli("delete", "--endpoint", "attrition-serverless").returncode == 0


def instances_of(sm, endpoint: str) -> int:
    return sum(v["CurrentInstanceCount"] for v in sm.describe_endpoint(EndpointName=endpoint)["ProductionVariants"])


def test_asynchronous_invocations_answer_into_s3_and_failures_say_why(stack, two_variants):
    done = stack.deploy_cli("deploy", "--endpoint", "attrition-async", "--wait", "--variant",
                            "name=only,model=attrition-seed-1", "--async-output", f"s3://{BUCKET}/async")
    assert done.returncode == 0, done.stderr
    runtime = stack.client("sagemaker-runtime")
    stack.s3.put_object(Bucket=BUCKET, Key="requests/five.csv", Body="\n".join(one_row(i) for i in range(5)))
    stack.s3.put_object(Bucket=BUCKET, Key="requests/bad.csv", Body="1,2\n")
    results = {}
    for name in ("five", "bad", "missing"):
        accepted = runtime.invoke_endpoint_async(EndpointName="attrition-async", ContentType="text/csv",
                                                 InputLocation=f"s3://{BUCKET}/requests/{name}.csv")
        assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 202 and accepted["InferenceId"]
        results[name] = accepted
    assert results["five"]["OutputLocation"] == f"s3://{BUCKET}/async/{results['five']['InferenceId']}.out"
    answer = json.loads(read_when_there(stack, results["five"]["OutputLocation"]))
    assert len(answer["predictions"]) == 5
    bad = json.loads(read_when_there(stack, results["bad"]["FailureLocation"]))
    assert bad["OriginalStatusCode"] == 400 and "fields" in bad["OriginalMessage"]
    missing = json.loads(read_when_there(stack, results["missing"]["FailureLocation"]))
    assert "Could not read the input" in missing["Message"]
    with pytest.raises(ClientError) as refused:
        runtime.invoke_endpoint_async(EndpointName=two_variants, InputLocation=f"s3://{BUCKET}/requests/five.csv")
    assert "not an asynchronous endpoint" in refused.value.response["Error"]["Message"]
    assert stack.deploy_cli("delete", "--endpoint", "attrition-async").returncode == 0


def read_when_there(stack, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    deadline = time.monotonic() + 60
    while True:
        try:
            return stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_a_restarted_service_finds_its_endpoints_again(stack, two_variants):
    pid = next(n.pid for n in neighbours.started_in(stack.state) if n.name == "endpoints")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            time.sleep(0.1)
        except ProcessLookupError:
            break
    started = stack.service("up", "--forward", stack.env["AWS_ENDPOINT_URL"])
    assert started.returncode == 0, started.stderr
    sm = stack.client("sagemaker")
    sm.get_waiter("endpoint_in_service").wait(EndpointName=two_variants, WaiterConfig=WAIT)
    answer = stack.client("sagemaker-runtime").invoke_endpoint(EndpointName=two_variants, ContentType="text/csv",
                                                               Body=one_row(1))
    assert answer["InvokedProductionVariant"] in ("blue", "green")


def test_delete_leaves_no_instance_behind(stack, two_variants):
    deleted = stack.deploy_cli("delete", "--endpoint", two_variants)
    assert deleted.returncode == 0, deleted.stderr
    sm = stack.client("sagemaker")
    sm.get_waiter("endpoint_deleted").wait(EndpointName=two_variants, WaiterConfig=WAIT)
    names = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True).stdout
    assert f"attrition-{two_variants}-" not in names
    assert sm.list_endpoints()["Endpoints"] == []
    assert not list((stack.state / "models").glob("*"))
