"""A "next year" HR export made from an existing one, to try drift and retraining for free.

The export is cut in two halves of its employees (alternate rows): "this year" (--this-year, the
export to train the champion on) and the employees the champion never sees. Next year's export is
drawn from the second half only, at random, then shifted as a year might shift it: more overtime
(35 % of those without it now work it), a new job role (Data Scientist, 12 %), incomes in Research
& Development up 15 %. Labels stay as they were. --unshifted draws without the shift (a window
without drift). Written as the export (with the label) and, with --traffic, as the JSON records a
client would send the endpoint (without it).

    attrition-next-year --data container/local_test/test_dir/input/data/train/ibm_hr_attrition.csv \\
        --this-year this-year.csv --output next-year.csv --traffic requests.json
"""

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

LABEL = "Attrition"


def halves(employees: list[dict]) -> tuple[list[dict], list[dict]]:
    """This year's employees (the champion's to train on) and the others, alternate rows."""
    return employees[::2], employees[1::2]


def sample(employees: list[dict], rows: int, seed: int, shifted: bool, replace: bool = True) -> list[dict]:
    """`rows` employees drawn at random (each at most once when not `replace`), shifted or not."""
    rng = np.random.default_rng(seed)
    drawn = []
    for i in rng.integers(0, len(employees), rows) if replace else rng.permutation(len(employees))[:rows]:
        employee = dict(employees[i])
        if shifted:
            if employee["OverTime"] == "No" and rng.random() < 0.35:
                employee["OverTime"] = "Yes"
            if rng.random() < 0.12:
                employee["JobRole"] = "Data Scientist"
            if employee["Department"] == "Research & Development":
                employee["MonthlyIncome"] = str(round(int(employee["MonthlyIncome"]) * 1.15))
        drawn.append(employee)
    return drawn


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="attrition-next-year", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the export to draw from (CSV with a header)")
    parser.add_argument("--output", type=Path, required=True, help="the new export, CSV with the label")
    parser.add_argument("--this-year", type=Path,
                        help="also this year's half of the employees, CSV with the label: train the champion on it")
    parser.add_argument("--traffic", type=Path, help="also the rows as JSON records without the label")
    parser.add_argument("--rows", type=int, default=0,
                        help="how many employees (default: every employee of the unseen half, each once)")
    parser.add_argument("--seed", type=int, default=1, help="the draw's seed")
    parser.add_argument("--unshifted", action="store_true", help="draw without shifting (a window without drift)")
    args = parser.parse_args(argv)
    with args.data.open(encoding="utf-8-sig", newline="") as source:
        reader = csv.DictReader(source)
        fields, employees = list(reader.fieldnames or []), list(reader)
    this_year, unseen = halves(employees)
    rows = args.rows or len(unseen)
    drawn = sample(unseen, rows, args.seed, not args.unshifted, replace=rows > len(unseen))
    _write(args.output, fields, drawn)
    if args.this_year:
        _write(args.this_year, fields, this_year)
    if args.traffic:
        args.traffic.write_text(json.dumps([{k: v for k, v in row.items() if k != LABEL} for row in drawn]))
    return 0


def _write(path: Path, fields: list[str], employees: list[dict]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(employees)


if __name__ == "__main__":
    sys.exit(main())
