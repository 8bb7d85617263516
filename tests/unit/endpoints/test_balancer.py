"""HAProxy's configuration, written from the endpoints: weights, routing, serverless limits."""

import re
import shutil
import subprocess

import pytest

from attrition_endpoints.balancer import MIRROR, THROTTLED, UNAVAILABLE, configuration
from attrition_endpoints.records import Endpoint, Instance, VariantState


def endpoint(variants, instances, name="ab") -> Endpoint:
    return Endpoint(name=name, arn=f"arn:{name}", config="c", status="InService", created=0, modified=0,
                    variants=variants, instances=instances)


def servers(text: str, backend: str) -> dict[str, str]:
    block = text.split(f"backend {backend}\n", 1)[1].split("\nbackend ", 1)[0]
    return {m.group(1): m.group(2) for m in re.finditer(r"server (\S+) 127\.0\.0\.1:\d+(.*)", block)}


def test_each_instance_carries_its_variants_weight_shared_among_its_instances():
    text = configuration(8480, 9000, 9001, [endpoint(
        [VariantState("blue", 0.9, 0.9, 2, 2), VariantState("green", 0.1, 0.1, 1, 1)],
        [Instance("blue", "b1" * 8, 1), Instance("blue", "b2" * 8, 2), Instance("green", "g1" * 8, 3)])], "/x")
    listed = servers(text, "endpoint.ab")
    weights = {name: int(re.search(r"weight (\d+)", rest).group(1)) for name, rest in listed.items()}
    assert weights == {"blue.b1b1b1b1b1b1": 256, "blue.b2b2b2b2b2b2": 256, "green.g1g1g1g1g1g1": 57}
    share = weights["green.g1g1g1g1g1g1"] / sum(weights.values())
    assert abs(share - 0.1) < 0.001
    assert set(servers(text, "endpoint.ab.variant.green")) == {"green.g1g1g1g1g1g1"}


def test_a_variant_at_weight_zero_gets_no_traffic_but_stays_reachable_by_name():
    text = configuration(8480, 9000, 9001, [endpoint(
        [VariantState("blue", 0.0, 0.0, 1, 1), VariantState("green", 1.0, 1.0, 1, 1)],
        [Instance("blue", "b" * 12, 1), Instance("green", "g" * 12, 2)])], "/x")
    assert "weight 0 " in servers(text, "endpoint.ab")["blue.bbbbbbbbbbbb"]
    assert "use_backend endpoint.ab.variant.blue if" in text


def test_target_variant_routes_only_to_variants_with_an_instance_and_the_rest_go_to_the_service():
    text = configuration(8480, 9000, 9001, [endpoint(
        [VariantState("warm", 1, 1, 0, 0, 5), VariantState("cold", 1, 1, 0, 0, 5)],
        [Instance("warm", "w" * 12, 1)], name="sl")], "/x")
    assert "endpoint.sl.variant.warm" in text and "endpoint.sl.variant.cold" not in text
    assert "default_backend service" in text and "server service 127.0.0.1:9000" in text


def test_a_serverless_variant_is_limited_to_its_concurrency_and_throttled_beyond_it():
    text = configuration(8480, 9000, 9001, [endpoint([VariantState("only", 1, 1, 0, 0, 3)],
                                                     [Instance("only", "o" * 12, 1)], name="sl")], "/x")
    assert "maxconn 3" in servers(text, "endpoint.sl")["only.oooooooooooo"]
    assert "errorfile 503 /x/throttled.http" in text and "timeout queue 1ms" in text
    assert "ThrottlingException" in THROTTLED and "ServiceUnavailable" in UNAVAILABLE


def test_container_errors_become_sagemakers_model_error():
    text = configuration(8480, 9000, 9001, [endpoint([VariantState("a", 1, 1, 1, 1)], [Instance("a", "a" * 12, 1)])],
                         "/x")
    assert "http-response return status 424" in text and "X-Amzn-ErrorType ModelError" in text
    assert "http-buffer-request" not in text and "%[uuid]" not in text  # no shadow: nothing on the hot path
    assert "OriginalStatusCode" in text and "retry-on conn-failure" in text


def test_a_shadow_takes_no_production_traffic_and_gets_its_sampled_copy():
    text = configuration(8480, 9000, 9001, [endpoint(
        [VariantState("main", 1.0, 1.0, 1, 1), VariantState("shadow", 0.25, 0.25, 1, 1, shadow=True)],
        [Instance("main", "m" * 12, 1), Instance("shadow", "s" * 12, 2)])], "/x")
    assert set(servers(text, "endpoint.ab")) == {"main.mmmmmmmmmmmm"}
    assert set(servers(text, "endpoint.ab.variant.shadow")) == {"shadow.ssssssssssss"}
    assert "http-request lua.mirror 8480 ab shadow if" in text and "{ rand(1000000) lt 250000 }" in text
    assert "X-Attrition-Event-Id %[uuid]" in text and "lua-load /x/mirror.lua" in text


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed on this host")
def test_haproxy_accepts_the_configuration(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(configuration(8480, 9000, 9001, [endpoint(
        [VariantState("a", 0.5, 0.5, 1, 1), VariantState("b", 0.5, 0.5, 1, 1, 2),
         VariantState("c", 0.5, 0.5, 1, 1, shadow=True)],
        [Instance("a", "a" * 12, 1), Instance("b", "b" * 12, 2), Instance("c", "c" * 12, 3)])], str(tmp_path)))
    for name in ("503.http", "throttled.http"):
        (tmp_path / name).write_text(UNAVAILABLE.replace("\n", "\r\n"))
    (tmp_path / "mirror.lua").write_text(MIRROR)
    checked = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
