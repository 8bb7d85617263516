"""Columns held compactly: what a reader gets back is what was read."""

import numpy as np

from attrition.core.table import columns
from attrition.core.table.columns import DISTINCT_LIMIT, Column


def test_a_dictionary_column_gives_back_every_spelling_in_order():
    column = Column()
    column.extend(["Yes", "No", "Yes"])
    column.extend(("No", "", "Yes"))
    assert list(column) == ["Yes", "No", "Yes", "No", "", "Yes"] and len(column) == 6
    assert column.levels == ["Yes", "No", ""] and column.counts().tolist() == [3, 2, 1]
    assert column.map(str.lower) == ["yes", "no", "yes", "no", "", "yes"]
    assert list(column.take(np.array([4, 0]))) == ["", "Yes"]
    assert column.spread([1.0, 0.0, np.nan])[:2].tolist() == [1.0, 0.0]


def test_many_distinct_numbers_become_float64_with_missing_as_nan():
    column = Column(keep_spellings=False)
    column.extend([str(i) for i in range(DISTINCT_LIMIT - 1)] + ["NA"])  # the limit, not past it
    assert column.numbers is None
    column.extend(["1.5", ""])  # past it: numbers from here on
    column.extend(["oops"])
    assert column.numbers is not None and len(column) == DISTINCT_LIMIT + 3
    assert np.isnan(column.numbers[DISTINCT_LIMIT - 1]) and np.isnan(column.numbers[-2])  # "NA" and ""
    assert column.numbers[-3] == 1.5 and column.first_text_row == DISTINCT_LIMIT + 3


def test_spellings_are_kept_when_asked_or_when_the_column_is_text():
    kept = columns.of([f"{i}.0" for i in range(DISTINCT_LIMIT + 10)])
    assert kept.numbers is None and list(kept)[-1] == f"{DISTINCT_LIMIT + 9}.0"
    text = Column(keep_spellings=False)
    text.extend([f"name {i}" for i in range(DISTINCT_LIMIT + 10)])
    assert text.numbers is None and len(text.levels) == DISTINCT_LIMIT + 10


def test_codes_are_small_until_the_column_has_many_spellings():
    few = columns.of(["a", "b"] * 10)
    assert few.codes.dtype == np.uint16
    many = columns.of([str(i) for i in range(70000)])
    assert many.codes.max() == 69999 and list(many)[69999] == "69999"
