"""Per-prediction drivers: TreeSHAP contributions (LightGBM's `pred_contrib`), top k by size.

A contribution is in log-odds: positive pushes towards leaving, negative towards staying;
with the model's base value they add up to the prediction's log-odds.
"""

import math
from urllib.parse import parse_qs

import numpy as np

from ..core.contract import FALSE_VALUES, TRUE_WORDS
from ..core.platform.errors import RequestError
from ..core.table.schema import CATEGORICAL
from ..core.table.values import is_missing
from ..core.wire.codecs import Extra

DEFAULT_TOP_K = 3
OFF = (*FALSE_VALUES, "")  # explain=0 too
ON = TRUE_WORDS  # explain=1 asks for one driver


def requested(query_string: str, custom_attributes: str, body: dict) -> int:
    """How many drivers a request asks for (see `setting`); 0 for none."""
    return top_k(setting("explain", query_string, custom_attributes, body))


def setting(name: str, query_string: str, custom_attributes: str, body: dict) -> object:
    """A request setting: `?name=` in the query string wins, then `name=` in the
    X-Amzn-SageMaker-Custom-Attributes header, then the JSON body's own; None when none is given."""
    if query_string:
        found = parse_qs(query_string).get(name)
        if found:
            return found[0]
    from_header = custom_attribute(custom_attributes, name)
    return from_header if from_header is not None else body.get(name)


def top_k(raw: object) -> int:
    """A whole number of drivers, true (3) or false (0); None asks for none."""
    if raw is None:
        return 0
    text = str(raw).strip().lower()
    if text in OFF:
        return 0
    if text in ON:
        return DEFAULT_TOP_K
    if text.isascii() and text.isdigit() and 0 < int(text) <= 100:
        return int(text)
    raise RequestError(f"explain={raw!r} must be true, false, or a number of drivers (1..100)")


def custom_attribute(header: str, name: str = "explain"):
    """Read name=value from X-Amzn-SageMaker-Custom-Attributes ('a=1; explain=3')."""
    for part in header.replace(",", ";").split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value
    return None


def top_drivers(model, matrix: np.ndarray, columns: dict, k: int) -> list:
    contributions = model.contributions(matrix)
    k = min(k, contributions.shape[1])
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :k]
    features = model.schema.features
    return [
        [_driver(features[j], columns[features[j].name][i], matrix[i, j], contributions[i, j])
         for j in row]
        for i, row in enumerate(order)
    ]


def as_extra(drivers: list) -> Extra:
    """Each row's drivers: in JSON a list under "explanation"; in CSV feature,value,contribution
    for each driver, largest first."""
    cells = [[cell for d in row for cell in (d["feature"], d["value"], d["contribution"])] for row in drivers]
    return Extra("explanation", drivers, cells)


def _driver(feature, raw, encoded: float, contribution: float) -> dict:
    if math.isnan(encoded):  # missing, or a category never seen in training (shown as sent)
        value = None if feature.kind != CATEGORICAL or is_missing(raw) else raw
    elif feature.kind == CATEGORICAL:
        value = feature.levels[int(encoded)]
    else:
        value = float(encoded)
    return {"feature": feature.name, "value": value, "contribution": round(float(contribution), 6)}
