"""Are the cohort forecasts' intervals right? Realised leavers per department against the 95 %
interval `score --cohorts` gives, on the bundled data, with out-of-fold probabilities (each
employee scored by a model that never saw them; the training job's own 5-fold cross-validation,
default hyperparameters), over bootstrap resamples of the employees.

    .venv/bin/python -m bench.cohorts [--resamples 1000] [--seed 0]

Prints, per department and per job role, the share of resamples whose realised leavers fall inside
the interval (the goal: at least 90 %), and the mean interval width.
"""

import argparse
from pathlib import Path

import numpy as np

from attrition.core.table import data, features, schema
from attrition.score import cohorts
from attrition.train import fitting, hyperparameters

ROOT = Path(__file__).resolve().parents[1]

DATA = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"


def out_of_fold(overrides: dict) -> tuple[np.ndarray, np.ndarray, dict]:
    """Every bundled employee's out-of-fold probability, label, and raw columns."""
    hp = hyperparameters.parse({**overrides, "num_threads": "2"})
    table = data.read_channel(DATA.parent, "Attrition", "auto", [])
    kept, y, classes = data.label_vector(table, "Yes")
    columns = table.column_values(kept)
    inferred = schema.infer(table.input_columns, columns, "Attrition", table.label_position, classes, [], [])
    x = features.encode_table(inferred, columns, len(y))
    categorical = [j for j, f in enumerate(inferred.features) if f.kind == schema.CATEGORICAL]
    folds = fitting.cross_validate(x, y, categorical, hp)
    return folds.out_of_fold, y, {name: list(columns[name]) for name in ("Department", "JobRole")}


def coverage(p: np.ndarray, y: np.ndarray, groups: list, resamples: int, seed: int) -> dict:
    """group -> (share of resamples with realised leavers inside the interval, mean width)."""
    rng = np.random.default_rng(seed)
    labels = np.array(groups)
    inside: dict = {group: [] for group in sorted(set(groups))}
    widths: dict = {group: [] for group in inside}
    for _ in range(resamples):
        drawn = rng.integers(0, len(p), len(p))
        for group in inside:
            rows = drawn[labels[drawn] == group]
            q = p[rows]
            spread = q * (1 - q)
            low, high = cohorts.interval(float(q.sum()), float(spread.sum()), float((spread * (1 - 2 * q)).sum()),
                                         len(rows))
            inside[group].append(low <= int(y[rows].sum()) <= high)
            widths[group].append(high - low)
    return {group: (float(np.mean(inside[group])), float(np.mean(widths[group]))) for group in inside}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    p, y, columns = out_of_fold({})
    print(f"{len(y)} employees, {int(y.sum())} left; {args.resamples} bootstrap resamples")
    for column, groups in columns.items():
        print(f"\n| {column} | employees | realised inside the 95 % interval | mean width |\n|---|---:|---:|---:|")
        for group, (share, width) in coverage(p, y, groups, args.resamples, args.seed).items():
            print(f"| {group} | {groups.count(group)} | {share:.1%} | {width:.1f} |")


if __name__ == "__main__":
    main()
