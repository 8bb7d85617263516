"""Explanations on request: how many drivers, and what each shows."""

import json

import numpy as np
import pytest

from attrition.core.table import features
from tests.http_client import post


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
