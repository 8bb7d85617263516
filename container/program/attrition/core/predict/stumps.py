"""Predict a model of stumps as what it is: a sum of one step function per feature.

With num_leaves=2 (our default) every tree splits once, on one feature, so the model's score is
base + f_1(x_1) + ... + f_n(x_n). Each f_j is built once at load time from the trees that split
on feature j: a sorted list of thresholds with the summed leaf values between them (numbers), or
a summed value per category code (categories). A prediction is then one binary search or one
lookup per feature instead of a walk through ~1,400 trees. It follows LightGBM's own decision
rules (include/LightGBM/tree.h) for missing values, unseen categories and out-of-range codes, and
the tests check it against `Booster.predict` to 1e-9; the sums differ only in rounding order.

`compile_stumps` returns None for anything else (deeper trees, other objectives, linear trees,
zero-as-missing), and the caller uses LightGBM's C API instead.
"""

import math
import re
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

SMALL = 16  # up to this many rows, a Python loop beats numpy's per-call overhead


@dataclass
class Steps:
    """A numerical feature: values[k] is the sum when x is above exactly k of the thresholds."""

    index: int
    thresholds: np.ndarray  # sorted
    values: np.ndarray  # one more than the thresholds
    missing: float  # the sum for NaN
    expected: float  # the sum of the trees' expected values, as TreeSHAP weighs them

    def column(self, x: np.ndarray) -> np.ndarray:
        out = self.values[np.searchsorted(self.thresholds, x, side="left")]
        return np.where(np.isnan(x), self.missing, out)


@dataclass
class Lookup:
    """A categorical feature: values[c] for category code c; `other` for NaN, negative or unknown."""

    index: int
    values: np.ndarray
    other: float
    expected: float

    def column(self, x: np.ndarray) -> np.ndarray:
        # LightGBM truncates the value to an int; NaN and negatives go right, like codes it never saw.
        inside = (x > -1) & (x < len(self.values))
        codes = np.where(inside, x, 0).astype(np.intp)
        return np.where(inside, self.values[codes], self.other)


class StumpPredictor:
    name = "stumps"

    def __init__(self, base: float, functions: list, sigmoid: float, n_features: int):
        self.base = base
        self.functions = functions
        self.sigmoid = sigmoid
        self.n_features = n_features
        # The same rules as the column() methods, one value at a time, as plain tuples (a method
        # call per feature would cost as much as the lookup itself), in the same order: a row
        # alone and in a batch sum the same numbers in the same order, so its probability is the
        # same to the last bit (a ranking of tied employees never depends on the batch).
        self._rules = [(f.index, f.thresholds.tolist(), f.values.tolist(), f.missing) if isinstance(f, Steps)
                       else (f.index, None, f.values.tolist(), f.other) for f in functions]

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Positive-class probability for each row of a float64 (rows, features) matrix."""
        if len(matrix) <= SMALL:
            scores = self.base + np.array([self._score(row) for row in matrix.tolist()], dtype=np.float64)
        else:
            scores = self.base + sum(f.column(matrix[:, f.index]) for f in self.functions)
        return 1.0 / (1.0 + np.exp(-self.sigmoid * scores))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """LightGBM's TreeSHAP values (pred_contrib, base column dropped): for a stump, the
        leaf reached minus the tree's expected value, so per feature f_j(x) - E[f_j]."""
        out = np.zeros((len(matrix), self.n_features))
        for f in self.functions:
            out[:, f.index] = f.column(matrix[:, f.index]) - f.expected
        return out

    def _score(self, row: list) -> float:
        """The sum of the step functions at one row, added as sum() adds the columns (from 0)."""
        score = 0.0
        for index, thresholds, values, other in self._rules:
            x = row[index]
            if thresholds is None:
                score += values[int(x)] if -1 < x < len(values) else other
            else:
                score += other if math.isnan(x) else values[bisect_left(thresholds, x)]
        return score


def compile_stumps(booster) -> StumpPredictor | None:
    """A StumpPredictor equal to `booster`, or None when the model is not a sum of stumps."""
    dump = booster.dump_model()
    sigmoid = re.fullmatch(r"binary sigmoid:(\S+)", dump.get("objective", ""))
    if sigmoid is None or dump.get("average_output") or dump.get("num_tree_per_iteration") != 1:
        return None
    base = 0.0
    numerical: dict[int, list] = {}
    categorical: dict[int, list] = {}
    for tree in dump["tree_info"]:
        node = tree["tree_structure"]
        leaves = [node] if "leaf_value" in node else [node["left_child"], node["right_child"]]
        # Deeper trees, and linear trees (each leaf a little model of its own), are not stumps.
        if any("split_index" in leaf or "leaf_coeff" in leaf for leaf in leaves):
            return None
        if len(leaves) == 1:  # a tree without a split adds a constant
            base += node["leaf_value"]
            continue
        left, right = leaves
        if node["missing_type"] == "Zero":
            return None
        split = (node, left, right)
        kind = categorical if node["decision_type"] == "==" else numerical
        kind.setdefault(node["split_feature"], []).append(split)
    functions: list[Steps | Lookup] = [_steps(j, splits) for j, splits in numerical.items()]
    functions += [_lookup(j, splits) for j, splits in categorical.items()]
    return StumpPredictor(base, sorted(functions, key=lambda f: f.index), float(sigmoid.group(1)),
                          booster.num_feature())


def _steps(index: int, splits: list) -> Steps:
    thresholds = sorted({node["threshold"] for node, _, _ in splits})
    values = [0.0] * (len(thresholds) + 1)
    missing = 0.0
    for node, left, right in splits:
        position = bisect_left(thresholds, node["threshold"])
        for k in range(len(values)):  # x above k thresholds: left while x <= this threshold
            values[k] += left["leaf_value"] if k <= position else right["leaf_value"]
        # With missing type None, LightGBM reads NaN as 0.0 for this split.
        goes_left = node["default_left"] if node["missing_type"] == "NaN" else node["threshold"] >= 0.0
        missing += (left if goes_left else right)["leaf_value"]
    return Steps(index, np.array(thresholds), np.array(values), missing, _expected(splits))


def _lookup(index: int, splits: list) -> Lookup:
    lefts = [{int(c) for c in str(node["threshold"]).split("||")} for node, _, _ in splits]
    size = max(max(codes) for codes in lefts) + 1
    values = [0.0] * size
    for codes, (_, left, right) in zip(lefts, splits):
        for c in range(size):
            values[c] += (left if c in codes else right)["leaf_value"]
    other = sum(right["leaf_value"] for _, _, right in splits)
    return Lookup(index, np.array(values), other, _expected(splits))


def _expected(splits: list) -> float:
    """Tree::ExpectedValue: the leaves' values weighted by their share of the training rows."""
    return sum((left["leaf_count"] * left["leaf_value"] + right["leaf_count"] * right["leaf_value"])
               / node["internal_count"] for node, left, right in splits)
