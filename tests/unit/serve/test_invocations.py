import io
import json
import logging
import re

import numpy as np
import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from attrition.core import environment, features
from attrition.serve.app import create_app
from tests.unit.serve.http import post

"""/ping and /invocations, the two routes answered in plain WSGI."""





def test_ping_is_200_with_an_empty_body(client):
    response = client.get("/ping")
    assert response.status_code == 200 and response.data == b""


def test_whole_bundled_file_scores_one_row_per_employee_in_order(client, trained_model, ibm_text):
    response = post(client, ibm_text, accept="text/csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 1470
    served = np.array([float(line.split(",")[0]) for line in lines])
    header, *rows = [r.split(",") for r in ibm_text.splitlines()]
    columns = dict(zip(header, zip(*rows)))
    expected = trained_model.booster.predict(features.encode(trained_model.schema, columns, len(rows)))
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-9)
    labels = [line.split(",")[1] for line in lines]
    assert labels == ["Yes" if p >= trained_model.threshold else "No" for p in served]


def test_headerless_rows_with_and_without_label_agree(client, ibm_rows):
    cells = ibm_rows[1].split(",")
    with_label = post(client, ibm_rows[1] + "\n").get_json()
    without_label = post(client, ",".join(cells[:1] + cells[2:]) + "\n").get_json()
    named = post(client, ibm_rows[0] + "\n" + ibm_rows[1] + "\n").get_json()
    assert with_label == without_label == named
    assert len(named["predictions"]) == 1


@pytest.mark.parametrize(
    "content_type, shape",
    [
        ("application/json", "list"),
        ("application/json", "instances"),
        ("application/json", "positional"),
        ("application/jsonlines", "lines"),
        ("text/csv; charset=utf-8", "csv"),
    ],
)
def test_request_types(client, trained_model, ibm_rows, content_type, shape):
    header, row = ibm_rows[0].split(","), ibm_rows[1].split(",")
    record = dict(zip(header, row))
    body = {
        "list": json.dumps([record]),
        "instances": json.dumps({"instances": [record]}),
        "positional": json.dumps([row]),
        "lines": json.dumps(record) + "\n",
        "csv": ibm_rows[0] + "\n" + ibm_rows[1] + "\n",
    }[shape]
    response = post(client, body, content_type)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == post(client, ibm_rows[1] + "\n").get_json()


def test_json_numbers_and_nulls(client, ibm_rows):
    header, row = ibm_rows[0].split(","), ibm_rows[1].split(",")
    record = {k: (float(v) if v.isdigit() else v) for k, v in zip(header, row)}
    as_numbers = post(client, json.dumps([record]), "application/json").get_json()
    assert as_numbers == post(client, ibm_rows[1] + "\n").get_json()
    record["MonthlyIncome"] = None
    assert post(client, json.dumps([record]), "application/json").status_code == 200


@pytest.mark.parametrize(
    "accept, mimetype",
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("text/csv", "text/csv"),
        ("application/jsonlines", "application/jsonlines"),
        ("application/xml, text/csv;q=0.5", "text/csv"),
        ("application/json;verbose", "application/json"),
    ],
)
def test_accept_chooses_the_response_type(client, ibm_rows, accept, mimetype):
    response = post(client, ibm_rows[1] + "\n", accept=accept)
    assert response.status_code == 200 and response.mimetype == mimetype


def test_default_accept_can_be_changed(trained_model):
    settings = environment.serving_settings({"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"})
    client = create_app(trained_model, settings).test_client()
    response = post(client, "\n".join(_ibm_sample()) + "\n")
    assert response.mimetype == "text/csv"


def test_unseen_categories_and_missing_values_are_predicted(client, trained_model):
    body = _full_header_row(trained_model, {"JobRole": "Chief Happiness Officer", "Age": "", "OverTime": "NA"})
    response = post(client, body)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body, content_type, accept, status, message",
    [
        ("Age\n1\n", "application/xml", None, 415, "Content-Type 'application/xml' is not supported"),
        ("Age\n1\n", "", None, 415, "Content-Type '\\(none\\)'"),
        ("41,Yes\n", "text/csv", "application/xml", 406, "Accept 'application/xml' cannot be met"),
        ("", "text/csv", None, 400, "body is empty"),
        ("Age,OverTime\n41,Yes\n", "text/csv", None, 400, "missing required column\\(s\\): BusinessTravel"),
        ("Age,OverTime\n41,Yes\n", "application/json", None, 400, "not valid JSON"),
        ("1,2,3\n", "text/csv", None, 400, "rows have 3 fields"),
    ],
)
def test_bad_requests_get_a_json_error(client, body, content_type, accept, status, message):
    response = post(client, body, content_type, accept)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert re.search(message, error), error
    assert "Traceback" not in error


def test_payload_limit_is_413(trained_model):
    settings = environment.serving_settings({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0.001"})
    client = create_app(trained_model, settings).test_client()
    response = post(client, "x" * 5000)
    assert response.status_code == 413
    assert "larger than 0.001 MB" in response.get_json()["error"]


def test_bad_number_names_column_and_row(client, ibm_rows):
    rows = ibm_rows[1:3]
    rows[1] = rows[1].replace("49,", "forty-nine,", 1)
    response = post(client, "\n".join(rows) + "\n")
    assert response.status_code == 400
    assert response.get_json()["error"] == "column 'Age', row 2: 'forty-nine' is not a number"


def test_request_bodies_are_not_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    post(client, '[{"Age": "SECRET-VALUE"}]', "application/json")
    post(client, "SECRET-VALUE\n")
    assert "SECRET-VALUE" not in caplog.text


def test_ping_answers_head_and_refuses_other_methods(client):
    assert client.head("/ping").status_code == 200
    response = client.post("/ping")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
    assert "error" in response.get_json()


def test_body_without_content_length_is_read_to_its_end(trained_model, settings, client, ibm_rows):
    status, answer = chunked(create_app(trained_model, settings), (ibm_rows[1] + "\n").encode())
    assert status == 200 and answer == post(client, ibm_rows[1] + "\n").get_json()


def test_payload_limit_holds_without_content_length(trained_model):
    settings = environment.serving_settings({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0.001"})
    status, answer = chunked(create_app(trained_model, settings), b"x" * 5000)
    assert status == 413 and "larger than 0.001 MB" in answer["error"]


def _ibm_sample():
    from tests.helpers import BUNDLED_CSV
    return BUNDLED_CSV.read_text(encoding="utf-8-sig").splitlines()[:3]


def _full_header_row(trained_model, overrides: dict) -> str:
    names = trained_model.schema.feature_names
    values = dict.fromkeys(names, "1")
    for feature in trained_model.schema.features:
        if feature.levels:
            values[feature.name] = feature.levels[0]
    values.update(overrides)
    return ",".join(names) + "\n" + ",".join(values[n] for n in names) + "\n"


def chunked(app, body: bytes):
    """POST a body the way a chunked request reaches the app: with no Content-Length."""
    environ = EnvironBuilder(method="POST", path="/invocations", input_stream=io.BytesIO(body),
                             headers={"Content-Type": "text/csv"}).get_environ()
    del environ["CONTENT_LENGTH"]
    app_iter, status, _ = run_wsgi_app(app, environ)
    return int(status.split()[0]), json.loads(b"".join(app_iter))
