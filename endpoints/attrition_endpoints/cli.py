"""local-endpoints up | down | status | serve: the local SageMaker endpoint service.

`up` starts it in the background and prints the environment that points boto3 (and so
attrition-deploy, the SageMaker SDK and a user's own code) at it; `down` stops it and removes
every container it started and every file it made except the captured data; `serve` runs it in
the foreground (what `up` starts).
"""

import argparse
import functools
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from . import docker
from .api import Account, ControlPlane
from .asynchronous import AsyncInvocations
from .balancer import IMAGE, Balancer
from .captures import Uploader
from .instances import free_port
from .lifecycle import Lifecycle, Settings
from .records import Store
from .recovery import recover
from .server import Service

HERE = Path(__file__).resolve().parent
DEFAULT_FOLDER = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "attrition-endpoints"


class UserError(Exception):
    """Bad input or a missing prerequisite: one line, exit 2."""


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (UserError, docker.DockerError) as error:
        print(f"local-endpoints: {error}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="local-endpoints", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(required=True, metavar="COMMAND")
    for name, run, text in (("up", up, "start the service in the background and print its environment"),
                            ("down", down, "stop the service; remove its containers and files"),
                            ("status", status, "say whether the service answers, and where"),
                            ("serve", serve, "run the service in the foreground")):
        command = commands.add_parser(name, help=text, description=text)
        command.set_defaults(run=run)
        command.add_argument("--folder", type=Path, default=DEFAULT_FOLDER,
                             help=f"where its state, model data and captures live (default {DEFAULT_FOLDER})")
        command.add_argument("--port", type=int, default=int(os.environ.get("ATTRITION_ENDPOINTS_PORT", 8480)),
                             help="the port on 127.0.0.1 of both the control plane and the runtime (default 8480)")
        if name in ("up", "serve"):
            command.add_argument("--forward", default=os.environ.get("AWS_ENDPOINT_URL_SAGEMAKER_FORWARD", ""),
                                 help="where every other SageMaker operation goes (moto's URL)")
            command.add_argument("--ping-timeout", type=float, default=120.0,
                                 help="seconds an instance has to answer /ping (default 120)")
            command.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
            command.add_argument("--serverless-idle", type=float, default=300.0,
                                 help="seconds without a request before a serverless instance stops (default 300)")
    return top


def service_id(folder: Path) -> str:
    """The label of the containers of the service kept in `folder`: found again after a restart."""
    return hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]


def serve(args: argparse.Namespace) -> int:
    folder: Path = args.folder.resolve()
    identity = service_id(folder)
    store = Store(folder / "state.json")
    control_port = free_port()
    balancer = Balancer(folder / "balancer", identity, args.port, control_port, free_port())
    s3 = _s3_client(args.region)
    captures = Uploader(folder / "capture", s3)
    asyncs = AsyncInvocations(s3, args.port)
    lifecycle = Lifecycle(store, balancer, Settings(folder, identity, args.ping_timeout, args.serverless_idle), s3,
                          captures, asyncs)
    account = Account(args.region, "123456789012")
    service = Service(control_port, ControlPlane(store, lifecycle, account), account, args.forward, args.port, asyncs)
    for container in docker.labelled(identity):
        if container not in {i.container for e in store.state.endpoints.values() for i in e.instances}:
            docker.remove(container)  # the old balancer, an instance half started when the service stopped
    recover(store, lifecycle)
    signal.signal(signal.SIGTERM, lambda *_: _stop(service))
    print(f"local-endpoints: serving on http://127.0.0.1:{args.port} (state in {folder})", file=sys.stderr, flush=True)
    stop = threading.Event()
    threading.Thread(target=captures.every, args=(stop,), daemon=True).start()
    threading.Thread(target=lifecycle.stop_idle_every, args=(stop,), daemon=True).start()
    try:
        service.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        balancer.stop()
        captures.sync()
    return 0


def _stop(service: Service) -> None:
    threading.Thread(target=service.shutdown, daemon=True).start()


def _s3_client(region: str) -> Any:
    @functools.cache
    def client() -> Any:
        import boto3

        return boto3.session.Session(region_name=region).client("s3")
    return client


def up(args: argparse.Namespace) -> int:
    folder: Path = args.folder.resolve()
    if _answers(args.port):
        print(_environment(args.port))
        return 0
    if not docker.image_exists(IMAGE):
        base = os.environ.get("BASE_IMAGE", "python:3.11-slim-bookworm")
        print(f"local-endpoints: building {IMAGE} (HAProxy) from {base} ...", file=sys.stderr)
        docker.run("build", "--quiet", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "--tag", IMAGE,
                   str(HERE.parent / "balancer"), timeout=900)
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "service.log").open("ab")
    command = [sys.executable, "-m", "attrition_endpoints", "serve", "--folder", str(folder),
               "--port", str(args.port), "--ping-timeout", str(args.ping_timeout), "--region", args.region,
               "--serverless-idle", str(args.serverless_idle)]
    if args.forward:
        command += ["--forward", args.forward]
    process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    (folder / "service.pid").write_text(str(process.pid))
    deadline = time.monotonic() + 60
    while not _answers(args.port):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = (folder / "service.log").read_text(errors="replace").strip().splitlines()[-1:]
            raise UserError(f"the service did not start: {' '.join(tail) or 'no output'} (log: {folder}/service.log)")
        time.sleep(0.2)
    print(_environment(args.port))
    return 0


def down(args: argparse.Namespace) -> int:
    folder: Path = args.folder.resolve()
    pid_file = folder / "service.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                time.sleep(0.1)
        except ProcessLookupError:
            pass
    docker.remove(*docker.labelled(service_id(folder)))
    for name in ("state.json", "service.pid", "service.log"):
        (folder / name).unlink(missing_ok=True)
    for sub in ("balancer", "models"):
        subprocess.run(["rm", "-rf", str(folder / sub)], check=False)
    print(f"local-endpoints: stopped; captured data kept in {folder / 'capture'}", file=sys.stderr)
    return 0


def status(args: argparse.Namespace) -> int:
    if not _answers(args.port):
        print(f"local-endpoints: nothing answers on 127.0.0.1:{args.port}; start it with `local-endpoints up`",
              file=sys.stderr)
        return 1
    print(_environment(args.port))
    return 0


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _environment(port: int) -> str:
    url = f"http://127.0.0.1:{port}"
    return f"export AWS_ENDPOINT_URL_SAGEMAKER={url} AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME={url}"
