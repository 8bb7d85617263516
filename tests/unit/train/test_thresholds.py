import numpy as np
import pytest

from attrition.train import thresholds


@pytest.fixture()
def scores():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.16).astype(float)
    p = np.clip(0.35 * y + rng.random(500) * 0.65, 0, 1)
    return y, p


def f1_at(y, p, t):
    predicted = p >= t
    tp = np.sum(predicted & (y == 1))
    return 2 * tp / (predicted.sum() + y.sum())


def test_f1_threshold_is_the_best_cut(scores):
    y, p = scores
    t, note = thresholds.choose(y, p, "f1", 0.8, 0.5)
    best = max(f1_at(y, p, c) for c in np.unique(p))
    assert f1_at(y, p, t) == pytest.approx(best)
    assert "F1" in note


def test_recall_target_is_met_with_the_highest_threshold(scores):
    y, p = scores
    t, _ = thresholds.choose(y, p, "recall", 0.9, 0.5)
    recall = np.sum((p >= t) & (y == 1)) / y.sum()
    assert recall >= 0.9
    higher = np.unique(p[p > t])[1:]  # every stricter cut than the one chosen
    assert all(np.sum((p >= h) & (y == 1)) / y.sum() < 0.9 for h in higher)


def test_unreachable_precision_says_so(scores):
    y, p = scores
    y[np.argmax(p)] = 0.0  # the most confident prediction is wrong: precision 1 cannot be met
    t, note = thresholds.choose(y, p, "precision", 1.0, 0.5)
    assert "out of reach" in note and 0 < t < 1


def test_fixed_threshold(scores):
    assert thresholds.choose(*scores, "fixed", 0.8, 0.42) == (0.42, "fixed at 0.42")
