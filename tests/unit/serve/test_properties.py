"""Thousands of generated requests against the real app, in-process: never a 5xx, every 4xx a
JSON error naming the problem, every valid request exactly one prediction per row in order."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attrition.core.platform import environment
from attrition.serve.app import App
from tests.http_client import Client
from tests.strategies import HEADER, NAMES, ROWS, any_request, valid_request

PROPERTY = settings(max_examples=1500, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def app(trained_model):
    return Client(App(trained_model, environment.serving_settings({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "1"})))


@pytest.fixture(scope="module")
def alone(app):
    """Each bundled employee's answer when scored alone: what any batch must repeat, in order."""
    answer = app.post("/invocations", data="\n".join([HEADER, *ROWS]) + "\n",
                      headers={"Content-Type": "text/csv"}).get_json()["predictions"]
    return [(p["label"], p["probability"]) for p in answer]


@PROPERTY
@given(request=any_request())
def test_any_request_gets_an_answer_or_a_json_4xx(app, request):
    method, path, headers, body = request
    response = app.open(method, path, data=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.data[:300])
    assert response.headers["X-Attrition-Model-Version"]
    if response.status_code >= 400:
        assert response.mimetype == "application/json"
        error = json.loads(response.data)["error"]
        assert isinstance(error, str) and len(error) > 10
    assert app.get("/ping").status_code == 200


@PROPERTY
@given(request=valid_request())
def test_a_valid_request_gets_one_prediction_per_row_in_order(app, alone, request):
    body, content_type, accept, rows = request
    headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
    response = app.post("/invocations", data=body, headers=headers)
    assert response.status_code == 200, response.data[:300]
    if response.mimetype == "text/csv":
        got = [(line.split(",")[1], float(line.split(",")[0])) for line in response.data.decode().splitlines()]
    elif response.mimetype == "application/jsonlines":
        got = [(p["label"], p["probability"]) for p in map(json.loads, response.data.decode().splitlines())]
    else:
        got = [(p["label"], p["probability"]) for p in response.get_json()["predictions"]]
    expected = [alone[i] for i in rows]
    assert [label for label, _ in got] == [label for label, _ in expected]
    assert all(abs(a - b) < 1e-9 for (_, a), (_, b) in zip(got, expected))


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from(NAMES), digits=st.integers(1, 4000), exponent=st.integers(-400, 400),
       depth=st.integers(0, 100_000), wrapper=st.sampled_from(["[", '{"a": ']))
def test_numbers_of_any_size_and_nesting_at_any_depth_are_answered_or_a_400(app, column, digits, exponent, depth,
                                                                            wrapper):
    record = dict(zip(NAMES, ROWS[0].split(",")))
    big = json.dumps({"instances": [record]}).replace(
        f'"{column}": "{record[column]}"', f'"{column}": ' + "9" * digits + f"e{exponent}" * (digits % 2))
    closer = "]" if wrapper == "[" else "}"
    nested = wrapper * depth + "1" + closer * depth
    for body in (big, f'{{"instances": [{nested}]}}'):
        response = app.post("/invocations", data=body, headers={"Content-Type": "application/json"})
        assert response.status_code in (200, 400), (response.status_code, response.data[:200])
        if response.status_code == 400:
            assert "9" * 12 not in response.get_json()["error"]  # the value is never quoted back
