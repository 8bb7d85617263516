"""The `prepare` job, on SageMaker's Processing contract: the export in, three splits and a profile out.

    /opt/ml/processing/input/export/   one or more CSV files (the HR export, as `train` reads them)
    /opt/ml/processing/output/train/train.csv, validation/validation.csv, test/test.csv
    /opt/ml/processing/output/profile/profile.json, profile.html (data quality and insights: insights.py)

It checks the export (readable, a label with two classes, duplicates within bounds, enough rows of
each class for every split), profiles every column, and splits the labelled rows at random but
deterministically (seeded), keeping each class's share in every split. Anything wrong is one line
in /opt/ml/output/failure and exit code 2. This is the preparation step as code: versioned,
reproducible, its profile an artifact.
"""

import argparse
import csv
import hashlib
import os
from pathlib import Path

import numpy as np

from ..core.platform import artifact, environment, jobs
from ..core.platform.errors import UserError
from ..core.table import data, schema
from ..core.table.values import is_missing
from . import insights

SPLITS = ("train", "validation", "test")


def main(argv: list[str] | None = None, environ=None) -> int:
    return jobs.run("prepare", os.environ if environ is None else environ, lambda paths: _work(paths, argv))


def _work(paths: environment.Paths, argv: list[str] | None) -> str:
    args = _parser(paths).parse_args(argv)
    jobs.leave_root("prepare", reads=[args.input], writes=[args.output, paths.output_dir])
    profile = run(args)
    counts = ", ".join(f"{s} {profile['splits'][s]['rows']} rows" for s in SPLITS)
    return f"prepare: {profile['rows']} employees, {profile['label']['positives']} left: {counts}"


def run(args: argparse.Namespace) -> dict:
    if args.test_fraction + args.validation_fraction >= 0.9:
        raise UserError("--test-fraction and --validation-fraction leave less than 10 % of the rows to train on")
    table = data.read_channel(args.input, args.label_column, args.header)
    rows, y, classes = data.label_vector(table, args.positive_class)
    duplicates = _duplicates(table, rows)
    if duplicates / len(rows) > args.max_duplicate_share:
        raise UserError(f"{duplicates} of {len(rows)} labelled rows are exact duplicates of another row, more "
                        f"than --max-duplicate-share {args.max_duplicate_share:g}: check the export")
    parts = split(y, args.test_fraction, args.validation_fraction, args.seed, classes)
    columns = table.column_values(rows)
    inferred = schema.infer(table.input_columns, columns, table.label_column, table.label_position, classes, [], [])
    profile = _profile(table, rows, y, classes, duplicates, parts, args, columns, inferred)
    found = insights.insights(columns, y, inferred, profile)
    profile["insights"] = found
    for name, indices in parts.items():
        _write_csv(args.output / name / f"{name}.csv", table, rows[indices])
    artifact.write_json(args.output / "profile" / "profile.json", profile)
    artifact.write_text(args.output / "profile" / "profile.html", insights.page(profile, columns, y, found))
    return profile


def split(y: np.ndarray, test: float, validation: float, seed: int, classes: list[str]) -> dict[str, np.ndarray]:
    """Row positions per split: each class shuffled with the seed and cut in the same shares."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {name: [] for name in SPLITS}
    for value, label in zip((0.0, 1.0), classes):
        members = rng.permutation(np.flatnonzero(y == value))
        n_test, n_validation = round(len(members) * test), round(len(members) * validation)
        if min(n_test, n_validation, len(members) - n_test - n_validation) < 2:
            raise UserError(f"only {len(members)} labelled rows of class {label!r}: too few to put at least two "
                            f"in each of train, validation and test; lower --test-fraction or "
                            f"--validation-fraction, or add rows")
        parts["test"].append(members[:n_test])
        parts["validation"].append(members[n_test:n_test + n_validation])
        parts["train"].append(members[n_test + n_validation:])
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


def _duplicates(table: data.Table, rows: np.ndarray) -> int:
    """Rows that repeat an earlier row exactly, counted by a 64-bit digest of each row: 8 bytes a
    row where a set of the rows held them all as Python strings (a collision among 1.5 M rows has
    odds of about 1 in 16 million)."""
    digests = np.fromiter((_digest(row) for row in table.rows_at(rows)), dtype=np.uint64, count=len(rows))
    return len(digests) - len(np.unique(digests))


def _digest(row: tuple) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(map(str, row)).encode(), digest_size=8).digest(), "little")


def _profile(table, rows, y, classes, duplicates, parts, args, columns: dict, inferred: schema.Schema) -> dict:
    kinds = {f.name: f.kind for f in inferred.features}
    return {
        "rows": int(len(rows)),
        "rows_without_label": table.n_rows - int(len(rows)),
        "files": table.files,
        "label": {"column": table.label_column, "classes": classes, "positives": int(y.sum())},
        "duplicates": {"rows": duplicates, "share": duplicates / len(rows)},
        "columns": {name: _column(columns[name], kinds.get(name), inferred.dropped.get(name))
                    for name in table.input_columns},
        "splits": {name: {"rows": int(len(idx)), "positives": int(y[idx].sum())} for name, idx in parts.items()},
        "settings": {"test_fraction": args.test_fraction, "validation_fraction": args.validation_fraction,
                     "seed": args.seed, "positive_class": args.positive_class},
    }


def _column(values, kind: str | None, dropped: str | None) -> dict:
    present = [v for v in values if not is_missing(v)]
    entry: dict = {"kind": kind or "dropped", "missing_share": 1 - len(present) / max(len(values), 1),
                   "distinct": len(set(present))}
    if dropped:
        entry["dropped"] = dropped
    if kind == schema.NUMERIC:
        numbers = np.array(present, dtype=np.float64)
        entry.update(min=float(numbers.min()), max=float(numbers.max()), mean=float(numbers.mean()))
    return entry


def _write_csv(path: Path, table: data.Table, indices: np.ndarray) -> None:
    """A split as CSV, written a row at a time (whole or not at all, as every artifact)."""
    with artifact.writing(path) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows(table.rows_at(indices))


def _parser(paths: environment.Paths) -> argparse.ArgumentParser:
    processing = paths.processing_dir
    parser = jobs.Arguments(prog="prepare", description="check, profile and split an HR export")
    parser.add_argument("--input", type=Path, default=processing / "input" / "export", help="the export's CSV files")
    parser.add_argument("--output", type=Path, default=processing / "output",
                        help="where train/, validation/, test/ and profile/ go")
    parser.add_argument("--label-column", default="Attrition", help="the label's column, in a CSV with a header")
    parser.add_argument("--positive-class", default="Yes", help="the label value that means 'left'")
    parser.add_argument("--header", default="auto", choices=["auto", "true", "false"], help="as train's `header`")
    parser.add_argument("--test-fraction", type=_fraction, default=0.2, help="share of each class for test")
    parser.add_argument("--validation-fraction", type=_fraction, default=0.2, help="share for validation")
    parser.add_argument("--seed", type=int, default=0, help="the split's seed: the same seed, the same split")
    parser.add_argument("--max-duplicate-share", type=_fraction, default=0.5,
                        help="fail when more of the rows than this repeat another row exactly")
    return parser


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 0 and below 1")
    return value
