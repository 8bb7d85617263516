"""The OpenAPI 3.1 document is valid, served, and true: every route and every status the app can
answer is in it, and real answers match its schemas."""

import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from attrition.core.platform.errors import RequestError
from attrition.serve.app import OPENAPI_FILE
from tests.http_client import post

DOCUMENT = json.loads(OPENAPI_FILE.read_text())


def conforms(instance, component: str) -> None:
    schema = {**DOCUMENT, "$ref": f"#/components/schemas/{component}"}
    Draft202012Validator(schema).validate(instance)


def test_the_document_is_valid_openapi_3_1():
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_it_is_served_as_is(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.get_json() == DOCUMENT


def test_every_route_the_app_answers_is_documented_and_no_other(client):
    documented = set(DOCUMENT["paths"])
    for path in documented:
        methods = set(DOCUMENT["paths"][path])
        for method in ("GET", "POST", "PUT", "DELETE"):
            status = client.open(method, path, data=b"x", headers={"Content-Type": "text/csv"}).status_code
            assert (status != 405) == (method.lower() in methods), (path, method, status)
    for path in ("/", "/invocation", "/predict", "/health"):
        assert client.get(path).status_code == 404


def test_every_error_status_the_code_raises_is_documented():
    statuses = {cls.status for cls in [RequestError, *_subclasses(RequestError)]} | {405, 500}
    documented = {int(s) for s in DOCUMENT["paths"]["/invocations"]["post"]["responses"]}
    assert statuses <= documented, statuses - documented


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.mark.parametrize("body, content_type, status", [
    ("", "text/csv", 400), ("x", "application/xml", 415), ("1,2\n", "text/csv", 400),
])
def test_errors_match_the_error_schema(client, body, content_type, status):
    response = post(client, body, content_type)
    assert response.status_code == status
    conforms(response.get_json(), "Error")


def test_answers_match_their_schemas(client, ibm_rows):
    conforms(post(client, "\n".join(ibm_rows[:3]) + "\n").get_json(), "Predictions")
    explained = client.post("/invocations?explain=3", data=ibm_rows[1] + "\n", headers={"Content-Type": "text/csv"})
    conforms(explained.get_json(), "Predictions")
    counterfactual = client.post("/invocations?levers=3&whatif=OverTime:No", data="\n".join(ibm_rows[:30]) + "\n",
                                 headers={"Content-Type": "text/csv"}).get_json()
    assert {"whatif", "levers"} <= set(counterfactual["predictions"][0])
    conforms(counterfactual, "Predictions")
    conforms(client.get("/model").get_json(), "ModelCard")
    version = DOCUMENT["components"]["headers"]["ModelVersion"]["schema"]
    Draft202012Validator(version).validate(client.get("/ping").headers["X-Attrition-Model-Version"])
