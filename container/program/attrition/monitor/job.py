"""The `monitor` job: SageMaker Model Monitor's bring-your-own-container processing contract.

Inputs (environment variables SageMaker sets; local defaults under $SAGEMAKER_BASE_DIR):
  dataset_source        captured traffic (data-capture JSONL) or CSV files of employees
                        [/opt/ml/processing/endpointdata]
  baseline_statistics   statistics.json written by `train`   [/opt/ml/model/statistics.json]
  baseline_constraints  constraints.json written by `train`  [/opt/ml/model/constraints.json]
  output_path           where the results go                  [/opt/ml/processing/resultdata]
  start_time, end_time  optional ISO-8601 window on the capture records' inferenceTime
  publish_cloudwatch_metrics=Enabled  also writes CloudWatch metric records
Outputs: constraint_violations.json, statistics.json (this window) and drift_report.json with
a verdict. Violations are a result, not an error: the job exits 0. A missing baseline exits 2.
"""

import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..core import artifact, baseline, capture, environment, features, jobs, model
from ..core.errors import UserError
from ..core.schema import Schema
from . import drift, window


def main(environ=None) -> int:
    return jobs.run("monitor", os.environ if environ is None else environ, lambda paths: _work(paths, environ))


def _work(paths: environment.Paths, environ) -> str:
    environ = os.environ if environ is None else environ
    settings = environment.monitor_settings(environ)
    jobs.leave_root("monitor", reads=[settings.dataset_source, settings.baseline_statistics,
                                      settings.baseline_constraints, paths.model_dir],
                    writes=[settings.output_path, paths.output_dir])
    return f"monitor: {run(paths, environ)['verdict']['summary']}"


def run(paths: environment.Paths, environ: Mapping[str, str]) -> dict:
    settings = environment.monitor_settings(environ)
    thresholds = _thresholds(settings)
    reference = _read_json(settings.baseline_statistics)
    constraints = _read_json(settings.baseline_constraints)
    extra = constraints.get("attrition") or {}
    if "schema" not in extra:
        raise UserError("baseline_constraints has no 'attrition' section: use the constraints.json "
                        "that `train` writes next to the model")
    schema = Schema.from_dict(extra["schema"])
    source = settings.dataset_source
    data = window.read(source, schema, _time(settings.start_time), _time(settings.end_time))
    if not data.rows and data.refused:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in data.skipped.most_common())
        raise UserError(f"no usable record in the window at {source}: {data.refused} of {data.records} "
                        f"refused ({reasons})")
    current = baseline.statistics(schema, data.columns, data.rows, baseline.bucket_edges(reference))
    probabilities = _probabilities(data, schema, paths)
    withheld = [f.name for f in schema.features if f.name not in data.present] if data.rows else []
    rows = [row for row in drift.compare(reference, current) if row["feature"] not in withheld] if data.rows else []
    found = drift.violations(rows, thresholds) if data.rows else []
    prediction = _prediction_shift(extra.get("prediction"), probabilities, thresholds, found)
    report = {
        "verdict": _verdict(data, found, thresholds),
        "window": {"files": data.files, "records": data.records, "rows": data.rows,
                   "skipped": dict(data.skipped), "source": str(source),
                   "start_time": settings.start_time or None, "end_time": settings.end_time or None},
        "prediction": prediction,
        "features": rows,
        "withheld_features": withheld,  # in no record (a capture policy left them out): not compared
        "thresholds": vars(thresholds),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    output = settings.output_path
    artifact.write_json(output / "constraint_violations.json", {"violations": found})
    artifact.write_json(output / artifact.STATISTICS_FILE, current)
    artifact.write_json(output / "drift_report.json", report)
    if settings.publish_cloudwatch_metrics:
        _cloudwatch(paths, settings, report, len(found))
    return report


def _probabilities(data: window.Window, schema: Schema, paths: environment.Paths) -> Sequence[float]:
    """Captured probabilities; for plain CSV windows, the model's own, when it is mounted."""
    if data.probabilities or not data.rows or not (paths.model_dir / artifact.MODEL_FILE).is_file():
        return data.probabilities
    trained = model.load(paths.model_dir)
    return trained.predict(features.encode_table(schema, data.columns, data.rows)).tolist()


def _prediction_shift(baseline, probabilities, thresholds, found) -> dict:
    if not baseline or not probabilities:
        return {"available": False}
    mean = float(np.mean(probabilities))
    shift = mean - baseline["mean_probability"]
    if abs(shift) > thresholds.prediction_shift:
        found.append({"feature_name": "predicted_attrition_probability",
                      "constraint_check_type": "baseline_drift_check",
                      "description": f"mean predicted attrition probability moved from "
                                     f"{baseline['mean_probability']:.3f} to {mean:.3f}"})
    return {"available": True, "rows": len(probabilities), "mean_probability": mean,
            "mean_probability_baseline": baseline["mean_probability"], "shift": shift}


def _verdict(data: window.Window, found: list, thresholds: baseline.Thresholds) -> dict:
    if data.rows == 0:
        summary = "empty window: no usable records, nothing to compare"
        return {"retraining_recommended": False, "summary": summary, "reasons": []}
    reasons = sorted({f"{v['feature_name']} ({v['constraint_check_type']})" for v in found})
    if data.rows < thresholds.min_rows:
        summary = (f"only {data.rows} rows (< {thresholds.min_rows}): too few to recommend "
                   f"anything; {len(found)} violation(s) noted")
        return {"retraining_recommended": False, "summary": summary, "reasons": reasons}
    if found:
        summary = f"retraining recommended: {len(reasons)} finding(s): " + ", ".join(reasons)
    else:
        summary = f"no drift found in {data.rows} rows"
    return {"retraining_recommended": bool(found), "summary": summary, "reasons": reasons}


def _cloudwatch(paths: environment.Paths, settings: environment.MonitorSettings, report: dict,
                violations: int) -> None:
    """Metric records in the custom-monitor contract, one JSON object a line: the verdict
    (retraining_recommended, 0 or 1: what an alarm watches), the violations, each feature's PSI
    and the mean predicted probability. SageMaker publishes them to the namespace
    /aws/sagemaker/Endpoint/data-metrics with these dimensions."""
    folder = paths.output_dir / "metrics" / "cloudwatch"
    dimensions = [{"Name": "Endpoint", "Value": settings.endpoint_name},
                  {"Name": "MonitoringSchedule", "Value": settings.schedule_name}]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    values = {"retraining_recommended": float(report["verdict"]["retraining_recommended"]),
              "violations": float(violations),
              **{f"feature_psi_{row['feature']}": row["psi"] for row in report["features"]}}
    if report["prediction"].get("available"):
        values["predicted_attrition_probability"] = report["prediction"]["mean_probability"]
    records = [{"MetricName": name, "Timestamp": stamp, "Dimensions": dimensions, "Value": value,
                "Unit": "Count" if name == "violations" else "None"} for name, value in values.items()]
    artifact.write_text(folder / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in records))


def _thresholds(settings: environment.MonitorSettings) -> baseline.Thresholds:
    return baseline.Thresholds(psi=settings.psi, ks_alpha=settings.ks_alpha, missing=settings.missing,
                               new_category=settings.new_category,
                               prediction_shift=settings.prediction_shift, min_rows=settings.min_rows)


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise UserError(f"no baseline at {path}: mount the model directory that `train` wrote "
                        "(it holds statistics.json and constraints.json), or set "
                        "baseline_statistics and baseline_constraints")
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise UserError(f"{path} is not valid JSON: {error}") from None
    except RecursionError:
        raise UserError(f"{path} is nested too deeply to be a baseline") from None


def _time(text):
    if not text:
        return None
    when = capture.parse_time(text)
    if when is None:
        raise UserError(f"start_time/end_time {text!r} is not an ISO-8601 time")
    return when
