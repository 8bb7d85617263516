"""Training on two hosts, as SageMaker runs it: one container per host, each its own /opt/ml and
resourceconfig.json, LightGBM's network between them (the host network, a port each)."""

import json
import os
import shutil

import pytest

from tests.container.docker_helpers import TEST_DIR, distributed_ports, docker

pytestmark = pytest.mark.container
HOSTS = ["algo-1", "algo-2"]


def _host(image, opt_ml, current: str, port: int, hosts=HOSTS) -> str:
    shutil.copytree(TEST_DIR / "input", opt_ml / "input")
    (opt_ml / "input" / "config" / "hyperparameters.json").write_text(json.dumps({"num_threads": "1"}))
    (opt_ml / "input" / "config" / "resourceconfig.json").write_text(json.dumps(
        {"current_host": current, "hosts": hosts, "network_interface_name": "eth0"}))
    names = [a for host in HOSTS for a in ("--add-host", f"{host}:127.0.0.1")]
    return docker("run", "-d", "--network", "host", *names, "--user", f"{os.getuid()}:{os.getgid()}",
                  "-e", f"ATTRITION_DISTRIBUTED_PORT={port}", "-e", "ATTRITION_DISTRIBUTED_TIMEOUT=1",
                  "-v", f"{opt_ml}:/opt/ml", image, "train").stdout.strip()


def _finish(container: str) -> tuple[int, str]:
    try:
        code = int(docker("wait", container, timeout=600).stdout.strip())
        logs = docker("logs", container)
        return code, logs.stdout + logs.stderr
    finally:
        docker("rm", "-f", container, check=False)


def test_two_containers_train_one_model_and_only_the_leader_writes_it(image, tmp_path):
    port = distributed_ports()
    containers = [_host(image, tmp_path / host, host, port) for host in HOSTS]
    (leader, leader_log), (other, other_log) = [_finish(c) for c in containers]
    assert (leader, other) == (0, 0), leader_log + other_log
    assert "distributed: host=algo-1 rank=0/2 rows=735" in leader_log
    assert "distributed: host=algo-2 rank=1/2 rows=735" in other_log
    assert "validation:auc=" in leader_log and "validation:auc=" not in other_log
    files = {p.name for p in (tmp_path / "algo-1" / "model").iterdir()}
    assert {"model.txt", "metadata.json", "manifest.json", "statistics.json", "constraints.json"} <= files
    assert not (tmp_path / "algo-2" / "model" / "model.txt").exists()
    manifest = json.loads((tmp_path / "algo-1" / "model" / "manifest.json").read_text())
    assert manifest["metrics"]["auc"] > 0.8


def test_a_host_alone_fails_with_a_line_naming_it(image, tmp_path):
    code, log = _finish(_host(image, tmp_path / "algo-1", "algo-1", distributed_ports()))
    assert code != 0, log
    failure = (tmp_path / "algo-1" / "output" / "failure").read_text()
    assert failure.startswith("host algo-1 (rank 0/2): lost the other hosts at 127.0.0.1:"), failure
