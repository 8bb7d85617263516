"""The media types /invocations reads and writes, and the one parser of Content-Type headers.

A module of its own, importing nothing heavy: `serve` checks settings against it before
gunicorn starts, without importing numpy or LightGBM.
"""

from functools import lru_cache

from werkzeug.http import parse_options_header

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
REQUEST_TYPES = (CSV, JSON, JSONLINES, "application/x-jsonlines", "application/jsonl")
RESPONSE_TYPES = (JSON, CSV, JSONLINES)


@lru_cache(maxsize=256)
def parse_content_type(header: str) -> tuple[str, str]:
    """('text/csv', 'utf-8') from 'text/csv; charset=utf-8': the media type in lower case and
    the charset parameter ('' when absent). Cached: clients repeat the same few headers."""
    if ";" not in header:
        return header.strip().lower(), ""
    media_type, params = parse_options_header(header)
    return media_type.lower(), params.get("charset", "")
