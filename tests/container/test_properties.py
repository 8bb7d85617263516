"""Generated requests against the real image over real HTTP: never a 5xx, never a dropped
connection, every 4xx a JSON error, every valid request one prediction per row; /ping stays up.
Bounded: a few hundred requests, well under a minute."""

import http.client
import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings

from tests.strategies import any_request, valid_request

pytestmark = pytest.mark.container
BOUNDED = settings(max_examples=300, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def send(server, method, path, headers, body):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        target = urllib.parse.quote(path, safe="/?=&%")  # as a client library would send it
        connection.request(method, target, body=body if method not in ("GET", "HEAD") else None, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


@BOUNDED
@given(request=any_request())
def test_any_request_gets_an_answer_or_a_json_4xx(server, request):
    method, path, headers, body = request
    status, content_type, answer = send(server, method, path, headers, body)  # a dropped connection raises
    assert status < 500, (status, answer[:300])
    if status >= 400 and method != "HEAD":
        assert content_type == "application/json" and json.loads(answer)["error"]
    assert send(server, "GET", "/ping", {}, b"")[0] == 200


@BOUNDED
@given(request=valid_request())
def test_a_valid_request_gets_one_prediction_per_row(server, request):
    body, content_type, accept, rows = request
    headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
    status, kind, answer = send(server, "POST", "/invocations", headers, body)
    assert status == 200, answer[:300]
    count = len(json.loads(answer)["predictions"]) if kind == "application/json" else len(answer.splitlines())
    assert count == len(rows)
