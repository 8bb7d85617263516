"""Bias drift: a group's metric that leaves its acceptable range, judged against training's."""

import math

from attrition.monitor import fairness


def _report(**values) -> dict:
    """bias.json with one group per metric given as Gender=Female <metric>=value."""
    metrics = [{"name": name, "description": "", "value": value} for name, value in values.items()]
    return {"post_training_bias_metrics": {"facets": {"Gender": [{"value_or_threshold": "Female", "members": 50,
                                                                  "metrics": metrics}]}}}


def test_a_group_that_leaves_its_range_is_a_violation_and_one_already_outside_is_a_note():
    baseline = _report(DPPL=0.02, DI=0.70, RD=0.15, AD=0.01)
    window = _report(DPPL=0.14, DI=0.69, RD=0.25, AD=0.02, FPRD=0.3)
    found, notes = fairness.violations(baseline, window)
    assert [v["description"] for v in found] == [
        "Gender=Female DPPL 0.14 outside -0.1..0.1 (training: 0.02)",       # it left its range
        "Gender=Female RD 0.25 outside -0.1..0.1 (training: 0.15)",         # further out by 0.10 > 0.05
        "Gender=Female FPRD 0.30 outside -0.1..0.1 (training: not measured)"]
    assert notes == ["Gender=Female DI 0.69 outside 0.8..1.25 (training: 0.70): outside in training too, "
                     "no further out"]
    assert all(v["constraint_check_type"] == "bias_drift_check" and v["feature_name"] == "Gender" for v in found)


def test_disparate_impact_is_judged_on_its_log_scale():
    assert fairness._further("DI", 0.5, 0.7) == math.log(2) - abs(math.log(0.7))
    assert fairness._further("DI", 2.0, 0.5) == 0.0  # as far from parity either way
    found, _ = fairness.violations(_report(DI=0.7), _report(DI=0.6))  # |log 0.6| - |log 0.7| = 0.15 > 0.05
    assert len(found) == 1
