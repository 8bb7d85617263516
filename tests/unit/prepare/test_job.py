"""prepare: the export checked, profiled, and split the same way for the same seed."""

import csv
import io
import json

import pytest

from attrition.prepare import job as prepare


def run(tmp_path, text: str, *args) -> tuple[int, dict]:
    export = tmp_path / "export"
    export.mkdir(exist_ok=True)
    (export / "hr.csv").write_text(text, encoding="utf-8")
    code = prepare.main(["--input", str(export), "--output", str(tmp_path / "out"), *args],
                        {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")})
    profile_file = tmp_path / "out" / "profile" / "profile.json"
    return code, json.loads(profile_file.read_text()) if profile_file.exists() else {}


def rows_of(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def test_the_bundled_export_is_split_stratified_and_reproducibly(tmp_path, ibm_text):
    code, profile = run(tmp_path, ibm_text, "--seed", "7")
    assert code == 0
    splits = {name: rows_of(tmp_path / "out" / name / f"{name}.csv") for name in ("train", "validation", "test")}
    assert [len(rows) for rows in splits.values()] == [882, 294, 294]
    ids = [r["EmployeeNumber"] for rows in splits.values() for r in rows]
    assert len(ids) == len(set(ids)) == 1470  # every employee in exactly one split
    shares = [sum(r["Attrition"] == "Yes" for r in rows) / len(rows) for rows in splits.values()]
    assert max(shares) - min(shares) < 0.01  # each split keeps the share of leavers
    assert profile["label"] == {"column": "Attrition", "classes": ["No", "Yes"], "positives": 237}
    assert profile["columns"]["EmployeeNumber"]["kind"] == "dropped"
    assert profile["columns"]["MonthlyIncome"]["kind"] == "numeric" and profile["duplicates"]["rows"] == 0
    again = tmp_path / "again"
    again.mkdir()
    run(again, ibm_text, "--seed", "7")
    assert (again / "out" / "test" / "test.csv").read_text() == (tmp_path / "out" / "test" / "test.csv").read_text()
    other = tmp_path / "other"
    other.mkdir()
    run(other, ibm_text, "--seed", "8")
    assert (other / "out" / "test" / "test.csv").read_text() != (tmp_path / "out" / "test" / "test.csv").read_text()


@pytest.mark.parametrize("text, args, message", [
    ("Age,Left\n1,Yes\n2,No\n", [], "label column 'Attrition'"),
    ("Age,Attrition\n" + "1,No\n" * 20, [], "single class"),
    ("Age,Attrition\n" + "".join(f"{i},{'Yes' if i < 3 else 'No'}\n" for i in range(40)), [],
     "only 3 labelled rows of class 'Yes': too few"),
    ("Age,Attrition\n" + "1,Yes\n2,No\n" * 30, [], "are exact duplicates"),
    ("Age,Attrition\n1,Yes\n", ["--test-fraction", "1.5"], "--test-fraction: '1.5' must be at least 0 and below 1"),
    ("Age,Attrition\n1,Yes\n", ["--test-fraction", "0.5", "--validation-fraction", "0.45"], "less than 10 %"),
])
def test_a_bad_export_fails_with_one_line(tmp_path, text, args, message):
    code, _ = run(tmp_path, text, *args)
    failure = (tmp_path / "opt_ml" / "output" / "failure").read_text()
    assert code == 2 and failure.count("\n") == 1
    assert message in failure, failure
