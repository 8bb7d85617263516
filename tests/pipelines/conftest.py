"""The pipelines on their real engines, locally: a venv of their own (the package with its
`pipelines` extra, made on first use), an MLflow server on loopback, dummy AWS keys, a proxy that refuses everything."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.container.docker_helpers import ROOT, free_port

DEFINITIONS = [ROOT / "pipelines" / "requirements.txt", ROOT / "deploy" / "requirements.txt", ROOT / "pyproject.toml"]


def pipelines_python() -> str:
    """The venv a user makes for the pipelines: `pip install -e '.[pipelines]'`."""
    venv = ROOT / ".venv-pipelines"
    stamp = hashlib.sha256(b"".join(path.read_bytes() for path in DEFINITIONS)).hexdigest()
    if not ((venv / ".stamp").is_file() and (venv / ".stamp").read_text() == stamp):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "-e",
                        f"{ROOT}[pipelines]"], check=True, timeout=1500)
        (venv / ".stamp").write_text(stamp)
    return str(venv / "bin" / "python")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """An MLflow tracking server with a SQLite backend on a free loopback port; stopped at the end."""
    python = pipelines_python()
    folder = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    process = subprocess.Popen([python, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{folder}/mlflow.db",
                                "--default-artifact-root", str(folder / "artifacts"), "--host", "127.0.0.1",
                                "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        yield url
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def wait_healthy(url: str, seconds: float = 120) -> None:
    """Until an MLflow server answers /health (or the time is up: the tests then say what failed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url + "/health", timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.5)


@pytest.fixture()
def pipeline_env(tmp_path, refusing_proxy):
    if shutil.which("docker-compose") is None:
        pytest.fail("the SageMaker SDK's local pipelines need docker-compose (apt-get install docker-compose)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))}
    env.update(AWS_ACCESS_KEY_ID="dummy", AWS_SECRET_ACCESS_KEY="dummy", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true", HTTPS_PROXY=refusing_proxy, HTTP_PROXY=refusing_proxy,
               NO_PROXY="localhost,127.0.0.1", TMPDIR=str(tmp_path), ATTRITION_AUDIT_LOG=str(tmp_path / "audit.jsonl"))
    return env


def run_json(command, env, timeout=1500) -> dict:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # the runners print their result last, one line
