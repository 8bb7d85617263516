"""An in-process HTTP client for the ASGI app: each request runs the app to completion on an
asyncio loop, its body sent in one or several chunks, as gunicorn's worker would deliver it."""

import asyncio
import json

from werkzeug.datastructures import Headers


class Response:
    def __init__(self, status: int, headers: list, body: bytes):
        self.status_code = status
        self.headers = Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers])
        self.data = body

    @property
    def mimetype(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()

    def get_json(self):
        return json.loads(self.data)

    def get_data(self, as_text: bool = False):
        return self.data.decode() if as_text else self.data


class Client:
    def __init__(self, app):
        self.app = app

    def open(self, method: str, path: str, data=b"", headers=None, chunks: int = 1) -> Response:
        body = data.encode() if isinstance(data, str) else data
        path, _, query = path.partition("?")
        scope = {"type": "http", "method": method, "path": path, "query_string": query.encode(),
                 "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers or {}).items()]}
        size = max(1, -(-len(body) // chunks))
        parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
        messages = [{"type": "http.request", "body": part, "more_body": n < len(parts) - 1}
                    for n, part in enumerate(parts)]
        sent = []

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        asyncio.run(self.app(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return Response(start["status"], start["headers"], body_out)

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def head(self, path, **kwargs):
        return self.open("HEAD", path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.open("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.open("DELETE", path, **kwargs)


def post(client, body, content_type="text/csv", accept=None):
    headers = {"Content-Type": content_type}
    if accept:
        headers["Accept"] = accept
    return client.post("/invocations", data=body, headers=headers)
