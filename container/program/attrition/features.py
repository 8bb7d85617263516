"""Turn named raw columns into the float matrix LightGBM reads, following a Schema.

Numbers become float64 and missing values NaN. Categories become their index in the
levels seen at training; missing and unseen categories become NaN, which LightGBM sends
down the same branch as missing values. No pandas: this runs on every request.
"""

import numpy as np

from .errors import RequestError
from .schema import CATEGORICAL
from .values import canonical_category, is_missing


def encode(schema, columns: dict, n_rows: int) -> np.ndarray:
    """Return an (n_rows, n_features) float64 matrix; raise RequestError naming a bad value."""
    missing = [name for name in schema.feature_names if name not in columns]
    if missing:
        raise RequestError(f"missing required column(s): {', '.join(missing)}")
    matrix = np.empty((n_rows, len(schema.features)), dtype=np.float64)
    for j, feature in enumerate(schema.features):
        values = columns[feature.name]
        if feature.kind == CATEGORICAL:
            matrix[:, j] = _encode_categories(values, feature.codes)
        else:
            matrix[:, j] = _encode_numbers(feature.name, values)
    return matrix


def _encode_numbers(name: str, values) -> np.ndarray:
    try:
        numbers = np.array(values, dtype=np.float64)
        if numbers.ndim == 1:
            return numbers
    except (ValueError, TypeError):
        pass
    return np.array([_number(name, row, v) for row, v in enumerate(values, 1)])


def _number(name: str, row: int, value) -> float:
    if is_missing(value):
        return np.nan
    try:
        return float(value)
    except (ValueError, TypeError):
        shown = str(value)[:40]
        raise RequestError(f"column {name!r}, row {row}: {shown!r} is not a number") from None


def _encode_categories(values, codes: dict) -> np.ndarray:
    nan = np.nan
    out = [codes.get(v) if type(v) is str else None for v in values]
    for i, code in enumerate(out):
        if code is None:
            value = values[i]
            out[i] = nan if is_missing(value) else codes.get(canonical_category(value), nan)
    return np.array(out, dtype=np.float64)
