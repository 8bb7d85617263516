"""Run the image with docker and talk to it over HTTP on loopback."""

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_DIR = ROOT / "container" / "local_test" / "test_dir"


def docker(*args, check=True, timeout=600) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} failed:\n{result.stdout}\n{result.stderr}")
    return result


def engine_problem():
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "docker info timed out"
    return None if result.returncode == 0 else "no Docker engine answers (docker info failed)"


def run_train(image: str, opt_ml: Path) -> subprocess.CompletedProcess:
    # As the calling user, so that the files train writes can be cleaned up without root.
    return docker("run", "--rm", "--network", "host", "--user", f"{os.getuid()}:{os.getgid()}",
                  "-v", f"{opt_ml}:/opt/ml", image, "train", check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def distributed_ports(hosts: int = 2) -> int:
    """ATTRITION_DISTRIBUTED_PORT for `hosts` hosts on this machine: the first of 2 x hosts free
    ports in a row (LightGBM's, then the co-location handshake's)."""
    return free_ports_in_a_row(2 * hosts)


def free_ports_in_a_row(count: int) -> int:
    """The first of `count` free loopback ports in a row, below the ephemeral range (where the
    next outgoing connection could take one of them before its server binds it)."""
    for base in range(23000, 32000, 17):
        try:
            with contextlib.ExitStack() as ports:
                for k in range(count):
                    ports.enter_context(socket.socket()).bind(("127.0.0.1", base + k))
            return base
        except OSError:
            continue
    raise AssertionError(f"no {count} free ports in a row")


class Server:
    """A `serve` container on a free loopback port; stopped by its own container id."""

    def __init__(self, image: str, model_dir: Path, env: dict | None = None, docker_args=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = f"attrition-test-{uuid.uuid4().hex[:8]}"
        env_args = [a for k, v in {"SAGEMAKER_BIND_TO_PORT": self.port, **(env or {})}.items()
                    for a in ("-e", f"{k}={v}")]
        self.started = time.monotonic()
        docker("run", "-d", "--name", self.name, "--network", "host", *env_args, *docker_args,
               "-v", f"{model_dir}:/opt/ml/model:ro", image, "serve")

    def wait_ready(self, deadline_s: float = 60) -> float:
        """Poll /ping until it answers 200; return the seconds since `docker run`."""
        end = self.started + deadline_s
        while time.monotonic() < end:
            try:
                if request("GET", self.url + "/ping", timeout=2)[0] == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass
            if docker("inspect", "-f", "{{.State.Running}}", self.name, check=False).stdout.strip() != "true":
                raise AssertionError("server exited:\n" + self.logs())
            time.sleep(0.05)
        raise AssertionError(f"no 200 on /ping within {deadline_s} s:\n" + self.logs())

    def logs(self) -> str:
        result = docker("logs", self.name, check=False)
        return result.stdout + result.stderr

    def stop(self) -> None:
        docker("rm", "-f", self.name, check=False)


def request(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30):
    """(status, headers, body) for one HTTP request; HTTP errors are returned, not raised."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


