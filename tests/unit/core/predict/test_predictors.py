"""The serving path (csv -> our encoder -> stumps.py or the C API) must equal LightGBM's own pandas path."""

import dataclasses

import numpy as np
import pytest

from attrition.core.platform import mediatypes
from attrition.core.predict.lightgbm_capi import LightGBMPredictor
from attrition.core.table import features
from attrition.core.wire import codecs
from tests.helpers import pandas_reference, shaken_employees


@pytest.fixture(scope="module")
def shaken():
    return shaken_employees()


@pytest.fixture(params=["stumps", "C API"])
def served_model(request, trained_model):
    """The trained model with each of the two predictors model.load can choose."""
    if request.param == "stumps":
        return trained_model  # test_stumps checks that load chose the stumps
    return dataclasses.replace(trained_model, predictor=LightGBMPredictor(trained_model.booster, 1))


def served(trained_model, text: str) -> np.ndarray:
    frame = codecs.decode(text.encode(), mediatypes.CSV, "", trained_model.schema)
    return trained_model.predict(features.encode(trained_model.schema, frame.columns, frame.n_rows))


def test_batch_path_equals_lightgbm_on_a_categorical_dataframe(served_model, shaken):
    expected = pandas_reference(served_model, shaken)
    got = served(served_model, shaken.to_csv(index=False))
    assert len(got) == 1470
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_single_row_path_equals_lightgbm_for_every_employee(served_model, shaken):
    expected = pandas_reference(served_model, shaken)
    header = ",".join(shaken.columns)
    lines = shaken.to_csv(index=False, header=False).splitlines()
    got = np.array([served(served_model, f"{header}\n{line}\n")[0] for line in lines])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


