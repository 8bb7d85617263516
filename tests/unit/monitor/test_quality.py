"""Model quality: the join's accounting, Model Monitor's metrics with their spread, and violations
judged against the window's noise."""

import math

import numpy as np
import pytest

from attrition.monitor import quality


def test_metrics_match_a_hand_computation_and_the_spread_a_binomial():
    # 10 leavers (8 flagged) and 30 stayers (3 flagged), probabilities that rank perfectly
    y = np.array([1] * 10 + [0] * 30)
    p = np.array([0.9] * 8 + [0.45] * 2 + [0.6] * 3 + [0.1] * 27)
    found = quality.statistics(y, p, 0.5)
    precision, recall = 8 / 11, 8 / 10
    assert found["confusion_matrix"] == {"0": {"0": 27, "1": 3}, "1": {"0": 2, "1": 8}}
    assert found["precision"]["value"] == pytest.approx(precision) and found["recall"]["value"] == pytest.approx(recall)
    for name, beta in (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0)):
        expected = (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall)
        assert found[name]["value"] == pytest.approx(expected)
    assert found["false_positive_rate"]["value"] == pytest.approx(3 / 30)
    assert found["true_negative_rate"]["value"] == pytest.approx(27 / 30)
    assert found["accuracy_best_constant_classifier"]["value"] == pytest.approx(30 / 40)  # always "stays"
    assert found["recall_best_constant_classifier"]["value"] == 0.0
    assert found["f2_best_constant_classifier"]["value"] == 0.0
    binomial = math.sqrt(0.875 * 0.125 / 40)  # accuracy 35/40
    assert found["accuracy"]["standard_deviation"] == pytest.approx(binomial, rel=0.25)


def test_a_metric_below_its_floor_beyond_the_noise_is_a_violation_and_within_it_is_not():
    constraints = {"binary_classification_constraints": {
        "auc": {"threshold": 0.75, "comparison_operator": "LessThanThreshold"},
        "f1": {"threshold": 0.40, "comparison_operator": "LessThanThreshold"}}}
    measured = {"auc": {"value": 0.70, "standard_deviation": 0.01},   # 0.70 + 0.0196 < 0.75
                "f1": {"value": 0.38, "standard_deviation": 0.02}}    # 0.38 + 0.0392 > 0.40: noise
    (found,) = quality.violations(measured, constraints)
    assert found["metric_name"] == "auc" and found["constraint_check_type"] == "LessThanThreshold"
    assert found["description"] == "Metric auc with 0.7000 ± 0.0196 (95 %) was LessThanThreshold 0.7500"
    assert quality.violations({"auc": {"value": None, "standard_deviation": None}}, constraints) == []


def test_labels_are_the_models_classes_or_0_and_1_and_empty_is_unknown():
    classes = ["No", "Yes"]
    assert [quality._label(t, classes) for t in ("Yes", "No", "1", "0", "true", " ", "Maybe")] == [
        1, 0, 1, 0, 1, -1, None]
