"""Endpoint metrics from HAProxy's counters: what changed since the last look, per variant."""

from attrition_endpoints.metrics import Counts, Metrics, datapoints


def row(backend: str, server: str, ok: int, client: int = 0, server_errors: int = 0, rtime: int = 2) -> dict:
    return {"pxname": backend, "svname": server, "hrsp_1xx": "0", "hrsp_2xx": str(ok), "hrsp_3xx": "0",
            "hrsp_4xx": str(client), "hrsp_5xx": str(server_errors), "hrsp_other": "0", "rtime": str(rtime),
            "ttime": str(rtime + 1)}


def test_counts_are_what_changed_in_every_backend_the_instance_serves_in():
    metrics = Metrics(None, None, None, 60)
    assert metrics.collect([row("endpoint.e", "blue.abc", 10), row("endpoint.e.variant.blue", "blue.abc", 3),
                            row("endpoint.e", "FRONTEND", 99), row("service", "service", 5)]) \
        == {("e", "blue"): Counts(13, 0, 0, [2.0, 2.0], [3.0, 3.0])}
    later = metrics.collect([row("endpoint.e", "blue.abc", 15, client=2),
                             row("endpoint.e.variant.blue", "blue.abc", 3)])
    assert later[("e", "blue")].invocations == 7 and later[("e", "blue")].client_errors == 2


def test_a_reload_starts_the_counters_again_and_nothing_is_counted_twice():
    metrics = Metrics(None, None, None, 60)
    metrics.collect([row("endpoint.e", "blue.abc", 100)])
    assert metrics.collect([row("endpoint.e", "blue.abc", 4)])[("e", "blue")].invocations == 4


def test_datapoints_are_sagemakers_metrics_with_its_dimensions_and_units():
    points = {p["MetricName"]: p for p in datapoints(("e", "blue"), Counts(10, 1, 2, [2.0], [3.0]), 2)}
    assert points["Invocations"]["Value"] == 10 and points["InvocationsPerInstance"]["Value"] == 5
    assert points["Invocation4XXErrors"]["Value"] == 1 and points["Invocation5XXErrors"]["Value"] == 2
    assert points["ModelLatency"] == {"MetricName": "ModelLatency", "Value": 2000.0, "Unit": "Microseconds",
                                      "Dimensions": [{"Name": "EndpointName", "Value": "e"},
                                                     {"Name": "VariantName", "Value": "blue"}]}
    assert points["OverheadLatency"]["Value"] == 1000.0
    assert "ModelLatency" not in {p["MetricName"] for p in datapoints(("e", "blue"), Counts(), 1)}


def test_the_rate_autoscaling_reads_covers_its_window_alone(monkeypatch):
    metrics = Metrics(None, None, None, 1)
    burst_then_quiet = [(0.0, 600), (1.0, 10), (2.0, 10), (3.0, 10), (4.0, 10)]
    metrics.recent[("e", "blue")].extend(burst_then_quiet)
    monkeypatch.setattr("attrition_endpoints.metrics.time.monotonic", lambda: 4.0)
    assert metrics.per_minute("e", "blue", 3.0) == 40 * 20  # the last 3 s: 40 calls, 800 a minute
    assert metrics.per_minute("e", "blue", 10.0) is None  # not yet 10 s of traffic seen
