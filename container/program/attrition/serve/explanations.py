"""Per-prediction drivers: TreeSHAP contributions (LightGBM's `pred_contrib`), top k by size.

A contribution is in log-odds: positive pushes towards leaving, negative towards staying;
with the model's base value they add up to the prediction's log-odds.
"""

import math
from urllib.parse import parse_qs

import numpy as np

from ..core.codecs import Extra
from ..core.errors import RequestError
from ..core.schema import CATEGORICAL
from ..core.values import is_missing

DEFAULT_TOP_K = 3
OFF = ("", "0", "false", "no", "off")
ON = ("true", "yes", "on")


def requested(query_string: str, custom_attributes: str, body_setting: object) -> int:
    """How many drivers a request asks for: `?explain=` in the query, then `explain=` in the
    X-Amzn-SageMaker-Custom-Attributes header, then the JSON body's "explain"; 0 for none."""
    query = parse_qs(query_string).get("explain", [None])[0] if query_string else None
    return top_k_from(query, custom_attribute(custom_attributes), body_setting)


def top_k_from(*settings: object) -> int:
    """The first explicit setting wins: a whole number of drivers, true (3) or false (0)."""
    for raw in settings:
        if raw is None:
            continue
        text = str(raw).strip().lower()
        if text in OFF:
            return 0
        if text in ON:
            return DEFAULT_TOP_K
        if text.isascii() and text.isdigit() and 0 < int(text) <= 100:
            return int(text)
        raise RequestError(f"explain={raw!r} must be true, false, or a number of drivers (1..100)")
    return 0


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
