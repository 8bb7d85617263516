"""A model version in an MLflow Model Registry, over its REST API (urllib only: the CLI needs
boto3 alone): its tags, its model files and its evaluation, to promote it to SageMaker; a tag or
the `champion` alias set, to approve it. With MLFLOW_TRACKING_USERNAME and
MLFLOW_TRACKING_PASSWORD (MLflow's own variables) every request carries them as basic auth, for a
registry with authentication (pipelines/registry_server.py)."""

import base64
import contextlib
import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from attrition.core import contract

from .errors import UserError

MODEL_FILES = (*contract.MODEL_FILES, contract.STATISTICS_FILE, contract.CONSTRAINTS_FILE)


class MlflowError(UserError):
    """The MLflow server said no, or is not there: one line."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the HTTP status MLflow answered, if it answered


def version(tracking_uri: str, name: str, number: str) -> dict:
    """{"tags": {...}, "run_id": ..., "source": ...} of registered model `name`, version `number`."""
    found = _get(tracking_uri, "/api/2.0/mlflow/model-versions/get", {"name": name, "version": number})
    model_version = found["model_version"]
    return {"tags": {t["key"]: t["value"] for t in model_version.get("tags", [])},
            "run_id": model_version["run_id"], "source": model_version.get("source", "")}


def set_tag(tracking_uri: str, name: str, number: str, key: str, value: str) -> None:
    _post(tracking_uri, "/api/2.0/mlflow/model-versions/set-tag",
          {"name": name, "version": number, "key": key, "value": value})


def set_alias(tracking_uri: str, name: str, alias: str, number: str) -> None:
    _post(tracking_uri, "/api/2.0/mlflow/registered-models/alias", {"name": name, "alias": alias, "version": number})


def delete_alias(tracking_uri: str, name: str, alias: str) -> None:
    _open(urllib.request.Request(f"{tracking_uri.rstrip('/')}/api/2.0/mlflow/registered-models/alias",
                                 data=json.dumps({"name": name, "alias": alias}).encode(),
                                 headers={"Content-Type": "application/json"}, method="DELETE"))


def authenticated_user(tracking_uri: str) -> str | None:
    """The user the registry authenticated these credentials as; None without credentials or
    when the registry has no authentication (nothing to verify a name against)."""
    if not _credentials():
        return None
    try:
        found = _get(tracking_uri, "/api/2.0/mlflow/users/current", {})
    except MlflowError as error:
        if error.status == 404:
            return None
        raise
    return str(found["user"]["username"])


def alias_version(tracking_uri: str, name: str, alias: str) -> str | None:
    """The version the alias names, or None when no version carries it."""
    try:
        found = _get(tracking_uri, "/api/2.0/mlflow/registered-models/alias", {"name": name, "alias": alias})
    except MlflowError as error:  # MLflow 2.x answers 400 "alias ... not found", others 404
        if error.status == 404 or (error.status == 400 and "not found" in str(error)):
            return None
        raise
    return str(found["model_version"]["version"])


def download(tracking_uri: str, run_id: str, folder: Path) -> dict:
    """The model's files into `folder`; returns the evaluation the run logged."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        (folder / name).write_bytes(_artifact(tracking_uri, run_id, f"model/{name}"))
    return json.loads(_artifact(tracking_uri, run_id, contract.EVALUATION_FILE))


class TamperedFiles(UserError):
    """A model version's files are not the ones registered: one line naming the first that differs."""


def check_files(folder: Path, tags: dict, label: str) -> None:
    """Refuse a downloaded model whose files differ from what was registered. The version's tags
    were set at registration and a run's artifacts can be replaced later (an ordinary
    log_artifact): model.txt must match the tag `model_sha256`, manifest.json the tag
    `manifest_sha256` (registrations before it had none), and every other file the manifest's."""
    def differs(name: str, expected: str) -> None:
        path = folder / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise TamperedFiles(f"{label}: {name} is not the file registered with it (its SHA-256 differs): "
                                "the run's files were replaced after registration; refused")

    if not tags.get("model_sha256"):
        raise TamperedFiles(f"{label} has no model_sha256 tag: its files cannot be checked; refused")
    differs(contract.MODEL_FILE, tags["model_sha256"])
    if tags.get("manifest_sha256"):
        differs(contract.MANIFEST_FILE, tags["manifest_sha256"])
    try:
        registered = json.loads((folder / contract.MANIFEST_FILE).read_text()).get("files_sha256") or {}
    except (OSError, ValueError, AttributeError):
        raise TamperedFiles(f"{label}: manifest.json is missing or not a manifest; refused") from None
    for name, expected in registered.items():
        differs(name, str(expected))


def _artifact(tracking_uri: str, run_id: str, path: str) -> bytes:
    query = urllib.parse.urlencode({"run_uuid": run_id, "path": path})
    return _open(f"{tracking_uri.rstrip('/')}/get-artifact?{query}").read()


def _get(tracking_uri: str, route: str, params: dict) -> dict:
    url = f"{tracking_uri.rstrip('/')}{route}?{urllib.parse.urlencode(params)}"
    return json.loads(_open(url).read())


def _post(tracking_uri: str, route: str, body: dict) -> None:
    _open(urllib.request.Request(f"{tracking_uri.rstrip('/')}{route}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST"))


def _credentials() -> str:
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME", ""), os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
    return base64.b64encode(f"{user}:{password}".encode()).decode() if user and password else ""


def _open(request: "str | urllib.request.Request"):
    url = request if isinstance(request, str) else request.full_url
    if isinstance(request, str):
        request = urllib.request.Request(request)
    if _credentials():
        request.add_header("Authorization", f"Basic {_credentials()}")
    try:
        return urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        detail = error.read()[:300].decode("utf-8", "replace")
        with contextlib.suppress(ValueError):
            detail = json.loads(detail).get("message", detail)
        raise MlflowError(f"MLflow answered {error.code} for {url.split('?')[0]}: {detail}", error.code) from None
    except OSError as error:
        server = url.split("/api")[0].split("/get-artifact")[0]
        raise MlflowError(f"MLflow at {server} does not answer: {error}") from None
