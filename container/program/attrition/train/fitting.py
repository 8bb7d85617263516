"""LightGBM fitting: stratified cross-validation, the final refit, and a local random search.

Cross-validation picks the number of trees (each fold stops early on its held-out AUC; the
final model gets their mean) and yields out-of-fold probabilities, from which the metrics and
the decision threshold are computed without ever scoring a row with a model that saw it.
Across several hosts (distributed.py) every host holds every row: each fold is one model grown
by all of them, each on its share of the fold's training rows, and every host scores the fold's
held-out rows whole, so all see the same AUC and stop at the same tree.
"""

import dataclasses
import math
import re
from dataclasses import dataclass

import lightgbm
import numpy as np

from ..core.platform.errors import UserError
from ..core.quality import metrics
from . import hyperparameters
from .distributed import ALONE, Hosts
from .hyperparameters import Hyperparameters

STOPPING_ROWS = 50_000


@dataclass
class CrossValidation:
    iterations: int
    out_of_fold: np.ndarray  # probability for every training row, from the fold that left it out
    fold_auc: list


def lightgbm_params(hp: Hyperparameters) -> dict:
    return {
        "objective": "binary",
        "metric": "auc",
        "verbosity": -1,
        "deterministic": True,
        "min_data_per_group": 20,
        **hp.lightgbm(),
    }


def stratified_folds(y: np.ndarray, k: int, seed: int) -> list:
    """k (train, test) index pairs; each class is spread evenly over the test folds."""
    counts = [int(np.sum(y == value)) for value in (0.0, 1.0)]
    if min(counts) < k:
        raise UserError(
            f"{k}-fold cross-validation needs at least {k} rows of each class; the data has "
            f"{counts[1]} positive and {counts[0]} negative rows: lower `folds`"
        )
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for value in (0.0, 1.0):
        members = rng.permutation(np.flatnonzero(y == value))
        fold_of[members] = np.arange(len(members)) % k
    everything = np.arange(len(y))
    return [(everything[fold_of != f], everything[fold_of == f]) for f in range(k)]


def cross_validate(x, y, categorical: list, hp: Hyperparameters, hosts: Hosts = ALONE, done: list | tuple = (),
                   on_fold=None) -> CrossValidation:
    """The folds one after another, so that one fold's data is in memory at a time: each grows its
    own model, stops early on its own held-out AUC (watched on up to STOPPING_ROWS of its held-out
    rows: the AUC's sort is the cost of every round) and scores all of its held-out rows at its
    best round. The final model gets the folds' mean number of trees.

    `done` holds the folds finished before (a checkpoint); `on_fold(folds)` is told of each new one.
    A fold is {"iterations", "auc", "scores": its held-out rows' probabilities}."""
    folds = stratified_folds(y, hp.folds, hp.seed)
    params = {**lightgbm_params(hp), **hosts.lightgbm_params()}
    mine = np.zeros(len(y), dtype=bool)  # each host trains on its share of a fold's rows; all score its held-out rows
    mine[hosts.share(len(y))] = True
    dataset = lightgbm.Dataset(x, label=y, categorical_feature=categorical)
    finished = list(done)
    for train, test in folds[len(finished):]:
        booster = _call(lightgbm.train, params, dataset.subset(train[mine[train]].tolist()),
                        num_boost_round=hp.num_boost_round, valid_sets=[dataset.subset(_watched(test, hp).tolist())],
                        callbacks=_stopping(hp))
        iterations = booster.best_iteration or hp.num_boost_round
        scores = booster.predict(x[test], num_iteration=iterations)
        finished.append({"iterations": iterations, "auc": metrics.roc_auc(y[test], scores), "scores": scores})
        del booster
        if on_fold is not None:
            on_fold(finished)
    out_of_fold = np.empty(len(y))
    for fold, (_, test) in zip(finished, folds):
        out_of_fold[test] = fold["scores"]
    iterations = round(float(np.mean([fold["iterations"] for fold in finished])))
    return CrossValidation(iterations, out_of_fold, [fold["auc"] for fold in finished])


def _watched(test: np.ndarray, hp: Hyperparameters) -> np.ndarray:
    """The held-out rows early stopping watches: all, or a seeded sample of STOPPING_ROWS."""
    if len(test) <= STOPPING_ROWS:
        return test
    return np.sort(np.random.default_rng(hp.seed).choice(test, STOPPING_ROWS, replace=False))


def fit(x, y, categorical: list, feature_names: list, hp: Hyperparameters, iterations: int,
        hosts: Hosts = ALONE, resume: tuple = (None, 0), callbacks: tuple = (), watch: tuple | None = None):
    """The final model on every row (across hosts: each its share, one model; the bins, as in
    cross-validation, from every row); `resume` (a model, its rounds) goes on from a checkpoint.
    `watch` (x, y of held-out rows every host holds) stops it early on their AUC: `iterations` is
    then the most trees it may grow."""
    dataset = lightgbm.Dataset(x, label=y, feature_name=_lightgbm_names(feature_names),
                               categorical_feature=categorical)
    params = {**lightgbm_params(hp), **hosts.lightgbm_params()}
    mine = hosts.share(len(y))
    if len(mine) < len(y):
        dataset = dataset.subset(mine.tolist())
    model, done = resume
    if model is not None and done >= iterations:
        return model
    watching = {} if watch is None else {"valid_sets": [lightgbm.Dataset(watch[0], label=watch[1], reference=dataset)]}
    return _call(lightgbm.train, params, dataset, num_boost_round=iterations - done, init_model=model,
                 callbacks=[*callbacks, *(_stopping(hp) if watch else [])], **watching)


def _stopping(hp: Hyperparameters) -> list:
    if hp.early_stopping_rounds > 0 and hp.boosting != "dart":
        return [lightgbm.early_stopping(hp.early_stopping_rounds, verbose=False)]
    return []


def tune(x, y, categorical: list, hp: Hyperparameters, log=print, hosts: Hosts = ALONE) -> tuple:
    """Random search over the parameters that matter most on small tabular data.

    Every trial is scored by cross-validated AUC on the same folds, so the best score is
    optimistic; the trials are returned for the record. Reproducible: seeded by `seed`.
    """
    rng = np.random.default_rng(hp.seed)
    trials, best_hp, best_auc = [], hp, -math.inf
    for number in range(1, hp.tuning_trials + 1):
        candidate = dataclasses.replace(hp, **_sample(rng))
        result = cross_validate(x, y, categorical, candidate, hosts)
        auc = float(np.mean(result.fold_auc))
        trials.append({"trial": number, "auc": auc, "iterations": result.iterations,
                       "params": {spec.name: getattr(candidate, spec.name) for spec in hyperparameters.SEARCHED}})
        log(f"tuning:trial={number} auc={auc:.4f} iterations={result.iterations}")
        if auc > best_auc:
            best_hp, best_auc = candidate, auc
    return best_hp, trials


def _sample(rng) -> dict:
    """One candidate: each searched hyperparameter drawn within its declared range."""
    candidate: dict = {}
    for spec in hyperparameters.SEARCHED:
        search = spec.search
        assert search is not None
        if search.choices:
            candidate[spec.name] = hyperparameters.BOOLEANS[str(rng.choice(search.choices))]
            continue
        low, high = (np.log(search.low), np.log(search.high)) if search.log else (search.low, search.high)
        value = rng.uniform(low, high)
        value = float(np.exp(value)) if search.log else float(value)
        candidate[spec.name] = int(round(value)) if spec.kind is int else value
    return candidate


def _call(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except lightgbm.basic.LightGBMError as error:
        reason = str(error).split(" at /")[0]  # drop LightGBM's source file location
        if "socket" in reason.lower() or "network" in reason.lower():
            raise UserError(f"the network between the training hosts failed: {reason}; another host "
                            "failed or stopped (see its failure)") from None
        raise UserError(f"LightGBM rejected the settings: {reason}") from None


def _lightgbm_names(names: list) -> list:
    """LightGBM refuses some characters in feature names; the schema keeps the real names."""
    cleaned = [re.sub(r"[^\w.\-]", "_", name) for name in names]
    if len(set(cleaned)) < len(cleaned):
        return [f"{name}_{i}" for i, name in enumerate(cleaned)]
    return cleaned
