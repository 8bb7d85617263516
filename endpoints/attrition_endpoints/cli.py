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
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from . import docker, neighbours
from .alarms import Alarms
from .api import Account, ControlPlane
from .asynchronous import AsyncInvocations
from .autoscaling import Autoscaler
from .balancer import IMAGE, Balancer
from .captures import Uploader
from .instances import free_port
from .lifecycle import Lifecycle, Settings
from .metrics import Metrics
from .records import Store, load
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
        command.add_argument("--port", type=int, default=int(os.environ.get("ATTRITION_ENDPOINTS_PORT") or 8480),
                             help="the port on 127.0.0.1 of both the control plane and the runtime (default "
                                  "ATTRITION_ENDPOINTS_PORT or 8480; moto on port + 1, MLflow on port + 2)")
        if name in ("up", "serve"):
            command.add_argument("--forward", default="",
                                 help="the URL of a moto server of your own, for S3 and every other SageMaker "
                                      "operation (default: `up` starts one on port + 1)")
            command.add_argument("--ping-timeout", type=float, default=120.0,
                                 help="seconds an instance has to answer /ping (default 120)")
            command.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
            command.add_argument("--serverless-idle", type=float, default=300.0,
                                 help="seconds without a request before a serverless instance stops (default 300)")
            command.add_argument("--metrics-period", type=float, default=60.0,
                                 help="seconds between endpoint metrics published to CloudWatch (default 60)")
            command.add_argument("--autoscaling-window", type=float, default=60.0,
                                 help="seconds of traffic autoscaling averages invocations over (default 60)")
        if name == "up":
            command.add_argument("--no-mlflow", action="store_true", help="do not start the MLflow registry")
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
    s3 = _client(args.region, "s3")
    captures = Uploader(folder / "capture", s3)
    asyncs = AsyncInvocations(s3, args.port)
    cloudwatch = _client(args.region, "cloudwatch")
    lifecycle = Lifecycle(store, balancer, Settings(folder, identity, args.ping_timeout, args.serverless_idle), s3,
                          captures, asyncs, Alarms(cloudwatch))
    account = Account(args.region, "123456789012")
    service = Service(control_port, ControlPlane(store, lifecycle, account), account, args.forward, args.port, asyncs)
    for container in docker.labelled(identity):
        if container not in {i.container for e in store.state.endpoints.values() for i in e.instances + e.incoming}:
            docker.remove(container)  # the old balancer, an instance half started when the service stopped
    recover(store, lifecycle)
    signal.signal(signal.SIGTERM, lambda *_: _stop(service))
    print(f"local-endpoints: serving on http://127.0.0.1:{args.port} (state in {folder})", file=sys.stderr, flush=True)
    stop = threading.Event()
    threading.Thread(target=captures.every, args=(stop,), daemon=True).start()
    threading.Thread(target=lifecycle.stop_idle_every, args=(stop,), daemon=True).start()
    metrics = Metrics(store, balancer, cloudwatch, args.metrics_period)
    threading.Thread(target=metrics.every, args=(stop,), daemon=True).start()
    autoscaler = Autoscaler(lifecycle, metrics, _client(args.region, "application-autoscaling"),
                            args.autoscaling_window)
    threading.Thread(target=autoscaler.every, args=(stop,), daemon=True).start()
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


def _client(region: str, service: str) -> Any:
    """A boto3 client made on first use (moto's, by the environment `up` gives the service)."""
    @functools.cache
    def client() -> Any:
        import boto3

        return boto3.session.Session(region_name=region).client(service)
    return client


def up(args: argparse.Namespace) -> int:
    folder: Path = args.folder.resolve()
    if neighbours.answers(f"http://127.0.0.1:{args.port}/ping"):
        print(_environment(folder, args.port))
        return 0
    if not docker.image_exists(IMAGE):
        base = os.environ.get("BASE_IMAGE", "python:3.11-slim-bookworm")
        print(f"local-endpoints: building {IMAGE} (HAProxy) from {base} ...", file=sys.stderr)
        docker.run("build", "--quiet", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "--tag", IMAGE,
                   str(HERE.parent / "balancer"), timeout=900)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        forward = args.forward or _moto(folder, args.port + 1)
        if not args.no_mlflow:
            neighbours.mlflow(folder, args.port + 2)
        environment = {**os.environ, **_aws(folder)}
        neighbours.start("endpoints", "SageMaker endpoints: the control plane and the runtime", folder, args.port,
                         [sys.executable, "-m", "attrition_endpoints", "serve", "--folder", str(folder),
                          "--port", str(args.port), "--ping-timeout", str(args.ping_timeout), "--region", args.region,
                          "--serverless-idle", str(args.serverless_idle), "--metrics-period", str(args.metrics_period),
                          "--autoscaling-window", str(args.autoscaling_window),
                          "--forward", forward],
                         "/ping", environment)
    except neighbours.NotStarted as error:
        neighbours.stop_all(folder)
        raise UserError(str(error)) from None
    for neighbour in neighbours.started_in(folder):
        print(f"local-endpoints: {neighbour.url}  {neighbour.what}", file=sys.stderr)
    print(_environment(folder, args.port))
    return 0


def _moto(folder: Path, port: int) -> str:
    started = neighbours.moto(folder, port)
    if started is None:
        raise UserError("moto is not installed in this Python: pip install 'moto[server]', or pass --forward with "
                        "the URL of a moto server of your own")
    return started.url


def _aws(folder: Path) -> dict[str, str]:
    """With our own moto: every AWS service goes to it, with its dummy keys (nothing reaches AWS)."""
    moto = next((n for n in neighbours.started_in(folder) if n.name == "moto"), None)
    if moto is None:
        return {}
    return {"AWS_ENDPOINT_URL": moto.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}


def down(args: argparse.Namespace) -> int:
    folder: Path = args.folder.resolve()
    neighbours.stop_all(folder)
    docker.remove(*docker.labelled(service_id(folder)))
    for name in ("state.json", "endpoints.log"):
        (folder / name).unlink(missing_ok=True)
    for sub in ("balancer", "models"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    kept = [name for name in ("capture", "mlflow") if (folder / name).exists()]
    print(f"local-endpoints: stopped; kept {', '.join(kept) or 'nothing'} in {folder}", file=sys.stderr)
    return 0


def status(args: argparse.Namespace) -> int:
    folder: Path = args.folder.resolve()
    if not neighbours.answers(f"http://127.0.0.1:{args.port}/ping"):
        print(f"local-endpoints: nothing answers on 127.0.0.1:{args.port}; start it with `local-endpoints up`",
              file=sys.stderr)
        return 1
    for neighbour in neighbours.started_in(folder):
        print(f"local-endpoints: {neighbour.url}  {neighbour.what}", file=sys.stderr)
    for endpoint in load(folder / "state.json").endpoints.values():
        captured = sorted(str(p) for p in (folder / "capture").glob(f"*/**/{endpoint.name}") if p.is_dir())
        print(f"local-endpoints: endpoint {endpoint.name}: {endpoint.status}"
              + (f", captured in {', '.join(captured)}" if captured else ""), file=sys.stderr)
    print(_environment(folder, args.port))
    return 0


def _environment(folder: Path, port: int) -> str:
    """The line a user evals: boto3 (and so attrition-deploy, the SDK, their own code) reaches the
    endpoint service for SageMaker and its runtime, moto for the rest, MLflow for the registry."""
    url = f"http://127.0.0.1:{port}"
    values = {**_aws(folder), "AWS_ENDPOINT_URL_SAGEMAKER": url, "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME": url}
    mlflow = next((n for n in neighbours.started_in(folder) if n.name == "mlflow"), None)
    if mlflow:
        values["MLFLOW_TRACKING_URI"] = mlflow.url
    return "export " + " ".join(f"{k}={v}" for k, v in values.items())
