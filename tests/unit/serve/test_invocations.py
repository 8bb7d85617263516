import json
import logging
import re

import numpy as np
import pytest

from attrition.core.platform import environment
from attrition.core.table import features
from attrition.serve.app import App
from tests.http_client import Client, post

"""/ping and /invocations, the two routes SageMaker calls, answered by the ASGI app."""





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
    client = Client(App(trained_model, settings))
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
    client = Client(App(trained_model, settings))
    response = post(client, "x" * 5000)
    assert response.status_code == 413
    assert "larger than 0.001 MB" in response.get_json()["error"]


def test_bad_number_names_column_and_row(client, ibm_rows):
    rows = ibm_rows[1:3]
    rows[1] = rows[1].replace("49,", "forty-nine,", 1)
    response = post(client, "\n".join(rows) + "\n")
    assert response.status_code == 400
    assert response.get_json()["error"] == "column 'Age', row 2: text where a number is expected"  # never the value


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


def test_a_body_in_many_chunks_is_read_to_its_end(client, ibm_rows):
    body = "\n".join(ibm_rows[1:40]) + "\n"
    whole = post(client, body).get_json()
    pieces = client.post("/invocations", data=body, headers={"Content-Type": "text/csv"}, chunks=7)
    assert pieces.status_code == 200 and pieces.get_json() == whole and len(whole["predictions"]) == 39


def test_payload_limit_holds_for_a_body_in_chunks(trained_model):
    client = Client(App(trained_model, environment.serving_settings({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0.001"})))
    response = client.post("/invocations", data=b"x" * 5000, headers={"Content-Type": "text/csv"}, chunks=5)
    assert response.status_code == 413 and "larger than 0.001 MB" in response.get_json()["error"]


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


@pytest.mark.parametrize("body, content_type", [
    ("[" * 5000 + "]" * 5000, "application/json"),
    ('{"instances": ' + "[" * 3000 + "]" * 3000 + "}", "application/json"),
    ("[" * 5000 + "]" * 5000 + "\n", "application/jsonlines"),
    ("[[" + "[" * 990 + "1" + "]" * 990 + "]]", "application/json"),
    ('{"instances": ' + "[" * 200_000 + "]" * 200_000 + "}", "application/json"),
    ('{"a": ' * 200_000 + "1" + "}" * 200_000 + "\n", "application/jsonlines"),
])
def test_deeply_nested_json_is_400_not_500(client, body, content_type):
    response = post(client, body, content_type)
    assert response.status_code == 400, response.get_json()
    assert "nested too deeply" in response.get_json()["error"] or "is not" in response.get_json()["error"]


def test_a_json_number_too_large_for_a_float_is_400_naming_the_field(client, ibm_rows):
    record = dict(zip(ibm_rows[0].split(","), ibm_rows[1].split(",")))
    body = json.dumps({"instances": [record]}).replace('"Age": "' + record["Age"] + '"', '"Age": ' + "9" * 401)
    response = post(client, body, "application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "column 'Age', row 1: a number too large for a float"


@pytest.mark.parametrize("query", ["explain=\u00b2", "explain=\u00b3", "explain=\u0663", "explain=-1"])
def test_explain_settings_that_only_look_like_numbers_are_400(client, ibm_rows, query):
    response = client.post(f"/invocations?{query}", data=ibm_rows[1] + "\n", headers={"Content-Type": "text/csv"})
    assert response.status_code == 400 and "explain=" in response.get_json()["error"]
    body = json.dumps({"instances": [ibm_rows[1].split(",")], "explain": "\u00b2"})
    assert post(client, body, "application/json").status_code == 400


@pytest.mark.parametrize("charset", ["punycode", "undefined", "rot13", "hex", "zlib", "idna", "utf-7", "klingon"])
def test_charsets_that_are_not_text_encodings_are_415(client, ibm_rows, charset):
    response = post(client, ibm_rows[1] + "\n", f"text/csv; charset={charset}")
    assert response.status_code == 415 and f"charset '{charset}'" in response.get_json()["error"]


def test_text_charsets_are_read(client, ibm_rows):
    for charset in ("latin-1", "utf-16", "cp1252", "ascii"):
        response = client.post("/invocations", data=(ibm_rows[1] + "\n").encode(charset),
                               headers={"Content-Type": f"text/csv; charset={charset}"})
        assert response.status_code == 200, (charset, response.get_json())


def test_explanations_are_bounded_by_rows_times_drivers(client, ibm_rows):
    body = "\n".join(ibm_rows[1:] * 3) + "\n"  # 4,410 rows
    assert client.post("/invocations?explain=20", data=body, headers={"Content-Type": "text/csv"}).status_code == 200
    refused = client.post("/invocations?explain=30", data=body * 2, headers={"Content-Type": "text/csv"})
    assert refused.status_code == 413 and "ask for fewer drivers" in refused.get_json()["error"]


def test_more_drivers_than_features_gives_every_feature(client, trained_model, ibm_rows):
    response = client.post("/invocations?explain=100", data=ibm_rows[1] + "\n", headers={"Content-Type": "text/csv"})
    assert len(response.get_json()["predictions"][0]["explanation"]) == len(trained_model.schema.features)


def test_one_employee_as_a_flat_json_list_of_values(client, ibm_rows):
    values = ibm_rows[1].split(",")
    as_list = post(client, json.dumps(values), "application/json")
    assert as_list.status_code == 200 and as_list.get_json() == post(client, ibm_rows[1] + "\n").get_json()


def test_large_requests_scored_frame_by_frame_equal_row_by_row(client, ibm_rows):
    rows = ibm_rows[1:] * 4  # 5,880 rows: three frames
    answers = post(client, "\n".join([ibm_rows[0], *rows]) + "\n", accept="text/csv").get_data(as_text=True)
    lines = answers.splitlines()
    assert len(lines) == 5880 and lines[:1470] == lines[1470:2940] == lines[2940:4410] == lines[4410:]
    one_by_one = [post(client, "\n".join([ibm_rows[0], r]) + "\n", accept="text/csv").get_data(as_text=True)
                  for r in rows[2045:2052]]  # across the first frame boundary
    expected = [a.strip().split(",") for a in one_by_one]  # one row goes the pure-Python path: equal to 1e-12
    got = [line.split(",") for line in lines[2045:2052]]
    assert [label for _, label in got] == [label for _, label in expected]
    assert [float(p) for p, _ in got] == pytest.approx([float(p) for p, _ in expected], abs=1e-12)


def test_a_bad_row_in_a_later_frame_names_its_line(client, ibm_rows):
    rows = ibm_rows[1:] * 3
    rows[3000] = rows[3000].replace(",", ";", 1)
    response = post(client, "\n".join(rows) + "\n")
    assert response.status_code == 400
    assert response.get_json()["error"] == "request line 3001 has 34 fields; expected 35"
