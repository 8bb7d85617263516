"""What counts as missing, and the one spelling of each category."""


import pytest

from attrition.core.table.values import canonical_category, is_missing


@pytest.mark.parametrize("value", [None, "", " ", "NA", "n/a", "NaN", "null", "None", float("nan")])
def test_missing_tokens(value):
    assert is_missing(value)


@pytest.mark.parametrize("value, spelled", [(3, "3"), (3.0, "3"), ("3.0", "3"), (" Sales ", "Sales"),
                                            ("2.5", "2.5"), (True, "true")])
def test_categories_have_one_spelling(value, spelled):
    assert canonical_category(value) == spelled
