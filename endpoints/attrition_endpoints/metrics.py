"""Endpoint metrics as SageMaker publishes them, from HAProxy's own counters: every period, per
endpoint and variant, Invocations, Invocation4XXErrors, Invocation5XXErrors,
InvocationsPerInstance, ModelLatency and OverheadLatency (microseconds) to CloudWatch (the
stand-in), namespace AWS/SageMaker, dimensions EndpointName and VariantName. Alarms on them are
CloudWatch's own, so `get_metric_statistics` and the rollouts' alarms read the same numbers."""

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .balancer import Balancer
from .records import Store

NAMESPACE = "AWS/SageMaker"
WINDOW_S = 600.0  # how much of each variant's recent traffic is kept, for autoscaling
COUNTERS = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")


@dataclass
class Counts:
    """One variant's requests in one period, as the instances answered them (before HAProxy turns
    a container's error into ModelError)."""

    invocations: int = 0
    client_errors: int = 0
    server_errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # HAProxy's per-server averages
    totals_ms: list[float] = field(default_factory=list)


class Metrics:
    def __init__(self, store: Store, balancer: Balancer, cloudwatch: Callable[[], Any], period: float):
        self.store, self.balancer, self.cloudwatch, self.period = store, balancer, cloudwatch, period
        self.last: dict[tuple[str, str], dict[str, int]] = {}  # (backend, server) -> counters
        self.recent: dict[tuple[str, str], deque[tuple[float, int]]] = defaultdict(deque)  # (time, invocations)
        self.problem = ""

    def every(self, stop: threading.Event) -> None:
        while not stop.wait(self.period):
            self.publish()

    def per_minute(self, endpoint: str, variant: str, window_s: float) -> float | None:
        """A variant's invocations per minute over the last window_s seconds (None before a
        whole window was measured)."""
        kept, now = self.recent.get((endpoint, variant)), time.monotonic()
        if not kept or now - kept[0][0] < window_s * 0.9:
            return None
        return sum(n for moment, n in kept if now - moment <= window_s) * 60.0 / window_s

    def publish(self) -> None:
        counts = self.collect(self.balancer.statistics())
        moment = time.monotonic()
        for key, these in counts.items():
            kept = self.recent[key]
            kept.append((moment, these.invocations))
            while kept and moment - kept[0][0] > WINDOW_S:
                kept.popleft()
        with self.store.lock:
            serving = {(e.name, v.name): sum(1 for i in e.instances if i.variant == v.name)
                       for e in self.store.state.endpoints.values() if e.status != "Deleting" for v in e.variants}
        data = [d for key, instances in serving.items() for d in datapoints(key, counts.get(key, Counts()), instances)]
        now = datetime.now(UTC)
        for start in range(0, len(data), 500):
            try:
                self.cloudwatch().put_metric_data(Namespace=NAMESPACE, MetricData=[
                    {**d, "Timestamp": now, "StorageResolution": 1 if self.period < 60 else 60}
                    for d in data[start:start + 500]])
            except Exception as error:  # CloudWatch not answering: the numbers of this period are lost, said once
                if str(error) != self.problem:
                    self.problem = str(error)
                    print(f"local-endpoints: endpoint metrics not published: {error}", flush=True)

    def collect(self, rows: list[dict[str, str]]) -> dict[tuple[str, str], Counts]:
        """Each (endpoint, variant)'s counts since the last call, from the servers' counters (a
        reload starts them again at 0)."""
        counts: dict[tuple[str, str], Counts] = defaultdict(Counts)
        for row in rows:
            if not row["pxname"].startswith("endpoint.") or row["svname"] in ("FRONTEND", "BACKEND"):
                continue
            key = (row["pxname"], row["svname"])
            now = {name: int(row.get(name) or 0) for name in COUNTERS}
            before = self.last.get(key, dict.fromkeys(COUNTERS, 0))
            if any(now[n] < before[n] for n in COUNTERS):
                before = dict.fromkeys(COUNTERS, 0)
            self.last[key] = now
            delta = {n: now[n] - before[n] for n in COUNTERS}
            these = counts[(row["pxname"].split(".")[1], row["svname"].split(".")[0])]
            these.invocations += sum(delta.values())
            these.client_errors += delta["hrsp_4xx"]
            these.server_errors += delta["hrsp_5xx"]
            if sum(delta.values()):
                these.latencies_ms.append(float(row.get("rtime") or 0))
                these.totals_ms.append(float(row.get("ttime") or 0))
        return counts


def datapoints(key: tuple[str, str], counts: Counts, instances: int) -> list[dict[str, Any]]:
    endpoint, variant = key
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    model = sum(counts.latencies_ms) / len(counts.latencies_ms) * 1000 if counts.latencies_ms else 0.0
    total = sum(counts.totals_ms) / len(counts.totals_ms) * 1000 if counts.totals_ms else 0.0
    values = [("Invocations", counts.invocations, "Count"),
              ("Invocation4XXErrors", counts.client_errors, "Count"),
              ("Invocation5XXErrors", counts.server_errors, "Count"),
              ("InvocationsPerInstance", counts.invocations / instances if instances else 0.0, "Count")]
    if counts.invocations:
        values += [("ModelLatency", model, "Microseconds"),
                   ("OverheadLatency", max(0.0, total - model), "Microseconds")]
    return [{"MetricName": name, "Dimensions": dimensions, "Value": float(value), "Unit": unit}
            for name, value, unit in values]
