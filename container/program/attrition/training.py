"""The `train` job: /opt/ml/input -> LightGBM -> /opt/ml/model and /opt/ml/output.

Any failure writes /opt/ml/output/failure (SageMaker shows its first 1024 characters as
the job's FailureReason) and exits non-zero: 2 for bad input, 1 for a bug of ours.
"""

import json
import os
import platform
import re
import signal
import sys
import time
import traceback

import lightgbm
import numpy as np

from . import data, environment, features, hyperparameters, metrics, model, schema
from .errors import UserError

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


def run(paths: environment.Paths, environ) -> None:
    hp = hyperparameters.parse(environment.read_json_file(paths.hyperparameters_file, {}))
    data_config = environment.read_json_file(paths.input_data_config_file, {})
    resources = environment.read_json_file(paths.resource_config_file, {})
    if not _is_leader(resources):
        print(f"host {resources.get('current_host')} is not the leader; only hosts[0] trains")
        return
    _check_input_modes(data_config)
    started = time.time()

    train_table = _read(paths, _train_channel(paths), hp)
    rows, y, classes = _labelled(train_table, hp)
    features_schema = _infer_schema(train_table, rows, classes, hp)
    x = features.encode(features_schema, train_table.column_values(rows), len(rows))

    if paths.channel_dir(environment.VALIDATION_CHANNEL).is_dir():
        x_valid, y_valid = _validation_set(paths, hp, train_table, features_schema)
        source, x_train, y_train = "validation channel", x, y
    else:
        holdout = _stratified_holdout(y, hp["validation_fraction"], hp["seed"])
        source = f"hold-out of {len(holdout)} training rows ({hp['validation_fraction']:g})"
        x_valid, y_valid = x[holdout], y[holdout]
        keep = np.setdiff1d(np.arange(len(y)), holdout)
        x_train, y_train = x[keep], y[keep]

    booster = _fit(x_train, y_train, features_schema, hp, (x_valid, y_valid))
    iterations = booster.best_iteration or booster.current_iteration()
    results = {
        "train": metrics.evaluate(y_train, booster.predict(x_train, num_iteration=iterations),
                                  hp["decision_threshold"]),
        "validation": metrics.evaluate(y_valid, booster.predict(x_valid, num_iteration=iterations),
                                       hp["decision_threshold"]),
        "validation_source": source,
        "iterations": iterations,
    }
    if not source.startswith("validation channel"):
        booster = _fit(x, y, features_schema, {**hp, "num_boost_round": iterations}, None)

    metadata = _metadata(features_schema, hp, results, train_table, y, booster, environ, started)
    model.save(paths.model_dir, booster, metadata)
    _write_outputs(paths, results)
    _print_report(features_schema, results)


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


def _infer_schema(table: data.Table, rows, classes, hp: dict) -> schema.Schema:
    return schema.infer(
        table.input_columns, table.column_values(rows), table.label_column, table.label_position,
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
    return features.encode(features_schema, table.column_values(rows), len(rows)), y


def _stratified_holdout(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picked = []
    for value in (0.0, 1.0):
        members = rng.permutation(np.flatnonzero(y == value))
        picked.append(members[: max(1, round(fraction * len(members)))])
    return np.sort(np.concatenate(picked))


def _fit(x, y, features_schema, hp: dict, valid) -> lightgbm.Booster:
    params = {
        "objective": "binary",
        "metric": ["auc", "binary_logloss"],
        "verbosity": -1,
        "deterministic": True,
        **{name: hp[name] for name in hyperparameters.LIGHTGBM_PARAMS},
    }
    categorical = [i for i, f in enumerate(features_schema.features) if f.kind == schema.CATEGORICAL]
    train_set = lightgbm.Dataset(
        x, label=y, feature_name=_lightgbm_names(features_schema.feature_names),
        categorical_feature=categorical, free_raw_data=False,
    )
    callbacks, valid_sets = [], []
    if valid is not None:
        valid_sets = [lightgbm.Dataset(valid[0], label=valid[1], reference=train_set)]
        if hp["early_stopping_rounds"] > 0 and hp["boosting"] != "dart":
            callbacks.append(lightgbm.early_stopping(hp["early_stopping_rounds"], verbose=False))
    try:
        return lightgbm.train(params, train_set, num_boost_round=hp["num_boost_round"],
                              valid_sets=valid_sets, callbacks=callbacks)
    except lightgbm.basic.LightGBMError as error:
        reason = str(error).split(" at /")[0]  # drop LightGBM's source file location
        raise UserError(f"LightGBM rejected the settings: {reason}") from None


def _lightgbm_names(names: list) -> list:
    """LightGBM refuses some characters in feature names; the schema keeps the real names."""
    cleaned = [re.sub(r"[^\w.\-]", "_", name) for name in names]
    if len(set(cleaned)) < len(cleaned):
        return [f"{name}_{i}" for i, name in enumerate(cleaned)]
    return cleaned


def _metadata(features_schema, hp, results, table, y, booster, environ, started) -> dict:
    gains = booster.feature_importance(importance_type="gain")
    return {
        "schema": features_schema.to_dict(),
        "decision_threshold": hp["decision_threshold"],
        "hyperparameters": hp,
        "metrics": results,
        "feature_importance_gain": {
            name: float(gain) for name, gain in zip(features_schema.feature_names, gains)
        },
        "training_data": {"files": table.files, "rows": int(len(y)), "positives": int(y.sum())},
        "versions": {
            "python": platform.python_version(),
            "lightgbm": lightgbm.__version__,
            "numpy": np.__version__,
        },
        "image_revision": environ.get("ATTRITION_IMAGE_REVISION", "unknown"),
        "training_job_name": environ.get("TRAINING_JOB_NAME"),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "training_seconds": round(time.time() - started, 3),
    }


def _write_outputs(paths, results: dict) -> None:
    paths.output_data_dir.mkdir(parents=True, exist_ok=True)
    (paths.output_data_dir / "metrics.json").write_text(json.dumps(results, indent=2) + "\n")
    evaluation = _model_quality(results["validation"])
    (paths.output_data_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n")


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


def _print_report(features_schema, results: dict) -> None:
    for name, reason in features_schema.dropped.items():
        print(f"dropped column {name}: {reason}")
    kinds = [f"{f.name}({f.kind[:3]})" for f in features_schema.features]
    print(f"features ({len(kinds)}): {' '.join(kinds)}")
    print(f"validation data: {results['validation_source']}; iterations: {results['iterations']}")
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
    text = message.strip().replace("\n", " ")[:1000]
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure_file.write_text(text + "\n")
    except OSError as error:
        print(f"could not write {paths.failure_file}: {error}", file=sys.stderr)
    print(f"training failed: {text}", file=sys.stderr)
    return code
