"""The `train` job: /opt/ml/input -> LightGBM -> /opt/ml/model and /opt/ml/output.

Any failure writes /opt/ml/output/failure (SageMaker shows its first 1024 characters as
the job's FailureReason) and exits non-zero: 2 for bad input, 1 for a bug of ours.
"""

import dataclasses
import os
import signal
import time

import numpy as np

from ..core.platform import environment, jobs
from ..core.platform.errors import UserError
from ..core.predict import levers
from ..core.quality import bias, metrics
from ..core.table import features
from . import channels, checkpoints, distributed, fitting, hyperparameters, outputs, thresholds
from .hyperparameters import Hyperparameters


def main(environ=None) -> int:
    return jobs.run("training", os.environ if environ is None else environ, lambda paths: _work(paths, environ))


def _work(paths: environment.Paths, environ) -> str:
    signal.signal(signal.SIGTERM, lambda signum, frame: _stop(paths))
    kept = [paths.checkpoint_dir] if paths.checkpoint_dir.is_dir() else []  # a platform's folder may be root's
    jobs.leave_root("train", reads=[paths.base / "input"], writes=[paths.model_dir, paths.output_dir, *kept])
    run(paths, os.environ if environ is None else environ)
    return ""


def run(paths: environment.Paths, environ) -> None:
    hp = hyperparameters.parse(environment.read_json_file(paths.hyperparameters_file, {}))
    facets = bias.facets(hp.bias_facets)
    declared = levers.parse(hp.retention_levers)
    data_config = environment.read_json_file(paths.input_data_config_file, {})
    hosts = distributed.hosts(environment.read_json_file(paths.resource_config_file, {}),
                              environment.distributed_settings(environ))
    channel = channels.training_channel(paths)
    if isinstance(data_config, dict) and environment.VALIDATION_CHANNEL in data_config \
            and not channels.has(paths, environment.VALIDATION_CHANNEL):
        raise UserError(f"inputdataconfig.json declares a {environment.VALIDATION_CHANNEL} channel but "
                        f"{paths.channel_dir(environment.VALIDATION_CHANNEL)} is absent: give the channel data, or "
                        "leave it out of the job to be measured by cross-validation")
    if channels.sharded(data_config, channel, hosts, hp, paths):
        hosts = hosts.shard()
    hp = dataclasses.replace(hp, num_threads=hosts.threads(hp.num_threads))
    started = time.time()

    training, held = channels.read(paths, hp, channel, hosts.sharded)
    actionable = _levers(declared, hp, facets, training)
    saved = checkpoints.Checkpoints.open(hosts.checkpoint_folder(paths.checkpoint_dir), hp.as_dict(),
                                         training.table.files, environment.checkpoint_seconds(environ))
    with hosts.network(paths.failure_file):
        if hosts.sharded and held is not None:
            fit = _fit_on_shards(training, held, hp, hosts)
        else:
            fit = _fit(training, hp, hosts, saved)
        hosts.trained(len(training.y))
        if hosts.writes:
            outputs.write_everything(paths, environ, fit, training, held, facets, actionable, started)
        hosts.finish()


def _fit(training: channels.LabelledSet, hp: Hyperparameters, hosts: distributed.Hosts,
         saved: checkpoints.Checkpoints) -> outputs.Fit:
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
            hp, trials = fitting.tune(x, y, categorical, hp, hosts=hosts)
        cv = fitting.cross_validate(x, y, categorical, hp, hosts, *_fold_checkpoints(saved, hp))
        saved.save_stage("cross_validation", {"hp": hp.as_dict(), "trials": trials, "iterations": cv.iterations,
                                              "out_of_fold": checkpoints.pack(cv.out_of_fold),
                                              "fold_auc": cv.fold_auc})
    threshold, threshold_note = thresholds.choose(
        y, cv.out_of_fold, hp.threshold_objective, hp.threshold_target,
        hp.decision_threshold,
    )
    booster = fitting.fit(x, y, categorical, training.schema.feature_names, hp, cv.iterations, hosts,
                          saved.final_model(), (saved.saver(),))
    p_train = np.asarray(booster.predict(x))
    results = _results(training, cv.out_of_fold, {"folds": hp.folds, "fold_auc": cv.fold_auc}, training,
                       p_train, cv.iterations, threshold, threshold_note)
    return outputs.Fit(hp, booster, results, training, cv.out_of_fold, p_train, trials)


def _fit_on_shards(training: channels.LabelledSet, held: channels.LabelledSet, hp: Hyperparameters,
                   hosts: distributed.Hosts) -> outputs.Fit:
    """ShardedByS3Key on several hosts: one model grown on every host's own files, stopped early on
    the validation channel, whose probabilities choose the threshold (there is no cross-validation:
    a fold's held-out rows would be on one host only)."""
    booster = fitting.fit(training.x, training.y, training.categorical, training.schema.feature_names, hp,
                          hp.num_boost_round, hosts, watch=(held.x, held.y))
    iterations = booster.best_iteration or hp.num_boost_round
    scores = np.asarray(booster.predict(held.x, num_iteration=iterations))
    threshold, threshold_note = thresholds.choose(
        held.y, scores, hp.threshold_objective, hp.threshold_target, hp.decision_threshold)
    p_train = np.asarray(booster.predict(training.x, num_iteration=iterations))
    auc = metrics.roc_auc(held.y, scores)
    results = _results(held, scores, {"folds": 0, "fold_auc": [auc], "held_out": "the validation channel"},
                       training, p_train, iterations, threshold, threshold_note)
    return outputs.Fit(hp, booster, results, held, scores, p_train)


def _results(scored: channels.LabelledSet, scores: np.ndarray, folds: dict, training: channels.LabelledSet,
             p_train: np.ndarray, iterations: int, threshold: float, threshold_note: str) -> dict:
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


def _levers(declared: list[levers.Declared], hp: Hyperparameters, facets: list,
            training: channels.LabelledSet) -> list[levers.Lever]:
    """The retention levers, checked against the training data before any tree is grown."""
    protected = set(levers.PROTECTED) | {column for facet in facets for column in facet.columns}
    ranges = levers.training_ranges(training.schema, training.columns, features.column_numbers)
    return levers.resolve(declared, training.schema, ranges, protected, hp.retention_levers != levers.DEFAULT)


def _stop(paths: environment.Paths):
    kept = (f"; what it had done is in {paths.checkpoint_dir}: a job started again on the same data and "
            "settings resumes from there") if paths.checkpoint_dir.is_dir() else ""
    raise UserError(f"training was stopped (SIGTERM) before it finished; no model was written{kept}")
