"""Request bodies -> named columns, and predictions -> response bodies, by media type.

Requests: text/csv (with or without a header row), application/json (a list of records,
{"instances": [...]}, or one record), application/jsonlines (one record per line). A record
is an object keyed by column name, or a list in the training file's column order.
Responses: application/json, text/csv (`probability,label` per row), application/jsonlines.
"""

import codecs
import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..platform.errors import RequestError, UnsupportedMediaType
from ..platform.mediatypes import CSV, JSON
from ..table.csvtext import batches, parse_csv_columns
from ..table.schema import Schema

# Charsets a CSV or JSON body may declare: text encodings only (not punycode, undefined, rot13...).
TEXT_CHARSETS = ("utf-", "ascii", "latin", "iso8859-", "cp", "mac-", "koi8-", "shift_jis", "euc_", "gb", "big5")
# Rows decoded, encoded and scored at a time by /invocations and `score`: bounds their memory.
ROWS_PER_FRAME = 2048
BODY_OPTIONS = ("explain", "whatif", "levers")  # settings a JSON body may carry beside "instances"


@dataclass
class Frame:
    """Named columns of raw values (strings, numbers or None), all of one length."""

    columns: dict[str, Sequence]
    n_rows: int


def decode(body: bytes, media_type: str, charset: str, schema: Schema) -> Frame:
    """The whole body as one frame (for bodies known to be small, and for reading captures)."""
    frames, _ = decode_frames(body, media_type, charset, schema, None)
    parts = list(frames)
    if len(parts) == 1:
        return parts[0]
    names = list(parts[0].columns)
    return Frame({n: [v for p in parts for v in p.columns[n]] for n in names}, sum(p.n_rows for p in parts))


def decode_frames(body: bytes, media_type: str, charset: str, schema: Schema,
                  rows_per_frame: int | None = ROWS_PER_FRAME) -> tuple[Iterator[Frame], dict[str, object]]:
    """The body as frames of at most `rows_per_frame` rows (None: one frame), and the JSON body's
    own settings (BODY_OPTIONS it holds beside "instances"). CSV is parsed a block of lines at a
    time, so a large request never holds more than one block as Python objects; JSON is parsed at once."""
    text = _text(body, charset)
    if not text.strip():
        raise RequestError("request body is empty: send at least one row")
    if media_type == CSV:
        return _csv_frames(text, schema, rows_per_frame), {}
    if media_type == JSON:
        records, options = _json_records(text)
        return _record_frames(records, schema, rows_per_frame), options
    return _record_frames(_jsonlines_records(text), schema, rows_per_frame), {}


@dataclass(frozen=True)
class Extra:
    """A field added to every answer row: its name in JSON, each row's JSON value, and each row's
    CSV cells (the same number for every row, so CSV columns stay aligned)."""

    name: str
    values: list
    cells: list


def encode(probabilities: list[float], labels: list[str], media_type: str, extras: Sequence[Extra] = ()) -> str:
    """One output row per input row (probabilities as Python floats), with `extras` after the label."""
    return join_rows(encode_rows(probabilities, labels, media_type, extras), media_type)


def encode_rows(probabilities: list[float], labels: list[str], media_type: str,
                extras: Sequence[Extra] = ()) -> list[str]:
    """The response rows, without the document around them (see join_rows)."""
    if media_type == CSV:
        quoted = {name: _csv_field(name) for name in set(labels)}
        rows = [f"{p!r},{quoted[n]}" for p, n in zip(probabilities, labels)]
        for extra in extras:
            rows = [row + "," + csv_line(cells) for row, cells in zip(rows, extra.cells)]
        return rows
    quoted = {name: json.dumps(name) for name in set(labels)}
    rows = [f'{{"probability":{p!r},"label":{quoted[n]}' for p, n in zip(probabilities, labels)]
    for extra in extras:
        key = json.dumps(extra.name)
        rows = [f'{row},{key}:{json.dumps(value, separators=(",", ":"))}' for row, value in zip(rows, extra.values)]
    return [row + "}" for row in rows]


def join_rows(rows: list[str], media_type: str) -> str:
    if media_type == JSON:
        return '{"predictions":[' + ",".join(rows) + "]}"
    return "".join(row + "\n" for row in rows)


def _text(body: bytes, charset: str) -> str:
    encoding = "utf-8-sig" if charset.lower().replace("_", "-") in ("", "utf-8", "utf8") else _charset(charset)
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as error:
        raise RequestError(
            f"request body is not valid {charset or 'UTF-8'} text (byte {error.start})"
        ) from None
    except UnicodeError as error:
        raise RequestError(f"request body is not valid {charset} text: {error}") from None


def _charset(charset: str) -> str:
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        name = ""
    if not name.startswith(TEXT_CHARSETS) or name in ("utf-7",):
        raise UnsupportedMediaType(f"charset {charset[:40]!r} is not supported; send UTF-8")
    return name


def _csv_frames(text: str, schema: Schema, rows_per_frame: int | None) -> Iterator[Frame]:
    blocks = ((first_line, parse_csv_columns(block, "request", first_line))
              for first_line, block in _csv_blocks(text, rows_per_frame))
    return _named_frames(blocks, schema)


def csv_file_frames(lines: Iterable[str], schema: Schema, source: str) -> Iterator[Frame]:
    """A CSV file as frames, read a batch of rows at a time from its lines (an open text file):
    a file of any size is never held whole. Its rows, header and names are read as a request's."""
    blocks = ((0, [list(column) for column in zip(*batch)]) for batch in batches(lines, source, ROWS_PER_FRAME))
    return _named_frames(blocks, schema)


def _named_frames(blocks: Iterable[tuple[int, list]], schema: Schema) -> Iterator[Frame]:
    """Frames from blocks of columns (the number of each block's first line, its columns): the
    first block's header row names the columns, or their positions do."""
    names, width, rows = None, 0, 0
    for first_line, columns in blocks:
        if not columns:
            continue
        if names is None:
            names, columns = _csv_names(columns, schema)
            width = len(names)
        elif len(columns) != width:
            raise RequestError(f"request line {first_line} and after have {len(columns)} fields; "
                               f"the rows before have {width}")
        if columns[0]:
            rows += len(columns[0])
            yield Frame(dict(zip(names, columns)), len(columns[0]))
    if not rows:
        raise RequestError("request has a header row but no data rows")


def _csv_blocks(text: str, rows_per_frame: int | None) -> Iterator[tuple[int, str]]:
    """(number of the first line, text) for blocks of lines; quoted CSV, whose fields may hold
    line breaks, stays one block."""
    if rows_per_frame is None or '"' in text or "\r" in text:
        yield 1, text
        return
    lines = text.split("\n")
    for start in range(0, len(lines), rows_per_frame):
        yield start + 1, "\n".join(lines[start:start + rows_per_frame])


def _csv_names(columns: list, schema: Schema) -> tuple[list[str], list]:
    """The columns' names, from a header row (removed from the columns) or by position."""
    first = [column[0].strip() for column in columns]
    if sum(map(schema.column_names.__contains__, first)) * 2 >= len(first):
        repeated = sorted(name for name, count in Counter(first).items() if count > 1)
        if repeated:
            raise RequestError(f"header repeats column(s): {', '.join(repeated)}")
        return first, [column[1:] for column in columns]
    return _positional_names(len(columns), schema), columns


def _positional_names(width: int, schema: Schema) -> list[str]:
    """Columns in the training file's order, with or without the label column."""
    n_inputs = len(schema.input_columns)
    if width == n_inputs:
        return list(schema.input_columns)
    if width == n_inputs + 1:
        names = list(schema.input_columns)
        names.insert(schema.label_position, schema.label_column)
        return names
    raise RequestError(
        f"rows have {width} fields but the model expects {n_inputs} columns in training "
        f"order ({n_inputs + 1} with the label), or a header row naming them"
    )


def _record_frames(records: list, schema: Schema, rows_per_frame: int | None) -> Iterator[Frame]:
    if not records:
        raise RequestError("request has no rows")
    if all(isinstance(r, dict) for r in records):
        present = sorted(set().union(*records))
        names = None
    elif all(isinstance(r, list) for r in records):
        widths = {len(r) for r in records}
        if len(widths) > 1:
            raise RequestError(f"list records have different lengths: {sorted(widths)}")
        names = _positional_names(widths.pop(), schema)
    else:
        raise RequestError("each record must be an object keyed by column name, or a list of values")
    step = rows_per_frame or len(records)
    for start in range(0, len(records), step):
        chunk = records[start:start + step]
        if names is None:
            yield Frame({name: [r.get(name) for r in chunk] for name in present}, len(chunk))
        else:
            yield Frame(dict(zip(names, zip(*chunk))), len(chunk))


def _json_records(text: str) -> tuple[list, dict[str, object]]:
    document = _json(text, "request body")
    if isinstance(document, dict):
        instances = document.get("instances")
        if isinstance(instances, list):
            return instances, {name: document[name] for name in BODY_OPTIONS if name in document}
        return [document], {}
    if isinstance(document, list):
        if document and not any(isinstance(v, dict | list) for v in document):
            return [document], {}  # one employee as a flat list of values, in training order
        return document, {}
    raise RequestError('JSON body must be a list of records or {"instances": [...]}')


def _jsonlines_records(text: str) -> list:
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            records.append(_json(line, f"line {number}"))
    return records


def _json(text: str, what: str) -> object:
    try:
        return json.loads(text)
    except ValueError as error:
        raise RequestError(f"{what} is not valid JSON: {error}") from None
    except RecursionError:
        raise RequestError(f"{what} is nested too deeply to be a record") from None


def _csv_field(value: str) -> str:
    return csv_line([value])


def csv_line(cells: Sequence) -> str:
    """One CSV line (no line break after it) of the cells, quoted where they need it: the csv
    module quotes a field holding a line break only when the break is in its lineterminator."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(["" if c is None else c for c in cells])
    return out.getvalue()[:-2]
