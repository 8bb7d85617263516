import csv
import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attrition.core.platform.errors import RequestError, UserError
from attrition.core.predict import levers, model
from attrition.core.table import features
from attrition.core.table.schema import CATEGORICAL
from tests.helpers import BUNDLED_CSV, FAST, make_opt_ml, run_training


@pytest.fixture(scope="module")
def bundled():
    rows = list(csv.DictReader(BUNDLED_CSV.open(encoding="utf-8-sig")))
    return {name: [row[name] for row in rows] for name in rows[0]}, len(rows)


@pytest.fixture(scope="module")
def encoded(trained_model, bundled):
    columns, n = bundled
    x = features.encode(trained_model.schema, columns, n)
    return x, trained_model.predict(x).tolist()


@pytest.fixture(scope="module")
def search(trained_model):
    return levers.LeverSearch(trained_model, levers.from_metadata(trained_model.metadata))


def test_the_default_levers_are_resolved_against_the_training_data(trained_model):
    declared = {lever.feature: lever for lever in levers.from_metadata(trained_model.metadata)}
    assert list(declared) == ["OverTime", "BusinessTravel", "StockOptionLevel", "TrainingTimesLastYear",
                              "YearsSinceLastPromotion", "MonthlyIncome"]
    assert declared["OverTime"].levels == ("No",)
    assert declared["StockOptionLevel"].bounds == (0.0, 3.0) and declared["StockOptionLevel"].integer
    assert declared["MonthlyIncome"].relative and declared["MonthlyIncome"].high == pytest.approx(0.2)


@pytest.mark.parametrize("text, message", [
    ("OverTime", "is not column:values"),
    ("MonthlyIncome:+0%..+20", "mixes a percentage"),
    ("MonthlyIncome:+5..+1", "low end"),
    ("MonthlyIncome:a..b", "two numbers"),
    ("MonthlyIncome:-200%..0%", "more than 100%"),
    ("OverTime:No; OverTime:Yes", "more than once"),
])
def test_a_declaration_that_does_not_parse_names_its_entry(text, message):
    with pytest.raises(UserError, match=message):
        levers.parse(text)


@pytest.mark.parametrize("text, message", [
    ("Gender:Male", "protected attribute"),
    ("Age:+0..+5", "protected attribute"),
    ("Department:Sales", "protected attribute"),  # a bias facet of this training
    ("NoSuchColumn:+0..+1", "not a feature"),
    ("EmployeeNumber:+0..+1", r"not a feature of this model \(identifier-like"),
    ("OverTime:Maybe", "has no value 'Maybe'"),
    ("OverTime:+0..+1", "is categorical"),
    ("MonthlyIncome:High", "is numeric"),
])
def test_a_lever_the_data_cannot_take_is_refused(trained_model, text, message):
    ranges = {f.name: (0.0, 1.0, True) for f in trained_model.schema.features}
    protected = set(levers.PROTECTED) | {"Department"}
    with pytest.raises(UserError, match=message):
        levers.resolve(levers.parse(text), trained_model.schema, ranges, protected, explicit=True)


def test_the_default_declaration_skips_what_this_data_lacks(trained_model):
    ranges = {f.name: (0.0, 1.0, True) for f in trained_model.schema.features}
    resolved = levers.resolve(levers.parse("NoSuch:+0..+1; OverTime:No,Maybe; Gender:Male"), trained_model.schema,
                              ranges, set(levers.PROTECTED), explicit=False)
    assert [(lever.feature, lever.levels) for lever in resolved] == [("OverTime", ("No",))]


def test_a_training_with_a_protected_lever_fails_before_fitting(tmp_path, ibm_text):
    paths = make_opt_ml(tmp_path, {**FAST, "retention_levers": "MaritalStatus:Married"}, {"train": {"a.csv": ibm_text}})
    assert run_training(paths) == 2
    assert "MaritalStatus is a protected attribute" in paths.failure_file.read_text()


def _grid(lever: levers.Lever, current: float, feature) -> list[float]:
    """Every value a lever may take, enumerated plainly (whole numbers: each of them)."""
    if lever.kind == CATEGORICAL:
        return [feature.codes[level] for level in lever.levels]
    if math.isnan(current):
        return []
    scale = abs(current) if lever.relative else 1.0
    low = max(current + scale * lever.low, lever.bounds[0])
    high = min(current + scale * lever.high, lever.bounds[1])
    assert lever.integer  # the bundled data's numeric levers are whole numbers
    return [float(v) for v in range(math.ceil(low), math.floor(high) + 1)]


def _brute_force(trained, search, row: np.ndarray, k: int) -> tuple[bool, int, float]:
    """(reached, fewest changes, lowest probability with that many) over every combination."""
    grids = [[v for v in _grid(lever, row[j], trained.schema.features[j]) if v != row[j]]
             for lever, j in zip(search.levers, search.indexes)]
    best = None
    for size in range(1, k + 1):
        lowest = math.inf
        for subset in itertools.combinations(range(len(grids)), size):
            combos = list(itertools.product(*(grids[i] for i in subset)))
            if not combos:
                continue
            trials = np.repeat(row[None, :], len(combos), axis=0)
            for position, i in enumerate(subset):
                trials[:, search.indexes[i]] = [combo[position] for combo in combos]
            lowest = min(lowest, float(trained.predict(trials).min()))
        if lowest < trained.threshold:
            return True, size, lowest
        best = lowest if best is None else min(best, lowest)
    return False, k, best


@pytest.mark.parametrize("k, every", [(1, 1), (2, 1), (3, 7)])
def test_levers_of_a_stump_model_equal_brute_force_enumeration(trained_model, search, encoded, k, every):
    """Every bundled employee at risk (every 7th for k=3): the same number of changes and the same
    probability as trying every combination of every allowed value."""
    x, p = encoded
    at_risk = [i for i in range(len(p)) if p[i] >= trained_model.threshold][::every]
    assert len(at_risk) > 30
    answers = search.search(x[at_risk], [p[i] for i in at_risk], k)
    for i, answer in zip(at_risk, answers):
        reached, size, lowest = _brute_force(trained_model, search, x[i], k)
        assert answer.found == reached, i
        if reached:
            assert len(answer.changes) == size, i
        assert answer.probability == pytest.approx(lowest, abs=1e-12), i


def test_an_employee_under_the_threshold_needs_no_change(trained_model, search, encoded):
    x, p = encoded
    safe = next(i for i in range(len(p)) if p[i] < trained_model.threshold)
    assert search.search(x[safe:safe + 1], [p[safe]], 3) == [levers.Answer(True, (), p[safe])]


def test_a_change_is_the_nearest_value_with_the_best_effect(trained_model, search, encoded):
    """A numeric change one step less far (towards the current value) would lower the risk less."""
    x, p = encoded
    names = trained_model.schema.feature_names
    checked = 0
    for row, answer in zip(x, search.search(x, p, 3)):
        changed = row.copy()
        for change in answer.changes:
            changed[names.index(change.feature)] = change.after if isinstance(change.after, int | float) else \
                trained_model.schema.features[names.index(change.feature)].codes[change.after]
        for change in answer.changes:
            if isinstance(change.after, str) or abs(change.after - change.before) < 2:
                continue
            nearer = changed.copy()
            nearer[names.index(change.feature)] = change.after - math.copysign(1, change.after - change.before)
            assert trained_model.predict(nearer[None, :])[0] > answer.probability
            checked += 1
    assert checked > 10


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_protected_and_undeclared_features_never_change(trained_model, search, data):
    """Any employee (values drawn anywhere in the training ranges), any k: the changed row differs
    from the original in declared levers only, within their ranges."""
    schema = trained_model.schema
    row = np.array([
        float(data.draw(st.integers(0, len(f.levels) - 1))) if f.kind == CATEGORICAL
        else float(data.draw(st.integers(0, 20000))) for f in schema.features])
    k = data.draw(st.integers(1, len(search.levers)))
    probability = float(trained_model.predict(row[None, :])[0])
    answer, = search.search(row[None, :], [probability], k)
    declared = {lever.feature: lever for lever in search.levers}
    assert len(answer.changes) <= k
    for change in answer.changes:
        lever = declared[change.feature]
        assert change.feature not in levers.PROTECTED
        if lever.kind == CATEGORICAL:
            assert change.after in lever.levels
        else:
            assert lever.bounds[0] <= change.after <= lever.bounds[1]


def test_levers_on_a_model_of_deeper_trees_are_searched_greedily(tmp_path, ibm_text, bundled):
    paths = make_opt_ml(tmp_path, {**FAST, "num_leaves": "8"}, {"train": {"a.csv": ibm_text}})
    assert run_training(paths) == 0
    deeper = model.load(tmp_path / "model")
    search = levers.LeverSearch(deeper, levers.from_metadata(deeper.metadata))
    assert search.method.startswith("greedy")
    columns, n = bundled
    x = features.encode(deeper.schema, columns, n)[:300]
    p = deeper.predict(x).tolist()
    answers = search.search(x, p, 2)
    lever_names = {lever.feature for lever in search.levers}
    helped = [a for a, before in zip(answers, p) if a.changes]
    assert helped and all(a.probability < before for a, before in zip(answers, p) if a.changes)
    assert all(c.feature in lever_names for a in answers for c in a.changes)
    assert all(a.found == (a.probability < deeper.threshold) for a in answers)


def test_a_request_for_more_levers_than_declared_is_refused(search):
    with pytest.raises(RequestError, match="more than the 6 actionable features"):
        search.check(7)


def test_an_employee_whose_probability_rounds_to_one_is_answered(search):
    row = np.zeros(len(search.model.schema.features))
    answer, = search.search(row[None, :], [1.0], 2)
    assert len(answer.changes) <= 2  # log-odds of 1.0 used to divide by zero
