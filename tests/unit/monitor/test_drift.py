"""Drift measures: PSI over the baseline's buckets, the KS test's p-value as scipy computes it."""

import numpy as np
import pytest
from scipy import stats

from attrition.core import contract
from attrition.core.quality import baseline
from attrition.monitor import drift
from tests.helpers import small_schema


def test_ks_pvalue_is_scipys_asymptotic_two_sample_pvalue():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 400), rng.normal(0.2, 1, 900)
    reference = stats.ks_2samp(a, b, method="asymp")
    assert drift._ks_pvalue(reference.statistic, len(a), len(b)) == pytest.approx(reference.pvalue, rel=1e-9)
    assert drift._ks_pvalue(0.0, 10, 10) == 1.0 and drift._ks_pvalue(0.5, 0, 10) == 1.0


def summarise(schema, columns):
    n = len(next(iter(columns.values())))
    return baseline.statistics(schema, columns, n)


def test_the_same_data_does_not_drift_and_a_shift_does():
    rng = np.random.default_rng(1)
    ages = [str(int(a)) for a in rng.integers(20, 60, 600)]
    schema = small_schema({"Age": ages, "Dept": ["HR", "Sales", "R&D"] * 200})
    reference = summarise(schema, {"Age": ages, "Dept": ["HR", "Sales", "R&D"] * 200})
    same = drift.compare(reference, summarise(schema, {"Age": ages, "Dept": ["HR", "Sales", "R&D"] * 200}))
    assert all(row["psi"] < 1e-9 for row in same) and same[0]["ks_pvalue"] == 1.0
    assert drift.violations(same, contract.Thresholds()) == []

    older = [str(int(a) + 15) for a in ages]
    shifted = drift.compare(reference, summarise(schema, {"Age": older, "Dept": ["HR", "Legal", ""] * 200}))
    found = {(v["feature_name"], v["constraint_check_type"]) for v in drift.violations(shifted, contract.Thresholds())}
    assert found == {("Age", "baseline_drift_check"), ("Dept", "baseline_drift_check"),
                     ("Dept", "categorical_values_check"), ("Dept", "completeness_check")}
    dept = shifted[1]
    assert dept["new_categories"] == ["Legal"] and dept["vanished_categories"] == ["R&D", "Sales"]
