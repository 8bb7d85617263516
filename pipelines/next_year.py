"""A "next year" HR export made from the bundled data, to try drift and retraining for free:
incomes up 25 %, overtime spread (a third of those without it now work it), everyone a year
older; labels as they were. Written as the export (with the label) and, with --traffic, as the
JSON records a client would send the endpoint (without it).

    python pipelines/next_year.py --output next-year.csv [--traffic requests.json] [--seed 1]
"""

import argparse
import csv
import json
import random
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1] / "deploy")]
from local import BUNDLED  # noqa: E402

LABEL = "Attrition"


def shifted(rows: list[dict], seed: int) -> list[dict]:
    draw = random.Random(seed)
    changed = []
    for row in rows:
        row = dict(row)
        row["MonthlyIncome"] = str(round(int(row["MonthlyIncome"]) * 1.25))
        row["Age"] = str(int(row["Age"]) + 1)
        if row["OverTime"] == "No" and draw.random() < 1 / 3:
            row["OverTime"] = "Yes"
        changed.append(row)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=BUNDLED, help="the export to shift (default: the bundled one)")
    parser.add_argument("--output", type=Path, required=True, help="the shifted export, CSV with the label")
    parser.add_argument("--traffic", type=Path, help="also the rows as JSON records without the label")
    parser.add_argument("--unshifted", action="store_true", help="copy the rows unchanged (a window without drift)")
    parser.add_argument("--seed", type=int, default=1, help="which employees start working overtime")
    args = parser.parse_args(argv)
    with args.data.open(encoding="utf-8-sig", newline="") as source:
        reader = csv.DictReader(source)
        fields, rows = list(reader.fieldnames or []), list(reader)
    rows = rows if args.unshifted else shifted(rows, args.seed)
    with args.output.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    if args.traffic:
        args.traffic.write_text(json.dumps([{k: v for k, v in row.items() if k != LABEL} for row in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
