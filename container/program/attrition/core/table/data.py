"""Read an HR export (a folder of one or more CSV files, or a Pipe mode FIFO) into one table of
compact columns, and its label: a training channel for `train`, the raw export for `prepare`, a test
split for `evaluate`.

Two layouts are accepted: a header row that names the columns (the label is `label_column`),
or SageMaker's built-in convention: no header, label in the first column. Files are read
with core.table.csvtext, the same parser that serving uses, a batch of rows at a time: a file is
never held whole, and a 209 MB export trains inside a 1 GiB container.
"""

import gzip
import hashlib
import io
import zlib
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np

from ..platform.errors import UserError
from .columns import Column
from .csvtext import batches
from .values import canonical_category, is_missing

CSV_SUFFIXES = (".csv", ".txt", ".csv.gz")
BLOCK = 1 << 20  # bytes read from a file at a time
GZIP_RATIO = 100
GZIP_FREE = 16 << 20  # bytes a gzip file may expand to whatever its ratio


@dataclass
class Table:
    columns: list  # column names, label included
    label_column: str
    has_header: bool = True
    values: dict = field(default_factory=dict)  # column name -> core.table.columns.Column
    files: list = field(default_factory=list)  # {"file", "sha256", "rows"} per file read

    @property
    def label_position(self) -> int:
        return self.columns.index(self.label_column)

    @property
    def input_columns(self) -> list:
        return [c for c in self.columns if c != self.label_column]

    @property
    def n_rows(self) -> int:
        return len(self.values[self.columns[0]])

    def column_values(self, rows: np.ndarray) -> dict:
        """Column name -> Column, at the given rows."""
        if len(rows) == self.n_rows and np.array_equal(rows, np.arange(self.n_rows)):
            return dict(self.values)
        return {name: column.take(rows) for name, column in self.values.items()}

    def rows_at(self, rows: np.ndarray) -> Iterator[tuple]:
        """The given rows as read (one spelling per column), to be written back out."""
        return zip(*(self.values[name].take(rows) for name in self.columns))

    def add(self, batch: list, order: list) -> int:
        """Append a batch of rows whose column j is this table's column order[j]."""
        if batch:
            cells = list(zip(*batch))
            for name, j in zip(self.columns, order):
                self.values[name].extend(cells[j])
        return len(batch)


def channel_files(directory: Path) -> list:
    files = sorted(
        p for p in directory.rglob("*")
        if p.is_file() and not p.name.startswith(".") and _is_csv_name(p.name)
    )
    if not files:
        raise UserError(f"channel {directory.name!r} holds no CSV file (looked in {directory})")
    return files


def read_channel(directory: Path, label_column: str, header: str, categorical: Collection[str] | None = None
                 ) -> Table:
    """Read every CSV file of a channel; all must share one layout and one set of columns.

    Files are read a batch of rows at a time into compact columns (core.table.columns). `categorical`
    names the columns whose spellings must be kept (besides the label); None keeps every
    column's, as `prepare` needs to write the rows back out."""
    table: Table | None = None
    for path in channel_files(directory):
        table = _read_file(path, _name(path), label_column, header, categorical, table)
    assert table is not None
    if not table.n_rows:
        raise UserError(f"channel {directory.name!r} has a header but no data rows")
    return table


def read_pipe(fifo: Path, label_column: str, header: str, categorical: Collection[str] | None = None) -> Table:
    """A channel in Pipe mode: SageMaker streams the channel's files, one after another, through
    one FIFO. A header row repeated at the start of each later file is dropped."""
    source = f"{_name(fifo)} (Pipe mode)"
    table = _read_file(fifo, source, label_column, header, categorical, None, pipe=True)
    if not table.n_rows:
        raise UserError(f"{source} has a header but no data rows")
    return table


def _read_file(path: Path, source: str, label_column: str, header: str, categorical: Collection[str] | None,
               table: Table | None, pipe: bool = False) -> Table:
    with open_text(path, source) as (lines, digest):
        rows = batches(lines, source)
        first = next(rows, None)
        if first is None:
            raise UserError(f"{source} carried no data" if pipe else f"{source} is empty")
        header_row = first[0]
        has_header, columns, first = _split_header(first, label_column, header, source)
        if table is None:
            keep = set(columns) if categorical is None else {label_column, *categorical}
            table = Table(columns, label_column, has_header, {name: Column(name in keep) for name in columns})
        elif has_header != table.has_header:
            raise UserError(
                f"{source} and {table.files[0]['file']} differ: only one of them has a "
                f"header row naming the label column {label_column!r}"
            )
        order = _order(columns, table.columns, source)
        count = 0
        for batch in chain([first], rows):
            if pipe and has_header:
                batch = [row for row in batch if row != header_row]
            count += table.add(batch, order)
    table.files.append({"file": source, "sha256": digest.hexdigest(), "rows": count})
    return table


class _Digesting(io.RawIOBase):
    """A binary file that hashes every byte read from it (the lineage records each file's sha256)."""

    def __init__(self, raw):
        self.raw, self.sha256, self.count = raw, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.sha256.update(memoryview(buffer)[:n])
            self.count += n
        return n


class _Unzipped(io.RawIOBase):
    """A gzip stream that refuses to expand past GZIP_RATIO times what it has read (after the first
    GZIP_FREE bytes): CSV exports compress about 5x, a gzip bomb thousands of times."""

    def __init__(self, zipped, compressed: "_Digesting", source: str):
        self.zipped, self.compressed, self.source, self.count = zipped, compressed, source, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.zipped.readinto(buffer)
        self.count += n
        if self.count > max(GZIP_FREE, GZIP_RATIO * self.compressed.count):
            raise UserError(f"{self.source} expands more than {GZIP_RATIO}x when unzipped ({self.count:,} bytes "
                            f"from {self.compressed.count:,}): CSV compresses about 5x; refused as a gzip bomb")
        return n


@contextmanager
def open_text(path: Path, source: str):
    """(lines of the file's text, its sha256 so far): gunzipped when it is gzip (by name, or by
    magic number); read errors become one line naming the file."""
    with open(path, "rb", buffering=0) as raw:
        digesting = _Digesting(raw)
        binary = io.BufferedReader(digesting, BLOCK)
        zipped = path.name.endswith(".gz") or binary.peek(2)[:2] == b"\x1f\x8b"
        stream = io.BufferedReader(_Unzipped(gzip.GzipFile(fileobj=binary), digesting, source), BLOCK) \
            if zipped else binary
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            yield text, digesting.sha256
        except UnicodeDecodeError:
            raise UserError(f"{source} is not UTF-8 text; save it as UTF-8 CSV") from None
        except (OSError, EOFError, zlib.error) as error:
            if not zipped:
                raise
            raise UserError(f"{source} is not a readable gzip file: {error}") from None


def label_vector(table: Table, positive_class: str):
    """Return (kept row indices, 0/1 labels, [negative, positive]) for a binary label."""
    column = table.values[table.label_column]
    missing = np.array([is_missing(level) for level in column.levels], dtype=bool)
    codes = column.codes
    kept = np.flatnonzero(~missing[codes]) if missing.any() else np.arange(len(codes))
    spelled = [canonical_category(level) for level in column.levels]
    classes = sorted({s for s, lost in zip(spelled, missing) if not lost})
    name = table.label_column
    if len(classes) < 2:
        found = f"only {classes[0]!r}" if classes else "no value"
        raise UserError(f"label column {name!r} has a single class ({found}); need two classes")
    if len(classes) > 2:
        shown = ", ".join(repr(c) for c in classes[:6]) + (", ..." if len(classes) > 6 else "")
        raise UserError(
            f"label column {name!r} has {len(classes)} classes ({shown}); this is a binary "
            "classifier. If the data has a header row, set label_column to the label's name"
        )
    positive = _positive(classes, positive_class, name)
    negative = classes[0] if classes[1] == positive else classes[1]
    labels = np.array([s == positive for s in spelled], dtype=np.float64)[codes[kept]]
    return kept, labels, [negative, positive]


def _positive(classes: list, positive_class: str, name: str) -> str:
    wanted = canonical_category(positive_class)
    if wanted in classes:
        return wanted
    if classes == ["0", "1"]:
        return "1"
    raise UserError(
        f"positive_class {positive_class!r} is not a value of label column {name!r}; "
        f"its values are {classes[0]!r} and {classes[1]!r}: set positive_class to one of them"
    )


def _split_header(rows: list, label_column: str, header: str, source: str):
    first = [cell.strip() for cell in rows[0]]
    has_header = header == "true" or (header == "auto" and label_column in first)
    if not has_header:
        return False, [label_column] + [f"feature_{i}" for i in range(1, len(first))], rows
    if label_column not in first:
        raise UserError(
            f"label column {label_column!r} is not in the header of {source}; "
            f"columns are: {', '.join(first[:40])}"
        )
    duplicates = sorted(name for name, count in Counter(first).items() if count > 1)
    if duplicates:
        raise UserError(f"{source} repeats column name(s): {', '.join(duplicates)}")
    return True, first, rows[1:]


def _order(columns: list, expected: list, source: str) -> list:
    """Where each of the first file's columns is in a later file's rows."""
    if sorted(columns) != sorted(expected):
        raise UserError(
            f"{source} has different columns from the first file: "
            f"missing {sorted(set(expected) - set(columns))}, extra {sorted(set(columns) - set(expected))}"
        )
    position = {name: j for j, name in enumerate(columns)}
    return [position[name] for name in expected]


def _is_csv_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(CSV_SUFFIXES) or "." not in lower


def _name(path: Path) -> str:
    return "/".join(path.parts[-2:])
