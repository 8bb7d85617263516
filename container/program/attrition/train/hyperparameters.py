"""Declared hyperparameters: name, type, range and default, parsed once into a frozen, typed object.

SageMaker passes every value as a string. The SageMaker Python SDK (>= 2.110) also
JSON-encodes each one, so `"gbdt"` may arrive as `"\\"gbdt\\""` and `0.1` as `"0.1"`.
Both forms are accepted. Keys the platform adds (`sagemaker_*`, `_tuning_objective_metric`)
are ignored; any other unknown key fails the job, so a typo never goes unnoticed.
"""

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

from ..core.contract import FALSE_VALUES, TRUE_VALUES
from ..core.platform.errors import UserError
from ..core.predict import levers
from ..core.quality import bias


@dataclass(frozen=True)
class Search:
    """Where a search looks for a hyperparameter: between low and high (on a log scale when
    `log`), or among `choices`. The local random search (tuning_trials) and SageMaker's tuning
    jobs (attrition-deploy tune) share these ranges."""

    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple = ()


@dataclass(frozen=True)
class Spec:
    name: str
    kind: type  # int, float, str or bool
    default: object
    low: float = -math.inf
    high: float = math.inf
    choices: tuple = ()
    help: str = ""
    lightgbm: bool = False  # passed to LightGBM under the same name
    search: Search | None = None  # tuned, within this range

    def describe_range(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind is bool:
            return "true or false"
        return f"{self.low}..{self.high}"


SPECS = (
    # Data
    Spec("label_column", str, "Attrition", help="name of the label column in a CSV with a header"),
    Spec("positive_class", str, "Yes",
         help="label value that means 'left the company' (labels 0/1 need no setting)"),
    Spec("header", str, "auto", choices=("auto", "true", "false"),
         help="auto: a first row holding label_column is a header; otherwise the label is column 1"),
    Spec("drop_columns", str, "", help="comma-separated columns never used as features"),
    Spec("categorical_columns", str, "",
         help="comma-separated columns to treat as categories even when their values are numbers"),
    # Validation and tuning
    Spec("folds", int, 5, 2, 20,
         help="stratified cross-validation folds: pick the number of trees and the threshold"),
    Spec("early_stopping_rounds", int, 400, 0, 10000,
         help="stop adding trees when cross-validated AUC has not improved for this many; 0 never"),
    Spec("tuning_trials", int, 0, 0, 1000,
         help="random-search trials (each a full cross-validation) before the final fit; 0 is off"),
    # LightGBM: defaults for small tabular HR data (many shallow, randomised, additive trees)
    Spec("boosting", str, "gbdt", choices=("gbdt", "dart", "rf"),
         help="LightGBM boosting type (rf needs bagging or feature_fraction < 1)", lightgbm=True),
    Spec("num_boost_round", int, 3000, 1, 100000, help="maximum number of trees"),
    Spec("learning_rate", float, 0.05, 1e-6, 1.0, lightgbm=True, search=Search(0.01, 0.2, log=True)),
    Spec("num_leaves", int, 2, 2, 131072, help="2 gives stumps: an additive model", lightgbm=True,
         search=Search(2, 16, log=True)),
    Spec("max_depth", int, -1, -1, 64, help="-1 means no limit", lightgbm=True),
    Spec("min_data_in_leaf", int, 30, 1, 1000000, lightgbm=True, search=Search(5, 60)),
    Spec("feature_fraction", float, 0.25, 1e-6, 1.0, lightgbm=True, search=Search(0.2, 0.9)),
    Spec("bagging_fraction", float, 0.8, 1e-6, 1.0, lightgbm=True, search=Search(0.5, 1.0)),
    Spec("bagging_freq", int, 1, 0, 1000, lightgbm=True),
    Spec("extra_trees", bool, True, help="random split points: strong regularisation", lightgbm=True,
         search=Search(choices=("true", "false"))),
    Spec("lambda_l1", float, 0.0, 0.0, 1e6, lightgbm=True),
    Spec("lambda_l2", float, 5.0, 0.0, 1e6, lightgbm=True, search=Search(0.01, 30.0, log=True)),
    Spec("min_gain_to_split", float, 0.0, 0.0, 1e6, lightgbm=True),
    Spec("cat_smooth", float, 10.0, 0.0, 1e6, lightgbm=True),
    Spec("scale_pos_weight", float, 1.0, 1e-6, 1e6, help="weight of the positive class", lightgbm=True),
    Spec("num_threads", int, 0, 0, 1024, help="0 uses every core", lightgbm=True),
    Spec("seed", int, 0, 0, 2**31 - 1, help="folds, tuning and LightGBM randomness", lightgbm=True),
    # Decision
    Spec("threshold_objective", str, "f1", choices=("f1", "f2", "recall", "precision", "fixed"),
         help="how the served label's threshold is chosen on out-of-fold probabilities"),
    Spec("threshold_target", float, 0.8, 1e-6, 1.0,
         help="the recall or precision to reach, for threshold_objective recall or precision"),
    Spec("decision_threshold", float, 0.5, 1e-6, 1 - 1e-6,
         help="the threshold when threshold_objective is fixed"),
    Spec("bias_facets", str, bias.DEFAULT_FACETS,
         help="comma-separated groups to audit for bias: a column (each category), column>number, or an "
              "intersection of them joined by & (Gender&Age>40)"),
    Spec("retention_levers", str, levers.DEFAULT,
         help="actionable features for levers=k, ';'-separated: column:value,value (categories it may "
              "take), column:+low..+high or column:+low%..+high% (changes); empty for none"),
)

SPECS_BY_NAME = {spec.name: spec for spec in SPECS}
LIGHTGBM_PARAMS = tuple(spec.name for spec in SPECS if spec.lightgbm)
SEARCHED = tuple(spec for spec in SPECS if spec.search)
BOOLEANS = {**dict.fromkeys(TRUE_VALUES, True), **dict.fromkeys(FALSE_VALUES, False)}


@dataclass(frozen=True)
class Hyperparameters:
    """Every declared hyperparameter, typed; a test keeps the fields equal to SPECS (names, types)."""

    label_column: str
    positive_class: str
    header: str
    drop_columns: str
    categorical_columns: str
    folds: int
    early_stopping_rounds: int
    tuning_trials: int
    boosting: str
    num_boost_round: int
    learning_rate: float
    num_leaves: int
    max_depth: int
    min_data_in_leaf: int
    feature_fraction: float
    bagging_fraction: float
    bagging_freq: int
    extra_trees: bool
    lambda_l1: float
    lambda_l2: float
    min_gain_to_split: float
    cat_smooth: float
    scale_pos_weight: float
    num_threads: int
    seed: int
    threshold_objective: str
    threshold_target: float
    decision_threshold: float
    bias_facets: str
    retention_levers: str

    def as_dict(self) -> dict:
        """name -> value, as the manifest and the checkpoints store them."""
        return dataclasses.asdict(self)

    def lightgbm(self) -> dict:
        """The ones LightGBM takes as they are."""
        return {name: getattr(self, name) for name in LIGHTGBM_PARAMS}


def is_platform_key(key: str) -> bool:
    return key.startswith("sagemaker_") or key == "_tuning_objective_metric"


def parse(raw: dict) -> Hyperparameters:
    """Every declared hyperparameter, typed and range-checked; UserError otherwise."""
    if not isinstance(raw, dict):
        raise UserError("hyperparameters.json must hold a JSON object of name -> value")
    unknown = sorted(k for k in raw if k not in SPECS_BY_NAME and not is_platform_key(k))
    if unknown:
        raise UserError(
            f"unknown hyperparameter(s): {', '.join(unknown)}; "
            f"known: {', '.join(SPECS_BY_NAME)}"
        )
    values: dict[str, Any] = {spec.name: spec.default for spec in SPECS}
    for key, value in raw.items():
        if key in SPECS_BY_NAME:
            values[key] = _cast(SPECS_BY_NAME[key], value)
    _check_random_forest(values)
    return Hyperparameters(**values)


def _check_random_forest(values: dict) -> None:
    bagging = values["bagging_freq"] > 0 and values["bagging_fraction"] < 1
    if values["boosting"] == "rf" and not bagging and values["feature_fraction"] >= 1:
        raise UserError(
            "boosting=rf needs sampling: set bagging_freq > 0 with bagging_fraction < 1, "
            "or feature_fraction < 1"
        )


def tuning_ranges() -> dict:
    """The searched hyperparameters as SageMaker tuning jobs' ParameterRanges (the CLI reads
    them from deploy/attrition_deploy/tuning_ranges.json, which a test keeps equal to this)."""
    ranges: dict[str, list] = {"IntegerParameterRanges": [], "ContinuousParameterRanges": [],
                               "CategoricalParameterRanges": []}
    for spec in SEARCHED:
        search = spec.search
        assert search is not None
        if search.choices:
            ranges["CategoricalParameterRanges"].append({"Name": spec.name, "Values": list(search.choices)})
            continue
        kind = "IntegerParameterRanges" if spec.kind is int else "ContinuousParameterRanges"
        ranges[kind].append({"Name": spec.name, "MinValue": str(spec.kind(search.low)),
                             "MaxValue": str(spec.kind(search.high)),
                             "ScalingType": "Logarithmic" if search.log else "Linear"})
    return ranges


def declared() -> dict:
    """Every hyperparameter's type and allowed values, as JSON (the CLI checks `--hp` against
    deploy/attrition_deploy/hyperparameters.json, which a test keeps equal to this)."""
    return {spec.name: {"type": spec.kind.__name__, "choices": list(spec.choices),
                        "low": spec.low if math.isfinite(spec.low) else None,
                        "high": spec.high if math.isfinite(spec.high) else None} for spec in SPECS}


def split_list(value: str) -> list:
    return [item.strip() for item in value.split(",") if item.strip()]


def _cast(spec: Spec, value: object) -> str | bool | int | float:
    text = _unwrap(value)
    result: str | bool | int | float
    try:
        if spec.kind is str:
            result = text.lower() if spec.choices else text
        elif spec.kind is bool:
            result = BOOLEANS[text.lower()]
        elif spec.kind is int:
            as_float = float(text)
            if not as_float.is_integer():
                raise ValueError
            result = int(as_float)
        else:
            result = float(text)
            if not math.isfinite(result):
                raise ValueError
    except (ValueError, KeyError):
        raise UserError(
            f"hyperparameter {spec.name}={text!r} is not a valid {spec.kind.__name__}"
        ) from None
    if spec.choices and result not in spec.choices:
        raise UserError(f"hyperparameter {spec.name}={text!r} must be {spec.describe_range()}")
    if isinstance(result, int | float) and not spec.low <= result <= spec.high:
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
