"""The media types /invocations reads and writes (a module of its own: `serve` checks them
before gunicorn starts, without importing numpy or LightGBM)."""

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
REQUEST_TYPES = (CSV, JSON, JSONLINES, "application/x-jsonlines", "application/jsonl")
RESPONSE_TYPES = (JSON, CSV, JSONLINES)
