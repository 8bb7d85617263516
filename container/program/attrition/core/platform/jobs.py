"""How every job starts and ends: its own user if it can (privileges.py), and one line and an exit
code whatever happens. A user's mistake (bad data, settings, arguments, a file they must fix) is
one line in /opt/ml/output/failure, which SageMaker shows as the FailureReason, and exit code 2; a
bug of ours keeps its traceback in the log and exits 1."""

import argparse
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from . import environment, logs, privileges
from .errors import UserError


def run(name: str, environ: Mapping[str, str], work: Callable[[environment.Paths], str]) -> int:
    """Run `work` (which returns the line to print on success); 0, 2 or 1."""
    paths = environment.paths(environ)
    try:
        closing = work(paths)
    except UserError as error:
        return fail(paths, name, str(error), 2)
    except OSError as error:
        if error.errno in environment.USER_OS_ERRORS:
            return fail(paths, name, environment.os_error_message(error), 2)
        traceback.print_exc()
        return fail(paths, name, f"internal error ({type(error).__name__}): {error}", 1)
    except Exception as error:  # a bug of ours
        traceback.print_exc()
        return fail(paths, name, f"internal error ({type(error).__name__}): {error}", 1)
    if closing:
        logs.say(closing)
    return 0


def fail(paths: environment.Paths, name: str, message: str, code: int) -> int:
    logs.say(f"{name} failed: {paths.write_failure(message)}", sys.stderr)
    return code


def leave_root(name: str, reads: list[Path], writes: list[Path]) -> None:
    note = privileges.drop_root(reads, writes)
    if note:
        logs.say(f"{name} {note}")


class Arguments(argparse.ArgumentParser):
    """A job's command line: a wrong argument is a user's mistake like any other (exit 2, one line)."""

    def error(self, message: str):
        raise UserError(f"{self.prog}: {message}")

    def add_model(self, default: Path) -> None:
        """--model, as every processing entry that loads a trained model takes it."""
        self.add_argument("--model", type=Path, default=default,
                          help="the model directory, or a folder holding (or the path of) model.tar.gz")
