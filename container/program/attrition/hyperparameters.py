"""Declared hyperparameters: name, type, range and default, parsed once into a plain dict.

SageMaker passes every value as a string. The SageMaker Python SDK (>= 2.110) also
JSON-encodes each one, so `"gbdt"` may arrive as `"\\"gbdt\\""` and `0.1` as `"0.1"`.
Both forms are accepted. Keys the platform adds (`sagemaker_*`, `_tuning_objective_metric`)
are ignored; any other unknown key fails the job, so a typo never goes unnoticed.
"""

import json
import math
from dataclasses import dataclass

from .errors import UserError


@dataclass(frozen=True)
class Spec:
    name: str
    kind: type  # int, float, str or bool
    default: object
    low: float = -math.inf
    high: float = math.inf
    choices: tuple = ()
    help: str = ""

    def describe_range(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return f"{self.low}..{self.high}"


SPECS = (
    # Data
    Spec("label_column", str, "Attrition", help="name of the label column in a CSV with a header"),
    Spec("positive_class", str, "Yes", help="label value that means 'left the company'"),
    Spec("header", str, "auto", choices=("auto", "true", "false"),
         help="auto: a first row holding label_column is a header; otherwise the label is column 1"),
    Spec("drop_columns", str, "", help="comma-separated columns never used as features"),
    Spec("categorical_columns", str, "",
         help="comma-separated columns to treat as categories even when their values are numbers"),
    Spec("validation_fraction", float, 0.2, 0.05, 0.5,
         help="share of the training rows held out for metrics when there is no validation channel"),
    # LightGBM
    Spec("boosting", str, "gbdt", choices=("gbdt", "dart", "rf")),
    Spec("num_boost_round", int, 400, 1, 10000),
    Spec("early_stopping_rounds", int, 40, 0, 10000, help="0 disables early stopping"),
    Spec("learning_rate", float, 0.03, 1e-6, 1.0),
    Spec("num_leaves", int, 8, 2, 131072),
    Spec("max_depth", int, -1, -1, 64, help="-1 means no limit"),
    Spec("min_data_in_leaf", int, 20, 1, 1000000),
    Spec("feature_fraction", float, 0.7, 1e-6, 1.0),
    Spec("bagging_fraction", float, 0.8, 1e-6, 1.0),
    Spec("bagging_freq", int, 1, 0, 1000),
    Spec("lambda_l1", float, 0.0, 0.0, 1e6),
    Spec("lambda_l2", float, 1.0, 0.0, 1e6),
    Spec("min_gain_to_split", float, 0.0, 0.0, 1e6),
    Spec("cat_smooth", float, 10.0, 0.0, 1e6),
    Spec("scale_pos_weight", float, 1.0, 1e-6, 1e6),
    Spec("num_threads", int, 0, 0, 1024, help="0 uses every core"),
    Spec("seed", int, 0, 0, 2**31 - 1),
    # Decision
    Spec("decision_threshold", float, 0.5, 1e-6, 1 - 1e-6,
         help="probability at or above which the served label is the positive class"),
)

SPECS_BY_NAME = {spec.name: spec for spec in SPECS}
LIGHTGBM_PARAMS = (
    "boosting", "learning_rate", "num_leaves", "max_depth", "min_data_in_leaf",
    "feature_fraction", "bagging_fraction", "bagging_freq", "lambda_l1", "lambda_l2",
    "min_gain_to_split", "cat_smooth", "scale_pos_weight", "num_threads", "seed",
)


def is_platform_key(key: str) -> bool:
    return key.startswith("sagemaker_") or key == "_tuning_objective_metric"


def parse(raw: dict) -> dict:
    """Return every declared hyperparameter, typed and range-checked; raise UserError otherwise."""
    if not isinstance(raw, dict):
        raise UserError("hyperparameters.json must hold a JSON object of name -> value")
    unknown = sorted(k for k in raw if k not in SPECS_BY_NAME and not is_platform_key(k))
    if unknown:
        raise UserError(
            f"unknown hyperparameter(s): {', '.join(unknown)}; "
            f"known: {', '.join(SPECS_BY_NAME)}"
        )
    values = {spec.name: spec.default for spec in SPECS}
    for key, value in raw.items():
        if key in SPECS_BY_NAME:
            values[key] = _cast(SPECS_BY_NAME[key], value)
    _check_random_forest(values)
    return values


def _check_random_forest(values: dict) -> None:
    bagging = values["bagging_freq"] > 0 and values["bagging_fraction"] < 1
    if values["boosting"] == "rf" and not bagging and values["feature_fraction"] >= 1:
        raise UserError(
            "boosting=rf needs sampling: set bagging_freq > 0 with bagging_fraction < 1, "
            "or feature_fraction < 1"
        )


def split_list(value: str) -> list:
    return [item.strip() for item in value.split(",") if item.strip()]


def _cast(spec: Spec, value):
    text = _unwrap(value)
    try:
        if spec.kind is str:
            result = text.lower() if spec.choices else text
        elif spec.kind is int:
            as_float = float(text)
            if not as_float.is_integer():
                raise ValueError
            result = int(as_float)
        else:
            result = float(text)
            if not math.isfinite(result):
                raise ValueError
    except ValueError:
        raise UserError(
            f"hyperparameter {spec.name}={text!r} is not a valid {spec.kind.__name__}"
        ) from None
    if spec.choices and result not in spec.choices:
        raise UserError(f"hyperparameter {spec.name}={text!r} must be {spec.describe_range()}")
    if spec.kind is not str and not spec.low <= result <= spec.high:
        raise UserError(
            f"hyperparameter {spec.name}={text!r} is out of range: must be {spec.describe_range()}"
        )
    return result


def _unwrap(value) -> str:
    """Undo the SDK's JSON encoding of a value; plain strings pass through unchanged."""
    if not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    text = value.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        if isinstance(decoded, str):
            return decoded.strip()
    return text
