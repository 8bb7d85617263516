"""The capture policy: identifiers as a keyed hash, protected columns set apart, the rest as parsed."""

import hashlib
import hmac

import pytest

from attrition.core.platform import environment
from attrition.core.wire import codecs
from attrition.core.wire.capture import PSEUDONYM, pseudonym
from attrition.serve.policy import Policy

KEY = "a secret of 24 characters"


def _policy(**settings) -> Policy:
    environ = {"ATTRITION_CAPTURE_DIR": "/c", **{f"ATTRITION_CAPTURE_{k.upper()}": v for k, v in settings.items()}}
    return Policy(environment.capture_settings(environ))


def test_identifiers_are_hashed_with_the_key_and_protected_columns_set_apart(trained_model):
    policy = _policy(hash_columns="EmployeeNumber", hash_key=KEY, protected_columns="Gender,MaritalStatus")
    body = b'Age,EmployeeNumber,Gender,MaritalStatus,JobRole\n41,E-1001,Female,Single,"Sales, EMEA"\n30,,Male,,Nurse\n'
    frames, _ = codecs.decode_frames(body, "text/csv", "utf-8", trained_model.schema, 1)
    kept = policy.keep(list(frames))
    expected = PSEUDONYM + hmac.new(KEY.encode(), b"E-1001", hashlib.sha256).hexdigest()
    assert kept.content_type == "text/csv"
    assert kept.body.decode() == f'Age,EmployeeNumber,JobRole\n41,{expected},"Sales, EMEA"\n30,,Nurse\n'
    assert kept.protected == {"Gender": ["Female", "Male"], "MaritalStatus": ["Single", ""]}
    assert pseudonym(KEY.encode(), "E-1001") == expected != pseudonym((KEY + "x").encode(), "E-1001")
    assert pseudonym(KEY.encode(), "") == ""


def test_json_records_are_captured_as_csv_rows_monitor_reads(trained_model):
    policy = _policy(protected_columns="Gender")
    body = b'[{"Age": 41, "Gender": "Female", "OverTime": "Yes"}, {"Age": null, "Gender": "Male", "OverTime": "No"}]'
    frames, _ = codecs.decode_frames(body, "application/json", "utf-8", trained_model.schema)
    kept = policy.keep(list(frames))
    frame = codecs.decode(kept.body, "text/csv", "utf-8", trained_model.schema)
    assert frame.columns == {"Age": ["41", ""], "OverTime": ["Yes", "No"]} and "Gender" not in kept.body.decode()


@pytest.mark.parametrize(("settings", "said"), [
    ({"ATTRITION_CAPTURE_HASH_COLUMNS": "EmployeeNumber"}, "needs ATTRITION_CAPTURE_HASH_KEY: a secret of at least 16"),
    ({"ATTRITION_CAPTURE_HASH_COLUMNS": "EmployeeNumber", "ATTRITION_CAPTURE_HASH_KEY": "short"}, "(5 given)"),
    ({"ATTRITION_CAPTURE_HASH_COLUMNS": "Gender", "ATTRITION_CAPTURE_HASH_KEY": KEY,
      "ATTRITION_CAPTURE_PROTECTED_COLUMNS": "Gender"}, "Gender are both hashed and protected"),
    ({"ATTRITION_CAPTURE_RETENTION_DAYS": "-1"}, "ATTRITION_CAPTURE_RETENTION_DAYS='-1' is outside"),
])
def test_a_policy_that_cannot_be_kept_is_refused_at_start(settings, said):
    with pytest.raises(environment.SettingError, match=said.replace("(", r"\(").replace(")", r"\)")):
        environment.capture_settings({"ATTRITION_CAPTURE_DIR": "/c", **settings})


