"""One Content-Type parser for serving and for reading captures."""

import pytest

from attrition.core.platform.mediatypes import parse_content_type


@pytest.mark.parametrize("header, expected", [
    ("text/csv", ("text/csv", "")),
    ("Text/CSV ", ("text/csv", "")),
    ("text/csv; charset=utf-8", ("text/csv", "utf-8")),
    ('application/json;charset="latin-1"', ("application/json", "latin-1")),
    ("application/json; foo=bar", ("application/json", "")),
    ("", ("", "")),
])
def test_media_type_and_charset(header, expected):
    assert parse_content_type(header) == expected
