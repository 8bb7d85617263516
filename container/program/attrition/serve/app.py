"""The HTTP app SageMaker talks to, as an ASGI application run by gunicorn's asyncio worker.

Routes: GET /ping, POST /invocations (invocations.py), GET /model, GET /execution-parameters,
GET /openapi.json (the contract, kept true by tests/unit/serve/test_openapi.py). Request bodies
are read asynchronously before any work starts, so slow or stalled clients hold a connection
but never a worker. Every error is JSON {"error": "..."}, and every response names the model
version. `App` takes an already loaded model, so /ping never loads anything.
"""

import json
import logging
import re
from pathlib import Path
from typing import Any

from ..core.platform.environment import ServingSettings
from ..core.platform.errors import PayloadTooLarge, RequestError, UserError
from ..core.predict import curves, levers
from ..core.predict.model import Model
from ..core.predict.stumps import StumpPredictor
from .invocations import Invocations, Request
from .recorder import Recorder

log = logging.getLogger(__name__)
MODEL_VERSION_HEADER = "X-Attrition-Model-Version"
CUSTOM_ATTRIBUTES = b"x-amzn-sagemaker-custom-attributes"
INFERENCE_ID = b"x-amzn-sagemaker-inference-id"
EVENT_ID = b"x-attrition-event-id"
EVENT_ID_PATTERN = re.compile(r"[A-Za-z0-9-]{1,64}")
OPENAPI_FILE = Path(__file__).with_name("openapi.json")
DISCARD_LIMIT = 256 * 1024 * 1024  # read at most this much of a refused body, then stop
JSON_TYPE = b"application/json"
Scope = dict[str, Any]


class App:
    def __init__(self, model: Model, settings: ServingSettings, recorder: Recorder | None = None):
        self.settings = settings
        self.invocations = Invocations(model, settings, recorder)
        self.version = (MODEL_VERSION_HEADER.lower().encode(), model.version.encode())
        self.documents = {  # GET routes: their bodies never change while the worker lives
            "/model": json.dumps(model_card(model)).encode(),
            "/execution-parameters": json.dumps({
                "MaxConcurrentTransforms": settings.workers, "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": max(1, int(settings.max_payload_mb))}).encode(),
            "/openapi.json": OPENAPI_FILE.read_bytes(),
        }

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets: gunicorn closes them
        path, method = scope["path"], scope["method"]
        if path == "/invocations":
            if method != "POST":
                await self._error(send, 405, "use POST on this route", allow="POST")
            else:
                await self._invoke(scope, receive, send)
        elif path == "/ping" or path in self.documents:
            if method not in ("GET", "HEAD"):
                await self._error(send, 405, "use GET or HEAD on this route", allow="GET, HEAD")
            elif path == "/ping":
                await self._send(send, 200, b"", None)
            else:
                await self._send(send, 200, b"" if method == "HEAD" else self.documents[path], JSON_TYPE)
        else:
            await self._error(send, 404, f"no route {path[:80]!r}: the routes are /ping, /invocations, "
                                         "/model, /execution-parameters and /openapi.json")

    async def _invoke(self, scope: Scope, receive, send) -> None:
        try:
            body = await self._body(receive)
            if body is None:
                return  # the client went away
            headers = dict(scope["headers"])
            request = Request(body, headers.get(b"content-type", b"").decode("latin-1"),
                              _text(headers.get(b"accept")), scope.get("query_string", b"").decode("latin-1"),
                              headers.get(CUSTOM_ATTRIBUTES, b"").decode("latin-1"),
                              headers.get(INFERENCE_ID, b"").decode("latin-1")[:64],
                              _event_id(headers.get(EVENT_ID, b"").decode("latin-1")))
            media_type, answer = self.invocations(request)
        except UserError as error:
            await self._error(send, error.status if isinstance(error, RequestError) else 400, str(error))
        except RecursionError:
            await self._error(send, 400, "request is nested too deeply to be a record")
        except Exception:
            log.exception("internal error while serving /invocations")
            await self._error(send, 500, "internal error; the server log has the details")
        else:
            charset = "; charset=utf-8" if media_type.startswith("text/") else ""
            await self._send(send, 200, answer, (media_type + charset).encode())

    async def _body(self, receive) -> bytes | None:
        """The whole body, read as it arrives; 413 past the limit (read on up to DISCARD_LIMIT, so
        the client can send it all and read the answer instead of a reset connection)."""
        limit = self.settings.max_payload_bytes
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            if not message.get("more_body") or size > DISCARD_LIMIT:
                break
        if size > limit:
            raise PayloadTooLarge(f"request body is larger than {self.settings.max_payload_mb:g} MB; "
                                  "split it, or raise SAGEMAKER_MAX_PAYLOAD_IN_MB")
        return b"".join(chunks)

    async def _send(self, send, status: int, body: bytes, media_type: bytes | None,
                    allow: str | None = None) -> None:
        headers = [(b"content-length", str(len(body)).encode()), self.version]
        if media_type:
            headers.append((b"content-type", media_type))
        if allow:
            headers.append((b"allow", allow.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _error(self, send, status: int, message: str, allow: str | None = None) -> None:
        await self._send(send, status, json.dumps({"error": message}).encode(), JSON_TYPE, allow)


def model_card(model: Model) -> dict[str, Any]:
    """Identity and schema of the served model; no employee data."""
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
        "retention_levers": {"method": levers.method(model.predictor),
                             "levers": [lever.to_dict() for lever in levers.from_metadata(model.metadata)]},
        "response_curves": ([curve.to_dict() for curve in curves.step_functions(model.predictor, schema)]
                            if isinstance(model.predictor, StumpPredictor) else None),
    }


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _event_id(given: str) -> str:
    """The capture's eventId from the local endpoint's balancer, when it is one ("" otherwise)."""
    return given if EVENT_ID_PATTERN.fullmatch(given) else ""
