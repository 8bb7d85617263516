"""The `score` job: every CSV file of a folder scored with a model, offline, in the shape Batch
Transform gives (`probability,label` per input row, in order; `--join` puts each input row first).

    /opt/ml/processing/model/   the model directory (or a folder holding model.tar.gz)
    /opt/ml/processing/input/   CSV files, with a header or in training order (as /invocations reads them)
    /opt/ml/processing/scores/  <file>.out for each input file

Each file is decoded, encoded and scored a frame of rows at a time, exactly as /invocations does,
so a file of any size scores in bounded memory.
"""

import argparse
import os
import sys
import tempfile
import traceback
from pathlib import Path

from ..core import artifact, codecs, environment, features, logs, mediatypes, model, privileges
from ..core.errors import UserError

ROWS_PER_FRAME = 2048


def main(argv: list[str] | None = None, environ=None) -> int:
    paths = environment.paths(os.environ if environ is None else environ)
    try:
        args = _parser(paths).parse_args(argv)
        note = privileges.drop_root(reads=[args.model, args.input], writes=[args.output, paths.output_dir])
        if note:
            logs.say(f"score {note}")
        scored = run(args)
    except UserError as error:
        return _fail(paths, str(error), 2)
    except OSError as error:
        if error.errno not in environment.USER_OS_ERRORS:
            raise
        return _fail(paths, environment.os_error_message(error), 2)
    except Exception as error:  # a bug of ours: keep the traceback in the log
        traceback.print_exc()
        return _fail(paths, f"internal error ({type(error).__name__}): {error}", 1)
    logs.say(f"score: {scored} employees scored")
    return 0


def run(args: argparse.Namespace) -> int:
    files = sorted(p for p in args.input.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise UserError(f"no file to score in {args.input}")
    with tempfile.TemporaryDirectory() as unpacked:
        trained = model.load(model.unpacked(args.model, Path(unpacked)))
    total = 0
    for path in files:
        lines, body = [], path.read_bytes()
        try:
            frames, _ = codecs.decode_frames(body, mediatypes.CSV, "", trained.schema, ROWS_PER_FRAME)
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
    parser = _Parser(prog="score", description="score every employee of a folder of CSV files")
    parser.add_argument("--model", type=Path, default=processing / "model",
                        help="the model directory, or a folder holding (or the path of) model.tar.gz")
    parser.add_argument("--input", type=Path, default=processing / "input", help="the CSV files to score")
    parser.add_argument("--output", type=Path, default=processing / "scores", help="where <file>.out go")
    parser.add_argument("--join", action="store_true", help="write each input row before its answer")
    return parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UserError(f"score: {message}")


def _fail(paths: environment.Paths, message: str, code: int) -> int:
    logs.say(f"score failed: {paths.write_failure(message)}", sys.stderr)
    return code
