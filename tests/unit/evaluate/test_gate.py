"""The champion-vs-challenger gate: paired differences judged against the noise of the test rows."""

import numpy as np
import pytest

from attrition.core.quality import bias, metrics
from attrition.core.table import columns
from attrition.evaluate import gate


def _bootstrap(rng, count: int, statistic, rounds: int = 3000) -> float:
    """The standard deviation of a statistic over resamples of the rows, as a reference."""
    return float(np.std([statistic(rng.integers(0, count, count)) for _ in range(rounds)]))


def test_the_auc_difference_and_its_error_agree_with_a_paired_bootstrap():
    rng = np.random.default_rng(3)
    y = (rng.random(400) < 0.2).astype(int)
    first = y * 1.2 + rng.normal(size=400)
    second = 0.5 * first + y * 0.4 + rng.normal(size=400)  # correlated with the first, as two models are
    difference, error = gate.auc_difference(y, first, second)
    assert difference == pytest.approx(metrics.roc_auc(y, first) - metrics.roc_auc(y, second), abs=1e-12)
    reference = _bootstrap(rng, 400, lambda i: metrics.roc_auc(y[i], first[i]) - metrics.roc_auc(y[i], second[i]))
    assert error == pytest.approx(reference, rel=0.15)
    assert gate.auc_difference(y, first, first) == (0.0, 0.0)


@pytest.mark.parametrize("name", ["DPPL", "DI", "RD", "AD", "FPRD"])
def test_a_bias_metrics_paired_error_agrees_with_a_paired_bootstrap(name):
    rng = np.random.default_rng(7)
    n = 600
    group = rng.random(n) < 0.3
    y = (rng.random(n) < 0.25).astype(int)
    ours = (rng.random(n) < 0.2 + 0.3 * y + 0.1 * group).astype(int)
    theirs = np.where(rng.random(n) < 0.8, ours, 1 - ours)  # the champion agrees on 80 % of the rows
    column = columns.of(np.where(group, "d", "a").tolist())

    def metric(answers, rows):
        report = bias.audit([bias.Facet.parse("G")], {"G": columns.of(np.where(group[rows], "d", "a").tolist())},
                            y[rows], answers[rows], "Attrition", "Yes")
        (value,) = [m.value for m in bias.measured(report) if m.group == "d" and m.name == name]
        return np.log(value) if name == "DI" else value

    members = dict(bias.groups(bias.Facet.parse("G"), {"G": column}))["d"]
    error = gate._paired_error(gate.KINDS[name], members, y, ours, theirs)
    reference = _bootstrap(rng, n, lambda i: metric(ours, i) - metric(theirs, i), rounds=600)
    assert error == pytest.approx(reference, rel=0.2)


def _rows_and_scores(rng, n=500):
    gender = np.where(rng.random(n) < 0.4, "Female", "Male")
    y = (rng.random(n) < 0.2).astype(int)
    probabilities = np.clip(0.15 + 0.5 * y + rng.normal(scale=0.15, size=n), 0, 1)
    return gate.Rows(y, {"Gender": columns.of(gender.tolist())}, [bias.Facet.parse("Gender")]), probabilities


def _scored(rows: gate.Rows, probabilities) -> gate.Scored:
    predicted = (probabilities >= 0.5).astype(int)
    return gate.Scored(probabilities, predicted,
                       bias.audit(rows.facets, rows.columns, rows.y, predicted, "Attrition", "Yes", probabilities))


def test_a_challenger_within_noise_passes_and_one_worse_beyond_it_is_refused():
    rng = np.random.default_rng(11)
    rows, champion = _rows_and_scores(rng)
    within = np.clip(champion + rng.normal(scale=0.02, size=len(champion)), 0, 1)
    judged = gate.judge(_scored(rows, within), _scored(rows, champion), rows, gate.Settings())
    assert judged["passed"] is True, judged["reasons"]
    assert judged["reasons"][1].endswith("not worse beyond noise") and "± " in judged["reasons"][1]
    shuffled = rng.permutation(champion)  # as if trained on shuffled labels
    judged = gate.judge(_scored(rows, shuffled), _scored(rows, champion), rows, gate.Settings())
    assert judged["passed"] is False and judged["reasons"][1].endswith(": worse beyond noise")


def test_a_challenger_that_flags_one_group_far_more_is_refused_with_the_true_reason():
    rng = np.random.default_rng(5)
    rows, champion = _rows_and_scores(rng)
    women = np.array([v == "Female" for v in rows.columns["Gender"].map(str)])
    unfair = np.where(women & (rng.random(len(champion)) < 0.5), 0.9, champion)  # half the women flagged
    judged = gate.judge(_scored(rows, unfair), _scored(rows, champion), rows, gate.Settings(auc_tolerance=1.0))
    assert judged["passed"] is False
    lines = [line for line in judged["reasons"] if line.startswith("bias: Gender=Female DI ")]
    assert lines and "on the log scale" in lines[0] and "noise ± " in lines[0]
    assert gate.judge(_scored(rows, champion), _scored(rows, champion), rows, gate.Settings())["passed"] is True
    alone = gate.judge(_scored(rows, champion), None, rows, gate.Settings())
    assert alone["passed"] is True and alone["reasons"][1].startswith("no champion yet")


def test_the_bar_is_part_of_the_gate_with_or_without_a_champion():
    rng = np.random.default_rng(2)
    rows, champion = _rows_and_scores(rng)
    weaker = np.clip(champion + rng.normal(scale=0.3, size=len(champion)), 0, 1)
    auc = metrics.roc_auc(rows.y, weaker)
    margin = gate.Z * gate.auc_error(rows.y, weaker)
    for against in (None, _scored(rows, champion)):
        judged = gate.judge(_scored(rows, weaker), against, rows, gate.Settings(auc_threshold=0.99))
        assert judged["passed"] is False
        assert judged["reasons"][0] == f"test AUC {auc:.4f} ± {margin:.4f} (95 %) vs threshold 0.99: below beyond noise"
    assert gate.judge(_scored(rows, weaker), None, rows, gate.Settings(auc_threshold=auc))["passed"] is True
    near = gate.judge(_scored(rows, weaker), None, rows, gate.Settings(auc_threshold=auc + margin / 2))
    assert near["passed"] is True and near["reasons"][0].endswith("within noise of it")


def test_a_minimum_impact_ratio_refuses_a_model_that_flags_one_group_far_less_and_is_off_by_default():
    rng = np.random.default_rng(3)
    rows, scores = _rows_and_scores(rng)
    female = np.array(rows.columns["Gender"].map(str)) == "Female"
    skewed = np.where(female, scores * 0.5, scores)  # women are rarely flagged
    judged = _scored(rows, skewed)
    ratio = judged.audit["impact_ratios"]["Gender"]["groups"][0]["impact_ratio"]
    assert ratio < 0.5 and gate.judge(judged, None, rows, gate.Settings())["passed"] is True
    refused = gate.judge(judged, _scored(rows, scores), rows, gate.Settings(min_impact_ratio=0.8))
    assert refused["passed"] is False and refused["min_impact_ratio"] == 0.8
    assert f"impact ratio: Gender=Female impact ratio {ratio:.2f} < 0.8" in refused["reasons"]
    fair = gate.judge(_scored(rows, scores), None, rows, gate.Settings(min_impact_ratio=0.5))
    assert fair["passed"] is True and "impact ratio: every group's at least 0.5" in fair["reasons"]


def test_one_auc_standard_error_is_delongs_and_matches_a_bootstrap():
    rng = np.random.default_rng(7)
    rows, scores = _rows_and_scores(rng)
    resampled = []
    for _ in range(2000):
        pick = rng.integers(0, len(rows.y), len(rows.y))
        resampled.append(metrics.roc_auc(rows.y[pick], scores[pick]))
    assert gate.auc_error(rows.y, scores) == pytest.approx(float(np.std(resampled)), rel=0.15)
