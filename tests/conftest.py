"""Shared fixtures: the bundled data, a model trained on it in a temporary /opt/ml, moto, and the
real image (built once; without a Docker engine its tests skip, saying why, and with
ATTRITION_REQUIRE_DOCKER=1, as in CI, they fail instead). Environment: BASE_IMAGE (build
argument), ATTRITION_TEST_IMAGE (use this tag, skip the build)."""

import os
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from attrition.core.predict import model
from tests.container.docker_helpers import ROOT, docker, engine_problem
from tests.helpers import BUNDLED_CSV, FAST, make_opt_ml, run_training


@pytest.fixture(scope="session")
def ibm_text() -> str:
    return BUNDLED_CSV.read_text(encoding="utf-8-sig")


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory, ibm_text) -> Path:
    """A model trained on the bundled IBM data (fewer trees, for speed)."""
    base = tmp_path_factory.mktemp("opt_ml")
    paths = make_opt_ml(base, FAST, {"train": {"ibm.csv": ibm_text}})
    assert run_training(paths) == 0, (paths.failure_file.read_text()
                                      if paths.failure_file.exists() else "")
    return base


@pytest.fixture(scope="session")
def trained_model(trained_dir):
    return model.load(trained_dir / "model")



@pytest.fixture(scope="session")
def moto_server():
    """moto in server mode on a free loopback port, for the whole session; stopped at the end."""
    from moto.server import ThreadedMotoServer

    from tests.container.docker_helpers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture()
def aws_env(moto_server, tmp_path):
    """Environment for a process that should talk to moto only: dummy keys, no profile files."""
    urllib.request.urlopen(urllib.request.Request(moto_server + "/moto-api/reset", method="POST"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=moto_server, AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(tmp_path / "no-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
               DOCKER_CONFIG=str(tmp_path / "docker-config"), ATTRITION_AUDIT_LOG=str(tmp_path / "audit.jsonl"),
               PYTHON=sys.executable)  # the Python the package is installed in (build_and_push.sh)
    return env


@pytest.fixture(scope="session")
def image() -> str:
    problem = engine_problem()
    if problem:
        if os.environ.get("ATTRITION_REQUIRE_DOCKER") == "1":
            pytest.fail(f"container tests are mandatory here but {problem}")
        pytest.skip(f"container tests need Docker: {problem}")
    tag = os.environ.get("ATTRITION_TEST_IMAGE")
    if tag:
        return tag
    tag = "attrition-sagemaker:test"
    base = os.environ.get("BASE_IMAGE", "python:3.11-slim-bookworm")
    docker("build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}",
           "--build-arg", "GIT_COMMIT=test", "-t", tag, str(ROOT / "container"), timeout=1800)
    return tag


class _Refuse(BaseHTTPRequestHandler):
    def do_CONNECT(self):
        self.send_error(403, "no network from the tests")

    do_GET = do_POST = do_CONNECT

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def refusing_proxy():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
