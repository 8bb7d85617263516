"""The bias audit, checked against figures computed by hand on a small table."""

import numpy as np
import pytest

from attrition.core.platform.errors import UserError
from attrition.core.quality import bias
from attrition.core.table import columns

# 20 women (10 left) and 40 men (10 left). The model flags 8 of the women who left and 2 who
# stayed; 5 of the men who left and none who stayed.
GENDER = columns.of(["Female"] * 20 + ["Male"] * 40)
Y = np.array([1] * 10 + [0] * 10 + [1] * 10 + [0] * 30)
PREDICTED = np.array([1] * 8 + [0] * 2 + [1] * 2 + [0] * 8 + [1] * 5 + [0] * 5 + [0] * 30)


def _metrics(report: dict, stage: str, column: str, group: str) -> dict:
    (entry,) = [g for g in report[stage]["facets"][column] if g["value_or_threshold"] == group]
    return {m["name"]: m["value"] for m in entry["metrics"]}


def test_metrics_match_a_hand_computation():
    report = bias.audit([bias.Facet.parse("Gender")], {"Gender": GENDER}, Y, PREDICTED, "Attrition", "Yes")
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
    report = bias.audit([bias.Facet.parse("Gender")], {"Gender": gender}, Y, PREDICTED, "Attrition", "Yes")
    female = report["post_training_bias_metrics"]["facets"]["Gender"][0]
    assert female["members"] == 5 and "too_few_members" in female and "metrics" not in female


def test_outside_names_every_metric_beyond_its_acceptable_range():
    report = bias.audit([bias.Facet.parse("Gender")], {"Gender": GENDER}, Y, PREDICTED, "Attrition", "Yes")
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
    report = bias.audit([bias.Facet.parse("Gender")], {"Gender": GENDER}, y, PREDICTED, "Attrition", "Yes")
    female = _metrics(report, "post_training_bias_metrics", "Gender", "Female")
    assert female["RD"] is None and female["FNRD"] is None and female["FPRD"] is not None


def _law_144_table() -> tuple[dict, np.ndarray, np.ndarray]:
    """128 employees: women single (20) and married (20), men single (40), married (40), divorced (5:
    under the minimum size, suppressed) and of unknown status (3). The flags and scores per group
    are chosen so the figures can be read off by hand."""
    sizes = {("Female", "Single"): 20, ("Female", "Married"): 20, ("Male", "Single"): 40, ("Male", "Married"): 40,
             ("Male", "Divorced"): 5, ("Male", ""): 3}
    flagged = {("Female", "Single"): 16, ("Female", "Married"): 4, ("Male", "Single"): 10, ("Male", "Divorced"): 5}
    scored = {("Female", "Single"): [0.7], ("Female", "Married"): [0.2], ("Male", "Single"): [0.6, 0.3],
              ("Male", "Married"): [0.4], ("Male", "Divorced"): [0.5], ("Male", ""): [0.5]}
    gender, status, predicted, scores = [], [], [], []
    for (sex, marital), n in sizes.items():
        gender += [sex] * n
        status += [marital] * n
        predicted += [1] * flagged.get((sex, marital), 0) + [0] * (n - flagged.get((sex, marital), 0))
        scores += [scored[sex, marital][i * len(scored[sex, marital]) // n] for i in range(n)]
    table = {"Gender": columns.of(gender), "MaritalStatus": columns.of(status)}
    return table, np.array(predicted), np.array(scores)


def test_impact_ratios_of_an_intersection_match_a_hand_computation():
    table, predicted, scores = _law_144_table()
    y = np.zeros(len(predicted), dtype=int)
    report = bias.audit(bias.facets("Gender&MaritalStatus"), table, y, predicted, "Attrition", "Yes", scores)
    found = report["impact_ratios"]["Gender&MaritalStatus"]
    assert found["unknown"] == 3 and found["minimum_members"] == 20 and found["median_score"] == pytest.approx(0.4)
    assert found["suppressed"] == [{"group": "Male&Divorced", "members": 5}]
    by_group = {g["group"]: g for g in found["groups"]}
    assert list(by_group) == ["Female&Married", "Female&Single", "Male&Married", "Male&Single"]
    # selection rates 0.2, 0.8, 0, 0.25: the most selected are single women
    assert [by_group[g]["selection_rate"] for g in by_group] == pytest.approx([0.2, 0.8, 0.0, 0.25])
    assert [by_group[g]["impact_ratio"] for g in by_group] == pytest.approx([0.25, 1.0, 0.0, 0.3125])
    # scored above the median 0.4: every single woman, half the single men, nobody else
    assert [by_group[g]["scoring_rate"] for g in by_group] == pytest.approx([0.0, 1.0, 0.0, 0.5])
    assert [by_group[g]["scoring_impact_ratio"] for g in by_group] == pytest.approx([0.0, 1.0, 0.0, 0.5])
    assert by_group["Male&Single"]["selected"] == 10 and by_group["Male&Single"]["members"] == 40
    # Clarify's metrics for each combination against everyone else, too small ones said so
    post = {g["value_or_threshold"]: g for g in report["post_training_bias_metrics"]["facets"]["Gender&MaritalStatus"]}
    assert "too_few_members" in post["Male&Divorced"] and "Male&" not in post
    below = bias.impact_below(report, 0.3)
    assert below == ["Gender&MaritalStatus=Female&Married impact ratio 0.25 < 0.3",
                     "Gender&MaritalStatus=Female&Married scoring impact ratio 0.00 < 0.3",
                     "Gender&MaritalStatus=Male&Married impact ratio 0.00 < 0.3",
                     "Gender&MaritalStatus=Male&Married scoring impact ratio 0.00 < 0.3"]


def test_a_numeric_part_of_an_intersection_splits_at_its_threshold():
    ages = columns.of(["50"] * 10 + ["30"] * 10 + ["45"] * 20 + ["25"] * 19 + [""])
    facet = bias.Facet.parse("Gender&Age>40")
    assert str(facet) == "Gender&Age>40" and facet.column == "Gender&Age" and facet.columns == ("Gender", "Age")
    found = dict(bias.groups(facet, {"Gender": GENDER, "Age": ages}))
    assert {name: int(rows.sum()) for name, rows in found.items()} == {
        "Female&(-inf, 40]": 10, "Female&(40, inf)": 10, "Male&(-inf, 40]": 19, "Male&(40, inf)": 20}


def test_intersections_are_parsed_strictly_and_a_missing_part_is_not_audited(capsys):
    with pytest.raises(UserError, match="'Gender&' names no column"):
        bias.Facet.parse("Gender&")
    with pytest.raises(UserError, match="names a column twice"):
        bias.Facet.parse("Gender&Gender")
    report = bias.audit(bias.facets("Gender&Region,Gender"), {"Gender": GENDER}, Y, PREDICTED, "Attrition", "Yes")
    assert report["not_audited"] == ["Gender&Region"] and list(report["impact_ratios"]) == ["Gender"]
    assert "no column Region in the data; not audited: Gender&Region" in capsys.readouterr().out
    assert report["impact_ratios"]["Gender"]["median_score"] is None  # no scores: selection rates only
