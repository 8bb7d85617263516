"""The HTTP app SageMaker talks to: /ping and /invocations (invocations.py), plus the Flask
routes /execution-parameters and /model.

`create_app` takes an already loaded model, so /ping never loads anything. Every error is
answered as JSON {"error": "..."}, and every response names the model version.
"""

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from .invocations import MODEL_VERSION_HEADER, Invocations

log = logging.getLogger(__name__)


def create_app(model, settings, recorder=None) -> Flask:
    """recorder: a recorder.Recorder that keeps each answered request, or None."""
    app = Flask(__name__)
    app.wsgi_app = Invocations(app.wsgi_app, model, settings, recorder)  # type: ignore[method-assign]

    @app.get("/model")
    def model_card():
        """Identity and schema of the served model; no employee data."""
        return jsonify(_model_card(model))

    @app.after_request
    def name_the_model(response):
        response.headers[MODEL_VERSION_HEADER] = model.version
        return response

    @app.get("/execution-parameters")
    def execution_parameters():
        return jsonify(
            MaxConcurrentTransforms=settings.workers,
            BatchStrategy="MULTI_RECORD",
            MaxPayloadInMB=max(1, int(settings.max_payload_mb)),
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        return jsonify(error=error.description), error.code

    @app.errorhandler(Exception)
    def internal_error(error):
        log.exception("internal error while serving %s", request.path)
        return jsonify(error="internal error; the server log has the details"), 500

    return app


def _model_card(model) -> dict:
    manifest = model.manifest
    schema = model.schema
    return {
        "model_version": model.version,
        "trained_at": manifest.get("trained_at"),
        "image_revision": manifest.get("image_revision"),
        "training_job_name": manifest.get("training_job_name"),
        "data": manifest.get("data"),
        "metrics": manifest.get("metrics"),
        "decision_threshold": model.threshold,
        "classes": schema.classes,
        "input_columns": schema.input_columns,
        "label_column": schema.label_column,
        "features": [{"name": f.name, "kind": f.kind, "levels": f.levels} for f in schema.features],
        "dropped": schema.dropped,
        "feature_importance": model.metadata.get("feature_importance", [])[:10],
        "predictor": model.predictor.name,
    }
