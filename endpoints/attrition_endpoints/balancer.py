"""HAProxy in front of the instances: its configuration, written from the endpoints, and the
container that runs it.

One frontend on the service's port. `/endpoints/<name>/invocations` of an endpoint in service
goes to its backend: every instance of every variant, weighted by the variant's weight, or, with
`X-Amzn-SageMaker-Target-Variant`, that variant's instances only. Everything else (the control
plane, unknown endpoints and variants, asynchronous invocations) goes to the service. A change is
a new configuration and a graceful reload: requests in flight finish on the old one.
"""

import csv
import io
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import docker
from .records import Endpoint, Instance, write_atomically

IMAGE = "attrition-endpoints-balancer"
CONFIG = "haproxy.cfg"
INVOCATIONS = r"^/endpoints/[^/]+/invocations$"
# HAProxy's server weights are whole numbers up to 256.
MAX_WEIGHT = 256
SAMPLING = 1_000_000  # a shadow's share of the traffic, in millionths

# A sampled request copied to a shadow variant, in the background: through this same frontend, to
# the variant by name (so never copied again); the caller neither waits for it nor sees its answer.
MIRROR = """core.register_action("mirror", { "http-req" }, function(txn, port, endpoint, variant)
    local body = txn.sf:req_body() or ""
    local headers = {
        ["content-type"] = { txn.sf:req_hdr("content-type") or "application/octet-stream" },
        ["accept"] = { txn.sf:req_hdr("accept") or "application/json" },
        ["x-attrition-event-id"] = { txn.sf:req_hdr("x-attrition-event-id") or "" },
        ["x-amzn-sagemaker-custom-attributes"] = { txn.sf:req_hdr("x-amzn-sagemaker-custom-attributes") or "" },
        ["x-amzn-sagemaker-target-variant"] = { variant },
        ["content-length"] = { tostring(#body) },
    }
    core.register_task(function()
        local client = core.httpclient()
        client:post{ url = "http://127.0.0.1:" .. port .. "/endpoints/" .. endpoint .. "/invocations",
                     headers = headers, body = body }
    end)
end, 3)
"""

THROTTLED = """HTTP/1.1 400 Bad Request
Content-Type: application/json
X-Amzn-ErrorType: ThrottlingException
Cache-Control: no-cache
Connection: close

{"message": "Maximum concurrency of this serverless endpoint reached: the request was throttled."}
"""

UNAVAILABLE = """HTTP/1.1 503 Service Unavailable
Content-Type: application/json
X-Amzn-ErrorType: ServiceUnavailable
Cache-Control: no-cache
Connection: close

{"message": "No instance of this endpoint is answering its health check (/ping)."}
"""


def configuration(port: int, control_port: int, stats_port: int, endpoints: list[Endpoint], folder: str) -> str:
    """The whole haproxy.cfg; `folder` is where HAProxy finds its error files. The statistics
    (`/stats;csv` on stats_port) tell the service which serverless instances sit idle."""
    lines = [
        "global",
        "    log stderr format short local0 warning",
        f"    lua-load {folder}/mirror.lua",
        "    hard-stop-after 70s",
        "    nbthread 1",
        "defaults",
        "    mode http",
        "    log global",
        "    option redispatch",
        "    http-reuse always",
        "    retry-on conn-failure",  # only a connection never made is tried again, never a request sent
        "    timeout connect 5s",
        "    timeout client 70s",
        "    timeout server 65s",
        "    timeout http-keep-alive 60s",
        "frontend sagemaker",
        f"    bind 127.0.0.1:{port}",
        f"    http-request set-var(txn.endpoint) path,field(3,/) if {{ path_reg {INVOCATIONS} }}",
    ]
    if any(e.mirrored() for e in endpoints):  # only then: buffering and the id cost every request
        lines += [
            "    option http-buffer-request",  # a shadow's copy needs the whole body
            # one id per request, the same in the captures of the production variant and of its shadow
            "    http-request set-header X-Attrition-Event-Id %[uuid] if { var(txn.endpoint) -m found } "
            "!{ req.hdr(X-Attrition-Event-Id) -m found }",
        ]
    for endpoint in endpoints:
        is_it = f"{{ var(txn.endpoint) -m str {endpoint.name} }}"
        for shadow, share in endpoint.mirrored():
            lines.append(f"    http-request lua.mirror {port} {endpoint.name} {shadow} if {is_it} "
                         f"!{{ req.hdr(X-Amzn-SageMaker-Target-Variant) -m found }} "
                         f"{{ rand({SAMPLING}) lt {round(share * SAMPLING)} }}")
        for variant in _serving(endpoint):
            lines.append(f"    use_backend {_backend(endpoint.name, variant)} if {is_it} "
                         f"{{ req.hdr(X-Amzn-SageMaker-Target-Variant) -m str {variant} }}")
        lines.append(f"    use_backend {_backend(endpoint.name)} if {is_it} "
                     "!{ req.hdr(X-Amzn-SageMaker-Target-Variant) -m found }")
    lines += ["    default_backend service",
              "backend service",
              f"    server service 127.0.0.1:{control_port}",
              "frontend stats",
              f"    bind 127.0.0.1:{stats_port}",
              "    stats enable",
              "    stats uri /stats"]
    for endpoint in endpoints:
        limits = {v.name: v.max_concurrency for _, variants, _ in endpoint.fleets() for v in variants}
        every = [i for instances, _, _ in endpoint.fleets() for i in instances]
        shadows = {v.name for _, variants, _ in endpoint.fleets() for v in variants if v.shadow}
        production = [i for i in every if i.variant not in shadows]
        lines += _backend_lines(_backend(endpoint.name), production, _weights(endpoint, by_variant=True), limits,
                                folder)
        by_fleet = _weights(endpoint, by_variant=False)
        for variant in _serving(endpoint):
            mine = [i for i in every if i.variant == variant]
            lines += _backend_lines(_backend(endpoint.name, variant), mine, by_fleet, limits, folder)
    return "\n".join(lines) + "\n"


def _serving(endpoint: Endpoint) -> list[str]:
    """The names of the variants with an instance (a serverless variant may have none: the service
    starts one), in either fleet."""
    names = [v.name for _, variants, _ in endpoint.fleets() for v in variants]
    running = {i.variant for instances, _, _ in endpoint.fleets() for i in instances}
    return [name for name in dict.fromkeys(names) if name in running]


def server_name(instance: Instance) -> str:
    """<variant>.<container>: HAProxy names the variant in its answers with the part before the dot."""
    return f"{instance.variant}.{instance.container[:12]}"


def _backend(endpoint: str, variant: str = "") -> str:
    return f"endpoint.{endpoint}" + (f".variant.{variant}" if variant else "")


def _weights(endpoint: Endpoint, by_variant: bool) -> dict[str, int]:
    """Each instance's HAProxy weight, by container: its fleet's share of the traffic (a blue/green
    update shifts it), times (by_variant) its variant's share of the fleet's weights, shared among
    the variant's instances in that fleet (shadow variants take no share of the production traffic)."""
    share: dict[str, float] = {}
    for instances, variants, fleet_share in endpoint.fleets():
        counted = [v for v in variants if not (by_variant and v.shadow)]  # a shadow's weight is its sampling
        total = sum(v.weight for v in counted) or 1.0
        for variant in counted:
            mine = [i for i in instances if i.variant == variant.name]
            for instance in mine:
                share[instance.container] = fleet_share * (variant.weight / total if by_variant else 1.0) / len(mine)
    top = max(share.values(), default=0.0)
    return {name: (max(1, round(MAX_WEIGHT * value / top)) if value > 0 else 0) for name, value in share.items()}


def _backend_lines(name: str, instances: list[Instance], weights: dict[str, int], limits: dict[str, int],
                   folder: str) -> list[str]:
    """limits: each serverless variant's MaxConcurrency; a request beyond it waits for no slot
    (HAProxy's queue times out at once) and gets SageMaker's ThrottlingException."""
    serverless = any(limits.get(i.variant) for i in instances)
    lines = [
        f"backend {name}",
        "    option httpchk GET /ping",
        f"    errorfile 503 {folder}/{'throttled' if serverless else '503'}.http",
        *(["    timeout queue 1ms"] if serverless else []),
        "    http-request set-path /invocations",
        # A container's own error reaches the caller as SageMaker's ModelError (HTTP 424).
        "    http-response wait-for-body time 5s if { status ge 400 }",
        "    http-response set-var(txn.status) status if { status ge 400 }",
        "    http-response set-var(txn.body) res.body,json(utf8s) if { status ge 400 }",
        "    http-response set-var(txn.variant) srv_name,field(1,.) if { status ge 400 }",
        '    http-response return status 424 content-type application/json hdr X-Amzn-ErrorType ModelError '
        'lf-string "{\\"Message\\":\\"Received client error (%[var(txn.status)]) from %[var(txn.variant)] with '
        'message \\\\\\"%[var(txn.body)]\\\\\\".\\",\\"OriginalStatusCode\\":%[var(txn.status)],'
        '\\"OriginalMessage\\":\\"%[var(txn.body)]\\"}" if { status ge 400 }',
        "    http-response set-header x-Amzn-Invoked-Production-Variant %[srv_name,field(1,.)]",
    ]
    for instance in instances:
        weight = f" weight {weights[instance.container]}"
        limit = f" maxconn {limits[instance.variant]}" if limits.get(instance.variant) else ""
        lines.append(f"    server {server_name(instance)} 127.0.0.1:{instance.port}{weight}{limit} "
                     "check inter 2s fall 2 rise 1")
    return lines


class Balancer:
    """The HAProxy container of one service: started once, reloaded on every change."""

    def __init__(self, folder: Path, service: str, port: int, control_port: int, stats_port: int):
        self.folder, self.service = folder, service
        self.port, self.control_port, self.stats_port = port, control_port, stats_port
        self.container = ""

    def write(self, endpoints: list[Endpoint]) -> None:
        write_atomically(self.folder / "503.http", UNAVAILABLE.replace("\n", "\r\n"))
        write_atomically(self.folder / "throttled.http", THROTTLED.replace("\n", "\r\n"))
        write_atomically(self.folder / "mirror.lua", MIRROR)
        text = configuration(self.port, self.control_port, self.stats_port, endpoints, "/etc/attrition-balancer")
        write_atomically(self.folder / CONFIG, text)

    def start(self, endpoints: list[Endpoint]) -> None:
        self.write(endpoints)
        self.container = docker.start(
            IMAGE, f"attrition-balancer-{self.service}", self.service, {},
            [(str(self.folder), "/etc/attrition-balancer", "ro")],
            ["haproxy", "-W", "-db", "-f", f"/etc/attrition-balancer/{CONFIG}"])
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        """Until HAProxy accepts connections (a reload signal before that would stop it)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if not docker.running(self.container):
                    raise docker.DockerError(f"HAProxy stopped: {docker.logs_tail(self.container)}") from None
                time.sleep(0.1)
        raise docker.DockerError(f"HAProxy did not listen on 127.0.0.1:{self.port} in 30 s")

    def reload(self, endpoints: list[Endpoint]) -> None:
        """A new configuration, then HAProxy's graceful reload (SIGUSR2 to its master)."""
        self.write(endpoints)
        docker.signal(self.container, "USR2")

    def statistics(self) -> list[dict[str, str]]:
        """HAProxy's own statistics: a row per frontend, backend and server ([] if it does not answer)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=2) as answer:
                text = answer.read().decode()
        except (urllib.error.URLError, OSError):
            return []
        return list(csv.DictReader(io.StringIO(text.removeprefix("# "))))

    def wait_until_serving(self, endpoint: str, timeout: float = 15) -> None:
        """Until HAProxy (after a reload) routes to at least one instance of the endpoint."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(row["pxname"] == _backend(endpoint) and row["svname"] not in ("FRONTEND", "BACKEND")
                   for row in self.statistics()):
                return
            time.sleep(0.05)
        raise docker.DockerError(f"HAProxy did not take the new instance of {endpoint} in {timeout:.0f} s")

    def stop(self) -> None:
        docker.remove(self.container)
