"""The `score` job: every CSV file of a folder scored with a model, offline, in the shape Batch
Transform gives (`probability,label` per input row, in order; `--join` puts each input row first).

    /opt/ml/processing/model/   the model directory (or a folder holding model.tar.gz)
    /opt/ml/processing/input/   CSV files, with a header or in training order (as /invocations reads them)
    /opt/ml/processing/scores/  <file>.out for each input file

Each file is read, encoded, scored and written a frame of rows at a time, as /invocations reads a
request: memory is bounded by a frame, whatever the file's size (gzip files are read too).
"""

import argparse
import os
from pathlib import Path

from ..core import artifact, codecs, data, environment, features, jobs, mediatypes, model
from ..core.errors import UserError


def main(argv: list[str] | None = None, environ=None) -> int:
    return jobs.run("score", os.environ if environ is None else environ, lambda paths: _work(paths, argv))


def _work(paths: environment.Paths, argv: list[str] | None) -> str:
    args = _parser(paths).parse_args(argv)
    jobs.leave_root("score", reads=[args.model, args.input], writes=[args.output, paths.output_dir])
    return f"score: {run(args)} employees scored"


def run(args: argparse.Namespace) -> int:
    files = sorted(p for p in args.input.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise UserError(f"no file to score in {args.input}")
    trained = model.load_any(args.model, args.output)
    return sum(_score_file(trained, path, args.input, args.output, args.join) for path in files)


def _score_file(trained: model.Model, path: Path, folder: Path, output: Path, join: bool) -> int:
    """One file, a frame of rows at a time, its answers written as they come: memory is bounded
    by a frame, whatever the file's size. `join` writes each row as parsed (a quoted field may
    hold a line break), then its answer."""
    name = str(path.relative_to(folder))
    scored = 0
    try:
        with data.open_text(path, name) as (lines, _), artifact.writing(output / f"{name}.out") as out:
            for frame in codecs.csv_file_frames(lines, trained.schema, name):
                probabilities = trained.predict(features.encode(trained.schema, frame.columns, frame.n_rows)).tolist()
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
    return parser
