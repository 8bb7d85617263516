"""The service's HTTP side, behind HAProxy: the control plane's JSON protocol (awsJson 1.1), the
runtime's errors for invocations HAProxy could not route, and every other SageMaker operation
passed on to the service that answers it (moto), unchanged."""

import http.client
import json
import re
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .api import Account, ApiError, ControlPlane
from .records import Store

TARGET = re.compile(r"^SageMaker\.(\w+)$")
INVOCATION = re.compile(r"^/endpoints/([^/]+)/(invocations|async-invocations)$")
MAX_BODY = 6 * 1024 * 1024 + 1024


class Service(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, control: ControlPlane, store: Store, account: Account, forward: str):
        super().__init__(("127.0.0.1", port), Handler)
        self.control, self.store, self.account, self.forward = control, store, account, forward


class Handler(BaseHTTPRequestHandler):
    server: Service
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/ping":
            self._send(200, {"status": "ok"}, {})
        else:
            self._send(404, {"message": f"{self.path} is not a SageMaker operation"}, {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._runtime_error(413, "ValidationError", f"Request body of {length} bytes is over the 6 MB limit.")
            return
        body = self.rfile.read(length)
        invocation = INVOCATION.match(urllib.parse.urlsplit(self.path).path)
        if invocation:
            self._unroutable(urllib.parse.unquote(invocation.group(1)))
            return
        target = TARGET.match(self.headers.get("X-Amz-Target", ""))
        if not target:
            self._send(400, {"__type": "UnknownOperationException", "message": "No X-Amz-Target header"}, {})
        elif target.group(1) in self.server.control.operations:
            self._control(target.group(1), body)
        elif self.server.forward:
            self._pass_on(body)
        else:
            self._send(400, {"__type": "UnknownOperationException",
                             "message": f"{target.group(1)} is answered by moto: start the service with --forward"},
                       {})

    def _control(self, operation: str, body: bytes) -> None:
        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise ApiError("SerializationException", "The request body is not a JSON object.")
            self._send(200, self.server.control.answer(operation, request), {})
        except json.JSONDecodeError:
            self._send(400, {"__type": "SerializationException", "message": "The request body is not JSON."}, {})
        except ApiError as error:
            self._send(400, {"__type": error.code, "message": str(error)}, {})

    def _unroutable(self, name: str) -> None:
        """An invocation HAProxy had no backend for: the runtime's error, as SageMaker words it."""
        account = self.server.account.account
        with self.server.store.lock:
            endpoint = self.server.store.state.endpoints.get(name)
        if endpoint is None:
            self._runtime_error(400, "ValidationError", f"Endpoint {name} of account {account} not found.")
        elif endpoint.status not in ("InService", "Updating") or not endpoint.instances:
            self._runtime_error(400, "ValidationError",
                                f"Endpoint {name} of account {account} is not in service (status {endpoint.status}).")
        elif self.path.endswith("/async-invocations"):
            self._runtime_error(400, "ValidationError",
                                f"Endpoint {name} is not an asynchronous endpoint (no AsyncInferenceConfig).")
        else:
            variant = self.headers.get("X-Amzn-SageMaker-Target-Variant", "")
            self._runtime_error(400, "ValidationError",
                                f"The variant {variant} is not present in the endpoint {name}.")

    def _runtime_error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"message": message}, {"X-Amzn-ErrorType": code})

    def _pass_on(self, body: bytes) -> None:
        """Send the request as it came to the forward service; its answer back as it came."""
        where = urllib.parse.urlsplit(self.server.forward)
        connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port or 80, timeout=120)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            connection.request("POST", self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except OSError as error:
            self._send(503, {"__type": "ServiceUnavailable",
                             "message": f"{self.server.forward} did not answer: {error}"}, {})
            return
        finally:
            connection.close()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, document: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(document, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
