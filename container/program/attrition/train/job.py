"""The `train` job: /opt/ml/input -> LightGBM -> /opt/ml/model and /opt/ml/output.

Any failure writes /opt/ml/output/failure (SageMaker shows its first 1024 characters as
the job's FailureReason) and exits non-zero: 2 for bad input, 1 for a bug of ours.
"""

import dataclasses
import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np

from ..core import (
    annex,
    artifact,
    baseline,
    bias,
    calibration,
    card,
    contract,
    curves,
    data,
    environment,
    features,
    jobs,
    levers,
    logs,
    metrics,
    model,
    predictors,
    schema,
)
from ..core.errors import UserError
from . import checkpoints, distributed, fitting, hyperparameters, lineage, report, thresholds
from .hyperparameters import Hyperparameters

STAGING = ".staging"  # in the model directory: files are written here, then moved in whole
MIN_ROWS, MIN_CLASS_ROWS, CHANCE_AUC = 100, 20, 0.6  # below these, training warns
SHAP_ROWS = 100_000
PDP_ROWS, PDP_FEATURES = 1_000, 10  # partial dependence: sample rows (models other than stumps), features


def main(environ=None) -> int:
    return jobs.run("training", os.environ if environ is None else environ, lambda paths: _work(paths, environ))


def _work(paths: environment.Paths, environ) -> str:
    signal.signal(signal.SIGTERM, lambda signum, frame: _stop(paths))
    kept = [paths.checkpoint_dir] if paths.checkpoint_dir.is_dir() else []  # a platform's folder may be root's
    jobs.leave_root("train", reads=[paths.base / "input"], writes=[paths.model_dir, paths.output_dir, *kept])
    run(paths, os.environ if environ is None else environ)
    return ""


@dataclass
class Fit:
    """What fitting produced: the settings it ended with, the model and its measurements."""

    hp: Hyperparameters
    booster: lightgbm.Booster
    results: dict[str, Any]  # metrics.json: cross-validation, train, threshold, trees
    scored: "LabelledSet"  # the rows the threshold was chosen on: the training rows, or (sharded) validation's
    scores: np.ndarray  # their held-out probabilities: out-of-fold, or the validation channel's
    train_probabilities: np.ndarray  # the final model's, for every training row
    trials: list[dict] = field(default_factory=list)  # the local random search, when it ran


def run(paths: environment.Paths, environ) -> None:
    hp = hyperparameters.parse(environment.read_json_file(paths.hyperparameters_file, {}))
    facets = bias.facets(hp.bias_facets)
    declared = levers.parse(hp.retention_levers)
    data_config = environment.read_json_file(paths.input_data_config_file, {})
    group = distributed.cluster(environment.read_json_file(paths.resource_config_file, {}),
                                environment.distributed_settings(environ))
    channel = _train_channel(paths)
    if isinstance(data_config, dict) and environment.VALIDATION_CHANNEL in data_config \
            and not _has_channel(paths, environment.VALIDATION_CHANNEL):
        raise UserError(f"inputdataconfig.json declares a {environment.VALIDATION_CHANNEL} channel but "
                        f"{paths.channel_dir(environment.VALIDATION_CHANNEL)} is absent: give the channel data, or "
                        "leave it out of the job to be measured by cross-validation")
    if group is not None and _sharded(data_config, channel, group, hp, paths):
        group = dataclasses.replace(group, sharded=True)
    if group is not None:
        hp = dataclasses.replace(hp, num_threads=distributed.threads(group, hp.num_threads))
    started = time.time()

    training, held = _data(paths, hp, channel, group is not None and group.sharded)
    actionable = _levers(declared, hp, facets, training)
    # On several hosts each would save its own; checkpoints are a single host's (docs/training.md).
    folder = paths.checkpoint_dir if group is None else None
    saved = checkpoints.Checkpoints.open(folder, hp.as_dict(), training.table.files,
                                         environment.checkpoint_seconds(environ))
    with distributed.network(group, paths.failure_file):
        if group is not None and group.sharded:
            fit = _fit_on_shards(training, held, hp, group)
        else:
            fit = _fit(training, hp, group, saved)
        if group is not None:
            logs.say(f"distributed: host={group.current} rank={group.rank}/{group.size} "
                     f"rows={len(group.share(len(training.y)))}")
        if group is None or group.leader:
            _write_everything(paths, environ, fit, training, held, facets, actionable, started)
        if group is not None:
            distributed.barrier(group)  # the others wait here until the leader has written the model


@dataclass
class LabelledSet:
    """A channel as read, labelled and encoded."""

    channel: str
    table: data.Table
    schema: schema.Schema
    columns: dict
    x: np.ndarray
    y: np.ndarray

    @property
    def categorical(self) -> list[int]:
        return [i for i, f in enumerate(self.schema.features) if f.kind == schema.CATEGORICAL]


def _data(paths: environment.Paths, hp: Hyperparameters, channel: str, sharded: bool):
    """The training set and the validation set (None without that channel). Sharded, the schema
    comes from the validation channel: the one set of rows every host holds."""
    has_validation = _has_channel(paths, environment.VALIDATION_CHANNEL)
    if sharded:
        held = _read_set(paths, hp, environment.VALIDATION_CHANNEL)
        return _read_set(paths, hp, channel, held), held
    training = _read_set(paths, hp, channel)
    return training, _read_set(paths, hp, environment.VALIDATION_CHANNEL, training) if has_validation else None


def _read_set(paths: environment.Paths, hp: Hyperparameters, channel: str,
              like: LabelledSet | None = None) -> LabelledSet:
    """A channel, labelled and encoded: with the schema inferred from it, or with `like`'s (whose
    columns and labels it must have)."""
    categorical = hyperparameters.split_list(hp.categorical_columns)
    if like is not None:
        categorical += [like.schema.feature_names[i] for i in like.categorical]
    table = _read(paths, channel, hp, categorical)
    if like is not None and sorted(table.columns) != sorted(like.table.columns):
        raise UserError(
            f"the {channel} channel's columns differ from the {like.channel} channel's: "
            f"missing {sorted(set(like.table.columns) - set(table.columns))}, "
            f"extra {sorted(set(table.columns) - set(like.table.columns))}"
        )
    rows, y, classes = _labelled(table, hp)
    if like is not None and classes != like.schema.classes:
        raise UserError(f"{channel} labels {classes} differ from {like.channel} labels {like.schema.classes}")
    table.values = table.column_values(rows)  # the labelled rows only, from here on
    features_schema = _infer_schema(table, table.values, classes, hp) if like is None else like.schema
    return LabelledSet(channel, table, features_schema, table.values,
                       features.encode_table(features_schema, table.values, len(rows)), y)


def _write_everything(paths, environ, fit: Fit, training: LabelledSet, held: LabelledSet | None, facets: list,
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


def _fit(training: LabelledSet, hp: Hyperparameters, group: distributed.Cluster | None,
         saved: checkpoints.Checkpoints) -> Fit:
    """(Tune,) cross-validate, choose the threshold, refit on every row; with the metrics. What a
    checkpoint holds already is not done again."""
    x, y, categorical = training.x, training.y, training.categorical
    done = saved.stage("cross_validation")
    trials: list[dict] = []
    if done:
        hp, trials = Hyperparameters(**done["hp"]), done["trials"]
        cv = fitting.CrossValidation(done["iterations"], checkpoints.unpack(done["out_of_fold"]), done["fold_auc"])
    else:
        if hp.tuning_trials:
            hp, trials = fitting.tune(x, y, categorical, hp, group=group)
        cv = fitting.cross_validate(x, y, categorical, hp, group, *_fold_checkpoints(saved, hp))
        saved.save_stage("cross_validation", {"hp": hp.as_dict(), "trials": trials, "iterations": cv.iterations,
                                              "out_of_fold": checkpoints.pack(cv.out_of_fold),
                                              "fold_auc": cv.fold_auc})
    threshold, threshold_note = thresholds.choose(
        y, cv.out_of_fold, hp.threshold_objective, hp.threshold_target,
        hp.decision_threshold,
    )
    booster = fitting.fit(x, y, categorical, training.schema.feature_names, hp, cv.iterations, group,
                          saved.final_model(), (saved.saver(),))
    p_train = np.asarray(booster.predict(x))
    results = _results(training, cv.out_of_fold, {"folds": hp.folds, "fold_auc": cv.fold_auc}, training,
                       p_train, cv.iterations, threshold, threshold_note)
    return Fit(hp, booster, results, training, cv.out_of_fold, p_train, trials)


def _fit_on_shards(training: LabelledSet, held: LabelledSet, hp: Hyperparameters, group: distributed.Cluster) -> Fit:
    """ShardedByS3Key on several hosts: one model grown on every host's own files, stopped early on
    the validation channel, whose probabilities choose the threshold (there is no cross-validation:
    a fold's held-out rows would be on one host only)."""
    booster = fitting.fit(training.x, training.y, training.categorical, training.schema.feature_names, hp,
                          hp.num_boost_round, group, watch=(held.x, held.y))
    iterations = booster.best_iteration or hp.num_boost_round
    scores = np.asarray(booster.predict(held.x, num_iteration=iterations))
    threshold, threshold_note = thresholds.choose(
        held.y, scores, hp.threshold_objective, hp.threshold_target, hp.decision_threshold)
    p_train = np.asarray(booster.predict(training.x, num_iteration=iterations))
    auc = metrics.roc_auc(held.y, scores)
    results = _results(held, scores, {"folds": 0, "fold_auc": [auc], "held_out": "the validation channel"},
                       training, p_train, iterations, threshold, threshold_note)
    return Fit(hp, booster, results, held, scores, p_train)


def _results(scored: LabelledSet, scores: np.ndarray, folds: dict, training: LabelledSet, p_train: np.ndarray,
             iterations: int, threshold: float, threshold_note: str) -> dict:
    """metrics.json's measurements: on the held-out scores, on the training rows, the trees, the threshold."""
    return {
        "cross_validation": {
            **metrics.evaluate(scored.y, scores, threshold), **folds,
            "auc_mean": float(np.mean(folds["fold_auc"])), "auc_std": float(np.std(folds["fold_auc"])),
        },
        "train": metrics.evaluate(training.y, p_train, threshold),
        "iterations": iterations,
        "threshold": threshold,
        "threshold_note": threshold_note,
    }


def _fold_checkpoints(saved: checkpoints.Checkpoints, hp: Hyperparameters) -> tuple:
    """The folds a checkpoint holds for these settings, and a callback saving each new one."""
    held = saved.stage("folds") or {}
    done = [{**fold, "scores": checkpoints.unpack(fold["scores"])} for fold in held["folds"]] \
        if held.get("hp") == hp.as_dict() else []

    def save(folds: list) -> None:
        packed = [{**fold, "scores": checkpoints.pack(fold["scores"])} for fold in folds]
        saved.save_stage("folds", {"hp": hp.as_dict(), "folds": packed}, f"fold {len(folds)} of {hp.folds} saved")

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


def _read(paths, channel: str, hp: Hyperparameters, categorical: list) -> data.Table:
    """A channel's files (File or FastFile mode), or its FIFO (Pipe mode); `categorical` names
    the columns whose spellings are categories (core.columns)."""
    if paths.channel_dir(channel).is_dir():
        return data.read_channel(paths.channel_dir(channel), hp.label_column, hp.header, categorical)
    return data.read_pipe(paths.channel_pipe(channel), hp.label_column, hp.header, categorical)


def _labelled(table: data.Table, hp: Hyperparameters):
    kept, y, classes = data.label_vector(table, hp.positive_class)
    skipped = table.n_rows - len(kept)
    if skipped:
        logs.say(f"skipped {skipped} row(s) whose label {table.label_column!r} is missing")
    return kept, y, classes


def _infer_schema(table: data.Table, columns: dict, classes: list, hp: Hyperparameters) -> schema.Schema:
    return schema.infer(
        table.input_columns, columns, table.label_column, table.label_position,
        classes, hyperparameters.split_list(hp.drop_columns),
        hyperparameters.split_list(hp.categorical_columns),
    )


def _levers(declared: list[levers.Declared], hp: Hyperparameters, facets: list,
            training: LabelledSet) -> list[levers.Lever]:
    """The retention levers, checked against the training data before any tree is grown."""
    protected = set(levers.PROTECTED) | {column for facet in facets for column in facet.columns}
    ranges = levers.training_ranges(training.schema, training.columns, features.column_numbers)
    return levers.resolve(declared, training.schema, ranges, protected, hp.retention_levers != levers.DEFAULT)


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
    """The most important features' response curves (core/curves.py), and how they were made."""
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


def _sharded(data_config: dict, channel: str, group: distributed.Cluster, hp: Hyperparameters, paths) -> bool:
    """Whether the hosts train on their own files (ShardedByS3Key), with what that needs checked."""
    def distribution(name: str):
        config = data_config.get(name)
        return config.get("S3DistributionType") if isinstance(config, dict) else None

    if distribution(channel) != "ShardedByS3Key":
        return False
    if not _has_channel(paths, environment.VALIDATION_CHANNEL):
        raise UserError(f"channel {channel!r} is ShardedByS3Key: each of the {group.size} hosts trains on its own "
                        "files, so early stopping, the threshold and the schema need rows every host holds: add "
                        "a 'validation' channel (FullyReplicated)")
    if distribution(environment.VALIDATION_CHANNEL) == "ShardedByS3Key":
        raise UserError("the validation channel must be FullyReplicated: every host has to watch the same rows")
    if hp.tuning_trials:
        raise UserError("tuning_trials cross-validates, which a ShardedByS3Key channel on several hosts cannot: "
                        "tune with `attrition-deploy tune` (SageMaker's tuner), or make the channel FullyReplicated")
    return True


def _stop(paths: environment.Paths):
    kept = (f"; what it had done is in {paths.checkpoint_dir}: a job started again on the same data and "
            "settings resumes from there") if paths.checkpoint_dir.is_dir() else ""
    raise UserError(f"training was stopped (SIGTERM) before it finished; no model was written{kept}")
