"""The bias audit, checked against figures computed by hand on a small table."""

import numpy as np
import pytest

from attrition.core import bias, columns
from attrition.core.errors import UserError

# 20 women (10 left) and 40 men (10 left). The model flags 8 of the women who left and 2 who
# stayed; 5 of the men who left and none who stayed.
GENDER = columns.of(["Female"] * 20 + ["Male"] * 40)
Y = np.array([1] * 10 + [0] * 10 + [1] * 10 + [0] * 30)
PREDICTED = np.array([1] * 8 + [0] * 2 + [1] * 2 + [0] * 8 + [1] * 5 + [0] * 5 + [0] * 30)


def _metrics(report: dict, stage: str, column: str, group: str) -> dict:
    (entry,) = [g for g in report[stage]["facets"][column] if g["value_or_threshold"] == group]
    return {m["name"]: m["value"] for m in entry["metrics"]}


def test_metrics_match_a_hand_computation():
    report = bias.audit([bias.Facet("Gender")], {"Gender": GENDER}, Y, PREDICTED, "Attrition", "Yes")
    pre = _metrics(report, "pre_training_bias_metrics", "Gender", "Female")
    assert pre == pytest.approx({"CI": (40 - 20) / 60, "DPL": 10 / 40 - 10 / 20})
    post = _metrics(report, "post_training_bias_metrics", "Gender", "Female")
    assert post == pytest.approx({
        "DPPL": 5 / 40 - 10 / 20,   # positive prediction rates: men 0.125, women 0.5
        "DI": 0.5 / 0.125,
        "RD": 5 / 10 - 8 / 10,      # recall: men 0.5, women 0.8
        "AD": 35 / 40 - 16 / 20,    # accuracy: men 0.875, women 0.8
        "FNRD": 0.2 - 0.5,
        "FPRD": 2 / 10 - 0 / 30,
    })
    assert report["pre_training_bias_metrics"]["label"] == "Attrition"
    # each category is a group of its own: for men the differences change sign
    assert _metrics(report, "post_training_bias_metrics", "Gender", "Male")["DPPL"] == pytest.approx(0.375)


def test_numeric_facet_compares_those_above_the_threshold_with_everyone_else():
    ages = columns.of(["50"] * 20 + ["30"] * 40)
    report = bias.audit([bias.Facet.parse("Age>40")], {"Age": ages}, Y, None, "Attrition", "Yes")
    assert "post_training_bias_metrics" not in report
    assert _metrics(report, "pre_training_bias_metrics", "Age", "(40, inf)")["DPL"] == pytest.approx(-0.25)


def test_small_groups_are_reported_as_too_small_not_measured():
    gender = columns.of(["Female"] * 5 + ["Male"] * 55)
    report = bias.audit([bias.Facet("Gender")], {"Gender": gender}, Y, PREDICTED, "Attrition", "Yes")
    female = report["post_training_bias_metrics"]["facets"]["Gender"][0]
    assert female["members"] == 5 and "too_few_members" in female and "metrics" not in female


def test_outside_names_every_metric_beyond_its_acceptable_range():
    report = bias.audit([bias.Facet("Gender")], {"Gender": GENDER}, Y, PREDICTED, "Attrition", "Yes")
    flagged = bias.outside(report)
    assert "Gender=Female DI 4.00 (0.8..1.25)" in flagged
    assert not any("Female AD" in line for line in flagged)  # 0.075 is within +-0.1


def test_facets_must_name_a_column_and_a_number():
    with pytest.raises(UserError, match="names no column"):
        bias.Facet.parse(">40")
    with pytest.raises(UserError, match="not a number"):
        bias.Facet.parse("Age>forty")
    assert [f.column for f in bias.facets(bias.DEFAULT_FACETS)] == ["Gender", "MaritalStatus", "Age"]


def test_a_column_missing_from_the_data_is_listed_not_audited(capsys):
    report = bias.audit(bias.facets("Region,Gender"), {"Gender": GENDER}, Y, None, "Attrition", "Yes")
    assert report["not_audited"] == ["Region"]
    assert list(report["pre_training_bias_metrics"]["facets"]) == ["Gender"]
    assert "no column Region" in capsys.readouterr().out


def test_measured_lists_each_groups_metrics_with_a_value_and_facets_spell_as_given():
    report = bias.audit([bias.Facet.parse("Age>40")], {"Age": columns.of(["50"] * 20 + ["30"] * 40)}, Y, PREDICTED,
                        "Attrition", "Yes")
    found = {m.key: m.value for m in bias.measured(report)}
    assert found["Age=(40, inf) DI"] == pytest.approx(4.0) and len(found) == 6
    assert [str(f) for f in bias.facets("Gender, Age>40")] == ["Gender", "Age>40"]


def test_rates_among_a_handful_of_leavers_are_not_measured():
    y = np.array([1] * 5 + [0] * 15 + [1] * 10 + [0] * 30)  # 5 women left: too few for a recall
    report = bias.audit([bias.Facet("Gender")], {"Gender": GENDER}, y, PREDICTED, "Attrition", "Yes")
    female = _metrics(report, "post_training_bias_metrics", "Gender", "Female")
    assert female["RD"] is None and female["FNRD"] is None and female["FPRD"] is not None
