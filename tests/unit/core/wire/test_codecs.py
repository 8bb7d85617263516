import json

import pytest

from attrition.core.platform import mediatypes
from attrition.core.platform.errors import RequestError, UnsupportedMediaType
from attrition.core.wire import codecs

ROW = {"Age": "41", "Attrition": "Yes", "OverTime": "Yes", "JobRole": "Sales Executive"}


def decode(text, media_type=mediatypes.CSV, schema=None, charset=""):
    return codecs.decode(text.encode("utf-8"), media_type, charset, schema)


def test_csv_with_header_matches_columns_by_name(trained_model):
    frame = decode("OverTime,Age,EmployeeNumber\nYes,41,7\nNo,30,8\n", schema=trained_model.schema)
    assert frame.n_rows == 2
    assert list(frame.columns["Age"]) == ["41", "30"]
    assert list(frame.columns["OverTime"]) == ["Yes", "No"]


def test_csv_without_header_uses_training_order(trained_model, ibm_text):
    lines = ibm_text.splitlines()
    with_label = lines[1]
    cells = with_label.split(",")
    without_label = ",".join(cells[:1] + cells[2:])  # Attrition is column 2 of the IBM file
    for row in (with_label, without_label):
        frame = decode(row + "\n", schema=trained_model.schema)
        assert frame.n_rows == 1
        assert list(frame.columns["Age"]) == ["41"]
        assert list(frame.columns["JobRole"]) == ["Sales Executive"]


def test_csv_row_of_wrong_length_is_explained(trained_model):
    with pytest.raises(RequestError, match="rows have 3 fields but the model expects 34 columns"):
        decode("1,2,3\n", schema=trained_model.schema)


def test_byte_order_mark_and_charset_parameter(trained_model):
    body = "\ufeffAge,OverTime\n41,Yes\n".encode("utf-8")
    frame = codecs.decode(body, mediatypes.CSV, "UTF-8", trained_model.schema)
    assert list(frame.columns["Age"]) == ["41"]
    latin = "Age,JobRole\n41,Caf\xe9\n".encode("latin-1")
    assert list(codecs.decode(latin, mediatypes.CSV, "latin-1", trained_model.schema).columns["JobRole"]) == ["Caf\xe9"]


@pytest.mark.parametrize(
    "body, media_type, charset, error, message",
    [
        (b"", mediatypes.CSV, "", RequestError, "body is empty"),
        (b"\xff\xfe\x00", mediatypes.CSV, "", RequestError, "not valid UTF-8"),
        (b"Age\n1\n", mediatypes.CSV, "klingon", UnsupportedMediaType, "charset 'klingon'"),
        (b"[{]", mediatypes.JSON, "", RequestError, "not valid JSON"),
        (b"42", mediatypes.JSON, "", RequestError, "must be a list of records"),
        (b"[]", mediatypes.JSON, "", RequestError, "no rows"),
        (b'[{"Age": 1}, [1]]', mediatypes.JSON, "", RequestError, "each record must be"),
        (b'{"Age": 1}\n{oops\n', mediatypes.JSONLINES, "", RequestError, "line 2 is not valid JSON"),
        (b"Age,OverTime\n", mediatypes.CSV, "", RequestError, "header row but no data rows"),
    ],
)
def test_bad_bodies(trained_model, body, media_type, charset, error, message):
    with pytest.raises(error, match=message):
        codecs.decode(body, media_type, charset, trained_model.schema)


@pytest.mark.parametrize(
    "text, media_type",
    [
        (json.dumps([ROW, ROW]), mediatypes.JSON),
        (json.dumps({"instances": [ROW, ROW]}), mediatypes.JSON),
        (json.dumps(ROW) + "\n" + json.dumps(ROW) + "\n", mediatypes.JSONLINES),
    ],
)
def test_json_shapes(trained_model, text, media_type):
    frame = decode(text, media_type, trained_model.schema)
    assert frame.n_rows == 2
    assert frame.columns["JobRole"] == ["Sales Executive", "Sales Executive"]


def test_json_record_missing_a_key_gives_missing_value(trained_model):
    frame = decode(json.dumps([{"Age": 30}, {"Age": 40, "OverTime": "No"}]), mediatypes.JSON, trained_model.schema)
    assert frame.columns["OverTime"] == [None, "No"]


def test_encode_every_response_type():
    p = [0.25, 0.75]
    labels = ["No", "Yes"]
    assert codecs.encode(p, labels, mediatypes.CSV) == "0.25,No\n0.75,Yes\n"
    assert json.loads(codecs.encode(p, labels, mediatypes.JSON)) == {
        "predictions": [{"probability": 0.25, "label": "No"}, {"probability": 0.75, "label": "Yes"}]
    }
    lines = codecs.encode(p, labels, mediatypes.JSONLINES).splitlines()
    assert [json.loads(line)["label"] for line in lines] == ["No", "Yes"]


def test_csv_labels_with_commas_are_quoted():
    assert codecs.encode([0.5], ["Left, voluntary"], mediatypes.CSV) == '0.5,"Left, voluntary"\n'
