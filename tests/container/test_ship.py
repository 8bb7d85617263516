"""Shipping for real against local stand-ins: moto for the AWS APIs, a registry for the image."""

import json
import os
import shutil
import subprocess
import time

import pytest

from tests.container.docker_helpers import ROOT, docker, free_port, request
from tests.helpers import script

pytestmark = pytest.mark.container
CLI = [script("attrition-deploy")]


@pytest.fixture()
def registry(tmp_path):
    """The CNCF distribution registry (Debian's docker-registry) on a free loopback port."""
    binary = shutil.which("docker-registry")
    if binary is None:
        message = "needs Debian's docker-registry package (apt-get install docker-registry)"
        if os.environ.get("ATTRITION_REQUIRE_DOCKER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(f"version: 0.1\nstorage:\n  filesystem: {{rootdirectory: {tmp_path / 'blobs'}}}\n"
                      f"http:\n  addr: 127.0.0.1:{port}\n")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if request("GET", f"http://127.0.0.1:{port}/v2/", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def run(env, *args):
    result = subprocess.run([*map(str, args)], env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_trained_model_to_a_two_variant_endpoint(aws_env, trained_opt_ml):
    model_dir = trained_opt_ml / "model"
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/attrition-sagemaker:test"
    model_data = run(aws_env, *CLI, "package", model_dir, "--bucket", "hr-models", "--prefix", "attrition/v1")
    role = run(aws_env, *CLI, "role", "--bucket", "hr-models")
    for name in ("attrition-a", "attrition-b"):
        run(aws_env, *CLI, "register", "--name", name, "--image", image, "--model-data", model_data,
            "--role", role, "--group", "attrition-models", "--manifest", model_dir / "manifest.json")
    run(aws_env, *CLI, "deploy", "--endpoint", "attrition",
        "--variant", "name=current,model=attrition-a,weight=0.9",
        "--variant", "name=challenger,model=attrition-b,weight=0.1")
    described = json.loads(run(aws_env, *CLI, "describe", "--endpoint", "attrition"))
    assert described["EndpointStatus"] == "InService"
    assert [(v["VariantName"], v["ModelName"], v["CurrentWeight"]) for v in described["Variants"]] == [
        ("current", "attrition-a", 0.9), ("challenger", "attrition-b", 0.1)]


def test_build_and_push_puts_the_real_image_in_a_registry(aws_env, registry, image):
    env = {**aws_env, "REGISTRY_OVERRIDE": registry}
    base = os.environ.get("BASE_IMAGE", "python:3.11-slim-bookworm")
    pushed = run(env, ROOT / "container" / "build_and_push.sh", "--tag", "ci-test", "--base-image", base,
                 "--mutable", "--latest")
    assert pushed == f"{registry}/attrition-sagemaker:ci-test"
    tags = json.loads(request("GET", f"http://{registry}/v2/attrition-sagemaker/tags/list")[2])
    assert sorted(tags["tags"]) == ["ci-test", "latest"]
    status, headers, _ = request("HEAD", f"http://{registry}/v2/attrition-sagemaker/manifests/ci-test", headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json"})
    assert status == 200 and headers["Content-Type"] == "application/vnd.docker.distribution.manifest.v2+json"
    docker("rmi", pushed, f"{registry}/attrition-sagemaker:latest")
    docker("pull", pushed)
    labels = json.loads(docker("inspect", "-f", "{{json .Config.Labels}}", pushed).stdout)
    assert labels["com.amazonaws.sagemaker.capabilities.accept-bind-to-port"] == "true"
    assert labels["org.opencontainers.image.revision"] == "ci-test"
    assert docker("image", "inspect", "-f", "{{.Architecture}}", pushed).stdout.strip() == "amd64"
    docker("rmi", pushed)


def test_the_commit_tag_only_for_a_clean_tree_and_a_dry_run_builds_nothing(aws_env, tmp_path):
    """A copy of the repository in its own git checkout, changed after its commit."""
    copy = tmp_path / "repo"
    for part in ("container", "deploy"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__", "test_dir"))
    git = ["git", "-C", str(copy), "-c", "user.name=t", "-c", "user.email=t@t"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-qm", "c"]):
        subprocess.run([*git, *command], check=True)
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    script = copy / "container" / "build_and_push.sh"
    clean = subprocess.run([script, "--dry-run"], env=aws_env, capture_output=True, text=True)
    assert clean.returncode == 0 and clean.stdout.strip().endswith(f"attrition-sagemaker:{commit}")
    assert '"imageTagMutability": "IMMUTABLE"' in clean.stderr and "put_lifecycle_policy" in clean.stderr
    (copy / "container" / "program" / "attrition" / "core" / "table" / "values.py").write_text("# changed\n", "utf-8")
    dirty = subprocess.run([script, "--dry-run"], env=aws_env, capture_output=True, text=True)
    assert dirty.returncode == 2 and "container/ has uncommitted changes" in dirty.stderr
    allowed = subprocess.run([script, "--dry-run", "--allow-dirty"], env=aws_env, capture_output=True, text=True)
    assert allowed.returncode == 0 and allowed.stdout.strip().endswith(f":{commit}-dirty")
    assert docker("image", "inspect", f"attrition-sagemaker:{commit}-dirty", check=False).returncode != 0
