"""The real image, run with `docker run` as SageMaker runs it, spoken to over HTTP."""

import hashlib
import json
import os
import re
import shutil
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from attrition.core.predict import model
from tests.container.docker_helpers import TEST_DIR, Server, docker, request, run_train
from tests.helpers import as_csv, next_year, pandas_reference, shaken_employees

pytestmark = pytest.mark.container
IBM = (TEST_DIR / "input" / "data" / "train" / "ibm_hr_attrition.csv").read_text(encoding="utf-8-sig")
HEADER, *ROWS = IBM.splitlines()
LABEL_AT = HEADER.split(",").index("Attrition")


def without_label(row: str) -> str:
    cells = row.split(",")
    return ",".join(cells[:LABEL_AT] + cells[LABEL_AT + 1:])


def invoke(server, body, content_type="text/csv", accept=None):
    headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
    data = body.encode() if isinstance(body, str) else body
    return request("POST", server.url + "/invocations", data, headers)


def test_image_carries_the_bind_to_port_label(image):
    labels = json.loads(docker("inspect", "-f", "{{json .Config.Labels}}", image).stdout)
    assert labels["com.amazonaws.sagemaker.capabilities.accept-bind-to-port"] == "true"


def test_train_writes_model_metrics_and_scrapable_lines(trained_opt_ml):
    assert sorted(p.name for p in (trained_opt_ml / "model").iterdir()) == [
        "constraints.json", "manifest.json", "metadata.json", "model.txt", "statistics.json"]
    metrics = json.loads((trained_opt_ml / "output" / "data" / "metrics.json").read_text())
    assert metrics["validation"]["auc"] > 0.84
    assert (trained_opt_ml / "output" / "data" / "report.html").stat().st_size > 10000
    log = (trained_opt_ml / "train.log").read_text()
    assert re.search(r"^validation:auc=0\.\d{4}$", log, re.M)
    assert "dropped column EmployeeNumber" in log
    assert not (trained_opt_ml / "output" / "failure").exists()


def test_train_failure_writes_failure_file(image, tmp_path):
    opt_ml = tmp_path / "opt_ml"
    (opt_ml / "input" / "config").mkdir(parents=True)
    (opt_ml / "input" / "config" / "hyperparameters.json").write_text('{"learning_rate": "fast"}')
    result = run_train(image, opt_ml)
    assert result.returncode == 2
    assert (opt_ml / "output" / "failure").read_text().startswith(
        "hyperparameter learning_rate='fast' is not a valid float")
    assert "Traceback" not in result.stderr


def test_ping_is_fast_and_empty(server):
    assert server.ready_after < 10
    status, _, body = request("GET", server.url + "/ping")
    assert status == 200 and body == b""


def test_whole_bundled_file_in_one_request(server):
    status, headers, body = invoke(server, IBM, accept="text/csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    lines = body.decode().splitlines()
    assert len(lines) == len(ROWS) == 1470
    assert all(re.fullmatch(r"0\.\d+(e-\d+)?,(Yes|No)|[0-9.e-]+,(Yes|No)", line) for line in lines)


def test_default_model_served_equals_lightgbm_for_every_employee(server, trained_opt_ml):
    """The real default model (~1,400 stumps), through the real image, one employee per request
    and all at once, against LightGBM's own pandas path, with unseen categories and blanks."""
    trained = model.load(trained_opt_ml / "model")
    employees = shaken_employees()
    expected = pandas_reference(trained, employees)
    _, _, body = invoke(server, employees.to_csv(index=False), accept="text/csv")
    together = [float(line.split(",")[0]) for line in body.decode().splitlines()]
    header = ",".join(employees.columns)
    one_by_one = [float(invoke(server, f"{header}\n{line}\n", accept="text/csv")[2].split(b",")[0])
                  for line in employees.to_csv(index=False, header=False).splitlines()]
    np.testing.assert_allclose(together, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(one_by_one, expected, rtol=0, atol=1e-9)


def test_headerless_csv_with_and_without_label_and_with_header_agree(server):
    rows = ROWS[:5]
    answers = [
        invoke(server, "\n".join(without_label(r) for r in rows) + "\n"),
        invoke(server, "\n".join(rows) + "\n"),
        invoke(server, HEADER + "\n" + "\n".join(rows) + "\n", "text/csv; charset=utf-8"),
    ]
    assert {a[0] for a in answers} == {200}
    assert answers[0][2] == answers[1][2] == answers[2][2]
    assert len(json.loads(answers[0][2])["predictions"]) == 5


def test_json_and_jsonlines_requests(server):
    names = HEADER.split(",")
    records = [dict(zip(names, r.split(","))) for r in ROWS[:3]]
    expected = json.loads(invoke(server, "\n".join(ROWS[:3]) + "\n")[2])
    as_json = invoke(server, json.dumps({"instances": records}), "application/json")
    as_lines = invoke(server, "".join(json.dumps(r) + "\n" for r in records),
                      "application/jsonlines", "application/jsonlines")
    assert as_json[0] == 200 and json.loads(as_json[2]) == expected
    assert as_lines[0] == 200
    assert [json.loads(line) for line in as_lines[2].decode().splitlines()] == expected["predictions"]


@pytest.mark.parametrize(
    "body, content_type, accept, status, message",
    [
        ("x", "application/xml", None, 415, "not supported"),
        (ROWS[0], "text/csv", "image/png", 406, "cannot be met"),
        ("", "text/csv", None, 400, "body is empty"),
        ("Age,OverTime\n41,Yes\n", "text/csv", None, 400, "missing required column"),
        ("[{]", "application/json", None, 400, "not valid JSON"),
        ("1,2\n", "text/csv", None, 400, "rows have 2 fields"),
    ],
)
def test_bad_requests_are_4xx_json(server, body, content_type, accept, status, message):
    got, headers, answer = invoke(server, body, content_type, accept)
    assert got == status
    assert headers["Content-Type"] == "application/json"
    assert message in json.loads(answer)["error"]


def test_payload_over_6_mb_is_413(server):
    body = (HEADER + "\n" + "\n".join(ROWS * 40)).encode()
    assert len(body) > 6 * 1024 * 1024
    status, _, answer = invoke(server, body)
    assert status == 413 and "larger than 6 MB" in json.loads(answer)["error"]


def test_explanations_through_invocations(server):
    status, _, body = request("POST", server.url + "/invocations", "\n".join(ROWS[:2]).encode(), {
        "Content-Type": "text/csv", "X-Amzn-SageMaker-Custom-Attributes": "explain=3"})
    assert status == 200
    for prediction in json.loads(body)["predictions"]:
        drivers = prediction["explanation"]
        assert len(drivers) == 3 and {"feature", "value", "contribution"} <= set(drivers[0])


def test_whatif_and_levers_through_invocations(server):
    """HR's questions on the real image: what if the first employees stopped working overtime, and
    what would bring each one under the threshold."""
    status, _, body = request("POST", server.url + "/invocations?levers=3", "\n".join([HEADER, *ROWS[:20]]).encode(), {
        "Content-Type": "text/csv", "X-Amzn-SageMaker-Custom-Attributes": "whatif=OverTime:No"})
    assert status == 200
    predictions = json.loads(body)["predictions"]
    assert all({"whatif", "levers"} <= set(p) for p in predictions)
    helped = [p for p in predictions if p["label"] == "Yes" and p["levers"]["found"]]
    assert helped and all(p["levers"]["label"] == "No" and p["levers"]["changes"] for p in helped)
    status, _, body = request("GET", server.url + "/model")
    assert json.loads(body)["response_curves"]


def test_score_forecasts_cohorts_in_the_image(image, tmp_path):
    root = tmp_path / "opt_ml"
    shutil.copytree(TEST_DIR / "input" / "data" / "train", root / "processing" / "input")
    (root / "input" / "config").mkdir(parents=True)
    (root / "input" / "config" / "hyperparameters.json").write_text('{"num_boost_round": "300"}')
    shutil.copytree(TEST_DIR / "input" / "data" / "train", root / "input" / "data" / "train")
    as_me = ["--rm", "--network", "host", "--user", f"{os.getuid()}:{os.getgid()}", "-v", f"{root}:/opt/ml"]
    assert docker("run", *as_me, image, "train", check=False).returncode == 0
    scored = docker("run", *as_me, image, "score", "--model", "/opt/ml/model", "--cohorts", "Department",
                    "--cost-column", "MonthlyIncome", "--cost-factor", "6", check=False)
    assert scored.returncode == 0, scored.stderr
    assert "score: 1470 employees scored; cohorts in /opt/ml/processing/scores/cohorts.json" in scored.stdout
    report = json.loads((root / "processing" / "scores" / "cohorts.json").read_text())
    departments = {c["cohort"]["Department"]: c for c in report["groupings"][0]["cohorts"]}
    assert set(departments) == {"Research & Development", "Sales", "Human Resources"}
    assert sum(c["realised_leavers"] for c in departments.values()) == 237
    assert all(c["expected_cost"] > 0 and c["top_drivers"] for c in departments.values())
    missing = docker("run", *as_me, image, "score", "--model", "/opt/ml/model", "--cohorts", "Division", check=False)
    assert missing.returncode == 2 and "no column Division" in missing.stderr + missing.stdout


def test_execution_parameters(server):
    status, _, body = request("GET", server.url + "/execution-parameters")
    assert status == 200
    assert json.loads(body) == {"MaxConcurrentTransforms": 2, "BatchStrategy": "MULTI_RECORD",
                                "MaxPayloadInMB": 6}


def test_request_bodies_never_reach_the_log(server):
    invoke(server, "SECRET-EMPLOYEE,1\n")
    invoke(server, '[{"Name": "SECRET-EMPLOYEE"}]', "application/json")
    logs = server.logs()
    assert '"POST /invocations" 400' in logs  # the access log is on, and shows no body
    assert "SECRET-EMPLOYEE" not in logs


def test_serve_without_a_model_exits_with_a_clear_message(image, tmp_path):
    tmp_path.chmod(0o755)
    result = docker("run", "--rm", "--network", "host", "-v", f"{tmp_path}:/opt/ml/model:ro",
                    image, "serve", check=False)
    assert result.returncode == 2
    assert "no model at /opt/ml/model: model.txt is missing" in result.stderr


def test_a_model_the_container_user_cannot_read_is_one_clear_line(image, trained_opt_ml, tmp_path):
    locked = tmp_path / "model"
    shutil.copytree(trained_opt_ml / "model", locked)
    locked.chmod(0o700)
    result = docker("run", "--rm", "--network", "host", "--user", "10001", "-v", f"{locked}:/opt/ml/model:ro", image,
                    "serve", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "Permission denied. The container runs as uid 10001" in result.stderr


def test_serve_leaves_root_when_it_can_and_says_why_when_it_cannot(image, trained_opt_ml, tmp_path):
    readable = Server(image, trained_opt_ml / "model")
    locked = tmp_path / "model"
    shutil.copytree(trained_opt_ml / "model", locked)
    locked.chmod(0o700)
    kept = Server(image, locked)
    try:
        readable.wait_ready()
        kept.wait_ready()
        uids = [docker("exec", s.name, "sh", "-c", "grep ^Uid: /proc/1/status").stdout.split()[1:]
                for s in (readable, kept)]
        assert uids == [["10001"] * 4, ["0"] * 4]
        assert "serve runs as root: uid 10001 cannot read /opt/ml/model" in kept.logs()
    finally:
        readable.stop()
        kept.stop()


def test_sigterm_stops_the_server_quickly(image, trained_opt_ml, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(trained_opt_ml / "model", model_dir)
    srv = Server(image, model_dir)
    try:
        srv.wait_ready()
        started = time.monotonic()
        docker("stop", "--time", "25", srv.name)
        assert time.monotonic() - started < 10, srv.logs()
        state = docker("inspect", "-f", "{{.State.ExitCode}}", srv.name).stdout.strip()
        assert state == "0", srv.logs()
    finally:
        srv.stop()


def test_monitor_flags_drift_in_traffic_the_server_captured(image, trained_opt_ml, tmp_path, ibm_text):
    """Serve with local data capture on, send real traffic, then run `monitor` on what was captured.
    The shifted traffic is captured under a data-minimisation policy (#27): no raw employee number
    anywhere in the files, the protected columns dropped, and the same verdict."""
    policy = {"ATTRITION_CAPTURE_HASH_COLUMNS": "EmployeeNumber", "ATTRITION_CAPTURE_HASH_KEY": "k" * 20,
              "ATTRITION_CAPTURE_PROTECTED_COLUMNS": "Gender,MaritalStatus"}
    for name, shifted, seed in (("shifted", True, 11), ("steady", False, 12)):
        captured = tmp_path / name / "capture"
        captured.mkdir(parents=True)
        environment = {"ATTRITION_CAPTURE_DIR": "/capture", **(policy if shifted else {})}
        srv = Server(image, trained_opt_ml / "model", environment,
                     ["--user", f"{os.getuid()}:{os.getgid()}", "-v", f"{captured}:/capture"])
        try:
            srv.wait_ready()
            employees = next_year(ibm_text, 1500, seed, shifted)
            for n, employee in enumerate(employees):
                employee["EmployeeNumber"] = f"{900000 + n}"
            for start in range(0, 1500, 100):
                status, _, _ = invoke(srv, as_csv(employees[start:start + 100]))
                assert status == 200
        finally:
            srv.stop()
        text = "".join(path.read_text() for path in captured.rglob("capture-*.jsonl"))
        assert text and ("900000" in text) is not shifted and ("Female" in text) is not shifted
        results = tmp_path / name / "resultdata"
        results.mkdir()
        run = docker("run", "--rm", "--network", "host", "--user", f"{os.getuid()}:{os.getgid()}",
                     "-v", f"{trained_opt_ml / 'model'}:/opt/ml/model:ro",
                     "-v", f"{captured}:/opt/ml/processing/endpointdata:ro",
                     "-v", f"{results}:/opt/ml/processing/resultdata", image, "monitor", check=False)
        assert run.returncode == 0, run.stderr
        violations = json.loads((results / "constraint_violations.json").read_text())["violations"]
        features = {v["feature_name"] for v in violations}
        if shifted:
            assert {"OverTime", "JobRole", "MonthlyIncome"} <= features
            assert "monitor: retraining recommended" in run.stdout
        else:
            assert violations == [] and "monitor: no drift found in 1500 rows" in run.stdout


def test_ground_truth_from_an_hr_export_feeds_the_model_quality_monitor(image, trained_opt_ml, tmp_path, ibm_text):
    """#26: serve with capture (inference ids as SageMaker's callers send them), then the image's
    `groundtruth` and `monitor` with analysis_type=MODEL_QUALITY, each a real `docker run`."""
    captured, truth, results, leavers = (tmp_path / name for name in ("capture", "truth", "quality", "leavers"))
    for folder in (captured, truth, results, leavers):
        folder.mkdir()
    employees = next_year(ibm_text, 200, seed=31, shifted=False)
    for n, employee in enumerate(employees):
        employee["EmployeeNumber"] = str(500000 + n)
    srv = Server(image, trained_opt_ml / "model", {"ATTRITION_CAPTURE_DIR": "/capture"},
                 ["--user", f"{os.getuid()}:{os.getgid()}", "-v", f"{captured}:/capture"])
    try:
        srv.wait_ready()
        for n, employee in enumerate(employees):
            body = as_csv([{k: v for k, v in employee.items() if k != "Attrition"}]).encode()
            status, _, _ = request("POST", srv.url + "/invocations", body,
                                   {"Content-Type": "text/csv", "X-Amzn-SageMaker-Inference-Id": f"hr-{n}"})
            assert status == 200
    finally:
        srv.stop()
    (leavers / "leavers.csv").write_text("EmployeeNumber,LeftOn\n" + "".join(
        f"{e['EmployeeNumber']},{(datetime.now(UTC) + timedelta(days=90)).date()}\n"
        for e in employees if e["Attrition"] == "Yes"))
    user = ["--user", f"{os.getuid()}:{os.getgid()}", "--network", "host"]
    labelled = docker("run", "--rm", *user, "-v", f"{trained_opt_ml / 'model'}:/opt/ml/processing/model:ro",
                      "-v", f"{leavers}:/opt/ml/processing/leavers:ro",
                      "-v", f"{captured}:/opt/ml/processing/endpointdata:ro",
                      "-v", f"{truth}:/opt/ml/processing/groundtruth", image, "groundtruth",
                      "--as-of", "2099-01-01", "--horizon-days", "365", check=False)
    assert labelled.returncode == 0, labelled.stderr
    assert "records labelled: 200" in labelled.stdout
    scored = docker("run", "--rm", *user, "-e", "analysis_type=MODEL_QUALITY",
                    "-v", f"{trained_opt_ml / 'model'}:/opt/ml/model:ro",
                    "-v", f"{captured}:/opt/ml/processing/endpointdata:ro",
                    "-v", f"{truth}:/opt/ml/processing/groundtruth:ro",
                    "-v", f"{results}:/opt/ml/processing/resultdata", image, "monitor", check=False)
    assert scored.returncode == 0, scored.stderr
    report = json.loads((results / "model_quality_report.json").read_text())
    assert report["rows"] == 200 and report["join"]["records joined"] == 200
    assert report["positives"] == sum(e["Attrition"] == "Yes" for e in employees)
    assert 0.6 < report["metrics"]["auc"] <= 1 and "model quality holds on 200 labelled rows" in scored.stdout


def test_attribution_drift_as_sagemaker_runs_it_reads_the_model_from_the_baseline_archive(image, trained_opt_ml,
                                                                                          tmp_path, ibm_text):
    """#26 item 8: a monitoring job on AWS mounts no model, only the baseline constraints, so
    `monitor-schedule` uploads the model's files as that archive. The image, locked down (its own
    user, read-only root), reads the model from it and writes nothing outside /opt/ml."""
    from attrition_deploy import commands

    baseline, window, results, output = (tmp_path / name for name in ("baseline", "window", "results", "output"))
    for folder in (baseline, window, results, output):
        folder.mkdir()
        folder.chmod(0o777)
    (baseline / "constraints.json").write_bytes(commands.tar_model(trained_opt_ml / "model"))
    (window / "employees.csv").write_text(as_csv(next_year(ibm_text, 500, seed=5, shifted=True)))
    for path in (baseline / "constraints.json", window / "employees.csv"):
        path.chmod(0o644)
    run = docker("run", "--rm", "--network", "none", "--user", "65534:65534", "--read-only", "--cap-drop", "ALL",
                 "-e", "analysis_type=MODEL_EXPLAINABILITY", "-e", "publish_cloudwatch_metrics=Enabled",
                 "-e", "baseline_constraints=/opt/ml/processing/baseline/constraints/constraints.json",
                 "-v", f"{baseline}:/opt/ml/processing/baseline/constraints:ro",
                 "-v", f"{window}:/opt/ml/processing/endpointdata:ro",
                 "-v", f"{results}:/opt/ml/processing/resultdata", "-v", f"{output}:/opt/ml/output",
                 image, "monitor", check=False)
    assert run.returncode == 0, run.stderr + run.stdout
    report = json.loads((results / "attribution_drift_report.json").read_text())
    assert report["rows"] == 500 and report["ndcg"] > 0.9 and "feature attributions hold" in run.stdout
    assert [p.name for p in output.iterdir()] == ["metrics"]  # the unpacked model is gone


def test_a_capture_policy_without_its_key_stops_serve_with_one_line(image, trained_opt_ml):
    run = docker("run", "--rm", "--network", "host", "-e", "ATTRITION_CAPTURE_DIR=/tmp/c",
                 "-e", "ATTRITION_CAPTURE_HASH_COLUMNS=EmployeeNumber",
                 "-v", f"{trained_opt_ml / 'model'}:/opt/ml/model:ro", image, "serve", check=False, timeout=60)
    assert run.returncode == 2 and "needs ATTRITION_CAPTURE_HASH_KEY" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr + run.stdout


def test_a_prediction_traces_back_to_the_training_file(server, trained_opt_ml):
    _, headers, _ = invoke(server, ROWS[0])
    version = headers["X-Attrition-Model-Version"]
    manifest = json.loads((trained_opt_ml / "model" / "manifest.json").read_text())
    assert manifest["model_version"] == version
    (data_file,) = manifest["data"]["train"]
    bundled = TEST_DIR / "input" / "data" / "train" / "ibm_hr_attrition.csv"
    assert data_file["sha256"] == hashlib.sha256(bundled.read_bytes()).hexdigest()
    assert manifest["image_revision"] == "test"
    card = json.loads(request("GET", server.url + "/model")[2])
    assert card["model_version"] == version


def test_prepare_train_evaluate_as_a_pipeline_runs_them(image, tmp_path):
    """The export split by `prepare`, trained on train + validation, scored by `evaluate` on test."""
    root = tmp_path / "opt_ml"
    shutil.copytree(TEST_DIR / "input" / "data" / "train", root / "processing" / "input" / "export")
    as_me = ["--rm", "--network", "host", "--user", f"{os.getuid()}:{os.getgid()}", "-v", f"{root}:/opt/ml"]
    prepared = docker("run", *as_me, image, "prepare", "--seed", "3", check=False)
    assert prepared.returncode == 0 and "prepare: 1470 employees, 237 left" in prepared.stdout, prepared.stderr
    splits = root / "processing" / "output"
    (root / "input" / "config").mkdir(parents=True)
    (root / "input" / "config" / "hyperparameters.json").write_text('{"num_boost_round": "300"}')
    for channel in ("train", "validation"):
        shutil.copytree(splits / channel, root / "input" / "data" / channel)
    assert docker("run", *as_me, image, "train", check=False).returncode == 0
    evaluated = docker("run", *as_me, image, "evaluate", "--model", "/opt/ml/model",
                       "--test", "/opt/ml/processing/output/test", check=False)
    assert evaluated.returncode == 0, evaluated.stderr
    evaluation = json.loads((root / "processing" / "evaluation" / "evaluation.json").read_text())
    assert evaluation["attrition"]["rows"] == 294 and re.search(r"^test:auc=0\.\d{4}$", evaluated.stdout, re.M)
    assert evaluation["binary_classification_metrics"]["auc"]["value"] > 0.75
