"""POST /invocations: a request body in, an answer out, scored a frame of rows at a time.

Frames bound the memory a request can take: a 6 MB CSV is parsed, encoded and scored
codecs.ROWS_PER_FRAME rows at a time, so a worker never holds a whole large request as Python objects
(bench and tests/container/test_faults.py measure it under `--memory 256m`). Explanations are
bounded too: rows x drivers per request may not exceed MAX_DRIVERS. Request bodies (employee
records) are never logged.
"""

from dataclasses import dataclass
from functools import cached_property, lru_cache

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..core.platform import mediatypes
from ..core.platform.environment import ServingSettings
from ..core.platform.errors import NotAcceptable, PayloadTooLarge, UnsupportedMediaType
from ..core.predict import levers
from ..core.predict.model import Model
from ..core.table import features
from ..core.wire import codecs
from . import counterfactuals, explanations
from .policy import Kept
from .recorder import Recorder

MAX_DRIVERS = 100_000  # explanation entries per response: ~7 MB of JSON, SageMaker's response limit


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str
    accept: str | None = None
    query: str = ""
    custom_attributes: str = ""
    inference_id: str = ""  # X-Amzn-SageMaker-Inference-Id, recorded in the capture
    event_id: str = ""  # X-Attrition-Event-Id: the local endpoint's id, the same in a shadow's capture


class Invocations:
    def __init__(self, model: Model, settings: ServingSettings, recorder: Recorder | None = None):
        self.model = model
        self.settings = settings
        self.recorder = recorder

    def __call__(self, request: Request) -> tuple[str, bytes]:
        """The answer's media type and bytes; raises a RequestError saying what is wrong."""
        accept = response_type(request.accept, self.settings.default_accept)
        media_type, charset = mediatypes.parse_content_type(request.content_type)
        if media_type not in mediatypes.REQUEST_TYPES:
            raise UnsupportedMediaType(
                f"Content-Type {media_type[:60] or '(none)'!r} is not supported; use one of "
                f"{', '.join(mediatypes.REQUEST_TYPES[:3])}"
            )
        schema = self.model.schema
        frames, body = codecs.decode_frames(request.body, media_type, charset, schema)
        query, custom = request.query, request.custom_attributes
        top_k = explanations.requested(query, custom, body)
        top_k = min(top_k, len(schema.features))
        whatif, k = counterfactuals.requested(query, custom, body, schema)
        if k:
            self.levers.check(k)
        rows: list[str] = []
        recording = self.recorder is not None and self.recorder.sampled()
        minimising = recording and self.recorder is not None and self.recorder.policy is not None
        parsed: list[codecs.Frame] = []  # kept only for a capture policy, which captures the rows as parsed
        for frame in frames:
            if minimising:
                parsed.append(frame)
            if top_k and (len(rows) + frame.n_rows) * top_k > MAX_DRIVERS:
                raise PayloadTooLarge(
                    f"explanations are limited to {MAX_DRIVERS:,} drivers per request (rows x explain); "
                    f"ask for fewer drivers, or send fewer rows per request"
                )
            if k and len(rows) + frame.n_rows > counterfactuals.MAX_LEVER_ROWS:
                raise PayloadTooLarge(f"levers are limited to {counterfactuals.MAX_LEVER_ROWS:,} employees per "
                                      "request; send fewer rows per request")
            matrix = features.encode(schema, frame.columns, frame.n_rows)
            probabilities = self.model.predict(matrix).tolist()
            extras = []
            if whatif:
                extras.append(counterfactuals.whatif_extra(self.model, matrix, whatif))
            if k:
                extras.append(counterfactuals.levers_extra(self.model, self.levers, matrix, probabilities, k))
            if top_k:
                extras.append(explanations.as_extra(
                    explanations.top_drivers(self.model, matrix, frame.columns, top_k)))
            rows += codecs.encode_rows(probabilities, self.model.labels(probabilities), accept, extras)
        answer = codecs.join_rows(rows, accept).encode()
        if recording and self.recorder is not None:
            policy = self.recorder.policy
            kept = policy.keep(parsed) if policy else Kept(request.body, request.content_type, {})
            self.recorder.record(kept, answer, accept, request.inference_id, request.event_id)
        return accept, answer

    @cached_property
    def levers(self) -> levers.LeverSearch:
        """Built on the first request that asks for levers: it reads the model's split points."""
        return levers.LeverSearch(self.model, levers.from_metadata(self.model.metadata))


@lru_cache(maxsize=256)
def response_type(accept_header: str | None, default: str) -> str:
    """Pick the response media type from Accept before any work is done (406 if none fits).

    Cached: clients send the same few Accept headers over and over."""
    accept = parse_accept_header(accept_header, MIMEAccept)
    if not accept or accept.best == "*/*":
        return default
    chosen = accept.best_match([default] + [t for t in mediatypes.RESPONSE_TYPES if t != default])
    if chosen is None:
        raise NotAcceptable(
            f"Accept {(accept_header or '')[:80]!r} cannot be met; this model answers "
            f"{', '.join(mediatypes.RESPONSE_TYPES)}"
        )
    return chosen
