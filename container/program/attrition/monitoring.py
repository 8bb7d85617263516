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
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from . import capture, drift, environment, features, model
from .errors import UserError
from .schema import Schema

SETTINGS = {  # environment variable -> Thresholds field
    "ATTRITION_MONITOR_PSI": "psi",
    "ATTRITION_MONITOR_KS_ALPHA": "ks_alpha",
    "ATTRITION_MONITOR_MISSING": "missing",
    "ATTRITION_MONITOR_NEW_CATEGORY": "new_category",
    "ATTRITION_MONITOR_PREDICTION_SHIFT": "prediction_shift",
    "ATTRITION_MONITOR_MIN_ROWS": "min_rows",
}


def main(environ=None) -> int:
    environ = os.environ if environ is None else environ
    paths = environment.paths(environ)
    try:
        report = run(paths, environ)
    except UserError as error:
        return _fail(paths, str(error), 2)
    except Exception as error:  # a bug of ours
        traceback.print_exc()
        return _fail(paths, f"internal error ({type(error).__name__}): {error}", 1)
    print(f"monitor: {report['verdict']['summary']}")
    return 0


def run(paths: environment.Paths, environ) -> dict:
    thresholds = _thresholds(environ)
    base = paths.base / "processing"
    source = Path(environ.get("dataset_source", base / "endpointdata"))
    output = Path(environ.get("output_path", base / "resultdata"))
    baseline = _read_json(Path(environ.get("baseline_statistics", paths.model_dir / "statistics.json")))
    constraints = _read_json(Path(environ.get("baseline_constraints", paths.model_dir / "constraints.json")))
    extra = constraints.get("attrition") or {}
    if "schema" not in extra:
        raise UserError("baseline_constraints has no 'attrition' section: use the constraints.json "
                        "that `train` writes next to the model")
    schema = Schema.from_dict(extra["schema"])
    window = capture.read(source, schema, _time(environ.get("start_time")), _time(environ.get("end_time")))
    values = drift.feature_values(schema, window.columns, window.n_rows)
    current = drift.statistics(schema, values, window.n_rows, drift.bucket_edges(baseline))
    probabilities = _probabilities(window, schema, paths)
    rows = drift.compare(baseline, current, thresholds) if window.n_rows else []
    found = drift.violations(rows, thresholds) if window.n_rows else []
    prediction = _prediction_shift(extra.get("prediction"), probabilities, thresholds, found)
    report = {
        "verdict": _verdict(window, found, thresholds),
        "window": {"files": window.files, "records": window.records, "rows": window.n_rows,
                   "skipped": dict(window.skipped), "source": str(source),
                   "start_time": environ.get("start_time"), "end_time": environ.get("end_time")},
        "prediction": prediction,
        "features": rows,
        "thresholds": vars(thresholds),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    output.mkdir(parents=True, exist_ok=True)
    _write(output / "constraint_violations.json", {"violations": found})
    _write(output / "statistics.json", current)
    _write(output / "drift_report.json", report)
    if environ.get("publish_cloudwatch_metrics") == "Enabled":
        _cloudwatch(paths, environ, rows, prediction)
    return report


def _probabilities(window, schema, paths):
    """Captured probabilities; for plain CSV windows, the model's own, when it is mounted."""
    if window.probabilities or not window.n_rows or not (paths.model_dir / model.MODEL_FILE).is_file():
        return window.probabilities
    trained = model.load(paths.model_dir)
    return trained.predict(features.encode(schema, window.columns, window.n_rows)).tolist()


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


def _verdict(window, found, thresholds) -> dict:
    if window.n_rows == 0:
        summary = "empty window: no usable records, nothing to compare"
        return {"retraining_recommended": False, "summary": summary, "reasons": []}
    reasons = sorted({f"{v['feature_name']} ({v['constraint_check_type']})" for v in found})
    if window.n_rows < thresholds.min_rows:
        summary = (f"only {window.n_rows} rows (< {thresholds.min_rows}): too few to recommend "
                   f"anything; {len(found)} violation(s) noted")
        return {"retraining_recommended": False, "summary": summary, "reasons": reasons}
    if found:
        summary = f"retraining recommended: {len(reasons)} finding(s): " + ", ".join(reasons)
    else:
        summary = f"no drift found in {window.n_rows} rows"
    return {"retraining_recommended": bool(found), "summary": summary, "reasons": reasons}


def _cloudwatch(paths, environ, rows, prediction) -> None:
    folder = paths.output_dir / "metrics" / "cloudwatch"
    folder.mkdir(parents=True, exist_ok=True)
    dimensions = [{"Name": "Endpoint", "Value": environ.get("sagemaker_endpoint_name", "local")},
                  {"Name": "MonitoringSchedule",
                   "Value": environ.get("sagemaker_monitoring_schedule_name", "local")}]
    stamp = int(time.time())
    records = [{"MetricName": f"feature_psi_{row['feature']}", "Timestamp": stamp,
                "Dimensions": dimensions, "Value": row["psi"], "Unit": "None"} for row in rows]
    if prediction.get("available"):
        records.append({"MetricName": "predicted_attrition_probability", "Timestamp": stamp,
                        "Dimensions": dimensions, "Value": prediction["mean_probability"], "Unit": "None"})
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def _thresholds(environ) -> drift.Thresholds:
    values = {}
    for name, field_name in SETTINGS.items():
        raw = environ.get(name, "").strip()
        if raw:
            cast = int if field_name == "min_rows" else float
            try:
                values[field_name] = cast(raw)
            except ValueError:
                raise UserError(f"{name}={raw!r} is not a valid {cast.__name__}") from None
    return drift.Thresholds(**values)


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise UserError(f"no baseline at {path}: mount the model directory that `train` wrote "
                        "(it holds statistics.json and constraints.json), or set "
                        "baseline_statistics and baseline_constraints")
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise UserError(f"{path} is not valid JSON: {error}") from None


def _time(text):
    if not text:
        return None
    when = capture.parse_time(text)
    if when is None:
        raise UserError(f"start_time/end_time {text!r} is not an ISO-8601 time")
    return when


def _write(path: Path, document) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n")


def _fail(paths, message: str, code: int) -> int:
    print(f"monitor failed: {paths.write_failure(message)}", file=sys.stderr)
    return code
