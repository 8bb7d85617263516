"""Turn named raw columns into the float matrix LightGBM reads, following a Schema.

Numbers become float64 and missing values NaN. Categories become their index in the
levels seen at training; missing and unseen categories become NaN, which LightGBM sends
down the same branch as missing values. No pandas: this runs on every request.
"""

import numpy as np

from ..platform.errors import RequestError
from .columns import Column
from .schema import CATEGORICAL
from .values import canonical_category, is_missing

SMALL = 16  # up to this many rows, plain Python beats numpy's per-call overhead


def encode(schema, columns: dict, n_rows: int) -> np.ndarray:
    """Return an (n_rows, n_features) float64 matrix; raise RequestError naming a bad value."""
    missing = [name for name in schema.feature_names if name not in columns]
    if missing:
        raise RequestError(f"missing required column(s): {', '.join(missing)}")
    if n_rows <= SMALL:
        cells = _encode_few(schema.features, columns)
    else:
        cells = [
            _encode_categories(columns[f.name], f.codes) if f.kind == CATEGORICAL
            else encode_numbers(f.name, columns[f.name])
            for f in schema.features
        ]
    return np.array(cells, dtype=np.float64).reshape(len(schema.features), n_rows).T


def encode_table(schema, columns: dict, n_rows: int) -> np.ndarray:
    """encode() for a table read by core.table.data (name -> Column): each distinct spelling is encoded
    once, then spread over the rows. Column-major, which LightGBM reads without a copy, and
    float32, half the memory of float64 for a big export: LightGBM bins the values the same (whole
    numbers below 2**24 are exact; others keep 7 significant digits, finer than its bins)."""
    missing = [name for name in schema.feature_names if name not in columns]
    if missing:
        raise RequestError(f"missing required column(s): {', '.join(missing)}")
    x = np.empty((n_rows, len(schema.features)), dtype=np.float32, order="F")
    for j, f in enumerate(schema.features):
        column = columns[f.name]
        if f.kind != CATEGORICAL:
            x[:, j] = column_numbers(f.name, column)
        elif column.numbers is None:
            x[:, j] = column.spread(_encode_categories(column.levels, f.codes))
        else:
            x[:, j] = _encode_categories(list(column), f.codes)
    return x


def column_numbers(name: str, values) -> np.ndarray:
    """A numeric feature's values as float64, from raw cells or from a Column."""
    if not isinstance(values, Column):
        return np.asarray(encode_numbers(name, values), dtype=np.float64)
    if values.numbers is not None:
        return values.numbers
    per_level = []
    for i, level in enumerate(values.levels):
        try:
            per_level.append(_number(name, 0, level))
        except RequestError:
            _number(name, int(np.argmax(values.codes == i)) + 1, level)  # raises, naming the first row
    return values.spread(np.array(per_level, dtype=np.float64))


def _encode_few(features: list, columns: dict) -> list:
    """The same values as the column-wise path, in one flat loop: a request of a row or two
    spends more time calling functions per column than converting its values."""
    cells: list[float] = []
    append = cells.append
    for f in features:
        if f.kind == CATEGORICAL:
            codes = f.codes
            for value in columns[f.name]:
                code = codes.get(value) if type(value) is str else None
                append(_category(value, codes) if code is None else code)
        else:
            for row, value in enumerate(columns[f.name], 1):
                try:
                    append(float(value))
                except (ValueError, TypeError, OverflowError):
                    append(_number(f.name, row, value))
    return cells


def encode_numbers(name: str, values):
    if len(values) > SMALL:  # numpy parses a long column faster than float() one by one
        try:
            numbers = np.array(values, dtype=np.float64)
            if numbers.ndim == 1:
                return numbers
        except (ValueError, TypeError, OverflowError):
            pass
    return [_number(name, row, v) for row, v in enumerate(values, 1)]


def _number(name: str, row: int, value) -> float:
    """The message names the column, the row and the problem, never the value: it may be anything
    an export holds in the wrong cell (a name, a note), and messages reach logs and failure files."""
    try:
        return float(value)
    except OverflowError:
        raise RequestError(f"column {name!r}, row {row}: a number too large for a float") from None
    except (ValueError, TypeError):
        if is_missing(value):
            return np.nan
        raise RequestError(f"column {name!r}, row {row}: text where a number is expected") from None


def _encode_categories(values, codes: dict) -> list:
    out = [codes.get(v) if type(v) is str else None for v in values]
    for i, code in enumerate(out):
        if code is None:
            out[i] = _category(values[i], codes)
    return out


def _category(value, codes: dict) -> float:
    """The code of a value that is not spelled exactly as a level: NaN if missing or unseen."""
    return np.nan if is_missing(value) else codes.get(canonical_category(value), np.nan)
