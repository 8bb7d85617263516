"""CSV text -> rows and columns, for training files and request bodies alike."""


import io

import pytest

from attrition.core.platform.errors import UserError
from attrition.core.table import csvtext


@pytest.mark.parametrize("text", [
    "a,b,c\n1,2,3\n4,5,6\n",
    "a,b,c\n1,2,3\n4,5,6",  # no final newline
    "a,b\n\n1,2\n\n",  # blank lines
    'a,b\n"x, y",2\r\n3,4\r\n',  # quotes and CRLF: the csv module's path
    "a\n1\n2\n",  # one column
    ",\n,\n",  # empty cells
])
def test_columns_are_the_rows_transposed(text):
    rows = csvtext.parse_csv(text, "body")
    assert csvtext.parse_csv_columns(text, "body") == [list(column) for column in zip(*rows)]


def test_lines_of_different_widths_are_refused_even_when_the_total_adds_up():
    with pytest.raises(UserError, match="body line 2 has 4 fields; expected 3"):
        csvtext.parse_csv_columns("a,b,c\n1,2,3,4\n5,6\n", "body")


def test_a_stream_is_read_in_batches_with_the_same_rows_as_the_whole_text():
    text = 'a,b\n1,"x, y"\n\n2,"two\nlines"\n3,z\n'
    found = list(csvtext.batches(io.StringIO(text, newline=""), "t.csv", size=2))
    assert [len(batch) for batch in found] == [2, 2]
    assert [row for batch in found for row in batch] == csvtext.parse_csv(text, "t.csv")


def test_a_stream_names_the_bad_line_after_earlier_batches():
    text = "a,b\n" + "1,2\n" * 5 + "3\n"
    with pytest.raises(UserError, match="t.csv line 7 has 1 fields; expected 2"):
        list(csvtext.batches(io.StringIO(text), "t.csv", size=2))
    with pytest.raises(UserError, match="NUL bytes"):
        list(csvtext.batches(io.StringIO("a,b\n1,\x002\n"), "t.csv"))
