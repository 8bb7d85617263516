"""/ping and /invocations, answered straight from WSGI.

These are the two routes SageMaker calls on every health check and every prediction. Flask's
per-request machinery (request context, routing, response object) costs more than scoring an
employee, so these two skip it (bench/serving.py measures the difference). Every other route is
the Flask app in app.py, which this wraps. Errors are JSON {"error": "..."} with a 4xx status
that says whose fault it is; request bodies (employee records) are never logged.
"""

import json
import logging
from functools import lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..core import codecs, features, mediatypes
from ..core.errors import NotAcceptable, PayloadTooLarge, RequestError, UnsupportedMediaType, UserError
from . import explanations

log = logging.getLogger(__name__)
CUSTOM_ATTRIBUTES = "HTTP_X_AMZN_SAGEMAKER_CUSTOM_ATTRIBUTES"
MODEL_VERSION_HEADER = "X-Attrition-Model-Version"
DISCARD_LIMIT = 256 * 1024 * 1024  # read at most this much of a refused body
STATUS = {200: "200 OK", 400: "400 Bad Request", 405: "405 Method Not Allowed",
          406: "406 Not Acceptable", 413: "413 Content Too Large",
          415: "415 Unsupported Media Type", 500: "500 Internal Server Error"}


class Invocations:
    """WSGI middleware: answers /ping and /invocations, passes every other request to `app`."""

    def __init__(self, app, model, settings, recorder=None):
        """recorder: a recorder.Recorder that keeps each answered request, or None."""
        self.app = app
        self.model = model
        self.settings = settings
        self.recorder = recorder

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/ping":
            if method in ("GET", "HEAD"):
                return self._reply(start_response, 200, b"", None)
            return self._not_allowed(start_response, "GET, HEAD")
        if path != "/invocations":
            return self.app(environ, start_response)
        if method != "POST":
            return self._not_allowed(start_response, "POST")
        try:
            media_type, body = self._invoke(environ)
            return self._reply(start_response, 200, body, media_type)
        except UserError as error:
            status = error.status if isinstance(error, RequestError) else 400
            return self._error(start_response, status, str(error))
        except Exception:
            log.exception("internal error while serving /invocations")
            return self._error(start_response, 500, "internal error; the server log has the details")

    def _invoke(self, environ) -> tuple:
        """The request's bytes in, the answer's media type and bytes out."""
        accept = response_type(environ.get("HTTP_ACCEPT"), self.settings.default_accept)
        content_type = environ.get("CONTENT_TYPE", "")
        media_type, charset = mediatypes.parse_content_type(content_type)
        if media_type not in mediatypes.REQUEST_TYPES:
            raise UnsupportedMediaType(
                f"Content-Type {media_type or '(none)'!r} is not supported; use one of "
                f"{', '.join(mediatypes.REQUEST_TYPES[:3])}"
            )
        body = self._read_body(environ)
        frame = codecs.decode(body, media_type, charset, self.model.schema)
        top_k = explanations.requested(environ.get("QUERY_STRING", ""), environ.get(CUSTOM_ATTRIBUTES, ""),
                                       frame.explain)
        matrix = features.encode(self.model.schema, frame.columns, frame.n_rows)
        probabilities = self.model.predict(matrix).tolist()
        drivers = None
        if top_k:
            drivers = explanations.top_drivers(self.model, matrix, frame.columns, top_k)
        answer = codecs.encode(probabilities, self.model.labels(probabilities), accept, drivers).encode()
        if self.recorder:
            self.recorder.record(body, content_type, answer, accept)
        return accept, answer

    def _read_body(self, environ) -> bytes:
        limit = self.settings.max_payload_bytes
        stream = environ["wsgi.input"]
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            raise RequestError("Content-Length is not a number") from None
        body = stream.read(length if 0 <= length <= limit else limit + 1)
        if len(body) > limit or length > limit:
            _discard(stream, DISCARD_LIMIT)  # so the client reads our 413, not a broken pipe
            raise PayloadTooLarge(
                f"request body is larger than {self.settings.max_payload_mb:g} MB; split it, or "
                "raise SAGEMAKER_MAX_PAYLOAD_IN_MB"
            )
        return body

    def _reply(self, start_response, status: int, body: bytes, media_type):
        headers = [("Content-Length", str(len(body))), (MODEL_VERSION_HEADER, self.model.version)]
        if media_type:
            charset = "; charset=utf-8" if media_type.startswith("text/") else ""
            headers.append(("Content-Type", media_type + charset))
        start_response(STATUS[status], headers)
        return [body]

    def _error(self, start_response, status: int, message: str):
        return self._reply(start_response, status, json.dumps({"error": message}).encode(),
                           mediatypes.JSON)

    def _not_allowed(self, start_response, allowed: str):
        body = json.dumps({"error": f"use {allowed} on this route"}).encode()
        start_response(STATUS[405], [
            ("Content-Length", str(len(body))), ("Content-Type", mediatypes.JSON),
            ("Allow", allowed), (MODEL_VERSION_HEADER, self.model.version),
        ])
        return [body]


@lru_cache(maxsize=256)
def response_type(accept_header, default: str) -> str:
    """Pick the response media type from Accept before any work is done (406 if none fits).

    Cached: clients send the same few Accept headers over and over."""
    accept = parse_accept_header(accept_header, MIMEAccept)
    if not accept or accept.best == "*/*":
        return default
    chosen = accept.best_match([default] + [t for t in mediatypes.RESPONSE_TYPES if t != default])
    if chosen is None:
        raise NotAcceptable(
            f"Accept {accept_header!r} cannot be met; this model answers "
            f"{', '.join(mediatypes.RESPONSE_TYPES)}"
        )
    return chosen


def _discard(stream, limit: int) -> None:
    while limit > 0:
        chunk = stream.read(min(limit, 1 << 20))
        if not chunk:
            break
        limit -= len(chunk)
