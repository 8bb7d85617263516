"""Request bodies -> named columns, and predictions -> response bodies, by media type.

Requests: text/csv (with or without a header row), application/json (a list of records,
{"instances": [...]}, or one record), application/jsonlines (one record per line). A record
is an object keyed by column name, or a list in the training file's column order.
Responses: application/json, text/csv (`probability,label` per row), application/jsonlines.
"""

import csv
import io
import json
from dataclasses import dataclass

from .csvtext import parse_csv_columns
from .errors import RequestError, UnsupportedMediaType
from .mediatypes import CSV, JSON, JSONLINES


@dataclass
class Frame:
    columns: dict  # column name -> sequence of raw values (strings, numbers or None)
    n_rows: int
    explain: object = None  # the body's own "explain" setting (JSON {"instances", "explain"})


def decode(body: bytes, media_type: str, charset: str, schema) -> Frame:
    text = _text(body, charset)
    if not text.strip():
        raise RequestError("request body is empty: send at least one row")
    if media_type == CSV:
        return _csv_frame(parse_csv_columns(text, "request"), schema)
    if media_type == JSON:
        records, explain = _json_records(text)
        frame = _records_frame(records, schema)
        frame.explain = explain
        return frame
    return _records_frame(_jsonlines_records(text), schema)


def encode(probabilities: list, labels: list, media_type: str, drivers=None) -> str:
    """One output row per input row (probabilities as Python floats); `drivers` adds each row's
    explanation when given."""
    if media_type == CSV:
        quoted = {name: _csv_field(name) for name in set(labels)}
        rows = [f"{p!r},{quoted[n]}" for p, n in zip(probabilities, labels)]
        if drivers is not None:
            rows = [row + "," + _csv_drivers(d) for row, d in zip(rows, drivers)]
        return "".join(row + "\n" for row in rows)
    quoted = {name: json.dumps(name) for name in set(labels)}
    rows = [f'{{"probability":{p!r},"label":{quoted[n]}' for p, n in zip(probabilities, labels)]
    if drivers is None:
        rows = [row + "}" for row in rows]
    else:
        rows = [f'{row},"explanation":{json.dumps(d, separators=(",", ":"))}}}'
                for row, d in zip(rows, drivers)]
    if media_type == JSONLINES:
        return "".join(row + "\n" for row in rows)
    return '{"predictions":[' + ",".join(rows) + "]}"


def _text(body: bytes, charset: str) -> str:
    encoding = "utf-8-sig" if charset.lower().replace("_", "-") in ("", "utf-8", "utf8") else charset
    try:
        return body.decode(encoding)
    except LookupError:
        raise UnsupportedMediaType(f"charset {charset!r} is not supported; send UTF-8") from None
    except UnicodeDecodeError as error:
        raise RequestError(
            f"request body is not valid {charset or 'UTF-8'} text (byte {error.start})"
        ) from None


def _csv_frame(columns: list, schema) -> Frame:
    first = [column[0].strip() for column in columns]
    if sum(map(schema.column_names.__contains__, first)) * 2 >= len(first):
        return _named_frame(first, [column[1:] for column in columns])
    return _positional_frame(columns, schema)


def _named_frame(header: list, columns: list) -> Frame:
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise RequestError(f"header repeats column(s): {', '.join(repeated)}")
    if not columns[0]:
        raise RequestError("request has a header row but no data rows")
    return Frame(dict(zip(header, columns)), len(columns[0]))


def _positional_frame(columns: list, schema) -> Frame:
    """Columns in the training file's order, with or without the label column."""
    width, n_inputs = len(columns), len(schema.input_columns)
    if width == n_inputs:
        names = schema.input_columns
    elif width == n_inputs + 1:
        names = list(schema.input_columns)
        names.insert(schema.label_position, schema.label_column)
    else:
        raise RequestError(
            f"rows have {width} fields but the model expects {n_inputs} columns in training "
            f"order ({n_inputs + 1} with the label), or a header row naming them"
        )
    return Frame(dict(zip(names, columns)), len(columns[0]))


def _records_frame(records: list, schema) -> Frame:
    if not records:
        raise RequestError("request has no rows")
    if all(isinstance(r, dict) for r in records):
        present = set().union(*records)
        columns = {name: [r.get(name) for r in records] for name in present}
        return Frame(columns, len(records))
    if all(isinstance(r, list) for r in records):
        widths = {len(r) for r in records}
        if len(widths) > 1:
            raise RequestError(f"list records have different lengths: {sorted(widths)}")
        return _positional_frame(list(zip(*records)), schema)
    raise RequestError("each record must be an object keyed by column name, or a list of values")


def _json_records(text: str) -> tuple[list, object]:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise RequestError(f"request body is not valid JSON: {error}") from None
    if isinstance(document, dict):
        instances = document.get("instances")
        if isinstance(instances, list):
            return instances, document.get("explain")
        return [document], None
    if isinstance(document, list):
        return document, None
    raise RequestError('JSON body must be a list of records or {"instances": [...]}')


def _jsonlines_records(text: str) -> list:
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError as error:
                raise RequestError(f"line {number} is not valid JSON: {error}") from None
    return records


def _csv_field(value: str) -> str:
    return _csv_line([value])


def _csv_drivers(drivers: list) -> str:
    """feature,value,contribution for each driver, largest first."""
    return _csv_line([cell for d in drivers for cell in (d["feature"], d["value"], d["contribution"])])


def _csv_line(cells: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(["" if c is None else c for c in cells])
    return out.getvalue()
