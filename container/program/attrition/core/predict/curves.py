"""How the predicted risk responds to one feature: exact step functions and partial dependence.

A tree model's answer changes only where its trees split, so a feature's curve is known exactly at
its split thresholds. For a sum of stumps (our default) the curve *is* the model's step function
for that feature: `step_functions` gives it in log-odds (relative to the average employee, as
TreeSHAP centres it) and as a probability for an employee otherwise at the base rate; GET /model
serves it. `partial_dependence` writes the curves in Clarify's PDP shape (explainability.json,
report.html): for stumps the same exact step function, for other models Clarify's own definition,
the mean predicted probability over sample rows with the feature set to each grid value.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..table.schema import CATEGORICAL
from .stumps import Lookup, StumpPredictor

MAX_GRID = 40  # grid values per numeric feature in a partial dependence plot


@dataclass(frozen=True)
class StepFunction:
    feature: str
    kind: str
    points: list  # numeric: thresholds (a value in (points[i-1], points[i]] scores log_odds[i]); categorical: levels
    log_odds: list  # numeric: one more than points (the last: above every threshold); categorical: one per level
    probability: list
    missing_log_odds: float  # a missing value (and, for categories, one never seen in training)
    missing_probability: float

    def to_dict(self) -> dict:
        return {"feature": self.feature, "kind": self.kind, "points": self.points, "log_odds": self.log_odds,
                "probability": self.probability,
                "missing": {"log_odds": self.missing_log_odds, "probability": self.missing_probability}}


def base_log_odds(stumps: StumpPredictor) -> float:
    """The average employee's score (TreeSHAP's expected value): every curve starts from it."""
    return stumps.base + sum(f.expected for f in stumps.functions)


def step_functions(stumps: StumpPredictor, schema) -> list[StepFunction]:
    """One per feature the model splits on, in the schema's order."""
    base = base_log_odds(stumps)

    def probability(log_odds: float) -> float:
        return 1.0 / (1.0 + math.exp(-stumps.sigmoid * (base + log_odds)))

    curves = []
    for f in stumps.functions:
        feature = schema.features[f.index]
        if isinstance(f, Lookup):
            points = list(feature.levels)
            codes = np.arange(len(points), dtype=np.float64)
            centred = (f.column(codes) - f.expected).tolist()
            missing = f.other - f.expected
        else:
            points = f.thresholds.tolist()
            centred = (f.values - f.expected).tolist()
            missing = f.missing - f.expected
        curves.append(StepFunction(feature.name, feature.kind, points, _rounded(centred),
                                   _rounded([probability(v) for v in centred]), round(missing, 9),
                                   round(probability(missing), 9)))
    return curves


def split_points(dump: dict) -> dict[int, np.ndarray]:
    """Every numeric split threshold of every tree of a LightGBM model dump, per feature index."""
    points: dict[int, set] = {}
    stack = [tree["tree_structure"] for tree in dump["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_index" not in node:
            continue
        if node["decision_type"] != "==":
            points.setdefault(node["split_feature"], set()).add(float(node["threshold"]))
        stack += [node["left_child"], node["right_child"]]
    return {j: np.array(sorted(values)) for j, values in points.items()}


def thresholds(predictor, booster) -> dict[int, np.ndarray]:
    """Per numeric feature index, where the model's answer can change: a sum of stumps has them
    at hand, any other model's are read from its dump."""
    if isinstance(predictor, StumpPredictor):
        return {f.index: f.thresholds for f in predictor.functions if not isinstance(f, Lookup)}
    return split_points(booster.dump_model())


def partial_dependence(predictor, booster, schema, x: np.ndarray, names: list[str], positive: str) -> list[dict]:
    """Clarify's PDP entries for the named features, over the sample rows `x` (encoded, float64)."""
    stumps = predictor if isinstance(predictor, StumpPredictor) else None
    points = thresholds(predictor, booster)
    functions = {f.index: f for f in stumps.functions} if stumps else {}
    entries = []
    for name in names:
        j = schema.feature_names.index(name)
        feature = schema.features[j]
        grid = (np.arange(len(feature.levels), dtype=np.float64) if feature.kind == CATEGORICAL
                else _grid(points.get(j, np.array([])), x[:, j]))
        if stumps is not None:
            function = functions.get(j)
            centred = function.column(grid) - function.expected if function else np.zeros(len(grid))
            predictions = 1.0 / (1.0 + np.exp(-stumps.sigmoid * (base_log_odds(stumps) + centred)))
        else:
            predictions = np.array([_mean_with(predictor, x, j, value) for value in grid])
        values = list(feature.levels) if feature.kind == CATEGORICAL else _rounded(grid.tolist())
        kind = "categorical" if feature.kind == CATEGORICAL else "numerical"
        entries.append({"feature_name": name, "data_type": kind,
                        "feature_values": values, "model_predictions": [_rounded(predictions.tolist())],
                        "label_headers": [positive]})
    return entries


def _grid(thresholds: np.ndarray, column: np.ndarray) -> np.ndarray:
    """The split thresholds inside the sample's range (each the last value of its step), and the
    range's ends; at most MAX_GRID values, evenly chosen among them."""
    seen = column[~np.isnan(column)]
    if not len(seen):
        return thresholds[:MAX_GRID]
    low, high = float(seen.min()), float(seen.max())
    grid = np.unique(np.concatenate([[low, high], thresholds[(thresholds > low) & (thresholds < high)]]))
    if len(grid) > MAX_GRID:
        grid = grid[np.unique(np.linspace(0, len(grid) - 1, MAX_GRID).round().astype(int))]
    return grid


def _mean_with(predictor, x: np.ndarray, j: int, value: float) -> float:
    changed = x.copy()
    changed[:, j] = value
    return float(predictor.predict(changed).mean())


def _rounded(values: list) -> list:
    return [round(v, 9) for v in values]
