"""The local endpoint service as a user runs it: `local-endpoints up` on loopback, moto behind it
for S3 and every other SageMaker operation, two models of the bundled data (different seeds) in
moto's S3, and the real image as instances. No AWS: dummy keys, a proxy that refuses everything.
`down` at the end, and nothing the service started may be left."""

import os
import subprocess
import tarfile
from pathlib import Path

import boto3
import pytest

from tests.container.docker_helpers import free_port
from tests.helpers import BUNDLED_CSV, FAST, make_opt_ml, run_training, script

CLI = script("local-endpoints")
DEPLOY = script("attrition-deploy")
ROLE = "arn:aws:iam::123456789012:role/attrition-endpoint"
BUCKET = "attrition-local"
SERVERLESS_IDLE_S = 3


def model_tar(folder: Path, seed: int, export: str = "") -> Path:
    paths = make_opt_ml(folder / f"ml-{seed}", {**FAST, "seed": str(seed)},
                        {"train": {"ibm.csv": export or BUNDLED_CSV.read_text(encoding="utf-8-sig")}})
    assert run_training(paths) == 0
    archive = folder / f"model-{seed}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for item in sorted(paths.model_dir.iterdir()):
            tar.add(item, arcname=item.name)
    return archive


@pytest.fixture(scope="module")
def stack(image, moto_server, refusing_proxy, tmp_path_factory):
    """The environment a user exports after `up`: boto3 reaches the service for SageMaker and its
    runtime, moto for everything else."""
    folder = tmp_path_factory.mktemp("endpoints")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ENDPOINT_URL=moto_server, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(folder / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(folder / "none"), AWS_EC2_METADATA_DISABLED="true",
               HTTPS_PROXY=refusing_proxy, HTTP_PROXY=refusing_proxy, NO_PROXY="localhost,127.0.0.1")
    s3 = boto3.session.Session(region_name="us-east-1", aws_access_key_id="testing",
                               aws_secret_access_key="testing").client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket=BUCKET)
    for seed in (1, 2):
        s3.upload_file(str(model_tar(folder, seed)), BUCKET, f"models/seed-{seed}/model.tar.gz")
    # a challenger that refuses every row of the export: it was trained with one more column
    header, *rows = BUNDLED_CSV.read_text(encoding="utf-8-sig").splitlines()
    wider = model_tar(folder, 3, "\n".join([header + ",Extra", *(row + ",1" for row in rows)]) + "\n")
    s3.upload_file(str(wider), BUCKET, "models/wider/model.tar.gz")
    s3.put_object(Bucket=BUCKET, Key="models/broken/model.tar.gz", Body=b"not a tar archive")
    unloadable = folder / "unloadable.tar.gz"
    with tarfile.open(unloadable, "w:gz") as tar:  # a whole archive, but no model in it
        note = folder / "model.txt"
        note.write_text("this is not a LightGBM model\n")
        tar.add(note, arcname="model.txt")
    s3.upload_file(str(unloadable), BUCKET, "models/unloadable/model.tar.gz")
    port = free_port()
    state = folder / "state"
    common = ["--folder", str(state), "--port", str(port)]
    started = subprocess.run([CLI, "up", *common, "--forward", moto_server, "--ping-timeout", "60",
                              "--serverless-idle", str(SERVERLESS_IDLE_S), "--metrics-period", "1",
                              "--autoscaling-window", "3"],
                             env=env, capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, started.stderr
    exports = dict(pair.split("=", 1) for pair in started.stdout.split()[1:])
    env.update(exports)
    yield Stack(env, s3, state, common, image)
    stopped = subprocess.run([CLI, "down", *common], env=env, capture_output=True, text=True,
                             timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    from attrition_endpoints.cli import service_id
    from attrition_endpoints.docker import LABEL
    left = subprocess.run(["docker", "ps", "-a", "-q", "--filter", f"label={LABEL}={service_id(state)}"],
                          capture_output=True, text=True).stdout.split()
    assert left == [], f"down left containers behind: {left}"
    assert {p.name for p in state.iterdir()} <= {"capture"}  # the captured data alone is kept


class Stack:
    def __init__(self, env: dict, s3, state: Path, common: list[str], image: str):
        self.env, self.s3, self.state, self.common, self.image = env, s3, state, common, image

    def client(self, service: str, config=None):
        """A boto3 client made as a user's code makes it: no endpoint_url, the environment decides."""
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env)
        try:
            return boto3.session.Session().client(service, config=config)
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def deploy_cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([DEPLOY, *args], env=self.env, capture_output=True, text=True,
                              timeout=600)

    def service(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([CLI, *args, *self.common], env=self.env, capture_output=True,
                              text=True, timeout=600)
