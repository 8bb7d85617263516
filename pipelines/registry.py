"""Register a trained model in the MLflow Model Registry, carrying what a SageMaker model package
carries: the evaluation metrics, the lineage (data SHA-256, image, model version) as tags, the
approval status as a tag (PendingManualApproval, Approved, Rejected), and the model files.

Both pipelines' local runs register here (SageMaker's local mode has no Model Registry). Point
MLFLOW_TRACKING_URI (or `tracking_uri`) at your MLflow server: `mlflow server --backend-store-uri
sqlite:///mlflow.db --host 127.0.0.1 --port 5000` starts one; SageMaker's managed MLflow is the
same API (its tracking server ARN as the URI, with the sagemaker-mlflow plugin installed).
"""

import contextlib
import json
from pathlib import Path

APPROVALS = ("PendingManualApproval", "Approved", "Rejected")


def register(name: str, model_dir: Path, evaluation: dict, image: str, approval: str = "PendingManualApproval",
             tracking_uri: str | None = None, source: str = "") -> dict:
    """A new version of registered model `name`; returns {"name", "version", "run_id"}."""
    import mlflow
    from mlflow.tracking import MlflowClient

    if approval not in APPROVALS:
        raise ValueError(f"approval {approval!r} must be one of {', '.join(APPROVALS)}")
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    quality = evaluation["binary_classification_metrics"]
    tags = {
        "model_version": manifest["model_version"],
        "model_sha256": manifest["model_sha256"],
        "image": image,
        "image_revision": str(manifest.get("image_revision")),
        "approval": approval,
        "source": source,
        **{f"data_{channel}_{i}": f"{entry['file']} sha256:{entry['sha256']} rows:{entry['rows']}"
           for channel, entries in (manifest.get("data") or {}).items() for i, entry in enumerate(entries)},
    }
    mlflow.set_experiment(name)
    with mlflow.start_run(run_name=f"{name}-{manifest['model_version']}") as run:
        mlflow.log_metrics({f"test_{metric}": float(quality[metric]["value"])
                            for metric in ("auc", "pr_auc", "f1", "precision", "recall", "accuracy")})
        mlflow.log_dict(evaluation, "evaluation.json")
        mlflow.log_artifacts(str(model_dir), "model")
        mlflow.set_tags(tags)
    client = MlflowClient()
    with contextlib.suppress(mlflow.exceptions.MlflowException):  # it exists already
        client.create_registered_model(name, description="Employee attrition models (attrition-sagemaker)")
    version = client.create_model_version(name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id,
                                          tags=tags)
    return {"name": name, "version": version.version, "run_id": run.info.run_id}
