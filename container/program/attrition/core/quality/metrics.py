"""Binary classification metrics in numpy (the image carries no scikit-learn).

The tests check each one against scikit-learn on the same inputs.
"""

import numpy as np


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve: the Mann-Whitney statistic, ties counted as one half."""
    ranks = average_ranks(p)
    n_pos = y.sum()
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the precision-recall curve as a step function (scikit-learn's definition)."""
    n_pos = y.sum()
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-p, kind="mergesort")
    y_sorted, p_sorted = y[order], p[order]
    last_of_tie = np.r_[np.diff(p_sorted) != 0, True]
    tp = np.cumsum(y_sorted)[last_of_tie]
    predicted = (np.arange(1, len(y) + 1))[last_of_tie]
    precision = tp / predicted
    recall_step = np.diff(np.r_[0.0, tp]) / n_pos
    return float((precision * recall_step).sum())


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    q = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def at_threshold(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    predicted = p >= threshold
    actual = y == 1
    tp = int(np.sum(predicted & actual))
    fp = int(np.sum(predicted & ~actual))
    fn = int(np.sum(~predicted & actual))
    tn = int(np.sum(~predicted & ~actual))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (tp + tn) / len(y),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def evaluate(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    """Every metric we report, for labels y (0/1) and positive-class probabilities p."""
    return {
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "auc": roc_auc(y, p),
        "pr_auc": average_precision(y, p),
        "logloss": log_loss(y, p),
        "threshold": threshold,
        **at_threshold(y, p, threshold),
    }


def roc_points(y: np.ndarray, p: np.ndarray):
    """(false positive rates, true positive rates) from the strictest threshold to the loosest."""
    order = np.argsort(-p, kind="mergesort")
    p_sorted, y_sorted = p[order], y[order]
    last_of_tie = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    tp = np.cumsum(y_sorted)[last_of_tie]
    fp = np.cumsum(1 - y_sorted)[last_of_tie]
    return np.r_[0.0, fp / max(fp[-1], 1)], np.r_[0.0, tp / max(tp[-1], 1)]


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10):
    """(mean predicted, observed rate, rows) per bin of equal row counts."""
    order = np.argsort(p, kind="mergesort")
    groups = [g for g in np.array_split(order, min(bins, len(p))) if len(g)]
    return ([float(p[g].mean()) for g in groups], [float(y[g].mean()) for g in groups],
            [len(g) for g in groups])


def average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    boundaries = np.r_[True, sorted_values[1:] != sorted_values[:-1], True]
    starts = np.flatnonzero(boundaries)
    average = (starts[:-1] + starts[1:] + 1) / 2.0  # mean of 1-based ranks in each tie group
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(average, np.diff(starts))
    return ranks


def model_quality(m: dict) -> dict:
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
