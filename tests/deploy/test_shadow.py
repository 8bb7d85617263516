"""shadow-report's comparison, on paired answers made here (the real captures are in
tests/endpoints/test_rollouts.py): agreement, probability moves, group flag rates beyond noise."""

import json

from attrition_deploy.shadow import Limits, Row, columns, group_shifts, judge, paired

LIMITS = Limits(min_pairs=50, min_agreement=0.9, max_group_shift=0.1, facets=("Gender",))


def rows(n: int, gender: str, production: bool, shadow: bool) -> list[Row]:
    return [Row({"Gender": gender}, (0.6 if production else 0.2, production), (0.6 if shadow else 0.2, shadow))
            for _ in range(n)]


def test_a_shadow_that_agrees_is_promoted_with_its_figures():
    same = rows(60, "Female", True, True) + rows(60, "Male", False, False)
    promote, reasons, figures = judge(same, LIMITS)
    assert promote and figures["agreement"] == 1.0 and figures["pairs"] == 120
    assert "labels agree on 100.0% (at least 90%)" in reasons


def test_a_group_whose_flag_rate_moves_beyond_noise_keeps_the_production_model():
    moved = rows(60, "Female", False, True) + rows(400, "Male", False, False)  # every woman now flagged
    promote, reasons, _ = judge(moved, Limits(50, 0.5, 0.1, ("Gender",)))
    assert not promote and reasons[-1].startswith("largest change of a group's flag rate: Gender=Female (60 "
                                                  "employees) +100.0%") and reasons[-1].endswith(": moved")


def test_a_small_group_is_judged_against_its_noise():
    few = rows(3, "Female", False, True) + rows(3, "Female", False, False) + rows(200, "Male", False, False)
    shift = next(s for s in group_shifts(few, ("Gender",)) if s.value == "Female")
    assert shift.shift == 0.5 and shift.error > 0.2  # 6 employees: a half of them flagged is mostly noise
    assert judge(few, Limits(50, 0.9, 0.1, ("Gender",)))[0]


def test_too_few_pairs_and_unnamed_columns_are_said():
    promote, reasons, _ = judge(rows(10, "Female", True, True), LIMITS)
    assert not promote and reasons[0] == "10 employees answered by both (at least 50)"
    assert columns({"data": "41,Yes\n", "observedContentType": "text/csv"}, ("Gender",)) == []
    assert columns({"data": "Gender,Age\nFemale,41\n", "observedContentType": "text/csv"}, ("Gender",)) \
        == [{"Gender": "Female", "Age": "41"}]


def test_records_pair_by_event_id_row_by_row():
    def record(event: str, probabilities: list[float]) -> dict:
        answer = {"predictions": [{"probability": p, "label": "Yes" if p > 0.5 else "No"} for p in probabilities]}
        return {"eventMetadata": {"eventId": event}, "captureData": {
            "endpointInput": {"data": json.dumps([{"Gender": "Male"}, {"Gender": "Female"}]),
                              "observedContentType": "application/json", "encoding": "JSON"},
            "endpointOutput": {"data": json.dumps(answer), "observedContentType": "application/json"}}}
    found = paired({"a": record("a", [0.9, 0.1]), "b": record("b", [0.2, 0.2])}, {"a": record("a", [0.7, 0.3])},
                   ("Gender",))
    assert [(r.columns["Gender"], r.production, r.shadow) for r in found] == [
        ("Male", (0.9, True), (0.7, True)), ("Female", (0.1, False), (0.3, False))]


def test_an_intersection_of_facets_is_judged_group_by_group():
    """#27: Gender&MaritalStatus, each combination a group; a row lacking a part is in none."""
    single = [Row({"Gender": "Female", "MaritalStatus": "Single"}, (0.2, False), (0.6, True)) for _ in range(60)]
    married = [Row({"Gender": "Female", "MaritalStatus": "Married"}, (0.2, False), (0.2, False)) for _ in range(300)]
    unknown = [Row({"Gender": "Male"}, (0.2, False), (0.2, False)) for _ in range(40)]
    shifts = {s.value: s for s in group_shifts(single + married + unknown, ("Gender&MaritalStatus",))}
    assert set(shifts) == {"Female&Single", "Female&Married"} and shifts["Female&Single"].shift == 1.0
    promote, reasons, _ = judge(single + married + unknown, Limits(50, 0.5, 0.1, ("Gender&MaritalStatus",)))
    assert not promote and "Gender&MaritalStatus=Female&Single (60 employees) +100.0%" in reasons[-1]
    assert columns({"data": "MaritalStatus,Age\nSingle,41\n", "observedContentType": "text/csv"},
                   ("Gender&MaritalStatus",)) == [{"MaritalStatus": "Single", "Age": "41"}]
