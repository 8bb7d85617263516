"""score: a folder of CSV files scored offline, row for row what /invocations answers."""

import csv
import io
import subprocess
import sys

import pytest

from attrition.score import job as score
from tests.helpers import ROOT
from tests.http_client import Client, post


def run(tmp_path, model_dir, files: dict, *args) -> int:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, text in files.items():
        (inputs / name).write_text(text)
    return score.main(["--model", str(model_dir), "--input", str(inputs), "--output", str(tmp_path / "out"), *args],
                      {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")})


def test_each_file_scored_as_the_endpoint_answers(tmp_path, trained_dir, trained_model, ibm_text):
    from attrition.core import environment
    from attrition.serve.app import App

    rows = ibm_text.splitlines()
    big = "\n".join(rows + rows[1:] * 3) + "\n"  # 5,880 employees: several frames
    assert run(tmp_path, trained_dir / "model", {"big.csv": big, "few.csv": "\n".join(rows[1:4]) + "\n"}) == 0
    client = Client(App(trained_model, environment.serving_settings({})))
    for name, text in (("big.csv", big), ("few.csv", "\n".join(rows[1:4]) + "\n")):
        expected = post(client, text, accept="text/csv").get_data(as_text=True)
        assert (tmp_path / "out" / f"{name}.out").read_text() == expected


def test_join_puts_each_row_before_its_answer(tmp_path, trained_dir, ibm_text):
    rows = ibm_text.splitlines()[:3]
    assert run(tmp_path, trained_dir / "model", {"a.csv": "\n".join(rows) + "\n"}, "--join") == 0
    lines = (tmp_path / "out" / "a.csv.out").read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith(rows[1] + ",0.")


@pytest.mark.parametrize("files, message", [({}, "no file to score"),
                                            ({"bad.csv": "1,2\n"}, "bad.csv: rows have 2 fields")])
def test_nothing_or_something_unreadable_to_score_is_one_line(tmp_path, trained_dir, files, message):
    assert run(tmp_path, trained_dir / "model", files) == 2
    assert message in (tmp_path / "opt_ml" / "output" / "failure").read_text()


def test_join_keeps_a_quoted_field_with_a_line_break_in_its_row(tmp_path, trained_dir, ibm_text):
    header, *rows = ibm_text.splitlines()
    header = header + ",Note"
    written = [rows[0] + ',"moved teams\nin March"', rows[1] + ",none"]
    assert run(tmp_path, trained_dir / "model", {"a.csv": "\n".join([header, *written]) + "\n"}, "--join") == 0
    out = (tmp_path / "out" / "a.csv.out").read_text()
    joined = list(csv.reader(io.StringIO(out)))
    assert len(joined) == 2 and joined[0][-3] == "moved teams\nin March" and joined[1][-3] == "none"
    assert joined[0][:-3] == rows[0].split(",") and joined[0][-1] in ("Yes", "No")


def test_a_big_file_is_scored_in_memory_bounded_by_a_frame(tmp_path, trained_dir, ibm_text):
    """A 150 MB file is scored in a fresh process whose peak memory is that of a small one's."""
    header, *rows = ibm_text.splitlines()

    def peak_scoring(copies: int) -> tuple[int, int]:
        inputs, output = tmp_path / f"in{copies}", tmp_path / f"out{copies}"
        inputs.mkdir()
        with open(inputs / "big.csv", "w") as out:
            out.write(header + "\n")
            for _ in range(copies):
                out.write("\n".join(rows) + "\n")
        script = ("import resource; from attrition.score import job;"
                  f"code = job.main(['--model', {str(trained_dir / 'model')!r}, '--input', {str(inputs)!r}, "
                  f"'--output', {str(output)!r}], {{'SAGEMAKER_BASE_DIR': {str(tmp_path / 'opt_ml')!r}}});"
                  "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                              env={"PYTHONPATH": str(ROOT / "container" / "program"), "OMP_NUM_THREADS": "1"})
        code, peak = map(int, done.stdout.split()[-2:])
        assert code == 0, done.stderr
        with open(output / "big.csv.out") as answers:
            assert sum(1 for _ in answers) == copies * len(rows)
        return peak, (inputs / "big.csv").stat().st_size

    small, _ = peak_scoring(1)
    big, size = peak_scoring(660)  # ~150 MB, ~970,000 employees
    assert big - small < 0.25 * size, f"{(big - small) / 1e6:.0f} MB more for a {size / 1e6:.0f} MB file"
