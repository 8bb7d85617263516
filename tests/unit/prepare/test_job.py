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


def test_a_big_export_is_checked_and_split_without_holding_its_rows_as_strings(tmp_path, ibm_text):
    """Duplicates are counted by a digest of each row and the splits are written a row at a time:
    a 1.5 M-row export took 1.7 GB before (the rows as tuples of strings, the splits as text), 1.2 GB
    after. Here: memory grows by less than 5.5 times the file between 1 k and 201 k employees."""
    import subprocess
    import sys
    from pathlib import Path

    header, *rows = ibm_text.splitlines()
    number = header.split(",").index("EmployeeNumber")

    def peak(count: int) -> int:
        folder = tmp_path / f"export{count}"
        folder.mkdir()
        with open(folder / "export.csv", "w") as out:
            out.write(header + "\n")
            for i in range(count):
                cells = rows[i % len(rows)].split(",")
                cells[number] = str(10**7 + i)  # each row its own employee: no duplicates
                out.write(",".join(cells) + "\n")
        script = ("import resource, sys; from attrition.prepare import job; "
                  f"code = job.main(['--input', {str(folder)!r}, '--output', {str(tmp_path / f'out{count}')!r}], "
                  f"{{'SAGEMAKER_BASE_DIR': {str(tmp_path / f'opt{count}')!r}}}); "
                  "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                              env={"PYTHONPATH": str(Path(prepare.__file__).parents[2])})
        code, used = done.stdout.split()[-2:]
        assert code == "0", done.stdout + done.stderr
        return int(used)

    small, large = peak(1_000), peak(201_000)
    size = (tmp_path / "export201000" / "export.csv").stat().st_size
    assert large - small < 5.5 * size, f"{(large - small) / size:.1f} times the file"  # 4.4 now, 6.8 before
