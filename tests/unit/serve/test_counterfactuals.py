"""What-if answers and retention levers, asked through POST /invocations."""

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http_client import post


@pytest.fixture(scope="module")
def records(ibm_rows):
    return list(csv.DictReader(io.StringIO("\n".join(ibm_rows[:41]))))


def _ask(client, body: dict, accept="application/json"):
    return post(client, json.dumps(body), "application/json", accept)


def test_whatif_gives_every_row_the_changed_answer(client, records, trained_model):
    answer = _ask(client, {"instances": records, "whatif": {"OverTime": "No", "MonthlyIncome": 9000}}).get_json()
    changed = [{**r, "OverTime": "No", "MonthlyIncome": "9000"} for r in records]
    expected = _ask(client, {"instances": changed}).get_json()["predictions"]
    for row, same in zip(answer["predictions"], expected):
        assert row["whatif"] == {"probability": same["probability"], "label": same["label"]}
    plain = _ask(client, {"instances": records}).get_json()["predictions"]
    assert [row["probability"] for row in answer["predictions"]] == [row["probability"] for row in plain]


def test_whatif_in_the_query_string_and_custom_attributes_answers_csv(client, ibm_rows):
    body = "\n".join(ibm_rows[:4]) + "\n"
    by_query = client.post("/invocations?whatif=OverTime:No%7CStockOptionLevel:2", data=body,
                           headers={"Content-Type": "text/csv", "Accept": "text/csv"}).get_data(as_text=True)
    by_header = client.post("/invocations", data=body, headers={
        "Content-Type": "text/csv", "Accept": "text/csv",
        "X-Amzn-SageMaker-Custom-Attributes": "explain=0; whatif=OverTime:No|StockOptionLevel:2",
    }).get_data(as_text=True)
    assert by_query == by_header
    lines = by_query.splitlines()
    assert len(lines) == 3 and all(len(line.split(",")) == 4 for line in lines)
    as_json = client.post('/invocations?whatif={"OverTime":"No","StockOptionLevel":2}', data=body,
                          headers={"Content-Type": "text/csv", "Accept": "text/csv"}).get_data(as_text=True)
    assert as_json == by_query


@pytest.mark.parametrize("whatif, message", [
    ({"NoSuch": 1}, "'NoSuch' is not a feature"),
    ({"EmployeeNumber": 1}, "not used: identifier-like"),
    ({"Attrition": "No"}, "'Attrition' is not a feature"),
    ({"OverTime": "Maybe"}, "OverTime must be one of the values seen in training (No, Yes)"),
    ({"MonthlyIncome": "lots"}, "MonthlyIncome is a number feature"),
    ({"MonthlyIncome": None}, "MonthlyIncome needs a value"),
    ({}, "whatif must be an object"),
    ("OverTime=No", "column:value pairs"),
    ("{bad", "whatif is not valid JSON"),
])
def test_a_whatif_that_is_not_a_feature_value_is_400_naming_it(client, records, whatif, message):
    response = _ask(client, {"instances": records[:1], "whatif": whatif})
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_levers_bring_employees_at_risk_under_the_threshold(client, records, trained_model):
    answer = _ask(client, {"instances": records, "levers": 3}).get_json()["predictions"]
    at_risk = [row for row in answer if row["label"] == "Yes"]
    assert at_risk
    for row in answer:
        levers = row["levers"]
        assert len(levers["changes"]) <= 3
        assert levers["found"] == (levers["probability"] < trained_model.threshold)
        assert levers["label"] == ("No" if levers["found"] else "Yes")
        if row["label"] == "No":
            assert levers == {"found": True, "probability": row["probability"], "label": "No", "changes": []}
    # Applying the changes as a what-if gives the probability the levers promised.
    row_index = next(i for i, row in enumerate(answer) if row["levers"]["changes"])
    changes = {c["feature"]: c["to"] for c in answer[row_index]["levers"]["changes"]}
    checked = _ask(client, {"instances": [records[row_index]], "whatif": changes}).get_json()["predictions"][0]
    assert checked["whatif"]["probability"] == pytest.approx(answer[row_index]["levers"]["probability"], abs=1e-12)


def test_levers_in_csv_have_a_fixed_number_of_cells(client, ibm_rows):
    body = "\n".join(ibm_rows[:21]) + "\n"
    text = client.post("/invocations?levers=2&explain=1", data=body,
                       headers={"Content-Type": "text/csv", "Accept": "text/csv"}).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 20 and {len(row) for row in rows} == {2 + 4 + 3}
    assert {row[2] for row in rows} <= {"true", "false"}


@pytest.mark.parametrize("levers, status, message", [
    ("7", 400, "more than the 6 actionable features"),
    ("many", 400, "must be a whole number"),
    ("-1", 400, "must be a whole number"),
])
def test_a_bad_levers_setting_is_refused(client, ibm_rows, levers, status, message):
    response = client.post(f"/invocations?levers={levers}", data=ibm_rows[1] + "\n",
                           headers={"Content-Type": "text/csv"})
    assert response.status_code == status
    assert message in response.get_json()["error"]


def test_levers_for_too_many_employees_are_413(client, ibm_rows):
    body = ibm_rows[0] + "\n" + "\n".join(ibm_rows[1:2] * 1001) + "\n"
    response = client.post("/invocations?levers=1", data=body, headers={"Content-Type": "text/csv"})
    assert response.status_code == 413
    assert "1,000 employees" in response.get_json()["error"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(whatif=st.one_of(
    st.none(), st.text(max_size=40),
    st.dictionaries(st.sampled_from(["OverTime", "MonthlyIncome", "Age", "NoSuch", "Attrition", ""]),
                    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12),
                              st.lists(st.integers(), max_size=2)), max_size=3)),
    levers=st.one_of(st.none(), st.integers(-5, 10), st.text(max_size=6), st.booleans()))
def test_any_whatif_or_levers_setting_is_answered_or_refused_never_a_500(client, records, whatif, levers):
    body = {"instances": records[:3]}
    if whatif is not None:
        body["whatif"] = whatif
    if levers is not None:
        body["levers"] = levers
    response = _ask(client, body)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert response.get_json()["error"]
