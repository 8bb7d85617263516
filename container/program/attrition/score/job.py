"""The `score` job: every CSV file of a folder scored with a model, offline, in the shape Batch
Transform gives (`probability,label` per input row, in order; `--join` puts each input row first).

    /opt/ml/processing/model/   the model directory (or a folder holding model.tar.gz)
    /opt/ml/processing/input/   CSV files, with a header or in training order (as /invocations reads them)
    /opt/ml/processing/scores/  <file>.out for each input file

Each file is decoded, encoded and scored a frame of rows at a time, exactly as /invocations does:
memory grows with the file's bytes, not with its rows as Python objects.
"""

import argparse
import os
from pathlib import Path

from ..core import artifact, codecs, environment, features, jobs, mediatypes, model
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
    total = 0
    for path in files:
        lines, body = [], path.read_bytes()
        try:
            frames, _ = codecs.decode_frames(body, mediatypes.CSV, "", trained.schema)
            for frame in frames:
                probabilities = trained.predict(features.encode(trained.schema, frame.columns, frame.n_rows)).tolist()
                lines += codecs.encode_rows(probabilities, trained.labels(probabilities), mediatypes.CSV)
        except UserError as error:
            raise UserError(f"{path.relative_to(args.input)}: {error}") from None
        if args.join:
            inputs = [line for line in body.decode("utf-8-sig").splitlines() if line.strip()]
            inputs = inputs[len(inputs) - len(lines):]  # a header row has no answer
            lines = [f"{row},{answer}" for row, answer in zip(inputs, lines)]
        artifact.write_text(args.output / f"{path.relative_to(args.input)}.out", "".join(f"{line}\n" for line in lines))
        total += len(lines)
    return total


def _parser(paths: environment.Paths) -> argparse.ArgumentParser:
    processing = paths.processing_dir
    parser = jobs.Arguments(prog="score", description="score every employee of a folder of CSV files")
    parser.add_model(processing / "model")
    parser.add_argument("--input", type=Path, default=processing / "input", help="the CSV files to score")
    parser.add_argument("--output", type=Path, default=processing / "scores", help="where <file>.out go")
    parser.add_argument("--join", action="store_true", help="write each input row before its answer")
    return parser
