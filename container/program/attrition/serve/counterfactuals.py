"""What-if answers and retention levers: what a request asks beside the predictions, and the extra
fields of its answer.

    whatif   changes applied to every row ("if she stopped working overtime?"): the JSON body's
             {"whatif": {"OverTime": "No"}}, or `whatif=OverTime:No|MonthlyIncome:5200` in the query
             string or in X-Amzn-SageMaker-Custom-Attributes. Each prediction gains the what-if
             probability and label.
    levers   `levers=k`: per employee, the fewest changes (at most k) among the model's actionable
             features that bring the probability under the threshold (core.predict.levers).

Each is read as `explain` is (explanations.setting): the query string, then the custom
attributes, then the body.
"""

import json
import math

import numpy as np

from ..core.platform.errors import RequestError
from ..core.predict import levers
from ..core.predict.model import Model
from ..core.table.schema import CATEGORICAL, Schema
from ..core.table.values import canonical_category, is_missing
from ..core.wire.codecs import Extra
from .explanations import OFF, setting

MAX_LEVER_ROWS = 1_000  # employees per request that may ask for levers: each is a small search
SHOWN_LEVELS = 20  # levels listed in a message about a category


def requested(query_string: str, custom_attributes: str, body: dict, schema: Schema) -> tuple[dict[int, float], int]:
    """The request's what-if changes (see `whatif`) and its number of levers (0 for none); a plain
    request, with no query string, custom attributes or body settings, costs nothing here."""
    if not (query_string or custom_attributes or body):
        return {}, 0
    return (whatif(setting("whatif", query_string, custom_attributes, body), schema),
            levers_requested(setting("levers", query_string, custom_attributes, body)))


def whatif(raw: object, schema: Schema) -> dict[int, float]:
    """Feature index -> encoded value for each change asked; {} for none. RequestError names the
    column that is not a feature, or the value that is not one of its kind."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    changes = _pairs(raw)
    index = {f.name: j for j, f in enumerate(schema.features)}
    encoded = {}
    for column, value in changes.items():
        if column not in index:
            why = schema.dropped.get(column)
            raise RequestError(f"whatif: {column[:60]!r} is not a feature of this model"
                               + (f" (not used: {why})" if why else ""))
        encoded[index[column]] = _encoded(schema.features[index[column]], value)
    return encoded


def _pairs(raw: object) -> dict:
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("{"):
            try:
                raw = json.loads(text)
            except ValueError as error:
                raise RequestError(f"whatif is not valid JSON: {error}") from None
        else:
            pairs = [part.partition(":") for part in text.split("|") if part.strip()]
            if any(not sep or not column.strip() for column, sep, _ in pairs):
                raise RequestError("whatif must be column:value pairs separated by '|', e.g. "
                                   "OverTime:No|MonthlyIncome:5200, or a JSON object")
            return {column.strip(): value.strip() for column, _, value in pairs}
    if not isinstance(raw, dict) or not raw:
        raise RequestError('whatif must be an object of column -> value, e.g. {"OverTime": "No"}')
    return raw


def _encoded(feature, value) -> float:
    if is_missing(value) or isinstance(value, dict | list):
        raise RequestError(f"whatif: {feature.name} needs a value")
    if feature.kind == CATEGORICAL:
        code = feature.codes.get(canonical_category(value))
        if code is None:
            shown = ", ".join(feature.levels[:SHOWN_LEVELS]) + (", ..." if len(feature.levels) > SHOWN_LEVELS else "")
            raise RequestError(f"whatif: {feature.name} must be one of the values seen in training ({shown})")
        return code
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number):
        raise RequestError(f"whatif: {feature.name} is a number feature: give it a finite number")
    return number


def whatif_extra(model: Model, matrix: np.ndarray, changes: dict[int, float]) -> Extra:
    """Every row's probability and label once the changes are applied: "whatif" in JSON,
    two cells in CSV."""
    changed = matrix.copy()
    for j, value in changes.items():
        changed[:, j] = value
    probabilities = model.predict(changed).tolist()
    labels = model.labels(probabilities)
    values = [{"probability": p, "label": label} for p, label in zip(probabilities, labels)]
    return Extra("whatif", values, [[p, label] for p, label in zip(probabilities, labels)])


def levers_requested(raw: object) -> int:
    """`levers=k`: a whole number of changes at most (0 or false for none)."""
    if raw is None:
        return 0
    text = str(raw).strip().lower()
    if text in OFF:
        return 0
    if not (text.isascii() and text.isdigit()):
        raise RequestError(f"levers={str(raw)[:20]!r} must be a whole number of changes, e.g. levers=3")
    return int(text)


def levers_extra(model: Model, search: levers.LeverSearch, matrix: np.ndarray, probabilities: list[float],
                 k: int) -> Extra:
    """Per row: whether the threshold is reached, the probability after the changes, its label and
    the changes ("levers" in JSON; in CSV found, probability, then k cells Feature=value)."""
    answers = search.search(matrix, probabilities, k)
    labels = model.labels([a.probability for a in answers])
    values, cells = [], []
    for answer, label in zip(answers, labels):
        changes = [{"feature": c.feature, "from": c.before, "to": c.after} for c in answer.changes]
        values.append({"found": answer.found, "probability": answer.probability, "label": label,
                       "changes": changes})
        shown = [f"{c.feature}={c.after}" for c in answer.changes]
        cells.append([str(answer.found).lower(), answer.probability, *shown, *[""] * (k - len(shown))])
    return Extra("levers", values, cells)
