"""The image from the SageMaker Python SDK, as its users write it: 2.x Estimator and Predictor in
local mode, and 3.x ModelTrainer in local-container mode (which starts the image with no command).
Both through deploy/attrition_deploy/sdk.py, each SDK in its own venv."""

import json
import re
import subprocess

import pytest

from tests.container.docker_helpers import TEST_DIR
from tests.sdk.conftest import sdk_venv

pytestmark = pytest.mark.container
DATA = TEST_DIR / "input" / "data" / "train"
FAST = {"num_boost_round": 60, "early_stopping_rounds": 0}

SDK2 = """
import json, sys
from sagemaker.local import LocalSession
from sagemaker.serializers import JSONSerializer
from attrition_deploy import sdk

image, data, work, fast = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
session = LocalSession()
session.config = {"local": {"local_code": True, "container_root": work}}
estimator = sdk.estimator(image, "arn:aws:iam::123456789012:role/attrition", instance_count=1, instance_type="local",
                          output_path=f"file://{work}/out", sagemaker_session=session, hyperparameters=fast)
estimator.fit({"train": f"file://{data}"})
predictor = estimator.deploy(initial_instance_count=1, instance_type="local", serializer=None)
predictor = sdk.predictor(predictor.endpoint_name, sagemaker_session=session)
rows = [line.split(",") for line in open(f"{data}/ibm_hr_attrition.csv", encoding="utf-8-sig").read().splitlines()[1:4]]
one = predictor.predict(",".join(rows[0]))
three = predictor.predict(rows)
predictor.serializer = JSONSerializer()
flat = predictor.predict(rows[0])  # one employee as a flat JSON list of values
json.dump({"model": estimator.model_data, "metrics": estimator.metric_definitions, "one": one, "three": three,
           "flat": flat}, open(f"{work}/result.json", "w"))
predictor.delete_endpoint()
"""

SDK3 = """
import json, os, sys
from sagemaker.core.training.configs import Compute, InputData
from sagemaker.train.model_trainer import Mode
from attrition_deploy import sdk

image, data, work, fast = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
trainer = sdk.model_trainer(image, "arn:aws:iam::123456789012:role/attrition", training_mode=Mode.LOCAL_CONTAINER,
                            compute=Compute(instance_type="local_cpu", instance_count=1), hyperparameters=fast,
                            local_container_root=work, base_job_name="attrition")
trainer.train(input_data_config=[InputData(channel_name="train", data_source=data)], wait=True)
found = sorted(os.path.relpath(os.path.join(r, f), work) for r, _, files in os.walk(work) for f in files
               if f in ("model.txt", "metadata.json", "metrics.json", "model.tar.gz"))
json.dump({"found": found}, open(f"{work}/result.json", "w"))
"""


def run_sdk(major, script, image, sdk_env, work) -> dict:
    done = subprocess.run([str(sdk_venv(major)), "-c", script, image, str(DATA), str(work), json.dumps(FAST)],
                          env=sdk_env, capture_output=True, text=True, timeout=900)
    result = work / "result.json"  # a file: the SDK's local mode takes over the script's stdout
    assert done.returncode == 0 and result.is_file(), (done.stdout + done.stderr)[-4000:]
    return {**json.loads(result.read_text()), "log": done.stdout + done.stderr}


def test_sdk2_estimator_and_predictor_in_local_mode(image, sdk_env, tmp_path):
    result = run_sdk("2", SDK2, image, sdk_env, tmp_path)
    assert result["model"] == f"file://{tmp_path}/out/model.tar.gz"
    assert {"Name": "validation:auc", "Regex": "^validation:auc=([0-9.eE+-]+)$"} in result["metrics"]
    assert len(result["one"]["predictions"]) == 1 and len(result["three"]["predictions"]) == 3
    assert result["flat"] == result["one"]
    assert result["three"]["predictions"][0] == result["one"]["predictions"][0]


def test_sdk3_model_trainer_starts_the_image_with_no_command(image, sdk_env, tmp_path):
    found = run_sdk("3", SDK3, image, sdk_env, tmp_path)["found"]
    assert "artifacts/model/model.txt" in found and "artifacts/output/data/metrics.json" in found


SDK2_TWO_HOSTS = """
import json, sys, tarfile
from sagemaker.local import LocalSession
from attrition_deploy import sdk

image, data, work, fast = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
session = LocalSession()
session.config = {"local": {"local_code": True, "container_root": work}}
estimator = sdk.estimator(image, "arn:aws:iam::123456789012:role/attrition", instance_count=2, instance_type="local",
                          output_path=f"file://{work}/out", sagemaker_session=session,
                          hyperparameters=fast)
estimator.fit({"train": f"file://{data}"})
with tarfile.open(estimator.model_data.removeprefix("file://")) as tar:
    names = tar.getnames()
json.dump({"model": estimator.model_data, "files": names}, open(f"{work}/result.json", "w"))
"""


def test_sdk2_two_instances_in_local_mode_give_one_model(image, sdk_env, tmp_path):
    """SageMaker's local mode runs both hosts with docker-compose and stops both when one exits:
    the model is there only if no host leaves before the leader has written it."""
    result = run_sdk("2", SDK2_TWO_HOSTS, image, sdk_env, tmp_path)
    files = {name.lstrip("./") for name in result["files"]}
    assert {"model.txt", "metadata.json", "manifest.json", "statistics.json"} <= files
    shares = re.findall(r"distributed: host=(algo-\d-\w+) rank=(\d)/2 rows=(\d+)", result["log"])
    assert sorted((rank, rows) for _, rank, rows in shares) == [("0", "735"), ("1", "735")], result["log"][-3000:]
    # num_threads 0, as by default: both hosts run on this machine, so each takes its share of the cores
    assert result["log"].count("distributed: 2 hosts share this machine's") == 2, result["log"][-3000:]


CARD_LOAD = """
import boto3, json, sys
from sagemaker.model_card import ModelCard
from sagemaker.session import Session
described = boto3.client("sagemaker", region_name="us-east-1").describe_model_card(ModelCardName=sys.argv[1])
content = json.loads(described["Content"])
package = content.pop("model_package_details")  # its setter searches for other cards: moto has no such Search
card = ModelCard(name=sys.argv[1], status=described["ModelCardStatus"], **content,
                 sagemaker_session=Session(boto3.Session(region_name="us-east-1")))
groups = card.evaluation_details[0].metric_groups
print(json.dumps({"status": card.status, "risk": card.intended_uses.risk_rating,
                  "package": package["model_package_arn"], "groups": [g.name for g in groups],
                  "metrics": sum(len(g.metric_data) for g in groups),
                  "request": len(card._create_request_args()["Content"])}))
"""


def test_the_sdk_reads_the_card_register_created_into_its_typed_objects(aws_env, trained_dir):
    """SageMaker SDK 2's ModelCard decodes every section into its own classes (enums, list sizes
    and metric types checked): the card's content is in the schema, not only valid JSON."""
    from tests.deploy.test_cli import IMAGE, ROLE, cli

    arn = cli(aws_env, "register", "--name", "attrition-card", "--image", IMAGE, "--role", ROLE, "--model-data",
              "s3://hr-models/attrition/model.tar.gz", "--group", "attrition-card",
              "--model-card", trained_dir / "output" / "data" / "model_card.json").stdout.strip()
    done = subprocess.run([str(sdk_venv("2")), "-c", CARD_LOAD, "attrition-card"],
                          env={**aws_env, "SAGEMAKER_SUPPRESS_V2_WARNING": "1", "PYTHONWARNINGS": "ignore"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert loaded["status"] == "PendingReview" and loaded["risk"] == "High" and loaded["package"] == arn
    assert [name.split(" (")[0] for name in loaded["groups"]] == ["Model quality", "Bias", "Impact ratios",
                                                                  "Explainability"]
    assert loaded["metrics"] > 20 and 0 < loaded["request"] <= 100_000  # the SDK would send it back as it is
