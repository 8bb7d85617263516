import math

import numpy as np
import pytest

from attrition.core.predict import curves, model, predictors
from attrition.core.table import features
from tests.helpers import FAST, make_opt_ml, run_training


@pytest.fixture(scope="module")
def bundled_x(trained_model, ibm_text):
    header, *rows = [line.split(",") for line in ibm_text.splitlines()]
    return features.encode(trained_model.schema, dict(zip(header, zip(*rows))), len(rows))


def _lookup(curve: curves.StepFunction, value: float, schema) -> float:
    if math.isnan(value):
        return curve.missing_log_odds
    if curve.kind == "categorical":
        return curve.log_odds[int(value)]
    return curve.log_odds[sum(value > point for point in curve.points)]


def test_step_functions_add_up_to_the_models_log_odds_and_equal_treeshap(trained_model, bundled_x):
    stumps = trained_model.predictor
    steps = curves.step_functions(stumps, trained_model.schema)
    assert steps and len(steps) <= len(trained_model.schema.features)
    names = trained_model.schema.feature_names
    shap = trained_model.contributions(bundled_x)
    for i in range(0, len(bundled_x), 37):
        row = bundled_x[i]
        parts = {curve.feature: _lookup(curve, row[names.index(curve.feature)], trained_model.schema)
                 for curve in steps}
        p = trained_model.predict(row[None, :])[0]
        assert curves.base_log_odds(stumps) + sum(parts.values()) == pytest.approx(math.log(p / (1 - p)), abs=1e-6)
        for name, part in parts.items():
            assert part == pytest.approx(shap[i, names.index(name)], abs=1e-8)


def test_a_curves_probability_is_an_employee_otherwise_at_the_base_rate(trained_model):
    base = curves.base_log_odds(trained_model.predictor)
    for curve in curves.step_functions(trained_model.predictor, trained_model.schema):
        for log_odds, probability in zip(curve.log_odds, curve.probability):
            assert probability == pytest.approx(1 / (1 + math.exp(-(base + log_odds))), abs=1e-8)


def test_partial_dependence_of_stumps_is_the_step_function_in_clarifys_shape(trained_model, bundled_x):
    names = ["OverTime", "MonthlyIncome"]
    entries = curves.partial_dependence(trained_model.predictor, trained_model.booster, trained_model.schema,
                                        bundled_x, names, "Yes")
    overtime, income = entries
    assert set(overtime) == {"feature_name", "data_type", "feature_values", "model_predictions", "label_headers"}
    assert overtime["data_type"] == "categorical" and overtime["feature_values"] == ["No", "Yes"]
    assert overtime["model_predictions"][0][1] > overtime["model_predictions"][0][0]  # overtime raises the risk
    assert income["data_type"] == "numerical" and len(income["feature_values"]) <= curves.MAX_GRID
    column = bundled_x[:, trained_model.schema.feature_names.index("MonthlyIncome")]
    assert income["feature_values"][0] == column.min() and income["feature_values"][-1] == column.max()


def test_partial_dependence_of_deeper_trees_is_the_mean_prediction(tmp_path, ibm_text, bundled_x):
    paths = make_opt_ml(tmp_path, {**FAST, "num_leaves": "8"}, {"train": {"a.csv": ibm_text}})
    assert run_training(paths) == 0
    deeper = model.load(tmp_path / "model")
    predictor = predictors.for_booster(deeper.booster, 1)
    x = bundled_x[:200]
    entry, = curves.partial_dependence(predictor, deeper.booster, deeper.schema, x, ["Age"], "Yes")
    j = deeper.schema.feature_names.index("Age")
    for value, predicted in zip(entry["feature_values"], entry["model_predictions"][0]):
        changed = x.copy()
        changed[:, j] = value
        assert predicted == pytest.approx(float(np.mean(deeper.booster.predict(changed))), abs=1e-8)
    assert len(set(entry["model_predictions"][0])) > 1
