import dataclasses
import json

from attrition.serve.app import App
from tests.http_client import Client, post


def test_execution_parameters_for_batch_transform(client):
    assert client.get("/execution-parameters").get_json() == {
        "MaxConcurrentTransforms": 2, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6,
    }




















def test_unknown_routes_and_methods_answer_json(client):
    assert client.get("/nope").status_code == 404
    response = client.get("/invocations")
    assert response.status_code == 405 and "error" in response.get_json()




def test_internal_errors_are_500_without_details(trained_model, settings, ibm_rows, caplog):
    broken = dataclasses.replace(trained_model)
    broken.predict = lambda *a: (_ for _ in ()).throw(RuntimeError("secret detail"))
    client = Client(App(broken, settings))
    response = post(client, ibm_rows[1] + "\n")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error; the server log has the details"}














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












def test_the_model_card_shows_levers_and_each_features_exact_step_function(client, trained_model):
    card = client.get("/model").get_json()
    assert card["retention_levers"]["method"] == "exact (a sum of stumps)"
    assert [lever["feature"] for lever in card["retention_levers"]["levers"]][:2] == ["OverTime", "BusinessTravel"]
    overtime = next(curve for curve in card["response_curves"] if curve["feature"] == "OverTime")
    assert overtime["points"] == ["No", "Yes"] and overtime["log_odds"][1] > overtime["log_odds"][0]
