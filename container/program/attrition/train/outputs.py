"""Outputs out: what a fit leaves (the model, its metadata and baseline, SHAP importance, the bias
audit, metrics, the model card, report.html), written to a staging folder and moved in whole."""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np

from ..core import contract
from ..core.platform import artifact, environment, logs
from ..core.predict import curves, levers, model, predictors
from ..core.quality import baseline, bias, calibration, metrics
from ..core.reports import annex, card
from . import lineage, report
from .channels import LabelledSet
from .hyperparameters import Hyperparameters

STAGING = ".staging"  # in the model directory: files are written here, then moved in whole
SHAP_ROWS = 100_000
MIN_ROWS, MIN_CLASS_ROWS, CHANCE_AUC = 100, 20, 0.6  # below these, training warns
PDP_ROWS, PDP_FEATURES = 1_000, 10  # partial dependence: sample rows (models other than stumps), features


@dataclass
class Fit:
    """What fitting produced: the settings it ended with, the model and its measurements."""

    hp: Hyperparameters
    booster: lightgbm.Booster
    results: dict[str, Any]  # metrics.json: cross-validation, train, threshold, trees
    scored: LabelledSet  # the rows the threshold was chosen on: the training rows, or (sharded) validation's
    scores: np.ndarray  # their held-out probabilities: out-of-fold, or the validation channel's
    train_probabilities: np.ndarray  # the final model's, for every training row
    trials: list[dict] = field(default_factory=list)  # the local random search, when it ran


def write_everything(paths, environ, fit: Fit, training: LabelledSet, held: LabelledSet | None, facets: list,
                     actionable: list[levers.Lever], started: float) -> None:
    """The model directory and the outputs, from the fitted model (the leader's job on several hosts)."""
    train_table, features_schema, columns, x, y = (training.table, training.schema, training.columns, training.x,
                                                   training.y)
    rows, channel = len(y), training.channel
    hp, booster, results = fit.hp, fit.booster, fit.results
    threshold, p_train = results["threshold"], fit.train_probabilities
    data_files = {channel: train_table.files}
    if held is not None:
        data_files["validation"] = held.table.files
        p_valid = fit.scores if fit.scored is held else np.asarray(booster.predict(held.x))  # sharded: scored
        results["validation"] = metrics.evaluate(held.y, p_valid, threshold)
        results["validation_source"] = "validation channel, scored by the final model" + (
            " (which stopped early on it: ShardedByS3Key)" if fit.scored is held else "")
        report_y, report_p = held.y, p_valid
    else:
        results["validation"] = results["cross_validation"]
        results["validation_source"] = f"{hp.folds}-fold cross-validation, out-of-fold"
        report_y, report_p = y, fit.scores
    importance, expected_value, shap_rows = _importance(booster, x, features_schema)
    pdp = _partial_dependence(booster, x, features_schema, importance, hp.num_threads)
    results["warnings"] = _warnings(y, results)
    bias_report = _bias_audit(facets, hp, fit)

    staging = paths.model_dir / STAGING
    try:
        model.save(staging, booster, {"schema": features_schema.to_dict(), "decision_threshold": threshold,
                                      "feature_importance": importance,
                                      levers.METADATA_KEY: [lever.to_dict() for lever in actionable]})
        scored_y = fit.scored.y
        results["calibration"] = {"brier": calibration.brier(scored_y, fit.scores),
                                  "expected_calibration_error": calibration.expected_calibration_error(
                                      scored_y, fit.scores), "rows": int(len(scored_y)),
                                  "expected_auc": calibration.expected_auc(fit.scores, fit.scores),
                                  "auc": metrics.roc_auc(scored_y, fit.scores)}
        _write_baseline(staging, features_schema, columns, rows, p_train, threshold,
                        {"calibration": calibration.needed(scored_y, fit.scores),
                         "metrics": {name: float(results["validation"][name])
                                     for name in ("auc", "precision", "recall", "f1", "accuracy")}})
        manifest = lineage.manifest(staging, data_files, hp.as_dict(), results,
                                    environment.job_identity(environ), started)
        artifact.write_json(staging / contract.MANIFEST_FILE, manifest)
        _write_outputs(paths, results, fit.trials)
        artifact.write_json(paths.output_data_dir / contract.BIAS_FILE, bias_report)
        artifact.write_json(paths.output_data_dir / contract.QUALITY_CONSTRAINTS_FILE,
                            baseline.quality_constraints(results["validation"], threshold, features_schema.classes))
        artifact.write_json(paths.output_data_dir / "explainability.json",
                            _explainability(importance, expected_value, shap_rows, pdp))
        summary = _report_summary(results, hp, features_schema, importance, len(y), y)
        summary["pdp"], summary["pdp_note"] = pdp["entries"], pdp["note"]
        summary["bias"] = bias.outside(bias_report)
        summary["impact_ratios"] = bias_report.get("impact_ratios", {})
        artifact.write_text(paths.output_data_dir / "report.html",
                            report.build(summary, report_y, report_p, threshold))
        files = [entry["file"] for entries in data_files.values() for entry in entries]
        evidence = card.Evidence(manifest, results["validation_source"], results["validation"], files, bias_report,
                                 importance, schema=features_schema)
        card.write(paths.output_data_dir, evidence)
        annex.write(paths.output_data_dir, evidence)
        _move_in(staging, paths.model_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _print_report(features_schema, results, manifest["model_version"])


def _move_in(staging: Path, model_dir: Path) -> None:
    """Every file is complete in `staging`: move them in by rename, metadata.json (which makes the
    directory servable) out first and back in last, so no reader ever pairs old and new files."""
    (model_dir / contract.METADATA_FILE).unlink(missing_ok=True)
    names = sorted(p.name for p in staging.iterdir() if p.name != contract.METADATA_FILE)
    for name in [*names, contract.METADATA_FILE]:
        os.replace(staging / name, model_dir / name)


def _warnings(y: np.ndarray, results: dict) -> list[str]:
    """What a person should know before trusting a model trained on too little, or learning nothing."""
    found = []
    positives = int(y.sum())
    if len(y) < MIN_ROWS:
        found.append(f"only {len(y)} labelled rows: too few to learn from reliably (aim for several hundred)")
    if min(positives, len(y) - positives) < MIN_CLASS_ROWS:
        found.append(f"only {min(positives, len(y) - positives)} rows of the rarer class: its predictions "
                     "will be unreliable")
    auc = results["cross_validation"]["auc_mean"]
    if auc < CHANCE_AUC:
        found.append(f"cross-validated AUC {auc:.2f} is close to chance (0.5): the model has learned little")
    if results["iterations"] <= 1:
        found.append("early stopping kept a single tree: the data gave it nothing to learn")
    return found


def _bias_audit(facets: list, hp: Hyperparameters, fit: Fit) -> dict:
    """Pre-training bias on the labels, post-training on the held-out predictions at the threshold:
    every training row scored by a model that did not see it (out-of-fold), or, sharded, the
    validation channel's rows."""
    scored = fit.scored
    predicted = (fit.scores >= fit.results["threshold"]).astype(int)
    report = bias.audit(facets, scored.columns, scored.y, predicted, hp.label_column, hp.positive_class,
                        fit.scores)
    source = "validation channel" if scored.channel == environment.VALIDATION_CHANNEL else "out-of-fold"
    report["predictions"] = f"{source}, at the decision threshold"
    return report


def _importance(booster, x, features_schema) -> tuple[list, float, int]:
    """Gain and mean |SHAP| (LightGBM's TreeSHAP, in log-odds) per feature, largest first; the
    expected value (the log-odds every explanation starts from); and how many rows the mean is
    over: every training row, or SHAP_ROWS spread evenly over them (SHAP costs a pass over every
    tree per row)."""
    gains = booster.feature_importance(importance_type="gain")
    rows = x if len(x) <= SHAP_ROWS else x[np.linspace(0, len(x) - 1, SHAP_ROWS).astype(np.int64)]
    contributions = booster.predict(rows, pred_contrib=True)
    shap = np.abs(contributions[:, :-1]).mean(axis=0)
    found = [
        {"feature": name, "gain": float(g), "mean_abs_shap": float(m)}
        for name, g, m in zip(features_schema.feature_names, gains, shap)
    ]
    return sorted(found, key=lambda row: -row["mean_abs_shap"]), float(contributions[0, -1]), len(rows)


def _partial_dependence(booster, x, features_schema, importance: list, threads: int) -> dict:
    """The most important features' response curves (core/predict/curves.py), and how they were made."""
    predictor = predictors.for_booster(booster, threads)
    rows = x if len(x) <= PDP_ROWS else x[np.linspace(0, len(x) - 1, PDP_ROWS).astype(np.int64)]
    names = [row["feature"] for row in importance[:PDP_FEATURES]]
    entries = curves.partial_dependence(predictor, booster, features_schema, np.asarray(rows, dtype=np.float64),
                                        names, features_schema.classes[1])
    note = ("The model is a sum of stumps: each curve is its exact step function for that feature, shown as "
            "the probability of an employee otherwise at the base rate."
            if predictor.name == "stumps" else
            f"Mean predicted probability over {len(rows)} training rows with the feature set to each value "
            "(Clarify's partial dependence).")
    return {"entries": entries, "note": note}


def _explainability(importance: list, expected_value: float, rows: int, pdp: dict) -> dict:
    """Global importance and partial dependence in Clarify's explainability analysis.json shape.
    Clarify names its section after its method (Kernel SHAP); these values are exact TreeSHAP, as
    "method" says."""
    return {"version": "1.0",
            "method": f"LightGBM TreeSHAP (exact), mean |SHAP| over {rows} training rows, log-odds",
            "explanations": {"kernel_shap": {"label0": {
                "global_shap_values": {row["feature"]: row["mean_abs_shap"] for row in importance},
                "expected_value": expected_value}},
                "pdp": pdp["entries"], "pdp_method": pdp["note"]}}


def _write_baseline(model_dir, features_schema, columns, n_rows, probabilities, threshold, quality: dict) -> None:
    """statistics.json and constraints.json: Model Monitor's baseline, shipped with the model; its
    attrition section also keeps the out-of-fold calibration map and metrics the monitor's
    performance estimate reads through and is judged against."""
    stats = baseline.statistics(features_schema, columns, n_rows)
    extra = {
        "schema": features_schema.to_dict(),
        "decision_threshold": threshold,
        "prediction": {"mean_probability": float(np.mean(probabilities)),
                       "positive_rate": float(np.mean(probabilities >= threshold))},
        **quality,
    }
    artifact.write_json(model_dir / contract.STATISTICS_FILE, stats)
    artifact.write_json(model_dir / contract.CONSTRAINTS_FILE,
                        baseline.constraints(features_schema, stats, contract.Thresholds(), extra))


def _write_outputs(paths, results: dict, trials: list) -> None:
    artifact.write_json(paths.output_data_dir / "metrics.json", results)
    artifact.write_json(paths.output_data_dir / contract.EVALUATION_FILE, metrics.model_quality(results["validation"]))
    if trials:
        best = max(trials, key=lambda t: t["auc"])
        artifact.write_json(paths.output_data_dir / "tuning.json", {"best": best, "trials": trials})


def _report_summary(results, hp, features_schema, importance, rows, y) -> dict:
    return {
        "source": "Metrics from the " + results["validation_source"],
        "metrics": results["validation"],
        "threshold_note": results["threshold_note"],
        "calibration": results.get("calibration", {}),
        "hyperparameters": hp.as_dict(),
        "importance": importance,
        "data": {"rows": rows, "positives": int(y.sum()),
                 "features": len(features_schema.features),
                 "iterations": results["iterations"], "dropped": features_schema.dropped},
    }


def _print_report(features_schema, results: dict, version: str) -> None:
    for name, reason in features_schema.dropped.items():
        logs.say(f"dropped column {name}: {reason}")
    kinds = [f"{f.name}({f.kind[:3]})" for f in features_schema.features]
    logs.say(f"features ({len(kinds)}): {' '.join(kinds)}")
    cv = results["cross_validation"]
    logs.say(f"trees: {results['iterations']}; threshold {results['threshold']:.4f} "
          f"({results['threshold_note']}); validation: {results['validation_source']}")
    for warning in results["warnings"]:
        logs.say(f"warning: {warning}")
    logs.say(f"model version {version}")
    logs.say(f"{contract.CV_AUC_MEAN}={cv['auc_mean']:.4f}")
    logs.say(f"{contract.CV_AUC_STD}={cv['auc_std']:.4f}")
    for split in ("train", "validation"):
        for name in contract.METRIC_NAMES:
            logs.say(f"{split}:{name}={results[split][name]:.4f}")
