"""The service's HTTP side, behind HAProxy: the control plane's JSON protocol (awsJson 1.1), the
runtime's errors for invocations HAProxy could not route, and every other SageMaker operation
passed on to the service that answers it (moto), unchanged."""

import http.client
import json
import random
import re
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .api import Account, ApiError, ControlPlane
from .asynchronous import AsyncInvocations, Refused
from .docker import DockerError
from .instances import InstanceError

TARGET = re.compile(r"^SageMaker\.(\w+)$")
INVOCATION = re.compile(r"^/endpoints/([^/]+)/(invocations|async-invocations)$")
MAX_BODY = 6 * 1024 * 1024 + 1024


class Service(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, control: ControlPlane, account: Account, forward: str, runtime_port: int,
                 asyncs: AsyncInvocations):
        super().__init__(("127.0.0.1", port), Handler)
        self.control, self.account, self.forward = control, account, forward
        self.store, self.lifecycle = control.store, control.lifecycle
        self.balancer_url, self.asyncs = f"http://127.0.0.1:{runtime_port}", asyncs


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
            try:
                self._unroutable(urllib.parse.unquote(invocation.group(1)), body)
            except Refused as error:
                self._runtime_error(error.status, error.code, str(error))
            return
        target = TARGET.match(self.headers.get("X-Amz-Target", ""))
        if not target:
            self._send(400, {"__type": "UnknownOperationException", "message": "No X-Amz-Target header"}, {})
        elif target.group(1) in self.server.control.operations:
            self._control(target.group(1), body)
        elif self.server.forward:
            self._relay(body, self.server.forward)
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

    def _unroutable(self, name: str, body: bytes) -> None:
        """An invocation HAProxy had no backend for: an asynchronous one, the first for a serverless
        variant with no instance (a cold start, then HAProxy answers it), or the runtime's error."""
        account = self.server.account.account
        with self.server.store.lock:
            endpoint = self.server.store.state.endpoints.get(name)
            config = self.server.store.state.configs.get(endpoint.config) if endpoint else None
        if endpoint is None or config is None:
            raise Refused("ValidationError", f"Endpoint {name} of account {account} not found.")
        if endpoint.status not in ("InService", "Updating"):
            raise Refused("ValidationError", f"Endpoint {name} of account {account} is not in service "
                                             f"(status {endpoint.status}).")
        if self.path.endswith("/async-invocations"):
            job = self.server.asyncs.submit(name, config.request, len(endpoint.instances),
                                            {k.lower(): v for k, v in self.headers.items()})
            self._send(202, {"InferenceId": job.inference_id}, {"X-Amzn-SageMaker-OutputLocation": job.output,
                                                                "X-Amzn-SageMaker-FailureLocation": job.failure})
            return
        target = self.headers.get("X-Amzn-SageMaker-Target-Variant", "")
        if target and endpoint.variant(target) is None:
            raise Refused("ValidationError", f"The variant {target} is not present in the endpoint {name}.")
        cold = [v for v in endpoint.variants if v.max_concurrency and (v.name == target or not target)
                and not any(i.variant == v.name for i in endpoint.instances)]
        if not cold:
            raise Refused("ServiceUnavailable", f"No instance of endpoint {name} answers.", 503)
        variant = random.choices(cold, weights=[v.weight or 1e-9 for v in cold])[0]
        try:
            self.server.lifecycle.cold_start(endpoint, variant.name)
        except (InstanceError, DockerError) as error:
            raise Refused("ModelNotReadyException", f"The serverless variant {variant.name} could not start: "
                                                    f"{error}", 429) from None
        self._relay(body, self.server.balancer_url)

    def _runtime_error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"message": message}, {"X-Amzn-ErrorType": code})

    def _relay(self, body: bytes, url: str) -> None:
        """Send the request as it came to `url`; its answer back as it came."""
        where = urllib.parse.urlsplit(url)
        connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port or 80, timeout=120)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            connection.request("POST", self.path, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except OSError as error:
            self._send(503, {"__type": "ServiceUnavailable", "message": f"{url} did not answer: {error}"},
                       {"X-Amzn-ErrorType": "ServiceUnavailable"})
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
