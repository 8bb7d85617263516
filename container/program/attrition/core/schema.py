"""The model's input schema: which raw columns exist, which are features and of what kind.

`infer` builds it from the training columns once; it is saved in the model metadata and
read back at serving time, so training and serving agree on every column by construction.
"""

import re
from dataclasses import asdict, dataclass, field
from functools import cached_property

import numpy as np

from .errors import UserError
from .values import canonical_category, is_missing

NUMERIC = "numeric"
CATEGORICAL = "categorical"
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
    """Choose the features and their kinds from the training columns (name -> raw values)."""
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


def _profile(name: str, values, force_categorical: bool):
    present = [v for v in values if not is_missing(v)]
    if not present:
        return None, "empty: every value is missing"
    numbers = None if force_categorical else _as_numbers(present)
    if numbers is None:
        levels = sorted({canonical_category(v) for v in present})
        if len(levels) == 1:
            return None, f"constant: every value is {levels[0]!r}"
        if len(levels) == len(present) and len(present) >= 10:
            return None, "identifier-like: every value is different"
        return Feature(name, CATEGORICAL, levels), ""
    distinct = np.unique(numbers)
    if len(distinct) == 1:
        return None, f"constant: every value is {distinct[0]:g}"
    if _is_identifier(name, numbers, len(distinct)):
        return None, "identifier-like: distinct integers, one per row"
    return Feature(name, NUMERIC), ""


def _as_numbers(present):
    try:
        numbers = np.array(present, dtype=np.float64)
    except ValueError:
        return None
    return numbers if np.isfinite(numbers).all() else None


def _is_identifier(name: str, numbers, n_distinct: int) -> bool:
    """Distinct whole numbers under an identifier's name (EmployeeNumber, staff_id, ...).

    The name matters: a sorted, all-distinct salary column must stay a feature.
    """
    return (
        n_distinct == len(numbers) >= 10
        and bool(np.all(numbers == np.round(numbers)))
        and bool(_ID_NAME.search(name))
    )
