
import pytest

from attrition.core.platform.errors import UserError
from attrition.core.table import schema
from tests.helpers import small_schema


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
    s = small_schema({
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
    s = small_schema({
        "employee_id": [str(100 + i) for i in range(12)],
        "salary": [str(1000 + 10 * i) for i in range(12)],  # sorted and distinct, still a feature
        "badge": [f"B{i}" for i in range(12)],
    })
    assert s.feature_names == ["salary"]
    assert s.dropped["employee_id"].startswith("identifier-like")
    assert s.dropped["badge"].startswith("identifier-like")


def test_drop_columns_must_exist():
    with pytest.raises(UserError, match="not in the data: salary"):
        small_schema({"age": ["1", "2"]}, drop=["salary"])


def test_all_columns_dropped_is_an_error():
    with pytest.raises(UserError, match="no usable feature columns"):
        small_schema({"one": ["1", "1"]})


def test_schema_round_trips_through_json_dict(trained_model):
    again = schema.Schema.from_dict(trained_model.schema.to_dict())
    assert again == trained_model.schema










def test_a_category_of_too_many_distinct_texts_is_dropped_with_the_reason():
    many = [f"note {i % 10_001}" for i in range(20_002)]
    s = small_schema({"notes": many, "dept": ["HR", "Sales"] * 10_001})
    assert s.feature_names == ["dept"]
    assert s.dropped["notes"].startswith("10,001 distinct texts: more than 10,000 is free text")
