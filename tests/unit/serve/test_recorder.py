"""Local data capture: one line per answered request, in SageMaker's layout, sampled on demand."""

import subprocess
import sys

from attrition.core import capture, environment
from attrition.serve.recorder import Recorder, recorder
from tests.helpers import ROOT


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


def test_a_full_disk_drops_records_whole_counts_them_and_warns_once(tmp_path):
    """The file size limit (RLIMIT_FSIZE) stands in for a full volume: writes past it are cut
    short or refused, as ENOSPC does. Every line left must parse; predictions never see it."""
    script = f"""
import resource, signal, sys
sys.path.insert(0, {str(ROOT / "container" / "program")!r})
from pathlib import Path
from attrition.serve.recorder import Recorder
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))
keeper = Recorder(Path({str(tmp_path)!r}), percent=100)
for _ in range(40):
    keeper.record(b"41,Yes,Travel_Rarely,1102\\n", "text/csv", b"0.7,Yes\\n", "text/csv")
print(keeper.dropped)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (path,) = tmp_path.rglob("*.jsonl")
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""  # ends on a whole record
    kept = [capture.parse_line(line.decode()) for line in lines[:-1]]
    assert 0 < len(kept) < 40 and int(done.stdout) == 40 - len(kept) - 1  # the first drop was reported
    assert done.stderr.count("\n") == 1 and "capture dropped 1 record(s)" in done.stderr
