"""The drift demo's "next year": employees the champion never saw, shifted as a year might."""

import csv
import subprocess

from tests.helpers import BUNDLED_CSV, script


def _read(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_next_year_holds_only_employees_this_years_export_lacks(tmp_path):
    done = subprocess.run([script("attrition-next-year"), "--data", str(BUNDLED_CSV),
                           "--this-year", str(tmp_path / "this.csv"), "--output", str(tmp_path / "next.csv"),
                           "--seed", "4"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    everyone, this, after = _read(BUNDLED_CSV), _read(tmp_path / "this.csv"), _read(tmp_path / "next.csv")
    ids = [e["EmployeeNumber"] for e in after]
    assert len(this) + len(after) == len(everyone) and len(set(ids)) == len(ids)  # each unseen employee once
    assert not {e["EmployeeNumber"] for e in this} & set(ids)
    share = sum(e["OverTime"] == "Yes" for e in after) / len(after)
    assert share > sum(e["OverTime"] == "Yes" for e in everyone) / len(everyone) + 0.15  # shifted
