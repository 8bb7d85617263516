import dataclasses
import json

import pytest

from attrition.core.platform.errors import UserError
from attrition.train import hyperparameters
from tests.helpers import ROOT


def test_defaults_when_nothing_is_given():
    values = hyperparameters.parse({})
    assert values.label_column == "Attrition"
    assert values.positive_class == "Yes"
    assert values.num_leaves == 2
    assert values.extra_trees is True
    assert values.threshold_objective == "f1"
    assert set(values.as_dict()) == set(hyperparameters.SPECS_BY_NAME)


def test_the_typed_object_has_one_field_per_spec_of_its_type():
    """The frozen object mypy checks is the specs' own: a spec added, removed or retyped fails here."""
    fields = {f.name: f.type for f in dataclasses.fields(hyperparameters.Hyperparameters)}
    assert fields == {spec.name: spec.kind for spec in hyperparameters.SPECS}
    values = hyperparameters.parse({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        values.num_leaves = 8  # type: ignore[misc]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"num_leaves": "16"}, 16),  # boto3 / Step Functions: plain strings
        ({"num_leaves": "16.0"}, 16),
        ({"num_leaves": 16}, 16),
    ],
)
def test_integers_arrive_as_strings(raw, expected):
    assert hyperparameters.parse(raw).num_leaves == expected


def test_sdk_json_encoded_values_are_decoded():
    values = hyperparameters.parse(
        {"boosting": '"dart"', "learning_rate": "0.1", "label_column": '"Left Company"'}
    )
    assert values.boosting == "dart"
    assert values.learning_rate == 0.1
    assert values.label_column == "Left Company"


@pytest.mark.parametrize("raw, expected", [("false", False), ("True", True), ('"0"', False), ("yes", True)])
def test_booleans(raw, expected):
    assert hyperparameters.parse({"extra_trees": raw}).extra_trees is expected


def test_choices_are_case_insensitive():
    assert hyperparameters.parse({"header": "True"}).header == "true"


def test_platform_keys_are_ignored():
    values = hyperparameters.parse(
        {"sagemaker_program": "x.py", "sagemaker_region": '"eu-west-1"',
         "_tuning_objective_metric": "validation:auc"}
    )
    assert "sagemaker_program" not in values.as_dict()


def test_unknown_key_is_named():
    with pytest.raises(UserError, match="unknown hyperparameter.*num_leafs"):
        hyperparameters.parse({"num_leafs": "8"})


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"num_leaves": "1"}, "num_leaves='1' is out of range"),
        ({"learning_rate": "fast"}, "learning_rate='fast' is not a valid float"),
        ({"num_boost_round": "2.5"}, "num_boost_round='2.5' is not a valid int"),
        ({"boosting": "goss"}, "boosting='goss' must be one of gbdt, dart, rf"),
        ({"learning_rate": "nan"}, "learning_rate='nan' is not a valid float"),
        ({"decision_threshold": "1"}, "decision_threshold='1' is out of range"),
        ({"extra_trees": "maybe"}, "extra_trees='maybe' is not a valid bool"),
        ({"threshold_objective": "accuracy"}, "must be one of f1, f2, recall, precision, fixed"),
    ],
)
def test_bad_values_name_the_hyperparameter(raw, message):
    with pytest.raises(UserError, match=message):
        hyperparameters.parse(raw)


def test_non_object_is_rejected():
    with pytest.raises(UserError, match="JSON object"):
        hyperparameters.parse(["num_leaves", "8"])


def test_the_cli_checks_hyperparameters_against_the_declared_ones():
    """deploy/attrition_deploy/hyperparameters.json is how the CLI (boto3 only) checks --hp."""
    shipped = json.loads((ROOT / "deploy" / "attrition_deploy" / "hyperparameters.json").read_text())
    assert shipped == hyperparameters.declared()


def test_the_cli_tunes_exactly_the_declared_search_ranges():
    """deploy/attrition_deploy/tuning_ranges.json is how the CLI (boto3 only) learns the ranges."""
    shipped = json.loads((ROOT / "deploy" / "attrition_deploy" / "tuning_ranges.json").read_text())
    assert shipped == hyperparameters.tuning_ranges()
    names = {r["Name"] for kind in shipped.values() for r in kind}
    assert names == {"learning_rate", "num_leaves", "min_data_in_leaf", "feature_fraction", "bagging_fraction",
                     "lambda_l2", "extra_trees"}
    for spec in hyperparameters.SEARCHED:  # every range lies within what the job accepts
        if not spec.search.choices:
            assert spec.low <= spec.search.low < spec.search.high <= spec.high, spec.name
