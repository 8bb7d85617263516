"""The Model Monitor baseline: statistics.json and constraints.json in SageMaker's shapes."""

import json


def test_monitor_baseline_is_in_model_monitor_shape(trained_dir):
    stats = json.loads((trained_dir / "model" / "statistics.json").read_text())
    constraints = json.loads((trained_dir / "model" / "constraints.json").read_text())
    assert stats["dataset"]["item_count"] == 1470
    by_name = {f["name"]: f for f in stats["features"]}
    income = by_name["MonthlyIncome"]["numerical_statistics"]
    assert income["common"] == {"num_present": 1470, "num_missing": 0}
    assert sum(b["count"] for b in income["distribution"]["kll"]["buckets"]) == 1470
    roles = by_name["JobRole"]["string_statistics"]
    assert roles["distinct_count"] == 9
    assert by_name["JobRole"]["inferred_type"] == "String"
    assert by_name["Age"]["inferred_type"] == "Integral"
    domains = {f["name"]: f.get("string_constraints", {}).get("domains") for f in constraints["features"]}
    assert "Sales Executive" in domains["JobRole"]
    assert constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] == "Robust"
    assert 0 < constraints["attrition"]["prediction"]["mean_probability"] < 0.5
