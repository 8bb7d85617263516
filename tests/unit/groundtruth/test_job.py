"""groundtruth: an HR export of who left, and the capture, make ground-truth files; the model
quality monitor then scores the captured predictions exactly as `evaluate` scores the same rows."""

import csv
import json
from datetime import UTC, datetime, timedelta

import pytest

from attrition.core.platform import environment
from attrition.evaluate import job as evaluate
from attrition.groundtruth import job as groundtruth
from attrition.monitor import job as monitoring
from attrition.serve import recorder as datacapture
from attrition.serve.app import App
from tests.helpers import as_csv, next_year
from tests.http_client import Client

TODAY = datetime.now(UTC).date()


def serve_and_capture(trained_model, folder, employees, environ=None) -> None:
    """Half the employees one a request with an inference id (as SageMaker's callers send), the
    rest in requests of 50 without one (joined by eventId)."""
    settings = environment.capture_settings({"ATTRITION_CAPTURE_DIR": str(folder), **(environ or {})})
    client = Client(App(trained_model, environment.serving_settings({}), datacapture.recorder(settings)))
    rows = [{k: v for k, v in e.items() if k != "Attrition"} for e in employees]
    half = len(rows) // 2
    for n, row in enumerate(rows[:half]):
        answer = client.post("/invocations", data=as_csv([row]), headers={
            "Content-Type": "text/csv", "X-Amzn-SageMaker-Inference-Id": f"inference-{n}"})
        assert answer.status_code == 200
    for start in range(half, len(rows), 50):
        assert client.post("/invocations", data=as_csv(rows[start:start + 50]),
                           headers={"Content-Type": "text/csv"}).status_code == 200


def write_leavers(path, employees, left_after_days: int = 60) -> None:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["EmployeeNumber", "LeftOn"])
        for employee in employees:
            if employee["Attrition"] == "Yes":
                writer.writerow([employee["EmployeeNumber"], (TODAY + timedelta(days=left_after_days)).isoformat()])


@pytest.fixture()
def employees(ibm_text):
    found = next_year(ibm_text, 600, seed=21, shifted=False)
    for n, employee in enumerate(found):
        employee["EmployeeNumber"] = str(100000 + n)  # one employee, one identifier
    return found


def label(tmp_path, trained_dir, *more, environ=None) -> int:
    return groundtruth.main(["--model", str(trained_dir / "model"), "--leavers", str(tmp_path / "leavers.csv"),
                             "--capture", str(tmp_path / "capture"), "--output", str(tmp_path / "truth"), *more],
                            {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml"), **(environ or {})})


def quality(tmp_path, trained_dir, **environ) -> tuple[int, dict]:
    code = monitoring.main({"SAGEMAKER_BASE_DIR": str(trained_dir), "analysis_type": "MODEL_QUALITY",
                            "dataset_source": str(tmp_path / "capture"), "ground_truth_source": str(tmp_path / "truth"),
                            "output_path": str(tmp_path / "quality"), **environ})
    report = tmp_path / "quality" / "model_quality_report.json"
    return code, json.loads(report.read_text()) if report.exists() else {}


def test_the_model_quality_monitor_scores_the_joined_rows_as_evaluate_does(tmp_path, trained_model, trained_dir,
                                                                         employees):
    serve_and_capture(trained_model, tmp_path / "capture", employees)
    write_leavers(tmp_path / "leavers.csv", employees)
    assert label(tmp_path, trained_dir, "--as-of", (TODAY + timedelta(days=400)).isoformat()) == 0
    files = list((tmp_path / "truth").rglob("groundtruth.jsonl"))
    assert files and len(files[0].relative_to(tmp_path / "truth").parts) == 5  # yyyy/mm/dd/hh/
    code, report = quality(tmp_path, trained_dir)
    assert code == 0 and report["rows"] == 600 and report["join"]["records joined"] == 300 + 6
    assert report["join"]["captured records without an inferenceId (joined by eventId)"] == 6
    statistics = json.loads((tmp_path / "quality" / "statistics.json").read_text())["binary_classification_metrics"]
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "joined.csv").write_text(as_csv(employees))
    assert evaluate.main(["--model", str(trained_dir / "model"), "--test", str(tmp_path / "test"), "--output",
                          str(tmp_path / "evaluated")], {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")}) == 0
    evaluated = json.loads((tmp_path / "evaluated" / "evaluation.json").read_text())["binary_classification_metrics"]
    for name in ("auc", "pr_auc", "f1", "precision", "recall", "accuracy"):
        assert statistics[name]["value"] == pytest.approx(evaluated[name]["value"], abs=1e-12), name
        assert 0 < statistics[name]["standard_deviation"] < 0.2, name
    assert statistics["confusion_matrix"] == evaluated["confusion_matrix"]
    for name in ("f0_5", "f2", "true_positive_rate", "false_positive_rate", "recall_best_constant_classifier",
                 "accuracy_best_constant_classifier", "f1_best_constant_classifier"):
        assert "value" in statistics[name] and "standard_deviation" in statistics[name], name
    assert statistics["true_positive_rate"]["value"] == pytest.approx(statistics["recall"]["value"])
    assert statistics["recall_best_constant_classifier"]["value"] == 0.0  # always "stays": most stay
    assert report["verdict"]["retraining_recommended"] is False, report["verdict"]
    constraints = json.loads((trained_dir / "output" / "data" / "model_quality_constraints.json").read_text())
    assert constraints["binary_classification_constraints"]["auc"]["comparison_operator"] == "LessThanThreshold"


def test_a_model_that_no_longer_ranks_is_a_violation_with_cloudwatch_records(tmp_path, trained_model, trained_dir,
                                                                            employees):
    serve_and_capture(trained_model, tmp_path / "capture", employees)
    shuffled = [dict(e, Attrition=other["Attrition"]) for e, other in zip(employees, employees[::-1])]
    write_leavers(tmp_path / "leavers.csv", shuffled)  # the truth no longer follows the model
    assert label(tmp_path, trained_dir, "--as-of", (TODAY + timedelta(days=400)).isoformat()) == 0
    code, report = quality(tmp_path, trained_dir, publish_cloudwatch_metrics="Enabled")
    violations = json.loads((tmp_path / "quality" / "constraint_violations.json").read_text())["violations"]
    assert code == 0 and "auc" in {v["metric_name"] for v in violations}
    assert report["verdict"]["retraining_recommended"] is True and "model quality fell" in report["verdict"]["summary"]
    records = [json.loads(line) for line in
               (trained_dir / "output" / "metrics" / "cloudwatch" / "metrics.jsonl").read_text().splitlines()]
    assert {"auc", "f1", "retraining_recommended", "violations"} <= {r["MetricName"] for r in records}


def test_truth_not_known_yet_bad_and_duplicated_records_are_counted_never_fatal(tmp_path, trained_model, trained_dir,
                                                                              employees):
    serve_and_capture(trained_model, tmp_path / "capture", employees[:40])
    write_leavers(tmp_path / "leavers.csv", employees[:40])
    assert label(tmp_path, trained_dir) == 2  # today: no horizon is over and nobody has left yet
    assert "horizon not over yet" in (tmp_path / "opt_ml" / "output" / "failure").read_text()
    assert label(tmp_path, trained_dir, "--as-of", (TODAY + timedelta(days=400)).isoformat()) == 0
    (truth_file,) = (tmp_path / "truth").rglob("groundtruth.jsonl")
    lines = truth_file.read_text().splitlines()
    extra = [lines[0],  # a duplicate
             json.dumps({"groundTruthData": {"data": "Yes", "encoding": "CSV"}, "eventMetadata": {"eventId": "nobody"},
                         "eventVersion": "0"}), "{broken",
             json.dumps({"groundTruthData": {"data": "Maybe", "encoding": "CSV"},
                         "eventMetadata": {"eventId": "inference-5"}, "eventVersion": "0"})]
    lines[5] = extra[3]
    truth_file.write_text("\n".join(lines + extra[:3]) + "\n")
    code, report = quality(tmp_path, trained_dir)
    counts = report["join"]
    assert code == 0 and counts["ground-truth records with a duplicated id (the first kept)"] == 1
    assert counts["ground truth naming no captured record"] == 1 and counts["malformed ground-truth lines"] == 1
    assert counts["rows whose label is not one of the model's classes"] == 1
    assert report["rows"] == 39 and "too few to judge" in report["verdict"]["summary"]


def test_a_window_of_one_class_says_auc_is_undefined_and_no_truth_at_all_is_exit_2(tmp_path, trained_model,
                                                                                 trained_dir, employees):
    stayers = [e for e in employees if e["Attrition"] == "No"][:30]
    serve_and_capture(trained_model, tmp_path / "capture", stayers)
    write_leavers(tmp_path / "leavers.csv", stayers)
    assert label(tmp_path, trained_dir, "--as-of", (TODAY + timedelta(days=400)).isoformat()) == 0
    code, report = quality(tmp_path, trained_dir)
    statistics = json.loads((tmp_path / "quality" / "statistics.json").read_text())["binary_classification_metrics"]
    assert code == 0 and statistics["auc"]["value"] is None
    assert report["verdict"]["notes"] == ["only stayers in the labelled rows: AUC, PR AUC and the rates of the "
                                          "missing class are undefined"]
    for path in (tmp_path / "truth").rglob("*.jsonl"):
        path.unlink()
    code, _ = quality(tmp_path, trained_dir)
    failure = (trained_dir / "output" / "failure").read_text()
    assert code == 2 and "nothing to measure: no captured prediction" in failure
    assert "captured records with no ground truth yet: 16" in failure  # 15 alone, 15 in one request


def test_pseudonymised_captures_are_labelled_with_the_same_key(tmp_path, trained_model, trained_dir, employees):
    policy = {"ATTRITION_CAPTURE_HASH_COLUMNS": "EmployeeNumber", "ATTRITION_CAPTURE_HASH_KEY": "s" * 24}
    serve_and_capture(trained_model, tmp_path / "capture", employees[:100], policy)
    write_leavers(tmp_path / "leavers.csv", employees[:100])
    assert label(tmp_path, trained_dir, "--as-of", (TODAY + timedelta(days=400)).isoformat(), environ=policy) == 0
    code, report = quality(tmp_path, trained_dir)
    assert code == 0 and report["rows"] == 100
    assert report["positives"] == sum(e["Attrition"] == "Yes" for e in employees[:100])
    assert label(tmp_path, trained_dir, "--as-of", (TODAY + timedelta(days=400)).isoformat()) == 2  # without the key
    assert "values are keyed hashes: set ATTRITION_CAPTURE_HASH_COLUMNS" in (
        tmp_path / "opt_ml" / "output" / "failure").read_text()


def _bias(tmp_path, trained_dir, **environ) -> tuple[int, dict]:
    code = monitoring.main({"SAGEMAKER_BASE_DIR": str(trained_dir), "analysis_type": "MODEL_BIAS",
                            "baseline_constraints": str(trained_dir / "output" / "data" / "bias.json"),
                            "dataset_source": str(tmp_path / "capture"), "ground_truth_source": str(tmp_path / "truth"),
                            "output_path": str(tmp_path / "bias"), **environ})
    report = tmp_path / "bias" / "bias_drift_report.json"
    return code, json.loads(report.read_text()) if report.exists() else {}


def test_the_bias_drift_monitor_flags_a_group_the_model_now_fails_and_reads_the_protected_store(
        tmp_path, trained_model, trained_dir, employees):
    """Truth in which every woman leaves and no man does: the model's flags (which do not follow
    gender) now miss women far more often than men, so Gender's rates leave their ranges."""
    policy = {"ATTRITION_CAPTURE_PROTECTED_COLUMNS": "Gender,MaritalStatus",
              "ATTRITION_CAPTURE_PROTECTED_DIR": str(tmp_path / "protected")}
    serve_and_capture(trained_model, tmp_path / "capture", employees, policy)  # Gender set apart, not captured
    skewed = [dict(e, Attrition="Yes" if e["Gender"] == "Female" else "No") for e in employees]
    write_leavers(tmp_path / "leavers.csv", skewed)
    assert label(tmp_path, trained_dir, "--as-of", (TODAY + timedelta(days=400)).isoformat()) == 0
    code, report = _bias(tmp_path, trained_dir, protected_source=str(tmp_path / "protected"))
    violations = json.loads((tmp_path / "bias" / "constraint_violations.json").read_text())["violations"]
    assert code == 0 and report["rows"] == 600 and report["facets"] == ["Gender", "MaritalStatus", "Age>40"]
    assert "Gender" in {v["feature_name"] for v in violations} and report["verdict"]["retraining_recommended"]
    assert not any(key.startswith("joined records without") for key in report["join"])
    analysis = json.loads((tmp_path / "bias" / "analysis.json").read_text())
    assert {g["value_or_threshold"] for g in analysis["post_training_bias_metrics"]["facets"]["Gender"]} == {
        "Female", "Male"}
    missing = _bias(tmp_path, trained_dir, protected_source=str(tmp_path / "nowhere"))[1]
    assert missing["join"]["joined records without Gender"] > 0  # no store: said, not guessed


def test_the_bias_drift_monitor_needs_trainings_audit(tmp_path, trained_dir):
    code = monitoring.main({"SAGEMAKER_BASE_DIR": str(trained_dir), "analysis_type": "MODEL_BIAS",
                            "dataset_source": str(tmp_path), "output_path": str(tmp_path / "bias")})
    assert code == 2 and "set baseline_constraints to the bias.json" in (
        trained_dir / "output" / "failure").read_text()
