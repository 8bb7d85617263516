"""Local data capture: one line per answered request, in SageMaker's layout, sampled on demand."""

from attrition.core import capture, environment
from attrition.serve.recorder import Recorder, recorder


def test_off_unless_a_folder_is_set():
    assert recorder(environment.capture_settings({})) is None
    on = recorder(environment.capture_settings({"ATTRITION_CAPTURE_DIR": "/c", "ATTRITION_CAPTURE_PERCENT": "5"}))
    assert on is not None and on.percent == 5.0


def test_each_request_is_a_line_monitor_can_read(tmp_path):
    keeper = Recorder(tmp_path, percent=100)
    for _ in range(3):
        keeper.record(b"41,Yes\n", "text/csv", b"0.7,Yes\n", "text/csv")
    (path,) = tmp_path.rglob("*.jsonl")
    assert len(path.relative_to(tmp_path).parts) == 5  # yyyy/mm/dd/hh/capture-<pid>.jsonl
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert capture.body(capture.parse_line(lines[0]).response) == b"0.7,Yes\n"


def test_zero_percent_records_nothing(tmp_path):
    keeper = Recorder(tmp_path, percent=0)
    keeper.record(b"41,Yes\n", "text/csv", b"0.7,Yes\n", "text/csv")
    assert not list(tmp_path.rglob("*"))
