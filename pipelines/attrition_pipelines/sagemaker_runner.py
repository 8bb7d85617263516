"""Run the SageMaker pipeline locally, for free: SageMaker Pipelines' local mode on Docker, S3
played by moto on 127.0.0.1, the bundled data, and the model registered in MLflow at the end.

    attrition-pipeline-sagemaker --image attrition-sagemaker:local [--mlflow URI] [--promote]

Needs Docker, docker-compose and pipelines/requirements.txt. Nothing reaches AWS: dummy keys, a
local S3, telemetry off. The champion (MLflow alias `champion`) is evaluated beside the new model.
Prints a progress line a step on stderr (`[ 41.2 s] Train: succeeded`; --verbose shows the SDK's
and the containers' own output instead of keeping it in the working folder's engine.log), then the
test AUC, the gate's reasons and the registered version.
"""

import io
import json
import os
import re
import sys
import tarfile
from pathlib import Path

from attrition.core import contract
from attrition_pipelines import local

BUCKET = "attrition-local"
ROLE = "arn:aws:iam::123456789012:role/attrition-local"
TELEMETRY_OFF = "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"


def main(argv=None) -> int:
    args = local.arguments(__doc__.splitlines()[0], argv)
    with local.working_folder("attrition-pipeline-", args.keep) as work:
        _offline(work)
        server = _local_s3()
        try:
            with local.progress(work, args.verbose, "sagemaker.local.entities", _step_line):
                result = run(args, work)
        except ValueError as error:  # the registry said no, or is not there: one line
            print(f"attrition-pipeline-sagemaker: {error}", file=sys.stderr)
            return 2
        finally:
            if server:
                server.stop()
    print(json.dumps(result))  # the last line: one JSON object
    return 0 if result["status"] in ("Succeeded", "Refused") else 1  # a refusal is a verdict, not a failure


def run(args, work: Path) -> dict:
    import boto3
    from sagemaker.workflow.pipeline_context import LocalPipelineSession

    from attrition_pipelines.sagemaker_pipeline import get_pipeline

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.upload_file(str(args.data), BUCKET, "attrition/export/export.csv")
    session = LocalPipelineSession(default_bucket=BUCKET)
    session.config = {"local": {"local_code": True, "container_root": str(work)}}
    pipeline = get_pipeline(region="us-east-1", role=ROLE, default_bucket=BUCKET, image_uri=args.image,
                            input_data_uri=f"s3://{BUCKET}/attrition/export/", sagemaker_session=session)
    pipeline.upsert(role_arn=ROLE)
    s3.upload_file(str(args.data), BUCKET, "attrition/scoring/employees.csv")
    before = local.champion(args, work / "champion")
    champion_url = _upload_folder(s3, work / "champion" / "model", "attrition/champion/")
    execution = pipeline.start(parameters={"Seed": args.seed, "AucThreshold": args.auc_threshold,
                                           "AucTolerance": args.auc_tolerance, "BiasTolerance": args.bias_tolerance,
                                           contract.CHAMPION_MODEL_URL: champion_url,
                                           "BatchScore": "true" if args.batch_score else "false",
                                           "CohortColumns": args.cohorts,
                                           "ScoringDataUrl": f"s3://{BUCKET}/attrition/scoring/"})
    listed = execution.list_steps()
    listed = listed["PipelineExecutionSteps"] if isinstance(listed, dict) else listed
    steps = {s["StepName"]: s["StepStatus"] for s in listed}
    failed = {name for name, status in steps.items() if status not in ("Succeeded", "Executing")}
    result: dict = {"status": "Succeeded" if not failed else "Refused" if failed == {"Refused"} else "Failed",
                    "steps": steps}
    scores = s3.list_objects_v2(Bucket=BUCKET, Prefix="attrition/scores/").get("Contents", [])
    if scores:
        result["scored"] = sum(1 for o in scores for line in _get(s3, o["Key"]).decode().splitlines() if line.strip())
    if s3.list_objects_v2(Bucket=BUCKET, Prefix="attrition/cohorts/cohorts.json").get("Contents"):
        result["cohorts"] = local.cohort_summary(json.loads(_get(s3, "attrition/cohorts/cohorts.json")))
    if steps.get("Evaluate") == "Succeeded":
        evaluation, bias, card = (json.loads(_get(s3, f"attrition/evaluation/{name}")) for name in
                                  (contract.EVALUATION_FILE, contract.BIAS_FILE, contract.MODEL_CARD_FILE))
        result["test_auc"] = evaluation["binary_classification_metrics"]["auc"]["value"]
        result.update(local.conclude(args, evaluation, bias, _trained_model(s3, work), before,
                                     "sagemaker-local-pipeline", card))
    return result


def _step_line(message: str) -> str | None:
    """A progress line from the SDK's local pipeline executor's log, or None."""
    for pattern, said in ((r"Starting pipeline step: '(.+)'", "started"),
                          (r"Pipeline step '(.+)' SUCCEEDED", "succeeded"),
                          (r"Pipeline step '(.+)' FAILED\. Failure message is: (.*)", "failed")):
        found = re.match(pattern, message)
        if found:
            return f"{found.group(1)}: {said}" + (f": {found.group(2)[:300]}" if said == "failed" else "")
    return None


def _upload_folder(s3, folder: Path, prefix: str) -> str:
    """The champion's files (or the no-champion marker) under a prefix: the Evaluate step's input."""
    for path in folder.iterdir():
        s3.upload_file(str(path), BUCKET, prefix + path.name)
    return f"s3://{BUCKET}/{prefix}"


def _trained_model(s3, work: Path) -> Path:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="attrition/models/")["Contents"]]
    model_dir = work / "trained-model"
    with tarfile.open(fileobj=io.BytesIO(_get(s3, next(k for k in keys if k.endswith("model.tar.gz"))))) as tar:
        tar.extractall(model_dir, filter="data")
    return model_dir


def _get(s3, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def _offline(work: Path) -> None:
    config = work / "sdk-config.yaml"
    config.write_text(TELEMETRY_OFF)
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
                      AWS_SECRET_ACCESS_KEY=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
                      SAGEMAKER_USER_CONFIG_OVERRIDE=str(config))


def _local_s3():
    """moto in server mode on a free loopback port, unless AWS_ENDPOINT_URL already names a stand-in."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        return None
    import socket

    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    return server


if __name__ == "__main__":
    sys.exit(main())
