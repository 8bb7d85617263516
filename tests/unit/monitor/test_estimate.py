"""Performance estimated from probabilities alone (CBPE), checked where the truth is drawn from
those very probabilities, so the estimate must hold."""

import numpy as np
import pytest

from attrition.core.quality import metrics
from attrition.monitor import estimate


def test_the_estimate_matches_the_expected_confusion_matrix():
    p = np.array([0.9] * 10 + [0.1] * 90)
    found = estimate.estimate(p, 0.5)
    # 10 flagged, 9 expected leavers among them; 9 expected leavers among the 90 others
    assert found["precision"]["value"] == pytest.approx(0.9, abs=0.01)
    assert found["recall"]["value"] == pytest.approx(0.5, abs=0.02)
    assert found["accuracy"]["value"] == pytest.approx((9 + 81) / 100, abs=0.01)
    assert found["auc"]["low"] < found["auc"]["value"] < found["auc"]["high"] and found["auc"]["noise"] > 0


def test_the_interval_holds_the_realised_value_when_the_probabilities_are_true():
    rng = np.random.default_rng(5)
    held = {"auc": 0, "f1": 0}
    for _ in range(60):
        p = rng.beta(1.2, 5.0, 500)
        y = (rng.random(500) < p).astype(int)
        realised = metrics.evaluate(y, p, 0.3)
        found = estimate.estimate(p, 0.3)
        for name in held:
            held[name] += found[name]["low"] <= realised[name] <= found[name]["high"]
    assert held["auc"] >= 51 and held["f1"] >= 51  # 95 % intervals: at least 85 % of 60 windows


def test_one_probability_for_everyone_estimates_an_auc_of_one_half():
    found = estimate.estimate(np.full(300, 0.2), 0.5)
    assert found["auc"]["value"] == pytest.approx(0.5) and found["precision"]["value"] == 0.0


def test_the_draws_are_the_same_a_few_at_a_time_so_memory_stays_flat(monkeypatch):
    """All 400 draws of a 1.5 M-row window at once took 5 GB; in chunks they are the same draws."""
    p = np.random.default_rng(5).random(3_000)
    whole = estimate.estimate(p, 0.4, {"a": 1.2, "b": -0.3})
    monkeypatch.setattr(estimate, "CHUNK", 7_000)  # two draws a chunk
    assert estimate.estimate(p, 0.4, {"a": 1.2, "b": -0.3}) == whole
