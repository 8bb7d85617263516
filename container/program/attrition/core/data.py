"""Read an HR export (a folder of one or more CSV files, or a Pipe mode FIFO) into one table of
strings, and its label: a training channel for `train`, the raw export for `prepare`, a test
split for `evaluate`.

Two layouts are accepted: a header row that names the columns (the label is `label_column`),
or SageMaker's built-in convention: no header, label in the first column. Files are read
with core.csvtext, the same parser that serving uses.
"""

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .csvtext import parse_csv
from .errors import UserError
from .values import canonical_category, is_missing

CSV_SUFFIXES = (".csv", ".txt", ".csv.gz")


@dataclass
class Table:
    columns: list  # column names, label included
    label_column: str
    has_header: bool = True
    rows: list = field(default_factory=list)  # lists of strings, one per data row
    files: list = field(default_factory=list)  # {"file", "sha256", "rows"} per file read

    @property
    def label_position(self) -> int:
        return self.columns.index(self.label_column)

    @property
    def input_columns(self) -> list:
        return [c for c in self.columns if c != self.label_column]

    def column_values(self, row_indices) -> dict:
        """Column name -> tuple of raw values, for the given rows."""
        rows = [self.rows[i] for i in row_indices]
        if not rows:
            return dict.fromkeys(self.columns, ())
        return dict(zip(self.columns, zip(*rows)))


def channel_files(directory: Path) -> list:
    files = sorted(
        p for p in directory.rglob("*")
        if p.is_file() and not p.name.startswith(".") and _is_csv_name(p.name)
    )
    if not files:
        raise UserError(f"channel {directory.name!r} holds no CSV file (looked in {directory})")
    return files


def read_channel(directory: Path, label_column: str, header: str) -> Table:
    """Read every CSV file of a channel; all must share one layout and one set of columns."""
    table: Table | None = None
    for path in channel_files(directory):
        rows, digest = _read_rows(path)
        if not rows:
            raise UserError(f"{_name(path)} is empty")
        has_header, columns, body = _split_header(rows, label_column, header, path)
        if table is None:
            table = Table(columns, label_column, has_header)
        elif has_header != table.has_header:
            raise UserError(
                f"{_name(path)} and {table.files[0]['file']} differ: only one of them has a "
                f"header row naming the label column {label_column!r}"
            )
        body = _align(body, columns, table.columns, path)
        table.rows.extend(body)
        table.files.append({"file": _name(path), "sha256": digest, "rows": len(body)})
    if table is None or not table.rows:
        raise UserError(f"channel {directory.name!r} has a header but no data rows")
    return table


def read_pipe(fifo: Path, label_column: str, header: str) -> Table:
    """A channel in Pipe mode: SageMaker streams the channel's files, one after another, through
    one FIFO. A header row repeated at the start of each later file is dropped."""
    digest, chunks = hashlib.sha256(), []
    with open(fifo, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
            chunks.append(chunk)
    rows = parse_csv(_decode(b"".join(chunks), fifo), _name(fifo), share_values=True)
    if not rows:
        raise UserError(f"{_name(fifo)} (Pipe mode) carried no data")
    has_header, columns, body = _split_header(rows, label_column, header, fifo)
    if has_header:
        body = [row for row in body if row != rows[0]]
    table = Table(columns, label_column, has_header, body,
                  [{"file": f"{_name(fifo)} (Pipe mode)", "sha256": digest.hexdigest(), "rows": len(body)}])
    if not table.rows:
        raise UserError(f"{_name(fifo)} (Pipe mode) has a header but no data rows")
    return table


def label_vector(table: Table, positive_class: str):
    """Return (kept row indices, 0/1 labels, [negative, positive]) for a binary label."""
    raw = [row[table.label_position] for row in table.rows]
    kept = [i for i, v in enumerate(raw) if not is_missing(v)]
    values = [canonical_category(raw[i]) for i in kept]
    classes = sorted(set(values))
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
    labels = np.array([v == positive for v in values], dtype=np.float64)
    return np.array(kept, dtype=np.int64), labels, [negative, positive]


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


def _split_header(rows: list, label_column: str, header: str, path: Path):
    first = [cell.strip() for cell in rows[0]]
    has_header = header == "true" or (header == "auto" and label_column in first)
    if not has_header:
        return False, [label_column] + [f"feature_{i}" for i in range(1, len(first))], rows
    if label_column not in first:
        raise UserError(
            f"label column {label_column!r} is not in the header of {_name(path)}; "
            f"columns are: {', '.join(first[:40])}"
        )
    duplicates = sorted({c for c in first if first.count(c) > 1})
    if duplicates:
        raise UserError(f"{_name(path)} repeats column name(s): {', '.join(duplicates)}")
    return True, first, rows[1:]


def _align(rows: list, columns: list, expected: list, path: Path) -> list:
    """Reorder a later file's rows to the first file's column order."""
    if columns == expected:
        return rows
    if sorted(columns) != sorted(expected):
        raise UserError(
            f"{_name(path)} has different columns from the first file: "
            f"missing {sorted(set(expected) - set(columns))}, extra {sorted(set(columns) - set(expected))}"
        )
    order = [columns.index(name) for name in expected]
    return [[row[i] for i in order] for row in rows]


def _read_rows(path: Path):
    raw = path.read_bytes()
    return parse_csv(_decode(raw, path), _name(path), share_values=True), hashlib.sha256(raw).hexdigest()


def _decode(raw: bytes, path: Path) -> str:
    """The text of a file's bytes: gunzipped when they are gzip (by name, or by magic number)."""
    if path.name.endswith(".gz") or raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except OSError as error:
            raise UserError(f"{_name(path)} is not a readable gzip file: {error}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{_name(path)} is not UTF-8 text (byte {error.start}); save it as UTF-8 CSV"
        ) from None


def _is_csv_name(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(CSV_SUFFIXES) or "." not in lower


def _name(path: Path) -> str:
    return "/".join(path.parts[-2:])
