"""Reading a window: capture files and CSV files; what cannot be used is counted by reason."""

import base64
import subprocess
import sys
from datetime import UTC, datetime

from attrition.monitor import window
from tests.helpers import ROOT, capture_record


def test_every_record_is_read_or_counted_as_skipped(tmp_path, trained_model, ibm_text):
    rows = ibm_text.splitlines()
    good = capture_record(("\n".join(rows[1:4]) + "\n").encode(), "text/csv", b"0.1,No\n0.2,No\n0.9,Yes\n", "text/csv")
    late = capture_record((rows[4] + "\n").encode(), "text/csv", b"0.1,No\n", "text/csv", when="2027-01-01T00:00:00Z")
    folder = tmp_path / "capture"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join([
        good, late, good[:40], capture_record(b"<xml/>", "application/xml", b"", "text/csv"),
        capture_record(b"1,2,3\n", "text/csv", b"", "text/csv"),
    ]) + "\n")
    (folder / "recent.csv").write_text("\n".join(rows[:3]) + "\n")
    (folder / "notes.txt").write_text("not data")
    end = datetime(2026, 12, 1, tzinfo=UTC)
    read = window.read(folder, trained_model.schema, end=end)
    assert read.rows == 3 + 2 and read.records == 6 and read.files == 3
    assert list(read.probabilities) == [0.1, 0.2, 0.9]
    assert dict(read.skipped) == {
        "outside the analysis window": 1,
        "truncated or malformed capture line": 1,
        "request content type application/xml is not one we decode": 1,
        "request body the endpoint would refuse": 1,
        "file type .txt is not read": 1,
    }
    assert len(read.columns["Age"]) == read.rows


def test_base64_requests_are_decoded(tmp_path, trained_model, ibm_text):
    row = (ibm_text.splitlines()[1] + "\n").encode()
    line = capture_record(row, "text/csv", b"0.5,Yes\n", "text/csv", base64_encoded=True)
    assert base64.b64encode(row).decode() in line
    (tmp_path / "c.jsonl").write_text(line + "\n")
    read = window.read(tmp_path, trained_model.schema)
    assert read.rows == 1 and list(read.probabilities) == [0.5] and not read.skipped


def test_a_window_of_many_records_is_held_in_compact_columns(tmp_path, trained_dir, ibm_text):
    """Memory grows by tens of bytes a captured employee, not by their cells as Python strings
    (716 bytes each before: a million records did not fit in 512 MB)."""
    rows = ibm_text.splitlines()[1:]

    def peak_reading(records: int) -> int:
        folder = tmp_path / f"capture{records}"
        folder.mkdir()
        with open(folder / "c.jsonl", "w") as out:
            for i in range(records):
                out.write(capture_record((rows[i % len(rows)] + "\n").encode(), "text/csv", b"0.25,No\n",
                                         "text/csv") + "\n")
        script = ("import resource, sys; from attrition.monitor import window; "
                  "from attrition.core.predict import model;"
                  f"m = model.load(__import__('pathlib').Path({str(trained_dir / 'model')!r}));"
                  f"w = window.read(__import__('pathlib').Path({str(folder)!r}), m.schema);"
                  "print(w.rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                              env={"PYTHONPATH": str(ROOT / "container" / "program")})
        read, peak = map(int, done.stdout.split())
        assert read == records, done.stderr
        return peak

    few, many = peak_reading(1_000), peak_reading(41_000)
    assert (many - few) / 40_000 < 200, f"{(many - few) / 40_000:.0f} bytes a record"


def test_a_big_csv_window_is_read_a_frame_at_a_time_and_a_bad_file_is_skipped_whole(tmp_path, trained_dir, ibm_text):
    """A CSV window of employees grows memory by its compact columns, not its cells as Python
    strings (read whole, 1.5 M rows took 6 GB: 27 times the file); a file with one row the
    endpoint would refuse is still skipped whole, its good rows included."""
    header, *rows = ibm_text.splitlines()

    def peak_reading(count: int, bad: bool = False) -> tuple[int, int, str]:
        folder = tmp_path / f"csv{count}{bad}"
        folder.mkdir()
        with open(folder / "employees.csv", "w") as out:
            out.write(header + "\n")
            for i in range(count):
                out.write(rows[i % len(rows)] + "\n")
            if bad:
                out.write(rows[0].replace(rows[0].split(",")[0], "forty-one", 1) + "\n")  # Age not a number
        script = ("import resource, sys; from attrition.monitor import window; "
                  "from attrition.core.predict import model;"
                  f"m = model.load(__import__('pathlib').Path({str(trained_dir / 'model')!r}));"
                  f"w = window.read(__import__('pathlib').Path({str(folder)!r}), m.schema);"
                  "print(w.rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "
                  "repr(sorted(w.skipped)).replace(' ', '_'))")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                              env={"PYTHONPATH": str(ROOT / "container" / "program")})
        read, peak, skipped = done.stdout.split()
        return int(read), int(peak), skipped

    (few, small, _), (many, large, _) = peak_reading(1_000), peak_reading(201_000)
    assert (few, many) == (1_000, 201_000)
    size = (tmp_path / "csv201000False" / "employees.csv").stat().st_size
    assert (large - small) < 6 * size, f"{(large - small) / size:.1f} times the file"  # float64 columns: 2x
    read, _, skipped = peak_reading(5_000, bad=True)
    assert read == 0 and "CSV_file_employees.csv" in skipped
