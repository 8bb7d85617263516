"""The `train` job: /opt/ml/input -> LightGBM -> /opt/ml/model and /opt/ml/output.

Any failure writes /opt/ml/output/failure (SageMaker shows its first 1024 characters as
the job's FailureReason) and exits non-zero: 2 for bad input, 1 for a bug of ours.
"""

import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np

from ..core import artifact, baseline, bias, data, environment, features, jobs, logs, metrics, model, schema
from ..core.errors import UserError
from . import checkpoints, distributed, fitting, hyperparameters, lineage, report, thresholds

METRIC_NAMES = ("auc", "pr_auc", "logloss", "accuracy", "precision", "recall", "f1")
STAGING = ".staging"  # in the model directory: files are written here, then moved in whole
MIN_ROWS, MIN_CLASS_ROWS, CHANCE_AUC = 100, 20, 0.6  # below these, training warns
SHAP_ROWS = 100_000


def main(environ=None) -> int:
    return jobs.run("training", os.environ if environ is None else environ, lambda paths: _work(paths, environ))


def _work(paths: environment.Paths, environ) -> str:
    signal.signal(signal.SIGTERM, lambda signum, frame: _stop(paths))
    jobs.leave_root("train", reads=[paths.base / "input"], writes=[paths.model_dir, paths.output_dir])
    run(paths, os.environ if environ is None else environ)
    return ""


@dataclass
class Fit:
    """What fitting produced: the settings it ended with, the model and its measurements."""

    hp: dict[str, Any]
    booster: lightgbm.Booster
    results: dict[str, Any]  # metrics.json: cross-validation, train, threshold, trees
    out_of_fold: np.ndarray
    train_probabilities: np.ndarray  # the final model's, for every training row
    trials: list[dict] = field(default_factory=list)  # the local random search, when it ran


def run(paths: environment.Paths, environ) -> None:
    hp = hyperparameters.parse(environment.read_json_file(paths.hyperparameters_file, {}))
    facets = bias.facets(hp["bias_facets"])
    data_config = environment.read_json_file(paths.input_data_config_file, {})
    group = distributed.cluster(environment.read_json_file(paths.resource_config_file, {}),
                                environment.distributed_settings(environ))
    _check_distribution(data_config, group)
    started = time.time()

    training = _training_set(paths, hp)
    # On several hosts each would save its own; checkpoints are a single host's (README).
    saved = checkpoints.Checkpoints.open(paths.checkpoint_dir if group is None else None, hp, training.table.files,
                                         environment.checkpoint_seconds(environ))
    with distributed.network(group, paths.failure_file):
        fit = _fit(training.x, training.y, training.categorical, training.schema, hp, group, saved)
        if group is not None:
            logs.say(f"distributed: host={group.current} rank={group.rank}/{group.size} "
                     f"rows={len(group.share(len(training.y)))}")
        if group is None or group.leader:
            _write_everything(paths, environ, fit, training, facets, started)
        if group is not None:
            distributed.barrier(group)  # the others wait here until the leader has written the model


@dataclass
class TrainingSet:
    """The training channel as read and encoded."""

    channel: str
    table: data.Table
    schema: schema.Schema
    columns: dict
    x: np.ndarray
    y: np.ndarray

    @property
    def categorical(self) -> list[int]:
        return [i for i, f in enumerate(self.schema.features) if f.kind == schema.CATEGORICAL]


def _training_set(paths: environment.Paths, hp: dict) -> TrainingSet:
    channel = _train_channel(paths)
    table = _read(paths, channel, hp, hyperparameters.split_list(hp["categorical_columns"]))
    rows, y, classes = _labelled(table, hp)
    table.values = table.column_values(rows)  # the labelled rows only, from here on
    features_schema = _infer_schema(table, table.values, classes, hp)
    return TrainingSet(channel, table, features_schema, table.values,
                       features.encode_table(features_schema, table.values, len(rows)), y)


def _write_everything(paths, environ, fit: Fit, training: TrainingSet, facets: list, started: float) -> None:
    """The model directory and the outputs, from the fitted model (the leader's job on several hosts)."""
    train_table, features_schema, columns, x, y = (training.table, training.schema, training.columns, training.x,
                                                   training.y)
    rows, channel = len(y), training.channel
    hp, booster, results = fit.hp, fit.booster, fit.results
    threshold, p_train = results["threshold"], fit.train_probabilities
    data_files = {channel: train_table.files}
    if _has_channel(paths, environment.VALIDATION_CHANNEL):
        x_valid, y_valid, data_files["validation"] = _validation_set(paths, hp, train_table,
                                                                     features_schema)
        p_valid = np.asarray(booster.predict(x_valid))
        results["validation"] = metrics.evaluate(y_valid, p_valid, threshold)
        results["validation_source"] = "validation channel, scored by the final model"
        report_y, report_p = y_valid, p_valid
    else:
        results["validation"] = results["cross_validation"]
        results["validation_source"] = f"{hp['folds']}-fold cross-validation, out-of-fold"
        report_y, report_p = y, fit.out_of_fold
    importance, expected_value, shap_rows = _importance(booster, x, features_schema)
    results["warnings"] = _warnings(y, results)
    bias_report = _bias_audit(facets, hp, columns, y, fit.out_of_fold >= threshold)

    staging = paths.model_dir / STAGING
    try:
        model.save(staging, booster, {"schema": features_schema.to_dict(), "decision_threshold": threshold,
                                      "feature_importance": importance})
        _write_baseline(staging, features_schema, columns, rows, p_train, threshold)
        manifest = lineage.manifest(staging / artifact.MODEL_FILE, data_files, hp, results,
                                    environment.job_identity(environ), started)
        artifact.write_json(staging / artifact.MANIFEST_FILE, manifest)
        _write_outputs(paths, results, fit.trials)
        artifact.write_json(paths.output_data_dir / "bias.json", bias_report)
        artifact.write_json(paths.output_data_dir / "explainability.json",
                            _explainability(importance, expected_value, shap_rows))
        summary = _report_summary(results, hp, features_schema, importance, len(y), y)
        summary["bias"] = bias.outside(bias_report)
        artifact.write_text(paths.output_data_dir / "report.html",
                            report.build(summary, report_y, report_p, threshold))
        _move_in(staging, paths.model_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _print_report(features_schema, results, manifest["model_version"])


def _move_in(staging: Path, model_dir: Path) -> None:
    """Every file is complete in `staging`: move them in by rename, metadata.json (which makes the
    directory servable) out first and back in last, so no reader ever pairs old and new files."""
    (model_dir / artifact.METADATA_FILE).unlink(missing_ok=True)
    names = sorted(p.name for p in staging.iterdir() if p.name != artifact.METADATA_FILE)
    for name in [*names, artifact.METADATA_FILE]:
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


def _fit(x, y, categorical, features_schema, hp: dict, group: distributed.Cluster | None,
         saved: checkpoints.Checkpoints) -> Fit:
    """(Tune,) cross-validate, choose the threshold, refit on every row; with the metrics. What a
    checkpoint holds already is not done again."""
    done = saved.stage("cross_validation")
    trials: list[dict] = []
    if done:
        hp, trials = done["hp"], done["trials"]
        cv = fitting.CrossValidation(done["iterations"], np.array(done["out_of_fold"]), done["fold_auc"])
    else:
        if hp["tuning_trials"]:
            hp, trials = fitting.tune(x, y, categorical, hp, group=group)
        cv = fitting.cross_validate(x, y, categorical, hp, group, *_fold_checkpoints(saved, hp))
        saved.save_stage("cross_validation", {"hp": hp, "trials": trials, "iterations": cv.iterations,
                                              "out_of_fold": cv.out_of_fold.tolist(), "fold_auc": cv.fold_auc})
    threshold, threshold_note = thresholds.choose(
        y, cv.out_of_fold, hp["threshold_objective"], hp["threshold_target"],
        hp["decision_threshold"],
    )
    booster = fitting.fit(x, y, categorical, features_schema.feature_names, hp, cv.iterations, group,
                          saved.final_model(), (saved.saver(),))
    p_train = np.asarray(booster.predict(x))
    results = {
        "cross_validation": {
            **metrics.evaluate(y, cv.out_of_fold, threshold),
            "folds": hp["folds"], "fold_auc": cv.fold_auc,
            "auc_mean": float(np.mean(cv.fold_auc)), "auc_std": float(np.std(cv.fold_auc)),
        },
        "train": metrics.evaluate(y, p_train, threshold),
        "iterations": cv.iterations,
        "threshold": threshold,
        "threshold_note": threshold_note,
    }
    return Fit(hp, booster, results, cv.out_of_fold, p_train, trials)


def _fold_checkpoints(saved: checkpoints.Checkpoints, hp: dict) -> tuple:
    """The folds a checkpoint holds for these settings, and a callback saving each new one."""
    held = saved.stage("folds") or {}
    done = held["folds"] if held.get("hp") == hp else []

    def save(folds: list) -> None:
        plain = [{**fold, "scores": np.asarray(fold["scores"]).tolist()} for fold in folds]
        saved.save_stage("folds", {"hp": hp, "folds": plain}, f"fold {len(folds)} of {hp['folds']} saved")

    return done, save if saved.folder is not None else None


def _train_channel(paths):
    for name in environment.TRAIN_CHANNELS:
        if _has_channel(paths, name):
            return name
    raise UserError(
        f"no training data: expected a channel named 'train' (or 'training') at "
        f"{paths.channel_dir('train')}"
    )


def _has_channel(paths, name: str) -> bool:
    return paths.channel_dir(name).is_dir() or paths.channel_pipe(name).exists()


def _read(paths, channel: str, hp: dict, categorical: list) -> data.Table:
    """A channel's files (File or FastFile mode), or its FIFO (Pipe mode); `categorical` names
    the columns whose spellings are categories (core.columns)."""
    if paths.channel_dir(channel).is_dir():
        return data.read_channel(paths.channel_dir(channel), hp["label_column"], hp["header"], categorical)
    return data.read_pipe(paths.channel_pipe(channel), hp["label_column"], hp["header"], categorical)


def _labelled(table: data.Table, hp: dict):
    kept, y, classes = data.label_vector(table, hp["positive_class"])
    skipped = table.n_rows - len(kept)
    if skipped:
        logs.say(f"skipped {skipped} row(s) whose label {table.label_column!r} is missing")
    return kept, y, classes


def _infer_schema(table: data.Table, columns: dict, classes: list, hp: dict) -> schema.Schema:
    return schema.infer(
        table.input_columns, columns, table.label_column, table.label_position,
        classes, hyperparameters.split_list(hp["drop_columns"]),
        hyperparameters.split_list(hp["categorical_columns"]),
    )


def _validation_set(paths, hp, train_table, features_schema):
    table = _read(paths, environment.VALIDATION_CHANNEL, hp,
                  [f.name for f in features_schema.features if f.kind == schema.CATEGORICAL])
    if sorted(table.columns) != sorted(train_table.columns):
        raise UserError(
            "the validation channel's columns differ from the training channel's: "
            f"missing {sorted(set(train_table.columns) - set(table.columns))}, "
            f"extra {sorted(set(table.columns) - set(train_table.columns))}"
        )
    rows, y, classes = _labelled(table, hp)
    if classes != features_schema.classes:
        raise UserError(
            f"validation labels {classes} differ from training labels {features_schema.classes}"
        )
    return features.encode_table(features_schema, table.column_values(rows), len(rows)), y, table.files


def _bias_audit(facets: list, hp: dict, columns: dict, y: np.ndarray, predicted: np.ndarray) -> dict:
    """Pre-training bias on the training labels, post-training on the out-of-fold predictions at
    the threshold (every training row scored by a model that did not see it)."""
    report = bias.audit(facets, columns, y, predicted.astype(int), hp["label_column"], hp["positive_class"])
    report["predictions"] = "out-of-fold, at the decision threshold"
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


def _explainability(importance: list, expected_value: float, rows: int) -> dict:
    """Global importance in Clarify's explainability analysis.json shape. Clarify names its section
    after its method (Kernel SHAP); these values are exact TreeSHAP, as "method" says."""
    return {"version": "1.0",
            "method": f"LightGBM TreeSHAP (exact), mean |SHAP| over {rows} training rows, log-odds",
            "explanations": {"kernel_shap": {"label0": {
                "global_shap_values": {row["feature"]: row["mean_abs_shap"] for row in importance},
                "expected_value": expected_value}}}}


def _write_baseline(model_dir, features_schema, columns, n_rows, probabilities, threshold) -> None:
    """statistics.json and constraints.json: Model Monitor's baseline, shipped with the model."""
    values = baseline.feature_values(features_schema, columns, n_rows)
    stats = baseline.statistics(features_schema, values, n_rows)
    extra = {
        "schema": features_schema.to_dict(),
        "decision_threshold": threshold,
        "prediction": {"mean_probability": float(np.mean(probabilities)),
                       "positive_rate": float(np.mean(probabilities >= threshold))},
    }
    artifact.write_json(model_dir / artifact.STATISTICS_FILE, stats)
    artifact.write_json(model_dir / artifact.CONSTRAINTS_FILE,
                        baseline.constraints(features_schema, stats, baseline.Thresholds(), extra))


def _write_outputs(paths, results: dict, trials: list) -> None:
    artifact.write_json(paths.output_data_dir / "metrics.json", results)
    artifact.write_json(paths.output_data_dir / "evaluation.json", metrics.model_quality(results["validation"]))
    if trials:
        best = max(trials, key=lambda t: t["auc"])
        artifact.write_json(paths.output_data_dir / "tuning.json", {"best": best, "trials": trials})


def _report_summary(results, hp, features_schema, importance, rows, y) -> dict:
    return {
        "source": "Metrics from the " + results["validation_source"],
        "metrics": results["validation"],
        "threshold_note": results["threshold_note"],
        "hyperparameters": hp,
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
    logs.say(f"cv:auc_mean={cv['auc_mean']:.4f}")
    logs.say(f"cv:auc_std={cv['auc_std']:.4f}")
    for split in ("train", "validation"):
        for name in METRIC_NAMES:
            logs.say(f"{split}:{name}={results[split][name]:.4f}")


def _check_distribution(data_config: dict, group: distributed.Cluster | None) -> None:
    for channel, config in data_config.items():
        if group is not None and isinstance(config, dict) and config.get("S3DistributionType") == "ShardedByS3Key":
            raise UserError(f"channel {channel!r} is ShardedByS3Key: training on several hosts needs every "
                            "row on every host (FullyReplicated), as each fold's held-out rows are scored whole")


def _stop(paths: environment.Paths):
    kept = (f"; what it had done is in {paths.checkpoint_dir}: a job started again on the same data and "
            "settings resumes from there") if paths.checkpoint_dir.is_dir() else ""
    raise UserError(f"training was stopped (SIGTERM) before it finished; no model was written{kept}")
