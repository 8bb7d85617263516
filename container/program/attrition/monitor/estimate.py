"""Performance before the labels arrive: confidence-based performance estimation (CBPE).

Read through the training's calibration map (core/quality/calibration.py, fitted out of fold), each
captured probability is the chance that this employee leaves. So the window's labels are, as far
as the model knows,
independent draws with those chances: drawing them DRAWS times and scoring the model's own
answers against each draw gives the distribution of every metric this window will show once the
truth arrives. The estimate is its mean, the interval its central 95 %, and `noise` the mean
absolute deviation of the draws: what even a perfect estimate misses by on average, since the
realised value is itself one draw. It is only as good as the
probabilities: when the relation between the features and leaving changes (concept drift), the
estimate cannot see it, and the model quality monitor, once labels arrive, is the judge.
"""

import numpy as np

from ..core.quality import calibration, metrics

DRAWS = 400
SEED = 0
METRICS = ("auc", "precision", "recall", "f1", "accuracy")


def estimate(p: np.ndarray, threshold: float, mapping: dict | None = None) -> dict[str, dict[str, float]]:
    """{metric: {"value", "low", "high", "noise"}} for the window's raw probabilities p."""
    rng = np.random.default_rng(SEED)
    labels = rng.random((DRAWS, len(p))) < calibration.apply(mapping, p)  # each row one way the truth may turn out
    flagged = p >= threshold
    ranks = metrics.average_ranks(p)
    leavers = labels.sum(axis=1)
    stayers = len(p) - leavers
    tp = (labels & flagged).sum(axis=1)
    fp = flagged.sum() - tp
    fn = leavers - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = {
            "auc": ((labels * ranks).sum(axis=1) - leavers * (leavers + 1) / 2) / (leavers * stayers),
            "precision": np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0),
            "recall": np.where(leavers > 0, tp / np.maximum(leavers, 1), np.nan),
            "f1": np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0),
            "accuracy": (tp + (stayers - fp)) / len(p),
        }
    found = {}
    for name in METRICS:
        values = draws[name][np.isfinite(draws[name])]
        if not len(values):
            continue
        low, high = np.percentile(values, [2.5, 97.5])
        found[name] = {"value": float(values.mean()), "low": float(low), "high": float(high),
                       "noise": float(np.mean(np.abs(values - values.mean())))}
    return found
