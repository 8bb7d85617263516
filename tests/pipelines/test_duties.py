"""Separation of duties on a local MLflow registry with authentication (pipelines/registry_server.py):
a data scientist registers, only an approver approves, promotes or moves the champion alias, and
the audit trail records the user the registry authenticated."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from attrition_deploy import audit
from tests.container.docker_helpers import free_port
from tests.helpers import script
from tests.pipelines.conftest import pipelines_python, wait_healthy

CLI = script("attrition-deploy")
def registry_command() -> str:
    return script("attrition-registry", pipelines_python())


ADMIN = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "admin-password-123"}
DANA = {"MLFLOW_TRACKING_USERNAME": "dana", "MLFLOW_TRACKING_PASSWORD": "dana-password-1"}  # a data scientist
ALEX = {"MLFLOW_TRACKING_USERNAME": "alex", "MLFLOW_TRACKING_PASSWORD": "alex-password-1"}  # an approver


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registry")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    process = subprocess.Popen([registry_command(), "serve", "--folder", str(folder), "--port", str(port)],
                               env={**env, "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN["MLFLOW_TRACKING_PASSWORD"]},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        for user, role in ((DANA, "data-scientist"), (ALEX, "approver")):
            subprocess.run([registry_command(), "grant", "--mlflow", url, "--model", "attrition-duties",
                            "--user", user["MLFLOW_TRACKING_USERNAME"], "--password", user["MLFLOW_TRACKING_PASSWORD"],
                            "--role", role], env={**env, **ADMIN}, check=True, capture_output=True, timeout=60)
        yield url
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def _register(registry, trained_dir, env) -> str:
    script = ("import json, sys;"
              "from pathlib import Path; from attrition_pipelines.registry import register;"
              f"e = json.loads(Path({str(trained_dir / 'output' / 'data' / 'evaluation.json')!r}).read_text());"
              f"print(register('attrition-duties', Path({str(trained_dir / 'model')!r}), e, 'attrition:local',"
              f" tracking_uri={registry!r}, source='a notebook')['version'])")
    done = subprocess.run([pipelines_python(), "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def _approve(registry, env, version: str, *more: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, "approve", "--version", f"attrition-duties/{version}",
                           "--mlflow", registry, "--reason", "bias report reviewed", *more],
                          env=env, capture_output=True, text=True, timeout=60)


def test_a_data_scientist_registers_but_only_an_approver_approves(registry, aws_env, trained_dir):
    log = Path(aws_env["ATTRITION_AUDIT_LOG"])
    version = _register(registry, trained_dir, {**aws_env, **DANA})
    refused = _approve(registry, {**aws_env, **DANA}, version)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "dana may not approve, promote or move the champion alias" in refused.stderr
    rejected = _approve(registry, {**aws_env, **DANA}, version, "--reject")
    assert rejected.returncode == 2 and "needs MANAGE" in rejected.stderr
    approved = _approve(registry, {**aws_env, **ALEX}, version)
    assert approved.returncode == 0 and approved.stdout.strip() == (
        f"Approved attrition-duties/{version}: champion attrition-duties: none -> v{version}")
    trail = list(reversed(audit.read(log).entries))
    assert [(e["event"], e["actor"]) for e in trail] == [
        ("registered", "dana"), ("refused", "dana"), ("refused", "dana"), ("approved", "alex")]
    assert "needs MANAGE" in trail[1]["reasons"][1] and trail[1]["verdict"] == "Approved refused by the registry"
    assert audit.verify(log).broken == ""
    asserted = _approve(registry, {**aws_env, **ALEX, "MLFLOW_TRACKING_PASSWORD": "not-alex"}, version)
    assert asserted.returncode == 2 and "401" in asserted.stderr  # a name alone proves nothing


def test_a_data_scientists_pipeline_cannot_promote_its_own_model(registry, aws_env, trained_dir, tmp_path):
    other = tmp_path / "other"  # another model: the registry keeps one version per model
    for part in ("model", "output"):
        shutil.copytree(trained_dir / part, other / part)
    manifest = json.loads((other / "model" / "manifest.json").read_text())
    (other / "model" / "manifest.json").write_text(json.dumps({**manifest, "model_version": "1" * 16}))
    version = _register(registry, other, {**aws_env, **DANA})
    script = ("from attrition_pipelines.registry import promote;"
              f"promote({{'name': 'attrition-duties', 'version': {version!r}, 'model_version': '1' * 16}},"
              f" ['gate passed'], {registry!r}, trigger='a pipeline run')")
    done = subprocess.run([pipelines_python(), "-c", script], capture_output=True, text=True,
                          env={**aws_env, **DANA}, timeout=120)
    assert done.returncode == 1 and "PERMISSION_DENIED" in done.stderr
    last = audit.read(Path(aws_env["ATTRITION_AUDIT_LOG"])).entries[0]
    assert (last["event"], last["actor"], last["verdict"]) == ("refused", "dana", "promotion refused by the registry")
