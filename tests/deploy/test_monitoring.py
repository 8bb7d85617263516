"""monitor-schedule: drift on AWS starts the retraining pipeline. moto has no monitoring
schedules, so these are dry runs, every request checked against botocore's model; the alarm is
checked against the metric records the image's monitor really writes."""

import hashlib
import io
import json
import tarfile
from datetime import timedelta

from attrition.monitor import job as monitoring
from tests.deploy.offline import run
from tests.helpers import as_csv, next_year

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/attrition-sagemaker:abc1234"
ROLE = "arn:aws:iam::123456789012:role/attrition-sagemaker-execution"
COMMON = ["monitor-schedule", "--endpoint", "attrition", "--image", IMAGE, "--role", ROLE,
          "--baseline", "s3://hr-models/attrition/baseline/", "--reports", "s3://hr-models/attrition/monitoring/",
          "--pipeline", "AttritionPipeline", "--retrain-data", "s3://hr-models/attrition/export/",
          "--region", "eu-west-1", "--dry-run"]


def plan(capsys, *extra) -> dict:
    code, out, err = run(capsys, *COMMON, *extra)
    assert code == 0, err
    return {call["operation"]: call["params"] for call in json.loads(out)}


def test_the_schedule_runs_the_image_s_monitor_on_the_endpoint_s_capture(offline, capsys, trained_dir):
    calls = plan(capsys, "--model-dir", trained_dir / "model")
    assert list(calls) == ["put_object", "create_monitoring_schedule", "put_metric_alarm", "create_role",
                           "put_role_policy", "put_rule", "put_targets"]
    schedule = calls["create_monitoring_schedule"]
    assert schedule["MonitoringScheduleName"] == "attrition-drift"
    job = schedule["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
    assert job["MonitoringAppSpecification"] == {"ImageUri": IMAGE, "ContainerEntrypoint": ["monitor"]}
    assert job["MonitoringInputs"][0]["EndpointInput"]["EndpointName"] == "attrition"
    assert job["BaselineConfig"]["StatisticsResource"]["S3Uri"] == "s3://hr-models/attrition/baseline/statistics.json"
    assert job["Environment"]["publish_cloudwatch_metrics"] == "Enabled" and job["RoleArn"] == ROLE


def test_the_alarm_watches_the_metric_the_monitor_writes(offline, capsys, tmp_path, trained_dir, ibm_text):
    alarm = plan(capsys)["put_metric_alarm"]
    window = tmp_path / "window"
    window.mkdir()
    (window / "recent.csv").write_text(as_csv(next_year(ibm_text, 500, seed=7, shifted=True)))
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml"), "dataset_source": str(window),
               "baseline_statistics": str(trained_dir / "model" / "statistics.json"),
               "baseline_constraints": str(trained_dir / "model" / "constraints.json"),
               "output_path": str(tmp_path / "out"), "publish_cloudwatch_metrics": "Enabled",
               "sagemaker_endpoint_name": "attrition", "sagemaker_monitoring_schedule_name": "attrition-drift"}
    assert monitoring.main(environ) == 0
    lines = (tmp_path / "opt_ml" / "output" / "metrics" / "cloudwatch" / "metrics.jsonl").read_text().splitlines()
    written = {r["MetricName"]: r for r in map(json.loads, lines)}[alarm["MetricName"]]
    assert written["Dimensions"] == alarm["Dimensions"] and written["Value"] >= alarm["Threshold"]
    assert alarm["TreatMissingData"] == "notBreaching"  # a run that wrote nothing is not drift


def test_eventbridge_may_start_that_pipeline_and_nothing_else(offline, capsys):
    calls = plan(capsys, "--champion-model-data", "s3://hr-models/attrition/models/v3/model.tar.gz")
    trust = json.loads(calls["create_role"]["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    (statement,) = json.loads(calls["put_role_policy"]["PolicyDocument"])["Statement"]
    pipeline = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/attritionpipeline"
    assert (statement["Action"], statement["Resource"]) == ("sagemaker:StartPipelineExecution", pipeline)
    pattern = json.loads(calls["put_rule"]["EventPattern"])
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}
    alarm = calls["put_metric_alarm"]["AlarmName"]
    assert pattern["resources"] == [f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{alarm}"]
    (target,) = calls["put_targets"]["Targets"]
    assert target["Arn"] == pipeline and target["RoleArn"].endswith(":role/attrition-drift-events")
    assert {p["Name"]: p["Value"] for p in target["SageMakerPipelineParameters"]["PipelineParameterList"]} == {
        "InputDataUrl": "s3://hr-models/attrition/export/",
        "ChampionModelUrl": "s3://hr-models/attrition/models/v3/model.tar.gz"}


def test_a_model_directory_without_a_baseline_is_one_line(offline, capsys, tmp_path):
    code, out, err = run(capsys, *COMMON, "--model-dir", tmp_path)
    assert code == 2 and out == "" and "has no statistics.json" in err and err.count("\n") == 1


def test_a_dry_run_says_it_plans_no_champion_when_it_cannot_look_one_up(offline, capsys):
    """#23: the planned EventBridge target silently lacked ChampionModelUrl."""
    code, out, err = run(capsys, *COMMON)
    assert code == 0
    (target,) = [c for c in json.loads(out) if c["operation"] == "put_targets"][0]["params"]["Targets"]
    names = {p["Name"] for p in target["SageMakerPipelineParameters"]["PipelineParameterList"]}
    assert names == {"InputDataUrl"}
    assert "passes no ChampionModelUrl (give --champion-model-data to plan it)" in err
    code, _, err = run(capsys, *COMMON, "--champion-model-data", "s3://hr-models/attrition/models/v3/model.tar.gz")
    assert code == 0 and "ChampionModelUrl" not in err


def test_the_model_quality_monitor_is_scheduled_with_ground_truth_and_an_alarm_on_any_metric(
        offline, capsys, tmp_path, trained_dir, trained_model, ibm_text):
    calls = plan(capsys, "--kind", "model-quality", "--ground-truth", "s3://hr-models/attrition/groundtruth/",
                 "--alarm", "auc<0.7")
    definition = calls["create_model_quality_job_definition"]
    assert definition["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"] == "s3://hr-models/attrition/groundtruth/"
    assert definition["ModelQualityAppSpecification"]["Environment"]["analysis_type"] == "MODEL_QUALITY"
    assert definition["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"].endswith(
        "/baseline/model_quality_constraints.json")
    config = calls["create_monitoring_schedule"]["MonitoringScheduleConfig"]
    assert config["MonitoringType"] == "ModelQuality" and config["MonitoringJobDefinitionName"] == definition[
        "JobDefinitionName"]
    alarm = calls["put_metric_alarm"]
    assert (alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("auc", "LessThanThreshold", 0.7)
    assert alarm["Namespace"] == "aws/sagemaker/Endpoints/model-metrics" and alarm["Statistic"] == "Minimum"
    # the metric is one the image's model quality monitor really writes, with the same dimensions
    from tests.unit.groundtruth.test_job import TODAY, label, serve_and_capture, write_leavers

    employees = next_year(ibm_text, 200, seed=12, shifted=False)
    for n, employee in enumerate(employees):
        employee["EmployeeNumber"] = str(300000 + n)
    serve_and_capture(trained_model, tmp_path / "capture", employees)
    write_leavers(tmp_path / "leavers.csv", employees)
    from datetime import timedelta
    assert label(tmp_path, trained_dir, "--as-of", (TODAY + timedelta(days=400)).isoformat()) == 0
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml"), "analysis_type": "MODEL_QUALITY",
               "dataset_source": str(tmp_path / "capture"), "ground_truth_source": str(tmp_path / "truth"),
               "baseline_constraints": str(trained_dir / "output" / "data" / "model_quality_constraints.json"),
               "output_path": str(tmp_path / "out"), "publish_cloudwatch_metrics": "Enabled",
               "sagemaker_endpoint_name": "attrition", "sagemaker_monitoring_schedule_name": "attrition-drift"}
    assert monitoring.main(environ) == 0
    lines = (tmp_path / "opt_ml" / "output" / "metrics" / "cloudwatch" / "metrics.jsonl").read_text().splitlines()
    written = {r["MetricName"]: r for r in map(json.loads, lines)}["auc"]
    assert written["Dimensions"] == alarm["Dimensions"] and 0.5 < written["Value"] <= 1


def test_model_quality_without_ground_truth_or_a_bad_alarm_is_one_line(offline, capsys):
    code, _, err = run(capsys, *COMMON, "--kind", "model-quality")
    assert code == 2 and "needs --ground-truth" in err and err.count("\n") == 1
    code, _, err = run(capsys, *COMMON, "--alarm", "auc about 0.7")
    assert code == 2 and "must be a metric, an operator" in err



def _planned(capsys, kind: str, *extra) -> tuple[dict, bytes]:
    """The dry run's requests for a kind, and the baseline archive it plans to upload (built by the
    same function, and checked to be the very bytes planned)."""
    from attrition_deploy import monitoring as schedules
    from attrition_deploy import parser

    args = [*COMMON, "--kind", kind, *map(str, extra)]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    calls = json.loads(out)
    (upload,) = [c["params"] for c in calls if c["operation"] == "put_object"]
    archive = schedules.baseline_archive(parser.parse(args).options)
    assert upload["Body"]["sha256"] == hashlib.sha256(archive).hexdigest()
    return {c["operation"]: c["params"] for c in calls}, archive


def _metrics(opt_ml) -> dict:
    lines = (opt_ml / "output" / "metrics" / "cloudwatch" / "metrics.jsonl").read_text().splitlines()
    return {r["MetricName"]: r for r in map(json.loads, lines)}


def test_bias_drift_runs_on_aws_from_the_baseline_archive_with_no_model_mounted(
        offline, capsys, tmp_path, trained_dir, trained_model, ibm_text):
    """#26 item 8: SageMaker mounts no model into a monitoring job, so the model and training's
    audit travel as the baseline constraints; the image's monitor reads them from the archive and
    finds what it finds with the model mounted."""
    calls, archive = _planned(capsys, "model-bias", "--model-dir", trained_dir / "model", "--ground-truth",
                              "s3://hr-models/attrition/groundtruth/", "--bias-report",
                              trained_dir / "output" / "data" / "bias.json")
    definition = calls["create_model_quality_job_definition"]
    uploaded = f"s3://{calls['put_object']['Bucket']}/{calls['put_object']['Key']}"
    assert definition["ModelQualityBaselineConfig"]["ConstraintsResource"]["S3Uri"] == uploaded
    assert uploaded == "s3://hr-models/attrition/baseline/model_bias_baseline.tar.gz"
    assert definition["ModelQualityAppSpecification"]["Environment"]["analysis_type"] == "MODEL_BIAS"
    assert definition["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"] == "s3://hr-models/attrition/groundtruth/"
    config = calls["create_monitoring_schedule"]["MonitoringScheduleConfig"]
    assert config["MonitoringJobDefinitionName"] == definition["JobDefinitionName"] == "attrition-drift-bias"
    alarm = calls["put_metric_alarm"]
    assert alarm["Namespace"] == "aws/sagemaker/Endpoints/model-metrics"

    from tests.unit.groundtruth.test_job import TODAY, label, serve_and_capture, write_leavers

    employees = next_year(ibm_text, 300, seed=21, shifted=False)
    for n, employee in enumerate(employees):
        employee["EmployeeNumber"] = str(100000 + n)
    serve_and_capture(trained_model, tmp_path / "capture", employees)
    write_leavers(tmp_path / "leavers.csv", [dict(e, Attrition="Yes" if e["Gender"] == "Female" else "No")
                                             for e in employees])
    assert label(tmp_path, trained_dir, "--as-of", (TODAY + timedelta(days=400)).isoformat()) == 0
    (tmp_path / "baseline").mkdir()
    (tmp_path / "baseline" / "constraints.json").write_bytes(archive)  # SageMaker keeps no name: neither do we
    reports = {}
    for how, constraints, base in (("archive", tmp_path / "baseline" / "constraints.json", tmp_path / "empty"),
                                   ("mounted", trained_dir / "output" / "data" / "bias.json", trained_dir)):
        environ = {"SAGEMAKER_BASE_DIR": str(base), "analysis_type": "MODEL_BIAS",
                   "baseline_constraints": str(constraints), "dataset_source": str(tmp_path / "capture"),
                   "ground_truth_source": str(tmp_path / "truth"), "output_path": str(tmp_path / how),
                   "publish_cloudwatch_metrics": "Enabled", "sagemaker_endpoint_name": "attrition",
                   "sagemaker_monitoring_schedule_name": "attrition-drift"}
        assert monitoring.main(environ) == 0, (base / "output" / "failure").read_text()
        reports[how] = json.loads((tmp_path / how / "bias_drift_report.json").read_text())
    assert reports["archive"] == reports["mounted"] and reports["archive"]["verdict"]["retraining_recommended"]
    assert not (tmp_path / "empty" / "model").exists()  # no model was mounted
    assert [p.name for p in (tmp_path / "empty" / "output").iterdir()] == ["metrics"]  # the unpacked archive is gone
    written = _metrics(tmp_path / "empty")[alarm["MetricName"]]
    assert written["Dimensions"] == alarm["Dimensions"] and written["Value"] >= alarm["Threshold"]


def test_attribution_drift_runs_on_aws_from_the_baseline_archive_with_no_model_mounted(
        offline, capsys, tmp_path, trained_dir, ibm_text):
    calls, archive = _planned(capsys, "model-explainability", "--model-dir", trained_dir / "model")
    job = calls["create_monitoring_schedule"]["MonitoringScheduleConfig"]["MonitoringJobDefinition"]
    assert job["BaselineConfig"] == {"ConstraintsResource": {
        "S3Uri": "s3://hr-models/attrition/baseline/model_explainability_baseline.tar.gz"}}
    assert job["Environment"]["analysis_type"] == "MODEL_EXPLAINABILITY"
    assert calls["put_metric_alarm"]["Namespace"] == "/aws/sagemaker/Endpoint/data-metrics"
    window = tmp_path / "window"
    window.mkdir()
    (window / "employees.csv").write_text(as_csv(next_year(ibm_text, 400, seed=3, shifted=False)))
    (tmp_path / "constraints.json").write_bytes(archive)
    reports = {}
    for how, environ in (("archive", {"SAGEMAKER_BASE_DIR": str(tmp_path / "empty"),
                                      "baseline_constraints": str(tmp_path / "constraints.json")}),
                         ("mounted", {"SAGEMAKER_BASE_DIR": str(trained_dir)})):
        assert monitoring.main({**environ, "analysis_type": "MODEL_EXPLAINABILITY", "dataset_source": str(window),
                                "output_path": str(tmp_path / how)}) == 0
        reports[how] = json.loads((tmp_path / how / "attribution_drift_report.json").read_text())
    assert reports["archive"] == reports["mounted"] and reports["archive"]["ndcg"] > 0.97


def test_bias_and_attribution_drift_without_what_they_read_are_one_line(offline, capsys, tmp_path, trained_dir):
    ground = ["--ground-truth", "s3://hr-models/attrition/groundtruth/"]
    for extra, message in (
            (["--kind", "model-explainability"], "give --model-dir"),
            (["--kind", "model-bias", *ground, "--model-dir", str(trained_dir / "model")], "give --bias-report"),
            (["--kind", "model-bias", "--model-dir", str(trained_dir / "model")], "needs --ground-truth"),
            (["--kind", "model-bias", *ground, "--model-dir", str(trained_dir / "model"), "--bias-report",
              str(trained_dir / "model" / "metadata.json")], "is not a bias.json"),
            (["--kind", "model-explainability", "--model-dir", str(tmp_path)], "is not a trained model directory")):
        code, out, err = run(capsys, *COMMON, *extra)
        assert code == 2 and message in err and err.count("\n") == 1, (extra, err)
    # the image refuses an archive that holds no model, in one line too
    (tmp_path / "not-a-model.tar.gz").write_bytes(_tar({"notes.txt": b"hello"}))
    code = monitoring.main({"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml"), "analysis_type": "MODEL_EXPLAINABILITY",
                            "baseline_constraints": str(tmp_path / "not-a-model.tar.gz"),
                            "dataset_source": str(tmp_path), "output_path": str(tmp_path / "out")})
    assert code == 2 and "an archive without model.txt" in (tmp_path / "opt_ml" / "output" / "failure").read_text()


def _tar(files: dict) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()
