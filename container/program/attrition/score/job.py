"""The `score` job: every CSV file of a folder scored with a model, offline, in the shape Batch
Transform gives (`probability,label` per input row, in order; `--join` puts each input row first).

    /opt/ml/processing/model/   the model directory (or a folder holding model.tar.gz)
    /opt/ml/processing/input/   CSV files, with a header or in training order (as /invocations reads them)
    /opt/ml/processing/scores/  <file>.out for each input file; with --cohorts, cohorts.json and cohorts.csv

`--cohorts Department,JobRole` (`&` for both at once: `Department&JobRole`) forecasts each group's
leavers, drivers and, with --cost-column, replacement cost (cohorts.py).

Each file is read, encoded, scored and written a frame of rows at a time, as /invocations reads a
request: memory is bounded by a frame, whatever the file's size (gzip files are read too).
"""

import argparse
import math
import os
from pathlib import Path

from ..core.platform import artifact, environment, jobs, mediatypes
from ..core.platform.errors import UserError
from ..core.predict import model
from ..core.table import data, features
from ..core.wire import codecs
from .cohorts import Forecast, Grouping


def main(argv: list[str] | None = None, environ=None) -> int:
    return jobs.run("score", os.environ if environ is None else environ, lambda paths: _work(paths, argv))


def _work(paths: environment.Paths, argv: list[str] | None) -> str:
    args = _parser(paths).parse_args(argv)
    jobs.leave_root("score", reads=[args.model, args.input], writes=[args.output, paths.output_dir])
    scored = run(args)
    return f"score: {scored} employees scored" + (f"; cohorts in {args.output / COHORTS_JSON}" if args.cohorts else "")


COHORTS_JSON, COHORTS_CSV = "cohorts.json", "cohorts.csv"


def run(args: argparse.Namespace) -> int:
    groupings = Grouping.parse(args.cohorts) if args.cohorts else []
    if args.cost_column and not groupings:
        raise UserError("--cost-column needs --cohorts: the cost is forecast per cohort")
    if not (math.isfinite(args.cost_factor) and args.cost_factor > 0):
        raise UserError("--cost-factor must be a positive number (e.g. 6 for six months of pay)")
    files = sorted(p for p in args.input.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise UserError(f"no file to score in {args.input}")
    trained = model.load_any(args.model, args.output)
    schema = trained.schema
    forecast = Forecast(groupings, schema.feature_names, args.cost_column, args.cost_factor,
                        (schema.label_column, schema.classes[1])) if groupings else None
    scored = sum(_score_file(trained, path, args.input, args.output, args.join, forecast) for path in files)
    if forecast is not None:
        report = forecast.report()
        artifact.write_json(args.output / COHORTS_JSON, report)
        artifact.write_text(args.output / COHORTS_CSV, _cohorts_csv(report))
    return scored


def _cohorts_csv(report: dict) -> str:
    """One line per cohort, for a spreadsheet."""
    header = ["grouping", "cohort", "employees", "expected_leavers", "interval_low", "interval_high", "expected_rate",
              "expected_cost", "realised_leavers", "top_drivers"]
    lines = [codecs.csv_line(header)]
    for grouping in report["groupings"]:
        for c in grouping["cohorts"]:
            drivers = "; ".join(f"{d['feature']} (+{d['mean_contribution']:g})" for d in c["top_drivers"])
            lines.append(codecs.csv_line([
                "&".join(grouping["by"]), " & ".join(c["cohort"].values()), c["employees"], c["expected_leavers"],
                *c["interval"], c["expected_rate"], c.get("expected_cost"), c.get("realised_leavers"), drivers]))
    return "".join(line + "\n" for line in lines)


def _score_file(trained: model.Model, path: Path, folder: Path, output: Path, join: bool,
                forecast: Forecast | None) -> int:
    """One file, a frame of rows at a time, its answers written as they come: memory is bounded
    by a frame, whatever the file's size. `join` writes each row as parsed (a quoted field may
    hold a line break), then its answer."""
    name = str(path.relative_to(folder))
    scored = 0
    try:
        with data.open_text(path, name) as (lines, _), artifact.writing(output / f"{name}.out") as out:
            for frame in codecs.csv_file_frames(lines, trained.schema, name):
                matrix = features.encode(trained.schema, frame.columns, frame.n_rows)
                scores = trained.predict(matrix)
                if forecast is not None:
                    forecast.add(frame.columns, scores, trained.contributions(matrix), name)
                probabilities = scores.tolist()
                answers = codecs.encode_rows(probabilities, trained.labels(probabilities), mediatypes.CSV)
                if join:
                    rows = zip(*frame.columns.values())
                    answers = [f"{codecs.csv_line(row)},{answer}" for row, answer in zip(rows, answers)]
                out.write("".join(f"{line}\n" for line in answers))
                scored += len(answers)
    except UserError as error:
        raise UserError(f"{name}: {error}") from None
    return scored


def _parser(paths: environment.Paths) -> argparse.ArgumentParser:
    processing = paths.processing_dir
    parser = jobs.Arguments(prog="score", description="score every employee of a folder of CSV files")
    parser.add_model(processing / "model")
    parser.add_argument("--input", type=Path, default=processing / "input", help="the CSV files to score")
    parser.add_argument("--output", type=Path, default=processing / "scores", help="where <file>.out go")
    parser.add_argument("--join", action="store_true", help="write each input row before its answer")
    parser.add_argument("--cohorts", default="", help="forecast leavers per group: columns, comma-separated; "
                                                      "Department&JobRole for both at once")
    parser.add_argument("--cost-column", default=None, help="with --cohorts: a column of what an employee costs "
                                                            "(e.g. MonthlyIncome)")
    parser.add_argument("--cost-factor", type=float, default=1.0,
                        help="replacement cost = cost column x this factor (e.g. 6: six months of pay)")
    return parser
