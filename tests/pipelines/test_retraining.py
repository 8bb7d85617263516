"""Drift triggers retraining, locally: a champion served with data capture, real traffic sent to
it, then pipelines/retrain_on_drift.py on what was captured. A window shifted as a next year might
be retrains and says whether the challenger replaced the champion and why; an unshifted window
triggers nothing. Every decision lands in the audit trail."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from attrition_deploy import audit, mlflow_registry
from tests.container.docker_helpers import Server, request
from tests.helpers import next_year, script
from tests.pipelines.conftest import pipelines_python, run_json

pytestmark = pytest.mark.container
NAME = "attrition-loop"


def retrainer() -> str:
    return script("attrition-retrain", pipelines_python())


def served_traffic(image, model_dir, capture, employees) -> None:
    """The employees sent to a served model, 100 a request, as JSON records; captured in `capture`."""
    capture.mkdir(parents=True)
    server = Server(image, model_dir, {"ATTRITION_CAPTURE_DIR": "/capture"},
                    ["--user", f"{os.getuid()}:{os.getgid()}", "-v", f"{capture}:/capture"])
    try:
        server.wait_ready()
        for start in range(0, len(employees), 100):
            body = json.dumps([{k: v for k, v in e.items() if k != "Attrition"} for e in employees[start:start + 100]])
            status, _, answer = request("POST", server.url + "/invocations", body.encode(),
                                        {"Content-Type": "application/json"})
            assert status == 200, answer
    finally:
        server.stop()


def loop(image, env, mlflow_server, capture, export) -> subprocess.CompletedProcess:
    return subprocess.run([retrainer(), "--image", image, "--capture", str(capture),
                           "--data", str(export), "--mlflow", mlflow_server, "--model-name", NAME, "--promote"],
                          env=env, capture_output=True, text=True, timeout=1500)


def test_a_shifted_window_retrains_and_an_unshifted_one_does_not(image, pipeline_env, mlflow_server, tmp_path,
                                                                   ibm_text):
    (tmp_path / "export.csv").write_text(ibm_text)
    nobody = loop(image, pipeline_env, mlflow_server, tmp_path, tmp_path / "export.csv")
    assert nobody.returncode == 2 and "has no champion yet" in nobody.stderr and nobody.stderr.count("\n") == 1
    no_data = loop(image, pipeline_env, mlflow_server, tmp_path, tmp_path / "none.csv")
    assert no_data.returncode == 2 and "give the new labelled export" in no_data.stderr
    unnamed = subprocess.run([retrainer(), "--image", image, "--capture", str(tmp_path),
                              "--mlflow", mlflow_server, "--model-name", NAME], env=pipeline_env,
                             capture_output=True, text=True, timeout=300)
    assert unnamed.returncode == 2 and "--data (none) is not a file" in unnamed.stderr  # not the bundled export
    # As the README's demo: the champion learns this year's half; next year holds only the other half.
    subprocess.run([script("attrition-next-year", pipelines_python()),
                    "--data", str(tmp_path / "export.csv"), "--this-year", str(tmp_path / "this-year.csv"),
                    "--output", str(tmp_path / "next-year.csv"),
                    "--seed", "23"], check=True, timeout=60)
    first = run_json([script("attrition-pipeline-sagemaker", pipelines_python()), "--image", image,
                      "--data", str(tmp_path / "this-year.csv"), "--mlflow", mlflow_server, "--model-name", NAME,
                      "--promote"], pipeline_env)
    assert first["replaced_champion"], first
    champion = tmp_path / "champion"
    mlflow_registry.download(mlflow_server, first["registered"]["run_id"], champion)

    steady = tmp_path / "steady"
    served_traffic(image, champion, steady / "capture", next_year(ibm_text, 1000, seed=21, shifted=False))
    (steady / "export.csv").write_text(ibm_text)
    quiet = loop(image, pipeline_env, mlflow_server, steady / "capture", steady / "export.csv")
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    result = json.loads(quiet.stdout.splitlines()[-1])
    assert result["drift"] is False and result["retrained"] is False
    assert result["champion"] == first["registered"]["version"]
    assert f"champion v{result['champion']} stays: nothing to retrain on" in quiet.stdout

    shifted = tmp_path / "shifted"
    served_traffic(image, champion, shifted / "capture", next_year(ibm_text, 1000, seed=22, shifted=True))
    retrained = loop(image, pipeline_env, mlflow_server, shifted / "capture", tmp_path / "next-year.csv")
    assert retrained.returncode == 0, retrained.stderr[-3000:]
    result = json.loads(retrained.stdout.splitlines()[-1])
    assert result["drift"] is True and result["retrained"] is True
    assert "OverTime (baseline_drift_check)" in result["monitor"]["reasons"]
    report = re.search(r"^drift report: (.+)$", retrained.stdout, re.M).group(1)
    assert json.loads(Path(report).read_text())["verdict"]["retraining_recommended"]
    outcome = result["pipeline"]
    assert outcome["champion_before"] == first["registered"]["version"]
    assert any(reason.startswith("AUC ") and "vs champion" in reason for reason in outcome["reasons"])
    verdict = (f"challenger v{result['champion']} replaced champion v{first['registered']['version']}"
               if result["replaced_champion"] else f"champion v{first['registered']['version']} stays")
    assert verdict in retrained.stdout

    events = [e["event"] for e in audit.read(Path(pipeline_env["ATTRITION_AUDIT_LOG"]), model=NAME).entries]
    decided = ["promoted", "registered"] if result["replaced_champion"] else ["refused"]
    assert events == decided + ["retraining-started", "retraining-skipped", "promoted", "registered"], events


def test_a_realised_drop_in_model_quality_triggers_retraining_too(image, trained_dir, tmp_path, ibm_text):
    """#26: with --ground-truth, retrain_on_drift also runs the model quality monitor, and a window
    with no drift in its inputs but whose truth the model no longer predicts is a reason to retrain."""
    from datetime import UTC, datetime, timedelta

    from attrition_pipelines import retrain_on_drift
    from tests.container.docker_helpers import docker

    employees = next_year(ibm_text, 400, seed=17, shifted=False)
    for n, employee in enumerate(employees):
        employee["EmployeeNumber"] = str(700000 + n)
    served_traffic(image, trained_dir / "model", tmp_path / "capture", employees)
    leavers, truth = tmp_path / "leavers", tmp_path / "truth"
    leavers.mkdir()
    truth.mkdir()
    soon = (datetime.now(UTC) + timedelta(days=30)).date()
    shuffled = [e["Attrition"] for e in employees][::-1]  # the truth no longer follows the model
    (leavers / "leavers.csv").write_text("EmployeeNumber,LeftOn\n" + "".join(
        f"{e['EmployeeNumber']},{soon}\n" for e, left in zip(employees, shuffled) if left == "Yes"))
    docker("run", "--rm", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}",
           "-v", f"{trained_dir / 'model'}:/opt/ml/processing/model:ro",
           "-v", f"{leavers}:/opt/ml/processing/leavers:ro",
           "-v", f"{tmp_path / 'capture'}:/opt/ml/processing/endpointdata:ro",
           "-v", f"{truth}:/opt/ml/processing/groundtruth", image, "groundtruth", "--as-of", "2099-01-01")
    drift = retrain_on_drift.monitor(image, tmp_path / "capture", trained_dir / "model", tmp_path / "drift")
    quality = retrain_on_drift.monitor(image, tmp_path / "capture", trained_dir / "model", tmp_path / "quality",
                                       truth)
    assert drift["verdict"]["retraining_recommended"] is False  # the inputs did not drift
    assert quality["verdict"]["retraining_recommended"] is True and quality["rows"] == 400
    verdict = retrain_on_drift.both(drift["verdict"], quality["verdict"])
    assert verdict["retraining_recommended"] and "model quality fell" in verdict["reasons"][-1]
