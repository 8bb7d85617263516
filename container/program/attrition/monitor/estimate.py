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
CHUNK = 1 << 22  # label draws held at once, as numbers: 32 MB of them
METRICS = ("auc", "precision", "recall", "f1", "accuracy")


def estimate(p: np.ndarray, threshold: float, mapping: dict | None = None) -> dict[str, dict[str, float]]:
    """{metric: {"value", "low", "high", "noise"}} for the window's raw probabilities p."""
    leavers, tp, rank_sums = _draws(p, threshold, mapping)
    flagged = p >= threshold
    stayers = len(p) - leavers
    fp = flagged.sum() - tp
    fn = leavers - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = {
            "auc": (rank_sums - leavers * (leavers + 1) / 2) / (leavers * stayers),
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


def _draws(p: np.ndarray, threshold: float, mapping: dict | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw of the labels (each row one way the truth may turn out): the leavers, those the
    model flagged, and the sum of the leavers' ranks. A few draws at a time, so memory stays near
    CHUNK numbers whatever the window (all 400 at once took 5 GB for 1.5 M rows); the generator's
    stream is the same, so are the draws."""
    rng = np.random.default_rng(SEED)
    chances, flagged, ranks = calibration.apply(mapping, p), p >= threshold, metrics.average_ranks(p)
    step = max(1, CHUNK // max(len(p), 1))
    leavers, tp, rank_sums = (np.empty(DRAWS, dtype=np.int64), np.empty(DRAWS, dtype=np.int64),
                              np.empty(DRAWS, dtype=np.float64))
    for start in range(0, DRAWS, step):
        labels = rng.random((min(step, DRAWS - start), len(p))) < chances
        part = slice(start, start + len(labels))
        leavers[part], tp[part] = labels.sum(axis=1), (labels & flagged).sum(axis=1)
        rank_sums[part] = labels @ ranks
    return leavers, tp, rank_sums
