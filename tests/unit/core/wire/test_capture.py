"""The data-capture record: what serve writes, monitor reads back unchanged."""

import json
import time

import pytest

from attrition.core.wire import capture


def test_a_written_record_reads_back():
    now = time.gmtime(0)
    line = capture.record_line(b"41,No\n", "text/csv; charset=utf-8", b'{"predictions":[]}', "application/json", now)
    record = capture.parse_line(line)
    assert record.request["encoding"] == "CSV" and capture.body(record.request) == b"41,No\n"
    assert record.request_type == ("text/csv", "utf-8")
    assert record.response_type == ("application/json", "")
    assert record.time.isoformat() == "1970-01-01T00:00:00+00:00"


def test_the_callers_inference_id_is_recorded_as_sagemaker_does():
    given = json.loads(capture.record_line(b"41", "text/csv", b"0.5", "text/csv", time.gmtime(), "req-7"))
    assert given["eventMetadata"]["inferenceId"] == "req-7"
    plain = json.loads(capture.record_line(b"41", "text/csv", b"0.5", "text/csv", time.gmtime()))
    assert "inferenceId" not in plain["eventMetadata"]


def test_an_event_id_given_is_kept_so_a_shadow_and_its_production_variant_pair_up():
    line = capture.record_line(b"41", "text/csv", b"0.5", "text/csv", time.gmtime(), event_id="e-1")
    assert json.loads(line)["eventMetadata"]["eventId"] == "e-1"


def test_bodies_that_are_not_text_are_base64():
    line = capture.record_line(b"\xff\xfe", "text/csv", b"\x00", "application/x-protobuf", time.gmtime())
    record = capture.parse_line(line)
    assert record.request["encoding"] == "BASE64" and capture.body(record.request) == b"\xff\xfe"
    assert capture.body(record.response) == b"\x00"


@pytest.mark.parametrize("line", ['{"captureData": {"endpointInput"', "[]", '{"captureData": {}}',
                                  '{"captureData": {"endpointInput": 3}}'])
def test_broken_lines_are_refused(line):
    with pytest.raises(ValueError):
        capture.parse_line(line)


def test_broken_base64_is_refused():
    with pytest.raises(ValueError):
        capture.body({"encoding": "BASE64", "data": "not base64!"})


@pytest.mark.parametrize("text, expected", [("2026-11-28T10:00:00Z", "2026-11-28T10:00:00+00:00"),
                                            ("2026-11-28T10:00:00", "2026-11-28T10:00:00+00:00"),
                                            ("2026-11-28T11:00:00+01:00", "2026-11-28T11:00:00+01:00"),
                                            ("yesterday", None), ("", None)])
def test_times(text, expected):
    when = capture.parse_time(text)
    assert (when.isoformat() if when else None) == expected
