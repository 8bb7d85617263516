"""The real SageMaker Python SDK, each major in a venv of its own (made on first use from
deploy/requirements-sdk*.txt), driving the real image in its local modes. No AWS: dummy keys,
telemetry off, a proxy that refuses everything, and everything on loopback."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from attrition_pipelines import local
from tests.container.docker_helpers import ROOT

TELEMETRY_OFF = "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"


def sdk_venv(major: str) -> Path:
    requirements = ROOT / "deploy" / f"requirements-sdk{major}.txt"
    venv = ROOT / f".venv-sdk{major}"
    stamp = hashlib.sha256(requirements.read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if (venv / ".stamp").is_file() and (venv / ".stamp").read_text() == stamp:
        return venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "-r",
                    str(requirements)], check=True, timeout=1200)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e",
                    str(ROOT)], check=True, timeout=600)  # the package itself (attrition_deploy.sdk), not its pins
    (venv / ".stamp").write_text(stamp)
    return venv / "bin" / "python"


@pytest.fixture()
def sdk_env(tmp_path, refusing_proxy):
    if shutil.which("docker-compose") is None and subprocess.run(
            ["docker", "compose", "version"], capture_output=True).returncode != 0:
        message = "the SDK's local mode needs docker-compose (apt-get install docker-compose)"
        if os.environ.get("ATTRITION_REQUIRE_DOCKER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    config = tmp_path / "sdk-config.yaml"
    config.write_text(TELEMETRY_OFF)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="dummy", AWS_SECRET_ACCESS_KEY="dummy",
               AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true", SAGEMAKER_USER_CONFIG_OVERRIDE=str(config),
               HTTPS_PROXY=refusing_proxy, HTTP_PROXY=refusing_proxy, NO_PROXY="localhost,127.0.0.1")
    yield env
    local.remove_local_mode_leftovers(tmp_path)
