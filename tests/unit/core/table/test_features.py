"""Named raw columns -> LightGBM's float matrix."""

import math

import numpy as np
import pytest

from attrition.core.platform import mediatypes
from attrition.core.platform.errors import RequestError
from attrition.core.table import columns, features
from attrition.core.wire import codecs
from tests.helpers import shaken_employees, small_schema


@pytest.fixture(scope="module")
def shaken():
    return shaken_employees()


def test_encode_maps_categories_numbers_and_missing():
    s = small_schema({"age": ["30", "40"] * 6, "dept": ["HR", "Sales"] * 6})
    matrix = features.encode(s, {"age": ["31", None, "NA", 7], "dept": ["Sales", "Legal", "", " HR"]}, 4)
    assert matrix[:, 0].tolist()[0] == 31.0 and math.isnan(matrix[1, 0]) and math.isnan(matrix[2, 0])
    assert matrix[3, 0] == 7.0
    assert matrix[0, 1] == 1.0 and math.isnan(matrix[1, 1]) and math.isnan(matrix[2, 1])
    assert matrix[3, 1] == 0.0


def test_encode_names_missing_columns_and_bad_numbers():
    s = small_schema({"age": ["30", "40"] * 6, "dept": ["HR", "Sales"] * 6})
    with pytest.raises(RequestError, match="missing required column\\(s\\): dept"):
        features.encode(s, {"age": ["1"]}, 1)
    with pytest.raises(RequestError, match="^column 'age', row 2: text where a number is expected$"):
        features.encode(s, {"age": ["1", "forty"], "dept": ["HR", "HR"]}, 2)
    with pytest.raises(RequestError, match="row 1: text where a number is expected"):
        features.encode(s, {"age": [[1]], "dept": ["HR"]}, 1)
    with pytest.raises(RequestError, match="^column 'age', row 1: a number too large for a float$"):
        features.encode(s, {"age": [10 ** 400], "dept": ["HR"]}, 1)


def test_a_table_encodes_as_its_raw_cells_do():
    s = small_schema({"age": ["30", "40"] * 6, "dept": ["HR", "Sales"] * 6})
    raw = {"age": ["31", "", "NA", "7", "31"] * 5, "dept": ["Sales", "Legal", "", " HR", "HR"] * 5}
    table = features.encode_table(s, {name: columns.of(values) for name, values in raw.items()}, 25)
    np.testing.assert_array_equal(table, features.encode(s, raw, 25))
    assert table.flags.f_contiguous  # LightGBM reads it without a copy
    with pytest.raises(RequestError, match="^column 'age', row 3: text where a number is expected$"):
        features.encode_table(s, {"age": columns.of(["1", "1", "forty"]), "dept": columns.of(["HR"] * 3)}, 3)


def test_small_and_large_requests_encode_alike(trained_model, shaken):
    text = shaken.head(40).to_csv(index=False)
    frame = codecs.decode(text.encode(), mediatypes.CSV, "", trained_model.schema)
    whole = features.encode(trained_model.schema, frame.columns, frame.n_rows)
    rows = [features.encode(trained_model.schema, {k: v[i:i + 1] for k, v in frame.columns.items()}, 1)
            for i in range(frame.n_rows)]
    np.testing.assert_array_equal(np.vstack(rows), whole)
