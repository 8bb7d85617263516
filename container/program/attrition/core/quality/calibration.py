"""How far the probabilities can be read as frequencies, and a map that makes them so.

Measured on out-of-fold predictions at training: the Brier score and the expected calibration
error (ECE: the mean gap between predicted and observed rates over bins of equal counts, weighted
by size); report.html draws the reliability curve. The map is Platt's: q = sigmoid(a * logit(p) +
b), fitted by maximum likelihood on the same out-of-fold rows. Two numbers, monotone (a > 0), so
it never reorders employees; `serve` never applies it (answers stay the model's own), the
monitor's performance estimate (monitor/estimate.py) reads through it. It is kept only when
needed: when, on the out-of-fold rows, the AUC expected from the raw probabilities misses the
realised AUC by more than NEEDED_GAP and the mapped ones miss it by less. The map is fitted on
the cross-validation models' predictions and read on the final model's, which differ a little,
so a small gap is better left alone. Measured (bench/estimates.py and the tests' model): the
default model expects 0.803 out of fold where 0.840 is realised, and Platt's map there doubled
the estimate's AUC error on new windows (an isotonic map, its extreme steps fitted on a few rows,
did worse still); an under-fitted model (60 stumps) expects 0.618 where 0.781 is realised, and
without the map every window would look like a collapse.
"""

import numpy as np

from . import metrics

BINS = 10
NEEDED_GAP = 0.10  # expected vs realised out-of-fold AUC beyond which the raw probabilities need a map


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = BINS) -> float:
    order = np.argsort(p, kind="mergesort")
    groups = [g for g in np.array_split(order, min(bins, len(p))) if len(g)]
    return float(sum(len(g) * abs(p[g].mean() - y[g].mean()) for g in groups) / max(len(p), 1))


def needed(y: np.ndarray, p: np.ndarray) -> dict[str, float] | None:
    """Platt's map when the raw probabilities are far from frequencies and it brings the expected
    AUC closer to the realised one; else None."""
    realised = metrics.roc_auc(y, p)
    raw_gap = abs(expected_auc(p, p) - realised)
    if not raw_gap > NEEDED_GAP:
        return None
    mapping = fit(y, p)
    return mapping if abs(expected_auc(p, apply(mapping, p)) - realised) < raw_gap else None


def expected_auc(p: np.ndarray, q: np.ndarray) -> float:
    """The AUC of scores p expected when each row leaves with chance q, independently: the
    chance-weighted share of (leaver, stayer) pairs ranked right, ties counting one half."""
    order = np.argsort(p, kind="mergesort")
    p, q = p[order], q[order]
    stay = 1 - q
    starts = np.searchsorted(p, p, side="left")
    ends = np.searchsorted(p, p, side="right")
    cumulative = np.concatenate([[0.0], np.cumsum(stay)])
    strictly_lower = cumulative[starts]
    tied = cumulative[ends] - cumulative[starts] - stay  # tied stayers, itself left out
    right = np.sum(q * (strictly_lower + tied / 2))
    pairs = q.sum() * stay.sum() - np.sum(q * stay)
    return float(right / pairs) if pairs > 0 else float("nan")


def fit(y: np.ndarray, p: np.ndarray, steps: int = 50) -> dict[str, float]:
    """Platt's a and b, by Newton's method on the log-likelihood (a = 1, b = 0 is no change)."""
    z = _logit(p)
    a, b = 1.0, 0.0
    for _ in range(steps):
        q = 1.0 / (1.0 + np.exp(-(a * z + b)))
        w = np.maximum(q * (1 - q), 1e-12)
        gradient = np.array([np.sum((y - q) * z), np.sum(y - q)])
        hessian = np.array([[np.sum(w * z * z), np.sum(w * z)], [np.sum(w * z), np.sum(w)]])
        step = np.linalg.solve(hessian + 1e-9 * np.eye(2), gradient)
        a, b = a + float(step[0]), b + float(step[1])
        if np.abs(step).max() < 1e-10:
            break
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0:
        return {"a": 1.0, "b": 0.0}  # no monotone map found: the probabilities as they are
    return {"a": a, "b": b}


def apply(mapping: dict | None, p: np.ndarray) -> np.ndarray:
    """The calibrated probabilities (the raw ones without a map)."""
    if not mapping:
        return p
    return 1.0 / (1.0 + np.exp(-(mapping["a"] * _logit(p) + mapping["b"])))


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(q / (1 - q))
