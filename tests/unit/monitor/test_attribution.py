"""Feature attribution drift: the window's mean |TreeSHAP| ranking against training's, by nDCG."""

import json
import math
import shutil

import pytest

from attrition.monitor import attribution
from attrition.monitor import job as monitoring
from tests.helpers import as_csv, next_year


def test_ndcg_matches_a_hand_computation():
    baseline = {"a": 3.0, "b": 2.0, "c": 1.0}
    assert attribution.ndcg(baseline, {"a": 0.9, "b": 0.5, "c": 0.1}) == pytest.approx(1.0)
    ideal = 3 + 2 / math.log2(3) + 1 / 2
    reversed_order = 1 + 2 / math.log2(3) + 3 / 2
    assert attribution.ndcg(baseline, {"a": 0.1, "b": 0.5, "c": 0.9}) == pytest.approx(reversed_order / ideal)
    assert attribution.violations(0.95) == [] and attribution.violations(0.8)[0]["constraint_check_type"] == (
        "feature_attribution_drift_check")


def _run(tmp_path, model_base, employees) -> tuple[int, dict]:
    window = tmp_path / "window"
    window.mkdir(parents=True)
    (window / "employees.csv").write_text(as_csv(employees))
    code = monitoring.main({"SAGEMAKER_BASE_DIR": str(model_base), "analysis_type": "MODEL_EXPLAINABILITY",
                            "dataset_source": str(window), "output_path": str(tmp_path / "out")})
    report = tmp_path / "out" / "attribution_drift_report.json"
    return code, json.loads(report.read_text()) if report.exists() else {}


def test_a_window_like_training_keeps_the_ranking_and_a_reordered_one_is_a_violation(
        tmp_path, trained_model, trained_dir, ibm_text):
    employees = next_year(ibm_text, 1000, seed=3, shifted=False)
    code, report = _run(tmp_path / "same", trained_dir, employees)
    assert code == 0 and report["ndcg"] > 0.97 and not report["verdict"]["retraining_recommended"]
    assert report["ranking"][0]["feature"] == trained_model.metadata["feature_importance"][0]["feature"]
    # This model of stumps keeps its ranking whatever the window (its first reason's quietest value
    # still outweighs every other's loudest), so the reordering is the baseline's: a training that
    # leaned on the reasons in reverse order.
    reordered = tmp_path / "reordered"
    shutil.copytree(trained_dir / "model", reordered / "model")
    metadata = json.loads((reordered / "model" / "metadata.json").read_text())
    importance = metadata["feature_importance"]
    shares = [row["mean_abs_shap"] for row in importance]
    metadata["feature_importance"] = [dict(row, mean_abs_shap=share) for row, share in zip(importance, shares[::-1])]
    (reordered / "model" / "metadata.json").write_text(json.dumps(metadata))
    code, report = _run(tmp_path / "drifted", reordered, employees)
    violations = json.loads((tmp_path / "drifted" / "out" / "constraint_violations.json").read_text())["violations"]
    assert code == 0 and report["ndcg"] < attribution.NDCG_THRESHOLD
    assert report["verdict"]["retraining_recommended"] and violations[0]["feature_name"] == "all"
    assert report["ranking"][0]["baseline_rank"] > 10  # the window's first reason, near the last in training
    analysis = json.loads((tmp_path / "drifted" / "out" / "analysis.json").read_text())
    assert analysis["explanations"]["kernel_shap"]["label0"]["global_shap_values"]["OverTime"] > 0
