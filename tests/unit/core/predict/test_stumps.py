"""stumps.py must predict exactly what LightGBM predicts (to 1e-9), for any input, or step aside."""

import lightgbm
import numpy as np
import pytest

from attrition.core.predict import stumps
from attrition.core.predict.lightgbm_capi import LightGBMPredictor

ODD_VALUES = [np.nan, np.inf, -np.inf, -1.0, -0.5, 0.0, 1e-40, 0.5, 2.7, 99.0, 1e10]


def synthetic(seed: int = 0, rows: int = 600):
    """Two numbers (one with missing values) and a category with 6 levels, and a noisy label."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=rows), rng.normal(size=rows), rng.integers(0, 6, rows)])
    x[rng.random(rows) < 0.2, 1] = np.nan
    logit = x[:, 0] + np.nan_to_num(x[:, 1], nan=1.5) + (x[:, 2] % 3 == 0) - 0.5
    y = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def train(num_leaves: int, **params):
    x, y = synthetic()
    data = lightgbm.Dataset(x, y, categorical_feature=[2], free_raw_data=False)
    booster = lightgbm.train({"objective": "binary", "num_leaves": num_leaves, "min_data_in_leaf": 5,
                              "cat_smooth": 1, "min_data_per_group": 5, "verbose": -1, **params},
                             data, num_boost_round=80)
    return booster, x


def with_odd_values(x, seed: int = 1):
    rng = np.random.default_rng(seed)
    odd = x.copy()
    for column in range(odd.shape[1]):
        rows = rng.integers(0, len(odd), len(odd) // 3)
        odd[rows, column] = rng.choice(ODD_VALUES, len(rows))
    return odd


@pytest.mark.parametrize("params", [{}, {"use_missing": False}, {"sigmoid": 0.7}])
def test_equals_lightgbm_for_missing_unseen_and_odd_values(params):
    booster, x = train(2, **params)
    predictor = stumps.compile_stumps(booster)
    assert predictor is not None
    odd = with_odd_values(x)
    expected = booster.predict(odd)
    np.testing.assert_allclose(predictor.predict(odd), expected, rtol=0, atol=1e-9)
    one_by_one = [predictor.predict(odd[i:i + 1])[0] for i in range(len(odd))]
    np.testing.assert_allclose(one_by_one, expected, rtol=0, atol=1e-9)
    # a row alone and in a batch: the same probability to the last bit (tied employees stay tied)
    assert np.array_equal(one_by_one, predictor.predict(odd)) and np.array_equal(
        predictor.predict(odd[:10]), predictor.predict(odd)[:10])


def test_missing_values_follow_each_split_default_direction():
    booster, x = train(2)
    predictor = stumps.compile_stumps(booster)
    missing = x[:5].copy()
    missing[:, 1] = np.nan
    assert not np.allclose(predictor.predict(missing), predictor.predict(x[:5]))
    np.testing.assert_allclose(predictor.predict(missing), booster.predict(missing), rtol=0, atol=1e-9)


@pytest.mark.parametrize("params", [{"num_leaves": 4}, {"num_leaves": 2, "zero_as_missing": True},
                                    {"num_leaves": 2, "objective": "cross_entropy"},
                                    {"num_leaves": 2, "boosting": "rf", "bagging_fraction": 0.5,
                                     "bagging_freq": 1},
                                    {"num_leaves": 2, "linear_tree": True}])
def test_other_models_are_left_to_lightgbm(params):
    booster, x = train(**params)
    assert stumps.compile_stumps(booster) is None
    np.testing.assert_allclose(LightGBMPredictor(booster, 1).predict(x), booster.predict(x), rtol=0, atol=1e-12)


def test_the_trained_attrition_model_is_served_as_stumps(trained_model):
    assert isinstance(trained_model.predictor, stumps.StumpPredictor)


def test_contributions_equal_lightgbm_treeshap():
    booster, x = train(2)
    predictor = stumps.compile_stumps(booster)
    odd = with_odd_values(x)
    expected = booster.predict(odd, pred_contrib=True)
    np.testing.assert_allclose(predictor.contributions(odd), expected[:, :-1], rtol=0, atol=1e-9)
