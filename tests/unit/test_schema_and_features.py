import math

import pytest

from attrition import features, schema
from attrition.errors import RequestError, UserError
from attrition.values import canonical_category, is_missing


def infer(columns, drop=(), categorical=()):
    names = list(columns)
    return schema.infer(names, columns, "Attrition", len(names), ["No", "Yes"],
                        list(drop), list(categorical))


def test_ibm_constant_and_identifier_columns_are_dropped(trained_model):
    dropped = trained_model.schema.dropped
    assert set(dropped) == {"EmployeeCount", "StandardHours", "Over18", "EmployeeNumber"}
    assert dropped["EmployeeNumber"].startswith("identifier-like")
    assert dropped["Over18"].startswith("constant")


def test_ibm_string_columns_are_categorical(trained_model):
    kinds = {f.name: f.kind for f in trained_model.schema.features}
    assert kinds["JobRole"] == schema.CATEGORICAL
    assert kinds["OverTime"] == schema.CATEGORICAL
    assert kinds["MonthlyIncome"] == schema.NUMERIC
    overtime = next(f for f in trained_model.schema.features if f.name == "OverTime")
    assert overtime.levels == ["No", "Yes"]


def test_kinds_missing_values_and_forced_categories():
    n = 12
    s = infer({
        "age": [str(20 + i) for i in range(n - 1)] + [""],
        "dept": ["Sales", "HR", "NA"] * 4,
        "level": ["1", "2", "3.0"] * 4,
        "empty": [""] * n,
    }, categorical=["level"])
    kinds = {f.name: (f.kind, f.levels) for f in s.features}
    assert kinds["age"] == (schema.NUMERIC, [])
    assert kinds["dept"] == (schema.CATEGORICAL, ["HR", "Sales"])
    assert kinds["level"] == (schema.CATEGORICAL, ["1", "2", "3"])
    assert s.dropped == {"empty": "empty: every value is missing"}


def test_identifiers_need_an_identifier_name():
    s = infer({
        "employee_id": [str(100 + i) for i in range(12)],
        "salary": [str(1000 + 10 * i) for i in range(12)],  # sorted and distinct, still a feature
        "badge": [f"B{i}" for i in range(12)],
    })
    assert s.feature_names == ["salary"]
    assert s.dropped["employee_id"].startswith("identifier-like")
    assert s.dropped["badge"].startswith("identifier-like")


def test_drop_columns_must_exist():
    with pytest.raises(UserError, match="not in the data: salary"):
        infer({"age": ["1", "2"]}, drop=["salary"])


def test_all_columns_dropped_is_an_error():
    with pytest.raises(UserError, match="no usable feature columns"):
        infer({"one": ["1", "1"]})


def test_schema_round_trips_through_json_dict(trained_model):
    again = schema.Schema.from_dict(trained_model.schema.to_dict())
    assert again == trained_model.schema


@pytest.mark.parametrize("value", [None, "", " ", "NA", "n/a", "NaN", "null", "None", float("nan")])
def test_missing_tokens(value):
    assert is_missing(value)


@pytest.mark.parametrize("value, spelled", [(3, "3"), (3.0, "3"), ("3.0", "3"), (" Sales ", "Sales"),
                                            ("2.5", "2.5"), (True, "true")])
def test_categories_have_one_spelling(value, spelled):
    assert canonical_category(value) == spelled


def test_encode_maps_categories_numbers_and_missing():
    s = infer({"age": ["30", "40"] * 6, "dept": ["HR", "Sales"] * 6})
    matrix = features.encode(s, {"age": ["31", None, "NA", 7], "dept": ["Sales", "Legal", "", " HR"]}, 4)
    assert matrix[:, 0].tolist()[0] == 31.0 and math.isnan(matrix[1, 0]) and math.isnan(matrix[2, 0])
    assert matrix[3, 0] == 7.0
    assert matrix[0, 1] == 1.0 and math.isnan(matrix[1, 1]) and math.isnan(matrix[2, 1])
    assert matrix[3, 1] == 0.0


def test_encode_names_missing_columns_and_bad_numbers():
    s = infer({"age": ["30", "40"] * 6, "dept": ["HR", "Sales"] * 6})
    with pytest.raises(RequestError, match="missing required column\\(s\\): dept"):
        features.encode(s, {"age": ["1"]}, 1)
    with pytest.raises(RequestError, match="column 'age', row 2: 'forty' is not a number"):
        features.encode(s, {"age": ["1", "forty"], "dept": ["HR", "HR"]}, 2)
    with pytest.raises(RequestError, match="row 1: .* is not a number"):
        features.encode(s, {"age": [[1]], "dept": ["HR"]}, 1)
