"""Cohort forecasts: the Poisson-binomial interval, and whether realised leavers fall inside it."""

import numpy as np
import pytest

from attrition.core.platform.errors import UserError
from attrition.score import cohorts
from bench.cohorts import coverage, out_of_fold


def _exact(p: np.ndarray, level: float = 0.95) -> tuple[int, int]:
    """The Poisson-binomial distribution by convolution, and its central interval."""
    pmf = np.array([1.0])
    for q in p:
        pmf = np.convolve(pmf, [1 - q, q])
    cdf = np.cumsum(pmf)
    return int(np.searchsorted(cdf, (1 - level) / 2)), int(np.searchsorted(cdf, (1 + level) / 2))


@pytest.mark.parametrize("seed", range(12))
def test_the_interval_is_the_exact_poisson_binomial_one_within_a_leaver(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 600))
    p = rng.beta(0.6, 3.0, n)  # many small probabilities, a few large: attrition's shape
    spread = p * (1 - p)
    approx = cohorts.interval(float(p.sum()), float(spread.sum()), float((spread * (1 - 2 * p)).sum()), n)
    exact = _exact(p)
    assert abs(approx[0] - exact[0]) <= 1 and abs(approx[1] - exact[1]) <= 1, (approx, exact)


def test_certain_outcomes_give_a_single_value():
    assert cohorts.interval(3.0, 0.0, 0.0, 10) == (3, 3)


def test_realised_leavers_per_department_fall_inside_the_interval_in_most_resamples():
    """Out-of-fold probabilities of the bundled employees, 200 bootstrap resamples: at least 90 %
    of each department's realised counts inside its 95 % interval (bench/cohorts.py measures more)."""
    p, y, columns = out_of_fold({})  # the default training: cross-validated, early-stopped
    shares = coverage(p, y, columns["Department"], 200, seed=1)
    assert set(shares) == {"Human Resources", "Research & Development", "Sales"}
    assert all(share >= 0.9 for share, _ in shares.values()), shares


@pytest.mark.parametrize("text, message", [("Department,", "names an empty column"),
                                           ("Department&", "names an empty column")])
def test_a_grouping_that_names_no_column_is_refused(text, message):
    with pytest.raises(UserError, match=message):
        cohorts.Grouping.parse(text)


def test_sums_are_kept_per_cohort_across_frames():
    forecast = cohorts.Forecast(cohorts.Grouping.parse("Team,Team&Site"), ["a", "b"], "Pay", 2.0, ("Left", "Yes"))
    p = np.array([0.5, 0.25, 0.1])
    contributions = np.array([[1.0, -1.0], [0.5, 0.0], [-0.2, 0.4]])
    frame = {"Team": ["x", "x", "y"], "Site": ["1", None, "1"], "Pay": ["10", "n/a", "30"],
             "Left": ["Yes", "No", "Yes"]}
    forecast.add(frame, p, contributions, "a.csv")
    forecast.add(frame, p, contributions, "b.csv")
    report = forecast.report()
    by_team = {tuple(c["cohort"].values()): c for c in report["groupings"][0]["cohorts"]}
    assert by_team[("x",)]["employees"] == 4 and by_team[("x",)]["expected_leavers"] == pytest.approx(1.5)
    assert by_team[("x",)]["expected_cost"] == pytest.approx(2 * 0.5 * 10 * 2.0)
    assert by_team[("x",)]["realised_leavers"] == 2
    assert by_team[("x",)]["top_drivers"] == [{"feature": "a", "mean_contribution": 0.75}]
    assert [c["cohort"] for c in report["groupings"][1]["cohorts"]] == [
        {"Team": "x", "Site": "1"}, {"Team": "x", "Site": "(missing)"}, {"Team": "y", "Site": "1"}]
    assert report["cost"] == {"column": "Pay", "factor": 2.0, "employees_without_cost": 2}
