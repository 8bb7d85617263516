"""The ground-truth record: SageMaker Model Monitor's format, one label a row of the captured request."""

import json

import pytest

from attrition.core.wire import groundtruth


def test_a_record_round_trips_in_sagemakers_shape():
    line = groundtruth.record_line(groundtruth.Truth("inf-7", ["Yes", "", "No"]))
    assert json.loads(line) == {"groundTruthData": {"data": "Yes\n\nNo", "encoding": "CSV"},
                                "eventMetadata": {"eventId": "inf-7"}, "eventVersion": "0"}
    assert groundtruth.parse_line(line) == groundtruth.Truth("inf-7", ["Yes", "", "No"])


@pytest.mark.parametrize("line", ['{"groundTruthData": {"data": "1"}}', "not json", '{"eventMetadata": 3}',
                                  '{"groundTruthData": {"data": 1}, "eventMetadata": {"eventId": "x"}}',
                                  '{"groundTruthData": {"data": "1"}, "eventMetadata": {"eventId": ""}}'])
def test_anything_else_is_refused_as_not_a_record(line):
    with pytest.raises(ValueError, match="not a ground-truth record"):
        groundtruth.parse_line(line)
