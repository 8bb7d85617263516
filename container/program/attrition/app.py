"""The Flask app SageMaker talks to: /ping, /invocations, /execution-parameters, and /model.

`create_app` takes an already loaded model, so /ping never loads anything. Every error
is answered as JSON {"error": "..."} with a 4xx status that says whose fault it is;
request bodies (employee records) are never logged.
"""

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from . import codecs, explanations, features, mediatypes
from .errors import NotAcceptable, RequestError, UnsupportedMediaType, UserError

log = logging.getLogger(__name__)
CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
MODEL_VERSION_HEADER = "X-Attrition-Model-Version"


def create_app(model, settings, recorder=None) -> Flask:
    """recorder: a datacapture.Recorder that keeps each answered request, or None."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_payload_bytes

    @app.get("/ping")
    def ping():
        return Response(status=200)

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

    @app.post("/invocations")
    def invocations():
        accept = _response_type(settings.default_accept)
        media_type = request.mimetype
        if media_type not in mediatypes.REQUEST_TYPES:
            raise UnsupportedMediaType(
                f"Content-Type {media_type or '(none)'!r} is not supported; use one of "
                f"{', '.join(mediatypes.REQUEST_TYPES[:3])}"
            )
        charset = request.mimetype_params.get("charset", "")
        body = request.get_data(cache=False)
        frame = codecs.decode(body, media_type, charset, model.schema)
        top_k = explanations.top_k_from(
            request.args.get("explain"),
            explanations.custom_attribute(request.headers.get(CUSTOM_ATTRIBUTES, "")),
            frame.explain,
        )
        matrix = features.encode(model.schema, frame.columns, frame.n_rows)
        probabilities = model.predict(matrix)
        drivers = None
        if top_k:
            drivers = explanations.top_drivers(model, matrix, frame.columns, top_k,
                                               settings.predict_threads)
        answer = codecs.encode(probabilities, model.labels(probabilities), accept, drivers)
        if recorder:
            recorder.record(body, request.content_type, answer.encode(), accept)
        return Response(answer, mimetype=accept)

    @app.errorhandler(UserError)
    def user_error(error):
        status = error.status if isinstance(error, RequestError) else 400
        return jsonify(error=str(error)), status

    @app.errorhandler(HTTPException)
    def http_error(error):
        message = error.description
        if error.code == 413:
            _discard_body()
            message = (
                f"request body is larger than {settings.max_payload_mb:g} MB; split it, or raise "
                "SAGEMAKER_MAX_PAYLOAD_IN_MB"
            )
        return jsonify(error=message), error.code

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
    }


def _discard_body(limit: int = 256 * 1024 * 1024) -> None:
    """Read an oversized body to its end, so the client gets our 413 and not a broken pipe."""
    stream = request.environ["wsgi.input"]
    remaining = min(request.content_length or 0, limit)
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 20))
        if not chunk:
            break
        remaining -= len(chunk)


def _response_type(default: str) -> str:
    """Pick the response media type from Accept before any work is done (406 if none fits)."""
    accept = request.accept_mimetypes
    if not accept or accept.best == "*/*":
        return default
    chosen = accept.best_match(
        [default] + [t for t in mediatypes.RESPONSE_TYPES if t != default], default=None
    )
    if chosen is None:
        raise NotAcceptable(
            f"Accept {request.headers.get('Accept')!r} cannot be met; this model answers "
            f"{', '.join(mediatypes.RESPONSE_TYPES)}"
        )
    return chosen
