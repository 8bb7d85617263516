"""The `train` job: /opt/ml/input -> LightGBM -> /opt/ml/model and /opt/ml/output.

Any failure writes /opt/ml/output/failure (SageMaker shows its first 1024 characters as
the job's FailureReason) and exits non-zero: 2 for bad input, 1 for a bug of ours.
"""

import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import lightgbm
import numpy as np

from ..core import artifact, baseline, environment, features, metrics, model, schema
from ..core.errors import UserError
from . import data, fitting, hyperparameters, lineage, report, thresholds

METRIC_NAMES = ("auc", "pr_auc", "logloss", "accuracy", "precision", "recall", "f1")


def main(environ=None) -> int:
    environ = os.environ if environ is None else environ
    paths = environment.paths(environ)
    signal.signal(signal.SIGTERM, _stop)
    try:
        run(paths, environ)
    except UserError as error:
        return _fail(paths, str(error), 2)
    except Exception as error:  # a bug of ours: keep the traceback in the log
        traceback.print_exc()
        return _fail(paths, f"internal error ({type(error).__name__}): {error}", 1)
    return 0


@dataclass
class Fit:
    """What fitting produced: the settings it ended with, the model and its measurements."""

    hp: dict[str, Any]
    booster: lightgbm.Booster
    results: dict[str, Any]  # metrics.json: cross-validation, train, threshold, trees
    out_of_fold: np.ndarray
    trials: list[dict] = field(default_factory=list)  # the local random search, when it ran


def run(paths: environment.Paths, environ) -> None:
    hp = hyperparameters.parse(environment.read_json_file(paths.hyperparameters_file, {}))
    data_config = environment.read_json_file(paths.input_data_config_file, {})
    resources = environment.read_json_file(paths.resource_config_file, {})
    if not _is_leader(resources):
        print(f"host {resources.get('current_host')} is not the leader; only hosts[0] trains")
        return
    _check_input_modes(data_config)
    started = time.time()

    channel = _train_channel(paths)
    train_table = _read(paths, channel, hp)
    rows, y, classes = _labelled(train_table, hp)
    columns = train_table.column_values(rows)
    features_schema = _infer_schema(train_table, columns, classes, hp)
    x = features.encode(features_schema, columns, len(rows))
    categorical = [i for i, f in enumerate(features_schema.features) if f.kind == schema.CATEGORICAL]

    fit = _fit(x, y, categorical, features_schema, hp)
    hp, booster, results = fit.hp, fit.booster, fit.results
    threshold, p_train = results["threshold"], np.asarray(booster.predict(x))
    data_files = {channel: train_table.files}
    if paths.channel_dir(environment.VALIDATION_CHANNEL).is_dir():
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
    importance = _importance(booster, x, features_schema)

    model.save(paths.model_dir, booster, {"schema": features_schema.to_dict(),
                                          "decision_threshold": threshold,
                                          "feature_importance": importance})
    _write_baseline(paths.model_dir, features_schema, columns, len(rows), p_train, threshold)
    manifest = lineage.manifest(paths.model_dir / artifact.MODEL_FILE, data_files, hp, results,
                                environment.job_identity(environ), started)
    artifact.write_json(paths.model_dir / artifact.MANIFEST_FILE, manifest)
    _write_outputs(paths, results, fit.trials)
    summary = _report_summary(results, hp, features_schema, importance, len(y), y)
    page = report.build(summary, report_y, report_p, threshold)
    artifact.write_text(paths.output_data_dir / "report.html", page)
    _print_report(features_schema, results, manifest["model_version"])


def _fit(x, y, categorical, features_schema, hp: dict) -> Fit:
    """(Tune,) cross-validate, choose the threshold, refit on every row; with the metrics."""
    trials: list[dict] = []
    if hp["tuning_trials"]:
        hp, trials = fitting.tune(x, y, categorical, hp)
    cv = fitting.cross_validate(x, y, categorical, hp)
    threshold, threshold_note = thresholds.choose(
        y, cv.out_of_fold, hp["threshold_objective"], hp["threshold_target"],
        hp["decision_threshold"],
    )
    booster = fitting.fit(x, y, categorical, features_schema.feature_names, hp, cv.iterations)
    results = {
        "cross_validation": {
            **metrics.evaluate(y, cv.out_of_fold, threshold),
            "folds": hp["folds"], "fold_auc": cv.fold_auc,
            "auc_mean": float(np.mean(cv.fold_auc)), "auc_std": float(np.std(cv.fold_auc)),
        },
        "train": metrics.evaluate(y, booster.predict(x), threshold),
        "iterations": cv.iterations,
        "threshold": threshold,
        "threshold_note": threshold_note,
    }
    return Fit(hp, booster, results, cv.out_of_fold, trials)


def _train_channel(paths):
    for name in environment.TRAIN_CHANNELS:
        if paths.channel_dir(name).is_dir():
            return name
    raise UserError(
        f"no training data: expected a channel named 'train' (or 'training') at "
        f"{paths.channel_dir('train')}"
    )


def _read(paths, channel: str, hp: dict) -> data.Table:
    return data.read_channel(paths.channel_dir(channel), hp["label_column"], hp["header"])


def _labelled(table: data.Table, hp: dict):
    kept, y, classes = data.label_vector(table, hp["positive_class"])
    skipped = len(table.rows) - len(kept)
    if skipped:
        print(f"skipped {skipped} row(s) whose label {table.label_column!r} is missing")
    return kept, y, classes


def _infer_schema(table: data.Table, columns: dict, classes: list, hp: dict) -> schema.Schema:
    return schema.infer(
        table.input_columns, columns, table.label_column, table.label_position,
        classes, hyperparameters.split_list(hp["drop_columns"]),
        hyperparameters.split_list(hp["categorical_columns"]),
    )


def _validation_set(paths, hp, train_table, features_schema):
    table = _read(paths, environment.VALIDATION_CHANNEL, hp)
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
    return features.encode(features_schema, table.column_values(rows), len(rows)), y, table.files


def _importance(booster, x, features_schema) -> list:
    """Gain and mean |SHAP| (LightGBM's TreeSHAP, in log-odds) per feature, largest first."""
    gains = booster.feature_importance(importance_type="gain")
    shap = np.abs(booster.predict(x, pred_contrib=True)[:, :-1]).mean(axis=0)
    rows = [
        {"feature": name, "gain": float(g), "mean_abs_shap": float(m)}
        for name, g, m in zip(features_schema.feature_names, gains, shap)
    ]
    return sorted(rows, key=lambda row: -row["mean_abs_shap"])


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
    artifact.write_json(paths.output_data_dir / "evaluation.json", _model_quality(results["validation"]))
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


def _model_quality(m: dict) -> dict:
    """The SageMaker Model Registry model-quality shape for binary classification."""
    cm = m["confusion_matrix"]
    value = {"standard_deviation": "NaN"}
    return {
        "binary_classification_metrics": {
            "confusion_matrix": {
                "0": {"0": cm["tn"], "1": cm["fp"]},
                "1": {"0": cm["fn"], "1": cm["tp"]},
            },
            "accuracy": {"value": m["accuracy"], **value},
            "precision": {"value": m["precision"], **value},
            "recall": {"value": m["recall"], **value},
            "f1": {"value": m["f1"], **value},
            "auc": {"value": m["auc"], **value},
            "pr_auc": {"value": m["pr_auc"], **value},
        }
    }


def _print_report(features_schema, results: dict, version: str) -> None:
    for name, reason in features_schema.dropped.items():
        print(f"dropped column {name}: {reason}")
    kinds = [f"{f.name}({f.kind[:3]})" for f in features_schema.features]
    print(f"features ({len(kinds)}): {' '.join(kinds)}")
    cv = results["cross_validation"]
    print(f"trees: {results['iterations']}; threshold {results['threshold']:.4f} "
          f"({results['threshold_note']}); validation: {results['validation_source']}")
    print(f"model version {version}")
    print(f"cv:auc_mean={cv['auc_mean']:.4f}")
    print(f"cv:auc_std={cv['auc_std']:.4f}")
    for split in ("train", "validation"):
        for name in METRIC_NAMES:
            print(f"{split}:{name}={results[split][name]:.4f}")


def _is_leader(resources: dict) -> bool:
    hosts = resources.get("hosts") or []
    return not hosts or resources.get("current_host", hosts[0]) == sorted(hosts)[0]


def _check_input_modes(data_config: dict) -> None:
    for channel, config in data_config.items():
        if isinstance(config, dict) and config.get("TrainingInputMode") == "Pipe":
            raise UserError(
                f"channel {channel!r} uses Pipe mode, which this container does not read; "
                "use File or FastFile"
            )


def _stop(signum, frame):
    raise UserError("training was stopped (SIGTERM) before it finished; no model was written")


def _fail(paths, message: str, code: int) -> int:
    print(f"training failed: {paths.write_failure(message)}", file=sys.stderr)
    return code
