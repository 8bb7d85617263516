"""The model's input schema: which raw columns exist, which are features and of what kind.

`infer` builds it from the training columns once; it is saved in the model metadata and
read back at serving time, so training and serving agree on every column by construction.
"""

import re
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from ..platform.errors import UserError
from .columns import number_of
from .values import canonical_category, is_missing

NUMERIC = "numeric"
CATEGORICAL = "categorical"
MAX_LEVELS = 10_000  # categories a feature may have: each is kept in the model's metadata
MANY_NUMBERS = 20  # distinct numbers beyond which a column with a little text is numbers, not categories
_ID_NAME = re.compile(r"(^|_)(id|number|no|code|key)$|(Id|ID|Number|No|Code|Key)$")


@dataclass
class Feature:
    name: str
    kind: str  # NUMERIC or CATEGORICAL
    levels: list = field(default_factory=list)  # categorical only: code i is levels[i]

    @cached_property
    def codes(self) -> dict:
        return {level: float(i) for i, level in enumerate(self.levels)}


@dataclass
class Schema:
    input_columns: list  # raw columns in file order, label excluded
    label_column: str
    label_position: int  # index of the label in a raw training row
    features: list  # of Feature, in model order
    dropped: dict  # column -> reason it is not a feature
    classes: list  # [negative, positive] label values

    @property
    def feature_names(self) -> list:
        return [f.name for f in self.features]

    @cached_property
    def column_names(self) -> frozenset:
        """Every raw column name, the label's included."""
        return frozenset(self.input_columns + [self.label_column])

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Schema":
        features = [Feature(**f) for f in data["features"]]
        return cls(**{**data, "features": features})


def infer(input_columns: list, columns: dict, label_column: str, label_position: int,
          classes: list, drop: list, categorical: list) -> Schema:
    """Choose the features and their kinds from the training columns (name -> core.table.columns.Column)."""
    unknown = [name for name in drop + categorical if name not in columns]
    if unknown:
        raise UserError(
            f"drop_columns/categorical_columns name column(s) not in the data: {', '.join(unknown)}"
        )
    features, dropped = [], {}
    for name in input_columns:
        if name in drop:
            dropped[name] = "listed in drop_columns"
            continue
        feature, reason = _profile(name, columns[name], force_categorical=name in categorical)
        if feature is None:
            dropped[name] = reason
        else:
            features.append(feature)
    if not features:
        raise UserError("no usable feature columns: every column was dropped " + str(dropped))
    return Schema(list(input_columns), label_column, label_position, features, dropped, classes)


def _profile(name: str, column, force_categorical: bool):
    """A column (core.table.columns.Column) as a feature, or None and the reason it is dropped. Every
    decision is made on the column's distinct spellings and their counts, not row by row."""
    if column.numbers is not None:
        return _profile_numbers(name, column)
    counts = column.counts()
    used = [(level, count) for level, count in zip(column.levels, counts.tolist())
            if count and not is_missing(level)]
    present = sum(count for _, count in used)
    if not present:
        return None, "empty: every value is missing"
    numbers = None if force_categorical else _as_numbers([level for level, _ in used])
    if numbers is None and not force_categorical and _mostly_numbers(used, present):
        return None, f"mixes numbers and text ({_first_text_row(column)})"
    if numbers is None:
        levels = sorted({canonical_category(level) for level, _ in used})
        if len(levels) == 1:
            return None, f"constant: every value is {levels[0]!r}"
        if len(levels) == present and present >= 10:
            return None, "identifier-like: every value is different"
        if len(levels) > MAX_LEVELS:
            return None, (f"{len(levels):,} distinct texts: more than {MAX_LEVELS:,} is free text or an identifier, "
                          "not categories (group them into fewer values to use it)")
        return Feature(name, CATEGORICAL, levels), ""
    return _numeric(name, numbers, np.array([count for _, count in used]))


def _profile_numbers(name: str, column):
    """A column held as float64 (it has many distinct numbers)."""
    if column.first_text_row is not None:
        return None, f"mixes numbers and text (the first text in row {column.first_text_row})"
    numbers = column.numbers[~np.isnan(column.numbers)]
    if not len(numbers):
        return None, "empty: every value is missing"
    return _numeric(name, numbers, np.ones(len(numbers)))


def _numeric(name: str, numbers: np.ndarray, counts: np.ndarray):
    """A numeric feature from its values and how many rows hold each (equal values may repeat)."""
    distinct, inverse = np.unique(numbers, return_inverse=True)
    rows = np.bincount(inverse, weights=counts)
    if len(distinct) == 1:
        return None, f"constant: every value is {distinct[0]:g}"
    if _is_identifier(name, distinct, int(rows.sum())):
        return None, "identifier-like: distinct integers, one per row"
    return Feature(name, NUMERIC), ""


def _mostly_numbers(used: list, present: int) -> bool:
    """Many distinct numbers and a few rows of text: a numeric column with stray text (a note, a
    name typed in the wrong cell), not categories. Kept as categories, that text would be saved
    in the model and shown by GET /model; it is dropped, and the reason never quotes it."""
    numeric = [count for level, count in used if number_of(level) is not None]
    return len(numeric) >= MANY_NUMBERS and sum(numeric) >= 0.99 * present


def _first_text_row(column) -> str:
    texts = [code for code, level in enumerate(column.levels) if not is_missing(level) and number_of(level) is None]
    text_rows = np.isin(column.codes, texts)
    return f"{int(text_rows.sum())} row(s) of text, the first in row {int(np.argmax(text_rows)) + 1}"


def _as_numbers(present):
    try:
        numbers = np.array(present, dtype=np.float64)
    except ValueError:
        return None
    return numbers if np.isfinite(numbers).all() else None


def _is_identifier(name: str, distinct: np.ndarray, rows: int) -> bool:
    """Distinct whole numbers, one per row, under an identifier's name (EmployeeNumber, staff_id, ...).

    The name matters: a sorted, all-distinct salary column must stay a feature.
    """
    return (
        len(distinct) == rows >= 10
        and bool(np.all(distinct == np.round(distinct)))
        and bool(_ID_NAME.search(name))
    )
