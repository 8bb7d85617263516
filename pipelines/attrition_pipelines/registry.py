"""Register a trained model in the MLflow Model Registry, carrying what a SageMaker model package
carries: the evaluation metrics, the lineage (data SHA-256, image, model version) as tags, the
approval status as a tag (PendingManualApproval, Approved, Rejected), and the model files.

Both pipelines' local runs register here (SageMaker's local mode has no Model Registry). Point
MLFLOW_TRACKING_URI (or `tracking_uri`) at your MLflow server: `mlflow server --backend-store-uri
sqlite:///mlflow.db --host 127.0.0.1 --port 5000` starts one; SageMaker's managed MLflow is the
same API (its tracking server ARN as the URI, with the sagemaker-mlflow plugin installed).

The approved model that new ones must beat carries the alias `champion`. Every registration and
promotion is also an audit record (attrition_deploy/audit.py): a line in the audit log and a tag
`audit.<event>` on the model version.
"""

import contextlib
import hashlib
import json
import os
from pathlib import Path

from attrition.core import contract
from attrition_deploy import audit, mlflow_registry, plans

APPROVALS = ("PendingManualApproval", "Approved", "Rejected")
QUALITY = ("auc", "pr_auc", "f1", "precision", "recall", "accuracy")


def register(name: str, model_dir: Path, evaluation: dict, image: str, approval: str = "PendingManualApproval",
             tracking_uri: str | None = None, source: str = "", bias: dict | None = None,
             log: Path | None = None, trigger: str = "", card: dict | None = None) -> dict:
    """A new version of registered model `name`, with its evaluation (and bias audit and model
    card, when given: the card's status, tag model_card_status, follows the approval);
    returns {"name", "version", "run_id", "model_version"}. A model registered before (the same
    model version) is not registered again: its version is returned, with "already_registered"."""
    import mlflow
    from mlflow.tracking import MlflowClient

    if approval not in APPROVALS:
        raise ValueError(f"approval {approval!r} must be one of {', '.join(APPROVALS)}")
    _connect(tracking_uri)
    manifest = json.loads((model_dir / contract.MANIFEST_FILE).read_text())
    same = _version_of_model(MlflowClient(), name, manifest["model_version"])
    if same is not None:  # the same model.txt (same data, seed and settings): one version, not two
        return {"name": name, "version": same.version, "run_id": same.run_id,
                "model_version": manifest["model_version"], "already_registered": True}
    quality = evaluation["binary_classification_metrics"]
    tags = {
        "model_version": manifest["model_version"],
        "model_sha256": manifest["model_sha256"],
        "manifest_sha256": hashlib.sha256((model_dir / contract.MANIFEST_FILE).read_bytes()).hexdigest(),
        "image": image,
        "image_revision": str(manifest.get("image_revision")),
        contract.APPROVAL_TAG: approval,
        "source": source,
        **({contract.MODEL_CARD_STATUS_TAG: plans.CARD_STATUS[approval]} if card is not None else {}),
        **{f"data_{channel}_{i}": f"{entry['file']} sha256:{entry['sha256']} rows:{entry['rows']}"
           for channel, entries in (manifest.get("data") or {}).items() for i, entry in enumerate(entries)},
        **{f"metric_{metric}": f"{float(quality[metric]['value']):.4f}" for metric in QUALITY},
    }
    mlflow.set_experiment(name)
    with mlflow.start_run(run_name=f"{name}-{manifest['model_version']}") as run:
        mlflow.log_metrics({f"test_{metric}": float(quality[metric]["value"]) for metric in QUALITY})
        mlflow.log_dict(evaluation, contract.EVALUATION_FILE)
        if bias is not None:
            mlflow.log_dict(bias, contract.BIAS_FILE)
        if card is not None:
            mlflow.log_dict(card, contract.MODEL_CARD_FILE)
        mlflow.log_artifacts(str(model_dir), "model")
        mlflow.set_tags(tags)
    client = MlflowClient()
    with contextlib.suppress(mlflow.exceptions.MlflowException):  # it exists already
        client.create_registered_model(name, description="Employee attrition models (attrition-sagemaker)")
    version = client.create_model_version(name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id,
                                          tags=tags)
    registered = {"name": name, "version": version.version, "run_id": run.info.run_id,
                  "model_version": manifest["model_version"]}
    _audit(client, log, audit.record(
        "registered", actor=_actor(source), trigger=trigger, model=registered,
        data=audit.data_hashes(manifest),
        metrics={metric: float(quality[metric]["value"]) for metric in QUALITY}, verdict=approval,
        reasons=evaluation.get("attrition", {}).get("gate", {}).get("reasons", [])))
    return registered


def _version_of_model(client, name: str, model_version: str):
    """The registered version of `name` whose model is `model_version`, if there is one."""
    import mlflow

    try:
        versions = client.search_model_versions(f"name='{name}'")
    except mlflow.exceptions.MlflowException:  # no such registered model yet
        return None
    return next((v for v in versions if v.tags.get("model_version") == model_version), None)


def champion(name: str, folder: Path, tracking_uri: str | None = None, log: Path | None = None) -> dict | None:
    """The version with the `champion` alias, its model files downloaded into `folder`; None when
    no version has it yet."""
    import mlflow
    from mlflow.tracking import MlflowClient

    _connect(tracking_uri)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    client = MlflowClient()
    try:
        found = client.get_model_version_by_alias(name, contract.CHAMPION_ALIAS)
    except mlflow.exceptions.MlflowException as error:
        if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None  # no such model, or no version has the alias: there is no champion yet
        raise ValueError(f"MLflow registry: {str(error).splitlines()[0]}") from None
    folder.mkdir(parents=True, exist_ok=True)
    mlflow.artifacts.download_artifacts(run_id=found.run_id, artifact_path="model", dst_path=str(folder))
    label = f"MLflow model {name} version {found.version} ({contract.CHAMPION_ALIAS})"
    try:
        mlflow_registry.check_files(folder / "model", dict(found.tags), label)
    except mlflow_registry.TamperedFiles as error:
        entry = audit.record("refused", actor=audit.actor(), trigger="champion download",
                             model={"name": name, "version": found.version,
                                    "model_version": found.tags.get("model_version", "")},
                             data=audit.metadata_hashes(dict(found.tags)),
                             metrics=audit.metric_values(dict(found.tags)),
                             verdict="Refused: files differ from the registration", reasons=[str(error)])
        _audit(client, log, entry)
        raise
    return {"name": name, "version": found.version, "run_id": found.run_id,
            "model_version": found.tags.get("model_version", ""), "path": str(folder / "model")}


def promote(registered: dict, reasons: list[str], tracking_uri: str | None = None, log: Path | None = None,
            actor: str = "", trigger: str = "", before: dict | None = None, metrics: dict | None = None) -> None:
    """Make a registered version the champion: approved, and the alias moved to it. A registry
    with separation of duties refuses it to anyone but an approver: the refusal is recorded."""
    from mlflow.exceptions import RestException
    from mlflow.tracking import MlflowClient

    _connect(tracking_uri)
    client = MlflowClient()
    try:
        client.set_model_version_tag(registered["name"], registered["version"], contract.APPROVAL_TAG, "Approved")
    except RestException as error:
        if error.error_code != "PERMISSION_DENIED":
            raise
        audit.append(log or audit.default_log(), audit.record(
            "refused", actor=_actor(actor), trigger=trigger, model=registered, champion=before, metrics=metrics,
            verdict="promotion refused by the registry", reasons=[*reasons, error.message]))
        raise
    if contract.MODEL_CARD_STATUS_TAG in client.get_model_version(registered["name"], registered["version"]).tags:
        client.set_model_version_tag(registered["name"], registered["version"], contract.MODEL_CARD_STATUS_TAG,
                                     plans.CARD_STATUS["Approved"])
    client.set_registered_model_alias(registered["name"], contract.CHAMPION_ALIAS, registered["version"])
    _audit(client, log, audit.record("promoted", actor=_actor(actor), trigger=trigger, model=registered,
                                     champion=before, metrics=metrics, verdict="Approved: the new champion",
                                     reasons=reasons))


def _audit(client, log: Path | None, entry: dict) -> None:
    """The record in the log, and as a tag on the model version it is about."""
    entry = audit.append(log or audit.default_log(), entry)
    model = entry["model"]
    client.set_model_version_tag(model["name"], model["version"], contract.AUDIT_TAG_PREFIX + entry["event"],
                                 json.dumps(entry, sort_keys=True)[:5000])


def _actor(asserted: str) -> str:
    """Who acts: the user the registry authenticated (MLFLOW_TRACKING_USERNAME, checked by it), or,
    on a registry without authentication, the name given (or the shell's user)."""
    import mlflow

    return mlflow_registry.authenticated_user(mlflow.get_tracking_uri()) or asserted or audit.actor()


def _connect(tracking_uri: str | None) -> None:
    import mlflow

    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
