import gzip
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from attrition.core.platform.errors import UserError
from attrition.core.table import data


def channel(tmp_path, files: dict):
    folder = tmp_path / "train"
    folder.mkdir()
    for name, content in files.items():
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(folder / name, mode) as out:
            out.write(content)
    return folder


def rows(table: data.Table) -> list:
    return [list(row) for row in table.rows_at(np.arange(table.n_rows))]


def test_header_layout_with_bom(tmp_path):
    folder = channel(tmp_path, {"a.csv": b"\xef\xbb\xbfAge,Attrition,Dept\n30,Yes,Sales\n40,No,HR\n"})
    table = data.read_channel(folder, "Attrition", "auto")
    assert table.columns == ["Age", "Attrition", "Dept"]
    assert table.input_columns == ["Age", "Dept"]
    assert table.label_position == 1
    assert rows(table) == [["30", "Yes", "Sales"], ["40", "No", "HR"]]


def test_builtin_layout_without_header_has_label_first(tmp_path):
    folder = channel(tmp_path, {"a.csv": "1,30,Sales\n0,40,HR\n"})
    table = data.read_channel(folder, "Attrition", "auto")
    assert table.columns == ["Attrition", "feature_1", "feature_2"]
    kept, y, classes = data.label_vector(table, "Yes")
    assert classes == ["0", "1"] and y.tolist() == [1.0, 0.0]


def test_several_files_are_joined_and_reordered_by_name(tmp_path):
    folder = channel(tmp_path, {
        "a.csv": "Age,Attrition\n30,Yes\n",
        "b.csv.gz": gzip.compress(b"Attrition,Age\nNo,41\n"),
        ".hidden.csv": "junk",
        "notes.json": "{}",
    })
    table = data.read_channel(folder, "Attrition", "auto")
    assert rows(table) == [["30", "Yes"], ["41", "No"]]
    assert [f["file"] for f in table.files] == ["train/a.csv", "train/b.csv.gz"]
    assert table.files[1]["sha256"] == hashlib.sha256((folder / "b.csv.gz").read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "files, message",
    [
        ({}, "holds no CSV file"),
        ({"a.csv": ""}, "a.csv is empty"),
        ({"a.csv": "Age,Attrition\n"}, "header but no data rows"),
        ({"a.csv": "Age,Attrition\n1,Yes\n2,No,3\n"}, "line 3 has 3 fields; expected 2"),
        ({"a.csv": b"Age,Attrition\n\xff\xfe,Yes\n"}, "not UTF-8"),
        ({"a.csv": "Age,Attrition\n1,Yes\n", "b.csv": "Age,Left\n1,Yes\n"}, "only one of them has a header row"),
        ({"a.csv": "Age,Attrition,Age\n1,Yes,2\n"}, "repeats column name"),
        ({"a.csv": "Age,Attrition\n1,Yes\n", "b.csv": "Attrition,Pay\nNo,2\n"},
         "different columns.*missing \\['Age'\\]"),
        ({"a.csv": b"Age,Attrition\n1,Y\x00es\n"}, "NUL bytes"),
        ({"a.csv.gz": gzip.compress(b"Age,Attrition\n1,Yes\n" * 1000)[:-30]}, "a.csv.gz is not a readable gzip file"),
    ],
)
def test_unreadable_channels_fail_with_the_reason(tmp_path, files, message):
    with pytest.raises(UserError, match=message):
        data.read_channel(channel(tmp_path, files), "Attrition", "auto")


def test_header_true_without_label_names_the_columns(tmp_path):
    folder = channel(tmp_path, {"a.csv": "Age,Left\n1,Yes\n"})
    with pytest.raises(UserError, match="label column 'Attrition' is not in the header.*Age, Left"):
        data.read_channel(folder, "Attrition", "true")


def test_a_file_of_many_batches_keeps_every_row_and_its_spellings(tmp_path):
    lines = [f"{i % 3000},{'Yes' if i % 7 == 0 else 'No'},{i * 0.5}\n" for i in range(40000)]
    folder = channel(tmp_path, {"a.csv": "Id,Attrition,Pay\n" + "".join(lines)})
    table = data.read_channel(folder, "Attrition", "auto", categorical=[])
    assert table.n_rows == 40000 and table.files[0]["rows"] == 40000
    assert table.values["Pay"].numbers is not None  # 40,000 distinct numbers: held as float64
    assert table.values["Id"].numbers is None and len(table.values["Id"].levels) == 3000
    assert rows(table)[39999] == ["999", "No", 19999.5]
    kept, y, _ = data.label_vector(table, "Yes")
    assert len(kept) == 40000 and int(y.sum()) == 5715


def test_label_rows_with_missing_values_are_skipped(tmp_path):
    folder = channel(tmp_path, {"a.csv": "Age,Attrition\n1,Yes\n2,\n3,No\n"})
    kept, y, classes = data.label_vector(data.read_channel(folder, "Attrition", "auto"), "Yes")
    assert kept.tolist() == [0, 2] and y.tolist() == [1.0, 0.0] and classes == ["No", "Yes"]


@pytest.mark.parametrize(
    "text, positive, message",
    [
        ("Age,Attrition\n1,No\n2,No\n", "Yes", "single class \\(only 'No'\\)"),
        ("Age,Attrition\n1,A\n2,B\n3,C\n", "A", "has 3 classes.*binary"),
        ("Age,Attrition\n1,Left\n2,Stayed\n", "Yes", "positive_class 'Yes' is not a value.*'Left' and 'Stayed'"),
    ],
)
def test_bad_labels_are_explained(tmp_path, text, positive, message):
    table = data.read_channel(channel(tmp_path, {"a.csv": text}), "Attrition", "auto")
    with pytest.raises(UserError, match=message):
        data.label_vector(table, positive)


def test_header_without_the_label_hints_at_label_column(tmp_path):
    text = "Age,Left\n" + "".join(f"{i},{'Yes' if i % 2 else 'No'}\n" for i in range(5))
    table = data.read_channel(channel(tmp_path, {"a.csv": text}), "Attrition", "auto")
    with pytest.raises(UserError, match="set label_column"):
        data.label_vector(table, "Yes")






def test_a_pipe_of_gzip_is_read_like_a_file(tmp_path):
    import os
    import subprocess

    fifo = tmp_path / "train_0"
    os.mkfifo(fifo)
    (tmp_path / "body.gz").write_bytes(gzip.compress(b"Age,Attrition\n30,Yes\n40,No\nAge,Attrition\n50,No\n"))
    writer = subprocess.Popen(["sh", "-c", f"cat '{tmp_path / 'body.gz'}' > '{fifo}'"])
    table = data.read_pipe(fifo, "Attrition", "auto")
    assert writer.wait(10) == 0
    assert rows(table) == [["30", "Yes"], ["40", "No"], ["50", "No"]] and table.columns == ["Age", "Attrition"]


def test_a_big_export_takes_less_memory_than_its_file(tmp_path, ibm_text):
    """Read as compact columns a batch at a time: held as strings, the same rows took 19x the file."""
    header, *body = ibm_text.splitlines()
    folder = tmp_path / "train"
    folder.mkdir()
    with open(folder / "big.csv", "w") as out:
        out.write(header + "\n")
        for copy in range(200):  # 294,000 employees, incomes made distinct: some columns become float64
            out.writelines(",".join(f"{v}{copy:03d}" if i == 18 else v for i, v in enumerate(line.split(","))) + "\n"
                           for line in body)
    size_mb = (folder / "big.csv").stat().st_size / 2**20
    program = ("import sys; from pathlib import Path; from attrition.core.table import data; "
               "peak = lambda: int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024; "
               "before = peak(); table = data.read_channel(Path(sys.argv[1]), 'Attrition', 'auto', []); "
               "print(table.n_rows, table.values['MonthlyIncome'].numbers is not None, peak() - before)")
    done = subprocess.run([sys.executable, "-c", program, str(folder)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    rows, as_float, grown_mb = done.stdout.split()
    assert rows == "294000" and as_float == "True"
    assert float(grown_mb) < 1.5 * size_mb, f"reading {size_mb:.0f} MB took {grown_mb} MB more"


def _gzip_of(path, piece: bytes, times: int, head: bytes = b"") -> None:
    """A gzip file of `head` then `piece` repeated, written without holding it expanded."""
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(head)
        for _ in range(times):
            out.write(piece)


@pytest.mark.parametrize("head, piece, times, message", [
    (b"", b"a" * (1 << 20), 60, "line 1 is longer than 1,048,576 characters"),  # one endless line
    (b"Age,Attrition\n", b"30,Yes\n40,No\n" * 80_000, 20, "expands more than 100x when unzipped"),  # rows
], ids=["one-line", "rows"])
def test_gzip_bombs_are_refused_before_they_fill_the_memory(tmp_path, head, piece, times, message):
    """Written small here (a 6 GB bomb reads the same way: the limits trip long before its end)."""
    folder = tmp_path / "train"
    folder.mkdir()
    _gzip_of(folder / "bomb.csv.gz", piece, times, head)
    with pytest.raises(UserError, match=message):
        data.read_channel(folder, "Attrition", "auto")


def test_a_line_of_25_million_fields_and_a_header_of_100_000_columns_are_refused_at_once(tmp_path):
    folder = channel(tmp_path, {"a.csv": "Attrition," + ",".join(f"c{i}" for i in range(100_000)) + "\n"})
    with pytest.raises(UserError, match="has 100,001 columns; at most 10,000 are read"):
        data.read_channel(folder, "Attrition", "auto")
    wide = tmp_path / "wide"
    wide.mkdir()
    with open(wide / "a.csv", "w") as out:
        out.write("Attrition,x\n" + "1," * 25_000_000 + "\n")
    with pytest.raises(UserError, match="line 2 is longer than"):
        data.read_channel(wide, "Attrition", "auto")


def test_a_wide_header_within_the_limit_is_read_in_linear_time(tmp_path):
    names = [f"c{i}" for i in range(10_000)]
    folder = channel(tmp_path, {"a.csv": ",".join(["Attrition", *names[1:]]) + "\n" + ",".join(["1"] * 10_000) + "\n"})
    table = data.read_channel(folder, "Attrition", "auto")
    assert len(table.columns) == 10_000 and table.n_rows == 1
