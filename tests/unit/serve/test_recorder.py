"""Local data capture: one line per answered request, in SageMaker's layout, sampled on demand."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from attrition.core.platform import environment
from attrition.core.wire import capture
from attrition.serve.policy import Kept
from attrition.serve.recorder import Recorder, recorder

ROW = Kept(b"41,Yes\n", "text/csv", {})


def _keeper(folder, **settings) -> Recorder:
    environ = {"ATTRITION_CAPTURE_DIR": str(folder),
               **{f"ATTRITION_CAPTURE_{k.upper()}": v for k, v in settings.items()}}
    made = recorder(environment.capture_settings(environ))
    assert made is not None
    return made


def test_off_unless_a_folder_is_set():
    assert recorder(environment.capture_settings({})) is None
    on = recorder(environment.capture_settings({"ATTRITION_CAPTURE_DIR": "/c", "ATTRITION_CAPTURE_PERCENT": "5"}))
    assert on is not None and on.percent == 5.0


def test_each_request_is_a_line_monitor_can_read(tmp_path):
    keeper = _keeper(tmp_path)
    for _ in range(3):
        keeper.record(ROW, b"0.7,Yes\n", "text/csv")
    (path,) = tmp_path.rglob("*.jsonl")
    assert len(path.relative_to(tmp_path).parts) == 5  # yyyy/mm/dd/hh/capture-<pid>.jsonl
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert capture.body(capture.parse_line(lines[0]).response) == b"0.7,Yes\n"


def test_zero_percent_samples_nothing():
    assert not any(_keeper("/c", percent="0").sampled() for _ in range(1000))
    assert all(_keeper("/c").sampled() for _ in range(1000))


def test_a_full_disk_drops_records_whole_counts_them_and_warns_once(tmp_path):
    """The file size limit (RLIMIT_FSIZE) stands in for a full volume: writes past it are cut
    short or refused, as ENOSPC does. Every line left must parse; predictions never see it."""
    script = f"""
import resource, signal, sys
from attrition.core.platform import environment
from attrition.serve.policy import Kept
from attrition.serve.recorder import recorder
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))
keeper = recorder(environment.capture_settings({{"ATTRITION_CAPTURE_DIR": {str(tmp_path)!r}}}))
for _ in range(40):
    keeper.record(Kept(b"41,Yes,Travel_Rarely,1102\\n", "text/csv", {{}}), b"0.7,Yes\\n", "text/csv")
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


def test_protected_columns_go_to_their_own_store_under_the_records_event_id(tmp_path):
    keeper = _keeper(tmp_path / "capture", protected_columns="Gender", protected_dir=str(tmp_path / "apart"))
    keeper.record(Kept(b"Age\n41\n", "text/csv", {"Gender": ["Female"]}), b"0.7,Yes\n", "text/csv", "inf-1")
    (line,) = next((tmp_path / "capture").rglob("*.jsonl")).read_text().splitlines()
    (apart,) = next((tmp_path / "apart").rglob("protected-*.jsonl")).read_text().splitlines()
    event = json.loads(line)["eventMetadata"]
    assert json.loads(apart) | {"inferenceTime": ""} == {"eventId": event["eventId"], "inferenceId": "inf-1",
                                                        "inferenceTime": "", "columns": {"Gender": ["Female"]}}
    assert "Female" not in line


def test_hour_folders_older_than_the_retention_are_deleted_from_both_stores(tmp_path):
    now = datetime.now(UTC)
    old, young = now - timedelta(days=8, hours=1), now - timedelta(days=6)
    for store in ("capture", "apart"):
        for when in (old, young):
            folder = tmp_path / store / when.strftime("%Y/%m/%d/%H")
            folder.mkdir(parents=True)
            (folder / "capture-1.jsonl").write_text("{}\n")
    (tmp_path / "capture" / "notes").mkdir()  # not an hour folder: never touched
    _keeper(tmp_path / "capture", retention_days="7", protected_dir=str(tmp_path / "apart"))
    for store in ("capture", "apart"):
        left = sorted("/".join(p.relative_to(tmp_path / store).parts[:4]) for p in (tmp_path / store).rglob("*.jsonl"))
        assert left == [young.strftime("%Y/%m/%d/%H")]
    assert (tmp_path / "capture" / "notes").is_dir()
