"""#24 item 7: from the registry's champion to a live local endpoint with capture in one command
(endpoints/deploy-champion), and the lifecycle reading that capture where it lies."""

import json
import subprocess
import sys

import pytest

from tests.container.docker_helpers import ROOT
from tests.endpoints.conftest import BUCKET
from tests.helpers import script
from tests.pipelines.conftest import mlflow_server, pipelines_python  # noqa: F401 (a fixture)
from tests.pipelines.test_promote import approve, registered_version

pytestmark = pytest.mark.container


def test_the_champion_serves_on_a_local_endpoint_and_its_capture_feeds_retraining(stack, mlflow_server,  # noqa: F811
                                                                                   trained_dir, tmp_path):
    env = {**stack.env, "MLFLOW_TRACKING_URI": mlflow_server, "ATTRITION_AUDIT_LOG": str(tmp_path / "audit.jsonl")}
    version = registered_version(mlflow_server, trained_dir, env, "attrition")
    approve(env, mlflow_server, version, "attrition")  # the reviewer's approval makes it the champion
    done = subprocess.run([str(ROOT / "endpoints" / "deploy-champion"), "attrition-champion"],
                          env={**env, "IMAGE": stack.image, "PYTHON": sys.executable, "BUCKET": BUCKET},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"attrition v{version} serves on endpoint attrition-champion" in done.stderr
    runtime = stack.client("sagemaker-runtime")
    rows = (ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv")
    lines = rows.read_text(encoding="utf-8-sig").splitlines()
    for start in range(1, 301, 50):
        runtime.invoke_endpoint(EndpointName="attrition-champion", ContentType="text/csv",
                                Body="\n".join(lines[start:start + 50]))
    capture = stack.state / "capture" / BUCKET / "capture" / "attrition-champion"
    assert sum(len(p.read_text().splitlines()) for p in capture.rglob("*.jsonl")) == 6

    checked = subprocess.run([script("attrition-retrain", pipelines_python()), "--image",
                              stack.image, "--capture", str(capture), "--data", str(rows), "--mlflow", mlflow_server,
                              "--audit-log", str(tmp_path / "audit.jsonl")],
                             env=env, capture_output=True, text=True, timeout=900)
    assert checked.returncode == 0, checked.stderr[-3000:]
    verdict = json.loads(checked.stdout.strip().splitlines()[-1])
    # the monitor read every captured row (this year's employees: no drift, nothing retrained)
    assert verdict["monitor"]["summary"] == "no drift found in 300 rows" and verdict["champion"] == version
    deleted = stack.deploy_cli("delete", "--endpoint", "attrition-champion")
    assert deleted.returncode == 0, deleted.stderr
