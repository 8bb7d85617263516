"""CSV text -> rows and columns, for training files and request bodies alike."""


import pytest

from attrition.core import csvtext
from attrition.core.errors import UserError


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


@pytest.mark.parametrize("text", ["a,b\nYes,1\nYes,1\nNo,2\n", 'a,b\n"Yes",1\nYes,1\nNo,"2"\n'])
def test_shared_values_are_the_same_cells_one_object_each(text):
    shared = csvtext.parse_csv(text, "t.csv", share_values=True)
    assert shared == csvtext.parse_csv(text, "t.csv")
    assert shared[1][0] is shared[2][0] and shared[1][1] is shared[2][1]
