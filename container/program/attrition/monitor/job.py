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

With analysis_type=MODEL_QUALITY it is Model Monitor's model quality monitor instead: the
captured predictions joined with ground_truth_source (core/wire/groundtruth.py)
[/opt/ml/processing/groundtruth], scored against a model-quality baseline_constraints (the
model_quality_constraints.json `train` writes; by default derived the same way from the mounted
model's manifest). Outputs: statistics.json (binary_classification_metrics), constraint_violations.json
and model_quality_report.json (the join's counts and the verdict). Exit 2 only when no captured
prediction has ground truth at all. MODEL_BIAS: Clarify's post-training metrics on the same join,
against train's bias.json (fairness.py). MODEL_EXPLAINABILITY: the window's TreeSHAP ranking
against training's (attribution.py).

Both read the model (its facets and threshold, its trees). Locally the model directory is
mounted; a SageMaker monitoring job mounts no model, so there baseline_constraints is an archive
instead (model.tar.gz's files, and bias.json for bias drift: `attrition-deploy monitor-schedule`
uploads it), unpacked into a hidden folder of /opt/ml/output and read as the model directory.
"""

import contextlib
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..core import contract
from ..core.platform import artifact, environment, jobs
from ..core.platform.errors import UserError
from ..core.predict import model
from ..core.quality import baseline, bias
from ..core.table import columns, features
from ..core.table.schema import Schema
from ..core.wire import capture
from . import attribution, drift, estimate, fairness, page, quality, window


def main(environ=None) -> int:
    return jobs.run("monitor", os.environ if environ is None else environ, lambda paths: _work(paths, environ))


def _work(paths: environment.Paths, environ) -> str:
    environ = os.environ if environ is None else environ
    settings = environment.monitor_settings(environ)
    jobs.leave_root("monitor", reads=[settings.dataset_source, settings.baseline_statistics,
                                      settings.baseline_constraints, settings.ground_truth_source, paths.model_dir],
                    writes=[settings.output_path, paths.output_dir])
    return f"monitor: {run(paths, environ)['verdict']['summary']}"


def run(paths: environment.Paths, environ: Mapping[str, str]) -> dict:
    settings = environment.monitor_settings(environ)
    if settings.analysis_type == "MODEL_QUALITY":
        return _model_quality(paths, settings)
    if settings.analysis_type in ("MODEL_EXPLAINABILITY", "MODEL_BIAS"):
        with _model_baseline(paths, settings) as (model_dir, audit_file):
            if settings.analysis_type == "MODEL_BIAS":
                return _bias_drift(paths, settings, model_dir, audit_file)
            return _attribution_drift(paths, settings, model_dir)
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
    estimated = _estimated(extra, probabilities, found) if data.rows else {}
    report = {
        "verdict": _verdict(data, found, thresholds),
        "window": {"files": data.files, "records": data.records, "rows": data.rows,
                   "skipped": dict(data.skipped), "source": str(source),
                   "start_time": settings.start_time or None, "end_time": settings.end_time or None},
        "prediction": prediction,
        "estimated_performance": estimated,
        "features": rows,
        "withheld_features": withheld,  # in no record (a capture policy left them out): not compared
        "thresholds": vars(thresholds),
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    output = settings.output_path
    artifact.write_json(output / "constraint_violations.json", {"violations": found})
    artifact.write_json(output / contract.STATISTICS_FILE, current)
    artifact.write_json(output / "drift_report.json", report)
    sections = [_estimate_section(estimated)] if estimated else []
    _page(settings, "Data quality", report, [*sections, page.distributions(reference, current, rows)])
    if settings.publish_cloudwatch_metrics:
        _cloudwatch(paths, settings, report, len(found))
    return report


def _probabilities(data: window.Window, schema: Schema, paths: environment.Paths) -> Sequence[float]:
    """Captured probabilities; for plain CSV windows, the model's own, when it is mounted."""
    if data.probabilities or not data.rows or not (paths.model_dir / contract.MODEL_FILE).is_file():
        return data.probabilities
    trained = model.load(paths.model_dir)
    return trained.predict(features.encode_table(schema, data.columns, data.rows)).tolist()


def _model_quality(paths: environment.Paths, settings: environment.MonitorSettings) -> dict:
    constraints = _quality_baseline(paths, settings)
    extra = constraints["attrition"]
    joined = quality.join(settings.dataset_source, settings.ground_truth_source, extra["classes"],
                          _time(settings.start_time), _time(settings.end_time))
    counts = ", ".join(f"{reason}: {count}" for reason, count in sorted(joined.counts.items()))
    if not joined.y:
        raise UserError(f"nothing to measure: no captured prediction in {settings.dataset_source} has ground truth "
                        f"in {settings.ground_truth_source} ({counts or 'no records at all'})")
    y, p = np.array(joined.y, dtype=np.int64), np.array(joined.p, dtype=np.float64)
    measured = quality.statistics(y, p, extra["decision_threshold"])
    found = quality.violations(measured, constraints)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    notes = quality.undefined(measured, y)
    if len(y) < settings.min_rows:
        summary = (f"only {len(y)} labelled rows (< {settings.min_rows}): too few to judge; "
                   f"{len(found)} violation(s) noted")
    elif found:
        summary = "model quality fell: " + "; ".join(v["description"] for v in found)
    else:
        summary = f"model quality holds on {len(y)} labelled rows"
    report = {"verdict": {"retraining_recommended": bool(found) and len(y) >= settings.min_rows, "summary": summary,
                          "notes": notes},
              "rows": len(y), "positives": int(y.sum()), "join": dict(joined.counts),
              "metrics": {name: entry["value"] for name, entry in measured.items() if name != "confusion_matrix"},
              "baseline": extra.get("baseline", {}), "generated_at": stamp}
    output = settings.output_path
    artifact.write_json(output / contract.STATISTICS_FILE, {"version": 0.0, "dataset": {
        "item_count": len(y), "evaluation_time": stamp}, "binary_classification_metrics": measured})
    artifact.write_json(output / "constraint_violations.json", {"violations": found})
    artifact.write_json(output / "model_quality_report.json", report)
    _page(settings, "Model quality", report, [page.metrics_table(
        "Model quality on the labelled rows", [
            (name, "undefined" if entry["value"] is None else f"{entry['value']:.4f}",
             "" if entry["standard_deviation"] is None else f"± {1.96 * entry['standard_deviation']:.4f} (95 %)")
            for name, entry in measured.items() if name != "confusion_matrix"],
        f"{len(y)} employees whose truth is known, {int(y.sum())} of them left; " + counts)])
    if settings.publish_cloudwatch_metrics:
        values = {**{name: value for name, value in report["metrics"].items() if value is not None},
                  "retraining_recommended": float(report["verdict"]["retraining_recommended"]),
                  "violations": float(len(found))}
        _metric_records(paths, settings, values)
    return report


@contextlib.contextmanager
def _model_baseline(paths: environment.Paths, settings: environment.MonitorSettings) -> Iterator[tuple[Path, Path]]:
    """The model directory the bias and attribution monitors read, and training's audit: the
    mounted model and baseline_constraints, or both from a baseline archive (see the docstring)."""
    given = settings.baseline_constraints
    if not (settings.baseline_given and given.is_file() and tarfile.is_tarfile(given)):
        yield paths.model_dir, given
        return
    paths.output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".baseline-", dir=paths.output_dir) as scratch:
        folder = model.unpacked(given, Path(scratch))
        if not (folder / contract.MODEL_FILE).is_file():
            raise UserError(f"baseline_constraints {given} is an archive without {contract.MODEL_FILE}: give the "
                            "baseline archive `attrition-deploy monitor-schedule` uploads, or bias.json")
        yield folder, folder / contract.BIAS_FILE


def _bias_drift(paths: environment.Paths, settings: environment.MonitorSettings, model_dir: Path,
                audit_file: Path) -> dict:
    """Clarify's post-training metrics on the labelled window (the facets the model was trained to
    audit), against train's bias.json (baseline_constraints, or the baseline archive's)."""
    if not settings.baseline_given:
        raise UserError("the bias drift monitor compares with training's audit: set baseline_constraints to the "
                        "bias.json that `train` writes (output/data)")
    reference = _read_json(audit_file)
    if "post_training_bias_metrics" not in reference:
        raise UserError(f"{audit_file} is not a bias.json with post-training metrics")
    manifest = _read_json(model_dir / contract.MANIFEST_FILE)
    metadata = _read_json(model_dir / contract.METADATA_FILE)
    schema = Schema.from_dict(metadata["schema"])
    facets = bias.facets(str((manifest.get("hyperparameters") or {}).get("bias_facets", bias.DEFAULT_FACETS)))
    wanted = quality.Columns(tuple(sorted({c for f in facets for c in f.columns})), schema,
                             settings.protected_source if settings.protected_source.is_dir() else None)
    joined = quality.join(settings.dataset_source, settings.ground_truth_source, schema.classes,
                          _time(settings.start_time), _time(settings.end_time), wanted)
    if not joined.y:
        raise UserError(f"nothing to measure: no captured prediction in {settings.dataset_source} has ground truth "
                        f"in {settings.ground_truth_source}")
    y, p = np.array(joined.y, dtype=np.int64), np.array(joined.p, dtype=np.float64)
    table = {name: columns.of(values) for name, values in joined.columns.items()}
    predicted = (p >= float(metadata["decision_threshold"])).astype(int)
    audit = bias.audit(facets, table, y, predicted, schema.label_column, schema.classes[1], p)
    found, notes = fairness.violations(reference, audit)
    summary = (f"bias drift: {len(found)} group metric(s) left their range: " + "; ".join(
        v["description"] for v in found) if found else f"no group left its range on {len(y)} labelled rows")
    recommended = bool(found) and len(y) >= settings.min_rows
    report = {"verdict": {"retraining_recommended": recommended, "summary": summary, "notes": notes},
              "rows": len(y), "join": dict(joined.counts), "facets": [str(f) for f in facets]}
    output = settings.output_path
    artifact.write_json(output / "analysis.json", audit)
    artifact.write_json(output / "constraint_violations.json", {"violations": found})
    artifact.write_json(output / "bias_drift_report.json", report)
    _page(settings, "Bias drift", report, [page.groups_table(audit)])
    if settings.publish_cloudwatch_metrics:
        _metric_records(paths, settings, {**{m.key.replace(" ", "_"): m.value for m in bias.measured(audit)},
                                          "violations": float(len(found)),
                                          "retraining_recommended": float(recommended)})
    return report


def _attribution_drift(paths: environment.Paths, settings: environment.MonitorSettings, model_dir: Path) -> dict:
    """The window's mean |TreeSHAP| ranking against training's (the model's metadata)."""
    if not (model_dir / contract.MODEL_FILE).is_file():
        raise UserError(f"no model at {model_dir}: the attribution monitor computes the window's TreeSHAP "
                        "with the model; mount the model directory, or give the baseline archive as "
                        "baseline_constraints")
    trained = model.load(model_dir)
    base = {row["feature"]: row["mean_abs_shap"] for row in trained.metadata.get("feature_importance", [])}
    if not base:
        raise UserError(f"{model_dir} has no feature_importance in metadata.json: retrain with this image")
    data = window.read(settings.dataset_source, trained.schema, _time(settings.start_time), _time(settings.end_time))
    if not data.rows:
        raise UserError(f"no usable record in the window at {settings.dataset_source}")
    current = attribution.window_importance(trained, data.columns, data.rows)
    score = attribution.ndcg(base, current)
    found = attribution.violations(score)
    ranked = sorted(current, key=lambda name: -current[name])
    trained_rank = {name: rank for rank, name in enumerate(sorted(base, key=lambda f: -base[f]), 1)}
    ranking = [{"feature": name, "window": current[name], "baseline": base.get(name, 0.0),
                "baseline_rank": trained_rank.get(name)} for name in ranked]
    summary = (f"feature attribution drift: nDCG {score:.4f} < {attribution.NDCG_THRESHOLD:g}" if found
               else f"feature attributions hold: nDCG {score:.4f} on {data.rows} rows")
    report = {"verdict": {"retraining_recommended": bool(found), "summary": summary}, "ndcg": score,
              "threshold": attribution.NDCG_THRESHOLD, "rows": data.rows, "ranking": ranking}
    output = settings.output_path
    artifact.write_json(output / "analysis.json", {"version": "1.0", "explanations": {"kernel_shap": {"label0": {
        "global_shap_values": current}}}, "method": f"LightGBM TreeSHAP (exact), mean |SHAP| over {data.rows} rows"})
    artifact.write_json(output / "constraint_violations.json", {"violations": found})
    artifact.write_json(output / "attribution_drift_report.json", report)
    _page(settings, "Feature attribution drift", report, [page.ranking_table(ranking)])
    if settings.publish_cloudwatch_metrics:
        _metric_records(paths, settings, {"feature_attribution_ndcg": score, "violations": float(len(found)),
                                          "retraining_recommended": float(bool(found))})
    return report


def _estimate_section(estimated: dict) -> str:
    return page.metrics_table("Performance estimated before the labels arrive", [
        (name, f"{entry['value']:.4f}", f"95 %: {entry['low']:.4f} .. {entry['high']:.4f}")
        for name, entry in estimated.items()],
        "From the predicted probabilities alone (the truth is months away); when the world changes in a way "
        "the model cannot see, only the model quality monitor, with the truth, can tell.")


def _page(settings: environment.MonitorSettings, kind: str, report: dict, sections: list[str]) -> None:
    """monitor_report.html beside the JSON reports, with earlier runs' verdicts when given."""
    report = {**report, "generated_at": report.get("generated_at") or time.strftime("%Y-%m-%dT%H:%M:%SZ")}
    artifact.write_text(settings.output_path / "monitor_report.html",
                        page.page(f"{kind} monitor: {settings.endpoint_name}", report, sections, _history(settings)))


def _history(settings: environment.MonitorSettings) -> list[dict]:
    """Earlier runs' JSON reports (any with a verdict), oldest first; unreadable files skipped."""
    if settings.history is None or not settings.history.is_dir():
        return []
    found = []
    for path in sorted(settings.history.rglob("*.json")):
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(report, dict) and isinstance(report.get("verdict"), dict):
            found.append(report)
    return sorted(found, key=lambda r: str(r.get("generated_at", "")))


def _quality_baseline(paths: environment.Paths, settings: environment.MonitorSettings) -> dict:
    """The model-quality baseline: baseline_constraints when set, else derived from the mounted
    model (its manifest's out-of-fold metrics and threshold, its metadata's classes)."""
    if settings.baseline_given:
        constraints = _read_json(settings.baseline_constraints)
    else:
        manifest = _read_json(paths.model_dir / contract.MANIFEST_FILE)
        metadata = _read_json(paths.model_dir / contract.METADATA_FILE)
        classes = (metadata.get("schema") or {}).get("classes")
        constraints = baseline.quality_constraints(manifest.get("metrics") or {},
                                                   (manifest.get("metrics") or {}).get("decision_threshold", 0.5),
                                                   classes or [])
    extra = constraints.get("attrition") or {}
    if ("binary_classification_constraints" not in constraints or len(extra.get("classes") or []) != 2
            or not isinstance(extra.get("decision_threshold"), float)):
        raise UserError("baseline_constraints is not a model-quality baseline: use the "
                        "model_quality_constraints.json that `train` writes, or mount the model directory")
    return constraints


def _estimated(extra: dict, probabilities: Sequence[float], found: list) -> dict:
    """The window's performance estimated from its probabilities (estimate.py); a finding when even
    the interval's upper end lies below training's out-of-fold value less QUALITY_TOLERANCE."""
    threshold = extra.get("decision_threshold")
    if not probabilities or not isinstance(threshold, float):
        return {}
    estimated = estimate.estimate(np.asarray(probabilities, dtype=np.float64), threshold, extra.get("calibration"))
    trained = extra.get("metrics") or {}
    for name in ("auc", "f1"):
        floor = trained.get(name, float("nan")) - baseline.QUALITY_TOLERANCE
        if name in estimated and estimated[name]["high"] < floor:
            found.append({"feature_name": f"estimated_{name}", "constraint_check_type": "estimated_performance_check",
                          "description": f"estimated {name} {estimated[name]['value']:.3f} (95 % "
                                         f"{estimated[name]['low']:.3f}..{estimated[name]['high']:.3f}) is below "
                                         f"training's {trained[name]:.3f} less {baseline.QUALITY_TOLERANCE:g}"})
    return estimated


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


def _verdict(data: window.Window, found: list, thresholds: contract.Thresholds) -> dict:
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
    values = {"retraining_recommended": float(report["verdict"]["retraining_recommended"]),
              "violations": float(violations),
              **{f"feature_psi_{row['feature']}": row["psi"] for row in report["features"]}}
    if report["prediction"].get("available"):
        values["predicted_attrition_probability"] = report["prediction"]["mean_probability"]
    values.update({f"estimated_{name}": entry["value"] for name, entry in report["estimated_performance"].items()})
    _metric_records(paths, settings, values)


def _metric_records(paths: environment.Paths, settings: environment.MonitorSettings, values: dict) -> None:
    """One CloudWatch metric record a line, with the endpoint and schedule as dimensions."""
    folder = paths.output_dir / "metrics" / "cloudwatch"
    dimensions = [{"Name": "Endpoint", "Value": settings.endpoint_name},
                  {"Name": "MonitoringSchedule", "Value": settings.schedule_name}]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    records = [{"MetricName": name, "Timestamp": stamp, "Dimensions": dimensions, "Value": value,
                "Unit": "Count" if name == "violations" else "None"} for name, value in values.items()]
    artifact.write_text(folder / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in records))


def _thresholds(settings: environment.MonitorSettings) -> contract.Thresholds:
    return contract.Thresholds(psi=settings.psi, ks_alpha=settings.ks_alpha, missing=settings.missing,
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
