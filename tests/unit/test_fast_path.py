"""The serving path (csv -> our encoder -> LightGBM's C API) must equal LightGBM's own pandas path."""

import numpy as np
import pandas as pd
import pytest

from attrition import codecs, features
from tests.helpers import BUNDLED_CSV


@pytest.fixture(scope="module")
def shaken():
    """The bundled data with unseen categories and missing values sprinkled in."""
    frame = pd.read_csv(BUNDLED_CSV, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.loc[frame.index % 7 == 0, "JobRole"] = "Astronaut"
    frame.loc[frame.index % 5 == 0, "MonthlyIncome"] = ""
    frame.loc[frame.index % 11 == 0, "OverTime"] = ""
    frame.loc[frame.index % 13 == 0, "Age"] = "NA"
    return frame


def pandas_reference(trained_model, frame) -> np.ndarray:
    columns = {}
    for feature in trained_model.schema.features:
        values = frame[feature.name].replace({"": None, "NA": None})
        if feature.levels:  # an unseen category is a missing value, for LightGBM and for us
            known = values.where(values.isin(feature.levels))
            columns[feature.name] = pd.Categorical(known, categories=feature.levels)
        else:
            columns[feature.name] = pd.to_numeric(values)
    return trained_model.booster.predict(pd.DataFrame(columns))


def served(trained_model, text: str) -> np.ndarray:
    frame = codecs.decode(text.encode(), codecs.CSV, "", trained_model.schema)
    return trained_model.predict(features.encode(trained_model.schema, frame.columns, frame.n_rows))


def test_batch_path_equals_lightgbm_on_a_categorical_dataframe(trained_model, shaken):
    expected = pandas_reference(trained_model, shaken)
    got = served(trained_model, shaken.to_csv(index=False))
    assert len(got) == 1470
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_single_row_path_equals_lightgbm_for_every_employee(trained_model, shaken):
    expected = pandas_reference(trained_model, shaken)
    header = ",".join(shaken.columns)
    lines = shaken.to_csv(index=False, header=False).splitlines()
    got = np.array([served(trained_model, f"{header}\n{line}\n")[0] for line in lines])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_small_and_large_requests_encode_alike(trained_model, shaken):
    text = shaken.head(40).to_csv(index=False)
    frame = codecs.decode(text.encode(), codecs.CSV, "", trained_model.schema)
    whole = features.encode(trained_model.schema, frame.columns, frame.n_rows)
    rows = [features.encode(trained_model.schema, {k: v[i:i + 1] for k, v in frame.columns.items()}, 1)
            for i in range(frame.n_rows)]
    np.testing.assert_array_equal(np.vstack(rows), whole)
