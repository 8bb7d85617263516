"""Calibration at training: the Brier score and the expected calibration error, by hand."""

import numpy as np
import pytest

from attrition.core.quality import calibration


def test_brier_and_ece_match_a_hand_computation():
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.3, 0.6, 0.8])
    assert calibration.brier(y, p) == pytest.approx((0.01 + 0.09 + 0.16 + 0.04) / 4)
    # two bins of two: predicted 0.2 vs observed 0, predicted 0.7 vs observed 1
    assert calibration.expected_calibration_error(y, p, bins=2) == pytest.approx((2 * 0.2 + 2 * 0.3) / 4)
    assert calibration.expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0


def test_training_reports_them_out_of_fold(trained_dir):
    import json

    measured = json.loads((trained_dir / "output" / "data" / "metrics.json").read_text())["calibration"]
    assert 0 < measured["brier"] < 0.2 and 0 <= measured["expected_calibration_error"] < 0.1
    assert measured["rows"] == 1470
