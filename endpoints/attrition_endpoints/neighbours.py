"""The servers `up` starts: the endpoint service itself and, from the same Python when their
packages are there, what the lifecycle needs beside it: moto in server mode (S3, IAM, CloudWatch,
Application Auto Scaling, and every SageMaker operation the service passes on) and the MLflow
registry. Their process IDs are kept in the service's folder, so `down` stops exactly those."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

PROCESSES = "processes.json"


class NotStarted(Exception):
    """A server did not answer its health check: one line, with where its log is."""


@dataclass(frozen=True)
class Neighbour:
    name: str
    what: str
    url: str
    pid: int


def moto(folder: Path, port: int) -> Neighbour | None:
    if importlib.util.find_spec("moto") is None:
        return None
    return start("moto", "S3, IAM, CloudWatch, Application Auto Scaling, other SageMaker operations", folder,
                  port, [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], "/moto-api/")


def mlflow(folder: Path, port: int) -> Neighbour | None:
    if importlib.util.find_spec("mlflow") is None:
        return None
    store = folder / "mlflow"
    store.mkdir(parents=True, exist_ok=True)
    return start("mlflow", "the model registry (MLFLOW_TRACKING_URI)", folder, port,
                  [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
                   "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
                   "--default-artifact-root", str(store / "artifacts")], "/health")


def start(name: str, what: str, folder: Path, port: int, command: list[str], health: str,
          environment: dict[str, str] | None = None) -> Neighbour:
    """Start a server in a session of its own, its output in <folder>/<name>.log, and wait until
    `health` answers 200."""
    log = (folder / f"{name}.log").open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True, env=environment)
    started = Neighbour(name, what, f"http://127.0.0.1:{port}", process.pid)
    _remember(folder, started)
    deadline = time.monotonic() + 120
    while not answers(started.url + health):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process.pid, 5)
            lines = (folder / f"{name}.log").read_text(errors="replace").strip().splitlines()
            raise NotStarted(f"{name} did not start: {lines[-1] if lines else 'no output'} "
                             f"(log: {folder / f'{name}.log'})")
        time.sleep(0.3)
    return started


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _remember(folder: Path, neighbour: Neighbour) -> None:
    known = [n for n in started_in(folder) if n.name != neighbour.name] + [neighbour]
    (folder / PROCESSES).write_text(json.dumps([asdict(n) for n in known]))


def started_in(folder: Path) -> list[Neighbour]:
    path = folder / PROCESSES
    return [Neighbour(**n) for n in json.loads(path.read_text())] if path.exists() else []


def stop_all(folder: Path) -> None:
    """The endpoint service first (it hands its last captures to moto), then the others."""
    for neighbour in sorted(started_in(folder), key=lambda n: n.name != "endpoints"):
        stop(neighbour.pid)
        (folder / f"{neighbour.name}.log").unlink(missing_ok=True)
    (folder / PROCESSES).unlink(missing_ok=True)


def stop(pid: int, timeout: float = 30) -> None:
    """SIGTERM to the process group, and wait for the process to end."""
    try:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
