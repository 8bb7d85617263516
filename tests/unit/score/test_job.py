"""score: a folder of CSV files scored offline, row for row what /invocations answers."""

import csv
import io
import json
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
    from attrition.core.platform import environment
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


def test_cohorts_forecast_leavers_drivers_and_cost_per_group(tmp_path, trained_dir, ibm_text):
    rows = list(csv.DictReader(io.StringIO(ibm_text)))
    assert run(tmp_path, trained_dir / "model", {"a.csv": ibm_text}, "--cohorts", "Department,Department&JobRole",
               "--cost-column", "MonthlyIncome", "--cost-factor", "6") == 0
    report = json.loads((tmp_path / "out" / "cohorts.json").read_text())
    answers = [float(line.split(",")[0]) for line in (tmp_path / "out" / "a.csv.out").read_text().splitlines()]
    assert report["employees"] == len(rows) == len(answers)
    by_department, by_role = report["groupings"]
    assert by_department["by"] == ["Department"] and by_role["by"] == ["Department", "JobRole"]
    for cohort in by_department["cohorts"]:
        mine = [i for i, row in enumerate(rows) if row["Department"] == cohort["cohort"]["Department"]]
        assert cohort["employees"] == len(mine)
        assert cohort["expected_leavers"] == pytest.approx(sum(answers[i] for i in mine), abs=1e-3)
        assert cohort["expected_cost"] == pytest.approx(sum(answers[i] * float(rows[i]["MonthlyIncome"]) * 6
                                                            for i in mine), rel=1e-9, abs=0.01)
        assert cohort["realised_leavers"] == sum(rows[i]["Attrition"] == "Yes" for i in mine)
        low, high = cohort["interval"]
        assert low < cohort["expected_leavers"] < high
        assert cohort["top_drivers"] and all(d["mean_contribution"] > 0 for d in cohort["top_drivers"])
    expected = [c["expected_leavers"] for c in by_department["cohorts"]]
    assert expected == sorted(expected, reverse=True)
    assert sum(c["employees"] for c in by_role["cohorts"]) == len(rows)
    table = list(csv.DictReader(io.StringIO((tmp_path / "out" / "cohorts.csv").read_text())))
    assert len(table) == len(by_department["cohorts"]) + len(by_role["cohorts"])
    assert table[0]["grouping"] == "Department" and table[0]["top_drivers"]


@pytest.mark.parametrize("args, message", [
    (["--cohorts", "Division"], "--cohorts: no column Division in a.csv"),
    (["--cohorts", "Department", "--cost-column", "Salary"], "--cohorts: no column Salary in a.csv"),
    (["--cost-column", "MonthlyIncome"], "--cost-column needs --cohorts"),
    (["--cohorts", "Department", "--cost-factor", "0"], "--cost-factor must be a positive number"),
    (["--cohorts", "Department", "--cost-factor", "nan"], "--cost-factor must be a positive number"),
])
def test_a_cohort_request_the_data_cannot_meet_is_one_line(tmp_path, trained_dir, ibm_text, args, message):
    assert run(tmp_path, trained_dir / "model", {"a.csv": ibm_text}, *args) == 2
    assert message in (tmp_path / "opt_ml" / "output" / "failure").read_text()


def test_too_many_cohorts_is_one_line(tmp_path, trained_dir, ibm_text, monkeypatch):
    monkeypatch.setattr("attrition.score.cohorts.MAX_COHORTS", 100)
    assert run(tmp_path, trained_dir / "model", {"a.csv": ibm_text}, "--cohorts", "EmployeeNumber") == 2
    assert "more than 100 groups" in (tmp_path / "opt_ml" / "output" / "failure").read_text()


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
    """A 230 MB file (1.5 M employees) is scored, with cohort forecasts, in a fresh process whose
    peak memory is that of a small one's."""
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
                  f"'--output', {str(output)!r}, '--cohorts', 'Department,Department&JobRole', '--cost-column', "
                  f"'MonthlyIncome'], {{'SAGEMAKER_BASE_DIR': {str(tmp_path / 'opt_ml')!r}}});"
                  "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                              env={"PYTHONPATH": str(ROOT / "container" / "program"), "OMP_NUM_THREADS": "1"})
        code, peak = map(int, done.stdout.split()[-2:])
        assert code == 0, done.stderr
        with open(output / "big.csv.out") as answers:
            assert sum(1 for _ in answers) == copies * len(rows)
        assert json.loads((output / "cohorts.json").read_text())["employees"] == copies * len(rows)
        return peak, (inputs / "big.csv").stat().st_size

    small, _ = peak_scoring(1)
    big, size = peak_scoring(1020)  # ~230 MB, ~1,500,000 employees
    assert big - small < 0.25 * size, f"{(big - small) / 1e6:.0f} MB more for a {size / 1e6:.0f} MB file"
