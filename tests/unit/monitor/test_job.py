import json
import shutil

import pytest

from attrition.core.platform import environment
from attrition.monitor import job as monitoring
from attrition.serve import recorder as datacapture
from attrition.serve.app import App
from tests.helpers import as_csv, capture_record, capture_traffic, next_year
from tests.http_client import Client


@pytest.fixture(scope="module")
def send(trained_model):
    client = Client(App(trained_model, environment.serving_settings({})))

    def post(body, content_type, accept):
        response = client.post("/invocations", data=body,
                               headers={"Content-Type": content_type, "Accept": accept})
        assert response.status_code == 200, response.get_json()
        return response.data

    return post


def run_monitor(tmp_path, trained_dir, files: dict, **env):
    source = tmp_path / "endpointdata" / "attrition-ep" / "AllTraffic" / "2026" / "11" / "28" / "10"
    source.mkdir(parents=True)
    for name, text in files.items():
        (source / name).write_text(text)
    output = tmp_path / "resultdata"
    environ = {
        "SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml"),
        "dataset_source": str(tmp_path / "endpointdata"),
        "output_path": str(output),
        "baseline_statistics": str(trained_dir / "model" / "statistics.json"),
        "baseline_constraints": str(trained_dir / "model" / "constraints.json"),
        "dataset_format": json.dumps(
            {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}),
        **env,
    }
    code = monitoring.main(environ)
    read = lambda name: json.loads((output / name).read_text())  # noqa: E731
    return code, read("constraint_violations.json")["violations"], read("drift_report.json")


def flagged(violations) -> set:
    return {(v["feature_name"], v["constraint_check_type"]) for v in violations}


def test_known_shifts_in_captured_traffic_are_flagged(tmp_path, trained_dir, send, ibm_text):
    capture = capture_traffic(send, next_year(ibm_text, 1500, seed=1, shifted=True))
    code, violations, report = run_monitor(tmp_path, trained_dir, {"capture.jsonl": capture})
    assert code == 0
    found = flagged(violations)
    assert ("OverTime", "baseline_drift_check") in found
    assert ("JobRole", "categorical_values_check") in found
    assert ("MonthlyIncome", "baseline_drift_check") in found
    assert {name for name, _ in found} <= {"OverTime", "JobRole", "MonthlyIncome", "predicted_attrition_probability"}
    assert report["verdict"]["retraining_recommended"] is True
    assert report["window"]["rows"] == 1500 and report["window"]["skipped"] == {}
    assert report["prediction"]["available"] and report["prediction"]["shift"] > 0
    job_role = next(r for r in report["features"] if r["feature"] == "JobRole")
    assert job_role["new_categories"] == ["Data Scientist"]


def test_an_unshifted_resample_stays_quiet(tmp_path, trained_dir, send, ibm_text):
    capture = capture_traffic(send, next_year(ibm_text, 1500, seed=2, shifted=False))
    code, violations, report = run_monitor(tmp_path, trained_dir, {"capture.jsonl": capture})
    assert code == 0 and violations == []
    assert report["verdict"]["retraining_recommended"] is False
    assert report["verdict"]["summary"] == "no drift found in 1500 rows"


def test_bad_capture_records_are_reported_and_skipped(tmp_path, trained_dir, send, ibm_text):
    good = capture_traffic(send, next_year(ibm_text, 200, seed=3, shifted=False))
    npy = capture_record(b"\x93NUMPY", "application/x-npy", b"[]", "application/json", base64_encoded=True)
    refused = capture_record(b"1,2,3\n", "text/csv", b'{"error": "x"}', "application/json")
    files = {"good.jsonl": good + npy + "\n" + refused + "\n" + good.splitlines()[0][:80] + "\n",
             "empty.jsonl": "", "notes.txt": "not capture data"}
    code, _, report = run_monitor(tmp_path, trained_dir, files)
    assert code == 0
    skipped = report["window"]["skipped"]
    assert skipped == {"request content type application/x-npy is not one we decode": 1,
                       "request body the endpoint would refuse": 1,
                       "truncated or malformed capture line": 1,
                       "file type .txt is not read": 1}
    assert report["window"]["rows"] == 200


def test_an_empty_window_is_a_valid_result(tmp_path, trained_dir):
    code, violations, report = run_monitor(tmp_path, trained_dir, {"capture.jsonl": ""})
    assert code == 0 and violations == []
    assert report["verdict"]["summary"].startswith("empty window")


def test_records_outside_the_window_are_left_out(tmp_path, trained_dir, send, ibm_text):
    capture = capture_traffic(send, next_year(ibm_text, 100, seed=4, shifted=False))
    code, _, report = run_monitor(tmp_path, trained_dir, {"c.jsonl": capture},
                                  start_time="2026-11-28T11:00:00Z", end_time="2026-11-28T12:00:00Z")
    assert code == 0 and report["window"]["rows"] == 0
    assert report["window"]["skipped"] == {"outside the analysis window": 2}


def test_plain_csv_of_recent_employees_with_the_model_mounted(tmp_path, trained_dir, ibm_text):
    (tmp_path / "opt_ml").mkdir()
    shutil.copytree(trained_dir / "model", tmp_path / "opt_ml" / "model")
    recent = as_csv(next_year(ibm_text, 800, seed=5, shifted=True))
    code, violations, report = run_monitor(tmp_path, trained_dir, {"recent.csv": recent},
                                           publish_cloudwatch_metrics="Enabled")
    assert code == 0 and ("OverTime", "baseline_drift_check") in flagged(violations)
    assert report["prediction"]["available"] and report["prediction"]["rows"] == 800
    metrics = (tmp_path / "opt_ml" / "output" / "metrics" / "cloudwatch" / "metrics.jsonl").read_text()
    records = {r["MetricName"]: r for r in map(json.loads, metrics.splitlines())}
    assert records["retraining_recommended"]["Value"] == 1.0 and records["violations"]["Value"] >= 1
    assert "feature_psi_OverTime" in records and records["violations"]["Timestamp"].endswith("Z")
    assert {d["Name"] for d in records["violations"]["Dimensions"]} == {"Endpoint", "MonitoringSchedule"}


def test_missing_baseline_fails_clearly(tmp_path, trained_dir):
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path), "baseline_statistics": str(tmp_path / "none.json")}
    assert monitoring.main(environ) == 2
    assert (tmp_path / "output" / "failure").read_text().startswith("no baseline at")


def test_local_data_capture_feeds_the_monitor(tmp_path, trained_model, trained_dir, ibm_text):
    recorder = datacapture.recorder(environment.capture_settings({"ATTRITION_CAPTURE_DIR": str(tmp_path / "capture")}))
    client = Client(App(trained_model, environment.serving_settings({}), recorder))
    employees = next_year(ibm_text, 300, seed=6, shifted=False)
    for start in range(0, 300, 100):
        body = as_csv(employees[start:start + 100])
        assert client.post("/invocations", data=body, headers={"Content-Type": "text/csv"}).status_code == 200
    assert client.post("/invocations", data="", headers={"Content-Type": "text/csv"}).status_code == 400
    (capture_file,) = (tmp_path / "capture").rglob("capture-*.jsonl")
    records = [json.loads(line) for line in capture_file.read_text().splitlines()]
    assert len(records) == 3  # refused requests are not captured
    assert records[0]["captureData"]["endpointInput"]["encoding"] == "CSV"
    environ = {"SAGEMAKER_BASE_DIR": str(trained_dir), "dataset_source": str(tmp_path / "capture"),
               "output_path": str(tmp_path / "out")}
    assert monitoring.main(environ) == 0
    report = json.loads((tmp_path / "out" / "drift_report.json").read_text())
    assert report["window"]["rows"] == 300 and report["prediction"]["rows"] == 300


@pytest.mark.parametrize("shifted", [False, True])
def test_a_minimised_capture_keeps_no_raw_identifier_and_monitor_reaches_the_same_verdict(
        tmp_path, trained_model, trained_dir, ibm_text, shifted):
    """#27: identifiers hashed, protected columns in their own store; the verdict is the one a
    full capture gets (the protected columns are listed as withheld, not as drifting)."""
    employees = next_year(ibm_text, 1000, seed=8, shifted=shifted)
    for n, employee in enumerate(employees):
        employee["EmployeeNumber"] = f"EMP-{n:05d}-RAW"
    policy = {"ATTRITION_CAPTURE_HASH_COLUMNS": "EmployeeNumber", "ATTRITION_CAPTURE_HASH_KEY": "k" * 32,
              "ATTRITION_CAPTURE_PROTECTED_COLUMNS": "Gender,MaritalStatus",
              "ATTRITION_CAPTURE_PROTECTED_DIR": str(tmp_path / "protected")}
    verdicts = []
    for name, extra in (("full", {}), ("minimised", policy)):
        settings = environment.capture_settings({"ATTRITION_CAPTURE_DIR": str(tmp_path / name), **extra})
        client = Client(App(trained_model, environment.serving_settings({}), datacapture.recorder(settings)))
        for start in range(0, 1000, 100):
            chunk = employees[start:start + 100]
            body, kind = (as_csv(chunk), "text/csv") if start % 200 else (json.dumps(chunk), "application/json")
            assert client.post("/invocations", data=body, headers={"Content-Type": kind}).status_code == 200
        environ = {"SAGEMAKER_BASE_DIR": str(trained_dir), "dataset_source": str(tmp_path / name),
                   "output_path": str(tmp_path / f"{name}-out")}
        assert monitoring.main(environ) == 0
        verdicts.append(json.loads((tmp_path / f"{name}-out" / "drift_report.json").read_text()))
    full, minimised = verdicts
    captured = "".join(p.read_text() for p in (tmp_path / "minimised").rglob("*.jsonl"))
    assert "-RAW" not in captured and "EMP-" not in captured and captured.count("hmac-sha256:") == 1000
    assert "Female" not in captured and "Divorced" not in captured
    apart = [json.loads(line) for p in (tmp_path / "protected").rglob("*.jsonl") for line in p.read_text().splitlines()]
    assert sum(len(record["columns"]["Gender"]) for record in apart) == 1000
    assert minimised["window"]["rows"] == full["window"]["rows"] == 1000
    assert minimised["withheld_features"] == ["Gender", "MaritalStatus"] and full["withheld_features"] == []
    assert minimised["verdict"]["retraining_recommended"] is full["verdict"]["retraining_recommended"] is shifted
    kept = {r["feature"]: r["psi"] for r in minimised["features"]}
    assert kept == pytest.approx({r["feature"]: r["psi"] for r in full["features"]
                                  if r["feature"] not in ("Gender", "MaritalStatus")})


def test_a_record_whose_values_do_not_parse_is_skipped_not_fatal(tmp_path, trained_dir, send, ibm_text):
    good = capture_traffic(send, next_year(ibm_text, 150, seed=6, shifted=False))
    header, row = ibm_text.splitlines()[:2]
    bad_row = row.split(",")
    bad_row[0] = "forty-one"  # Age
    bad = capture_record(("\n".join([header, ",".join(bad_row)]) + "\n").encode(), "text/csv", b"0.5,Yes\n", "text/csv")
    code, _, report = run_monitor(tmp_path, trained_dir, {"c.jsonl": good + bad + "\n"})
    assert code == 0 and report["window"]["rows"] == 150
    assert report["window"]["skipped"] == {"request body the endpoint would refuse": 1}


def test_a_window_of_only_bad_records_is_a_clear_failure(tmp_path, trained_dir):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "c.jsonl").write_text(
        "{truncated\n" + capture_record(b"<a/>", "application/xml", b"", "text/csv") + "\n")
    code = monitoring.main({"SAGEMAKER_BASE_DIR": str(tmp_path), "dataset_source": str(tmp_path / "data"),
                            "baseline_statistics": str(trained_dir / "model" / "statistics.json"),
                            "baseline_constraints": str(trained_dir / "model" / "constraints.json")})
    failure = (tmp_path / "output" / "failure").read_text()
    assert code == 2 and "no usable record in the window" in failure and "2 of 2 refused" in failure


def test_records_nested_too_deep_or_with_huge_numbers_are_skipped_and_counted(tmp_path, trained_dir, send, ibm_text):
    good = capture_traffic(send, next_year(ibm_text, 100, seed=7, shifted=False))
    deep = '{"captureData": ' + "[" * 200_000 + "]" * 200_000 + "}"
    header, row = ibm_text.splitlines()[:2]
    record = dict(zip(header.split(","), row.split(",")))
    huge = json.dumps({"instances": [record]}).replace(f'"Age": "{record["Age"]}"', '"Age": ' + "9" * 401)
    big_number = capture_record(huge.encode(), "application/json", b'{"predictions": []}', "application/json")
    code, _, report = run_monitor(tmp_path, trained_dir, {"c.jsonl": good + deep + "\n" + big_number + "\n"})
    assert code == 0 and report["window"]["rows"] == 100
    assert report["window"]["skipped"] == {"truncated or malformed capture line": 1,
                                           "request body the endpoint would refuse": 1}


def test_performance_is_estimated_before_the_labels_and_a_window_it_cannot_rank_is_flagged(
        tmp_path, trained_dir, send, ibm_text):
    steady = capture_traffic(send, next_year(ibm_text, 1000, seed=4, shifted=False))
    code, violations, report = run_monitor(tmp_path / "steady", trained_dir, {"capture.jsonl": steady})
    estimated = report["estimated_performance"]
    assert code == 0 and 0.7 < estimated["auc"]["value"] < 0.95 and estimated["auc"]["low"] < estimated["auc"]["high"]
    assert not [v for v in violations if v["constraint_check_type"] == "estimated_performance_check"]
    same = [next_year(ibm_text, 1, seed=9, shifted=False)[0]] * 400  # one employee 400 times: nothing to rank
    code, violations, report = run_monitor(tmp_path / "same", trained_dir,
                                           {"capture.jsonl": capture_traffic(send, same)})
    assert report["estimated_performance"]["auc"]["value"] == pytest.approx(0.5)
    assert ("estimated_auc", "estimated_performance_check") in flagged(violations)
    assert report["verdict"]["retraining_recommended"] is True
