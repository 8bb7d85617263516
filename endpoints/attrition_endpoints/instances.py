"""Instances: a model's data fetched and unpacked once, then one container of the image running
`serve` per instance, ready when it answers /ping."""

import shutil
import socket
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import docker
from .records import Instance


class InstanceError(Exception):
    """Why an instance could not start: SageMaker's FailureReason for the endpoint."""


@dataclass(frozen=True)
class Launch:
    """What an instance of one variant needs: the model's image, data and environment, and where
    its capture goes (None: no capture)."""

    endpoint: str
    variant: str
    image: str
    model_dir: Path
    environment: dict[str, str]
    capture_dir: Path | None
    capture_percent: float


def unpack_model(s3: Any, url: str, folder: Path) -> Path:
    """s3://bucket/key of a model.tar.gz, unpacked into `folder` (reused when already there)."""
    done = folder / ".unpacked"
    if done.exists():
        return folder
    bucket, _, key = url.removeprefix("s3://").partition("/")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    archive = folder.with_suffix(".tar.gz")
    try:
        s3.download_file(bucket, key, str(archive))
    except Exception as error:  # botocore's errors: a missing bucket or key, S3 not answering
        raise InstanceError(f"Could not download model data from {url}: {error}") from None
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise InstanceError(f"Failed to extract model data archive from URL \"{url}\". "
                            f"Please ensure that the object located at the URL is a valid tar.gz archive: "
                            f"{error}") from None
    finally:
        archive.unlink(missing_ok=True)
    done.touch()
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def check_image(image: str) -> None:
    if not docker.image_exists(image):
        raise InstanceError(f"The image '{image}' does not exist on this machine's Docker engine.")


def start(launch: Launch, service: str, ping_timeout: float) -> Instance:
    """Start one instance and wait for its /ping; InstanceError (container removed) if it never answers."""
    check_image(launch.image)
    port = free_port()
    environment = {**launch.environment, "SAGEMAKER_BIND_TO_PORT": str(port),
                   "SAGEMAKER_MODEL_SERVER_WORKERS": launch.environment.get("SAGEMAKER_MODEL_SERVER_WORKERS", "1")}
    mounts = [(str(launch.model_dir), "/opt/ml/model", "ro")]
    if launch.capture_dir:
        launch.capture_dir.mkdir(parents=True, exist_ok=True)
        launch.capture_dir.chmod(0o777)  # the image drops root before it writes
        environment.update(ATTRITION_CAPTURE_DIR="/capture", ATTRITION_CAPTURE_PERCENT=str(launch.capture_percent))
        mounts.append((str(launch.capture_dir), "/capture", "rw"))
    name = f"attrition-{launch.endpoint}-{launch.variant}-{uuid.uuid4().hex[:8]}"
    container = docker.start(launch.image, name, service, environment, mounts, ["serve"])
    instance = Instance(launch.variant, container, port, time.time())
    try:
        _wait_for_ping(instance, ping_timeout)
    except InstanceError:
        docker.remove(container)
        raise
    return instance


def _wait_for_ping(instance: Instance, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{instance.port}/ping", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if not docker.running(instance.container):
            raise InstanceError(f"The primary container for production variant {instance.variant} exited "
                                f"before it answered /ping: {docker.logs_tail(instance.container)}")
        time.sleep(0.25)
    raise InstanceError(f"The primary container for production variant {instance.variant} did not pass the "
                        f"ping health check in {timeout:.0f} s: {docker.logs_tail(instance.container)}")
