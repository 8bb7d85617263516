"""The "SageMaker endpoints on your laptop" block (docs/local-endpoints.md), run as written: the whole local stack
up, the Shipping commands unchanged against it, and down leaving nothing running."""

import os
import re
import socket
import subprocess

import pytest

from attrition_endpoints.cli import service_id
from attrition_endpoints.docker import LABEL
from tests.container.docker_helpers import ROOT, free_ports_in_a_row
from tests.pipelines.conftest import pipelines_python

pytestmark = pytest.mark.container


def block() -> str:
    readme = (ROOT / "docs" / "local-endpoints.md").read_text()
    start = readme.index("<!-- local-endpoints -->")
    return re.search(r"```bash\n(.*?)```", readme[start:], re.S).group(1)


def test_the_readme_block_runs_as_written(image, trained_dir, refusing_proxy, tmp_path):
    pipelines_python()  # the block's Python: made on first use, as the newcomer's path says
    port = free_ports_in_a_row(3)  # the service's, moto's and MLflow's
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))}
    env.update(XDG_STATE_HOME=str(tmp_path / "state"), ATTRITION_ENDPOINTS_PORT=str(port), IMAGE=image,
               MODEL_DIR=str(trained_dir / "model"), HTTPS_PROXY=refusing_proxy, HTTP_PROXY=refusing_proxy,
               NO_PROXY="localhost,127.0.0.1", ATTRITION_AUDIT_LOG=str(tmp_path / "audit.jsonl"),
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block()], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count('"probability"') == 3  # invoke printed payload.csv's three predictions
    folder = tmp_path / "state" / "attrition-endpoints"
    left = subprocess.run(["docker", "ps", "-a", "-q", "--filter", f"label={LABEL}={service_id(folder)}"],
                          capture_output=True, text=True).stdout.split()
    assert left == []
    for offset in range(3):  # the service, moto and MLflow stopped: their ports are free again
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port + offset)) != 0
    assert {p.name for p in folder.iterdir()} <= {"capture", "mlflow"}
