import dataclasses
import io
import json
import logging
import re

import numpy as np
import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from attrition import environment, features
from attrition.app import create_app


@pytest.fixture()
def settings():
    return environment.serving_settings({"SAGEMAKER_MODEL_SERVER_WORKERS": "2"})


@pytest.fixture()
def client(trained_model, settings):
    return create_app(trained_model, settings).test_client()


@pytest.fixture(scope="module")
def ibm_rows(ibm_text):
    return ibm_text.splitlines()


def post(client, body, content_type="text/csv", accept=None):
    headers = {"Content-Type": content_type}
    if accept:
        headers["Accept"] = accept
    return client.post("/invocations", data=body, headers=headers)


def test_ping_is_200_with_an_empty_body(client):
    response = client.get("/ping")
    assert response.status_code == 200 and response.data == b""


def test_execution_parameters_for_batch_transform(client):
    assert client.get("/execution-parameters").get_json() == {
        "MaxConcurrentTransforms": 2, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6,
    }


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


def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/nope").status_code == 404
    response = client.get("/invocations")
    assert response.status_code == 405 and "error" in response.get_json()


def test_bad_number_names_column_and_row(client, ibm_rows):
    rows = ibm_rows[1:3]
    rows[1] = rows[1].replace("49,", "forty-nine,", 1)
    response = post(client, "\n".join(rows) + "\n")
    assert response.status_code == 400
    assert response.get_json()["error"] == "column 'Age', row 2: 'forty-nine' is not a number"


def test_internal_errors_are_500_without_details(trained_model, settings, ibm_rows, caplog):
    broken = dataclasses.replace(trained_model)
    broken.predict = lambda *a: (_ for _ in ()).throw(RuntimeError("secret detail"))
    client = create_app(broken, settings).test_client()
    response = post(client, ibm_rows[1] + "\n")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error; the server log has the details"}


def test_request_bodies_are_not_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    post(client, '[{"Age": "SECRET-VALUE"}]', "application/json")
    post(client, "SECRET-VALUE\n")
    assert "SECRET-VALUE" not in caplog.text


def _ibm_sample():
    from tests.helpers import BUNDLED_CSV
    return BUNDLED_CSV.read_text(encoding="utf-8-sig").splitlines()[:3]


def _full_header_row(trained_model, overrides: dict) -> str:
    names = trained_model.schema.feature_names
    values = {name: "1" for name in names}
    for feature in trained_model.schema.features:
        if feature.levels:
            values[feature.name] = feature.levels[0]
    values.update(overrides)
    return ",".join(names) + "\n" + ",".join(values[n] for n in names) + "\n"


def test_explanations_on_request(client, trained_model, ibm_rows):
    body = ibm_rows[1] + "\n" + ibm_rows[2] + "\n"
    by_header = client.post("/invocations", data=body, headers={
        "Content-Type": "text/csv", "X-Amzn-SageMaker-Custom-Attributes": "trace=1; explain=4"}).get_json()
    by_query = client.post("/invocations?explain=4", data=body, headers={"Content-Type": "text/csv"}).get_json()
    assert by_header == by_query
    first = by_header["predictions"][0]
    drivers = first["explanation"]
    assert len(drivers) == 4
    sizes = [abs(d["contribution"]) for d in drivers]
    assert sizes == sorted(sizes, reverse=True)
    # Contributions of all features plus the base value add up to the log-odds of the probability.
    header, *rows = [r.split(",") for r in ibm_rows[:2]]
    matrix = features.encode(trained_model.schema, dict(zip(header, zip(*rows))), 1)
    total = trained_model.booster.predict(matrix, pred_contrib=True).sum()
    assert total == pytest.approx(np.log(first["probability"] / (1 - first["probability"])))
    overtime = next((d for d in drivers if d["feature"] == "OverTime"), None)
    if overtime:
        assert overtime["value"] in ("Yes", "No")


def test_explanations_json_field_and_csv_output(client, ibm_rows):
    record = dict(zip(ibm_rows[0].split(","), ibm_rows[1].split(",")))
    response = post(client, json.dumps({"instances": [record], "explain": 2}), "application/json", "text/csv")
    cells = response.get_data(as_text=True).strip().split(",")
    assert len(cells) == 2 + 2 * 3
    assert "explanation" not in post(client, ibm_rows[1] + "\n").get_json()["predictions"][0]


def test_bad_explain_setting_is_400(client, ibm_rows):
    response = client.post("/invocations?explain=lots", data=ibm_rows[1], headers={"Content-Type": "text/csv"})
    assert response.status_code == 400
    assert "explain='lots'" in response.get_json()["error"]


def test_every_response_names_the_model_version(client, trained_model, ibm_rows):
    answers = [client.get("/ping"), post(client, ibm_rows[1]), post(client, "", "text/csv"),
               client.get("/nope")]
    assert {r.headers["X-Attrition-Model-Version"] for r in answers} == {trained_model.version}
    assert len(trained_model.version) == 16


def test_model_route_gives_identity_and_schema_without_employee_data(client, trained_model):
    card = client.get("/model").get_json()
    assert card["model_version"] == trained_model.version == trained_model.manifest["model_version"]
    assert card["data"]["train"][0]["rows"] == 1470 and len(card["data"]["train"][0]["sha256"]) == 64
    assert card["label_column"] == "Attrition" and card["classes"] == ["No", "Yes"]
    assert {f["name"] for f in card["features"]} == set(trained_model.schema.feature_names)
    assert "EmployeeNumber" in card["dropped"]
    assert card["predictor"] == "stumps"
    assert card["feature_importance"][0]["feature"] == trained_model.metadata["feature_importance"][0]["feature"]
    text = json.dumps(card)
    assert "5993" not in text and "Travel_Rarely,1102" not in text  # no employee records


def test_explanation_values_show_missing_as_null_and_unseen_as_sent(client, ibm_rows):
    header = ibm_rows[0].split(",")
    record = dict(zip(header, ibm_rows[1].split(",")))
    record.update(OverTime="", JobRole="Astronaut", Age="NA")
    body = json.dumps({"instances": [record], "explain": 100})
    drivers = post(client, body, "application/json").get_json()["predictions"][0]["explanation"]
    values = {d["feature"]: d["value"] for d in drivers}
    assert values["OverTime"] is None and values["Age"] is None
    assert values["JobRole"] == "Astronaut"
    assert len(drivers) == 30  # every feature, when more are asked for than there are


def test_ping_answers_head_and_refuses_other_methods(client):
    assert client.head("/ping").status_code == 200
    response = client.post("/ping")
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
    assert "error" in response.get_json()


def chunked(app, body: bytes):
    """POST a body the way a chunked request reaches the app: with no Content-Length."""
    environ = EnvironBuilder(method="POST", path="/invocations", input_stream=io.BytesIO(body),
                             headers={"Content-Type": "text/csv"}).get_environ()
    del environ["CONTENT_LENGTH"]
    app_iter, status, _ = run_wsgi_app(app, environ)
    return int(status.split()[0]), json.loads(b"".join(app_iter))


def test_body_without_content_length_is_read_to_its_end(trained_model, settings, client, ibm_rows):
    status, answer = chunked(create_app(trained_model, settings), (ibm_rows[1] + "\n").encode())
    assert status == 200 and answer == post(client, ibm_rows[1] + "\n").get_json()


def test_payload_limit_holds_without_content_length(trained_model):
    settings = environment.serving_settings({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0.001"})
    status, answer = chunked(create_app(trained_model, settings), b"x" * 5000)
    assert status == 413 and "larger than 0.001 MB" in answer["error"]
