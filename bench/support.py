"""What the in-process benchmarks share: a job run without its log lines, and CSV text of rows."""

import contextlib
import csv
import io


def quiet(function, *args) -> int:
    """A job's main(), its log lines swallowed: the benchmark prints its own table."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return function(*args)


def as_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
