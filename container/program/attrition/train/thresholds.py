"""Choosing the decision threshold that turns a probability into a served label.

Attrition is a minority class (16 % in the IBM data): a label cut at 0.5 misses most leavers.
The threshold is chosen on out-of-fold probabilities for an objective the user names.
"""

from dataclasses import dataclass

import numpy as np

OBJECTIVES = ("f1", "f2", "recall", "precision", "fixed")


@dataclass
class Curve:
    """Precision, recall and F-scores if every row with probability >= threshold is positive."""

    threshold: np.ndarray  # decreasing
    precision: np.ndarray
    recall: np.ndarray

    def f_beta(self, beta: float) -> np.ndarray:
        b2 = beta * beta
        denominator = b2 * self.precision + self.recall
        with np.errstate(invalid="ignore", divide="ignore"):
            score = (1 + b2) * self.precision * self.recall / denominator
        return np.nan_to_num(score)


def curve(y: np.ndarray, p: np.ndarray) -> Curve:
    order = np.argsort(-p, kind="mergesort")
    p_sorted, y_sorted = p[order], y[order]
    last_of_tie = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    true_positives = np.cumsum(y_sorted)[last_of_tie]
    predicted = np.arange(1, len(y) + 1)[last_of_tie]
    cut = p_sorted[last_of_tie]
    # Cut halfway to the next lower probability, so the threshold does not sit on a training row.
    midpoints = np.r_[(cut[:-1] + cut[1:]) / 2, cut[-1] / 2]
    return Curve(midpoints, true_positives / predicted, true_positives / max(y.sum(), 1))


def choose(y: np.ndarray, p: np.ndarray, objective: str, target: float, fixed: float):
    """Return (threshold, note) for the objective; the note says how it was met."""
    if objective == "fixed":
        return fixed, f"fixed at {fixed:g}"
    c = curve(y, p)
    if objective in ("f1", "f2"):
        i = int(np.argmax(c.f_beta(1.0 if objective == "f1" else 2.0)))
        return float(c.threshold[i]), f"maximises {objective.upper()} out of fold"
    if objective == "recall":
        reached = np.flatnonzero(c.recall >= target)
        i = int(reached[0])  # the highest threshold that still reaches the recall target
        return float(c.threshold[i]), f"highest threshold with out-of-fold recall >= {target:g}"
    reached = np.flatnonzero(c.precision >= target)
    if len(reached) == 0:
        i = int(np.argmax(c.precision))
        return float(c.threshold[i]), (
            f"precision {target:g} is out of reach; best out-of-fold precision is "
            f"{c.precision[i]:.3f}"
        )
    i = int(reached[-1])  # the lowest threshold that still keeps the precision target
    return float(c.threshold[i]), f"lowest threshold with out-of-fold precision >= {target:g}"
