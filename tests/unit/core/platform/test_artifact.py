"""The model directory's files are written whole or not at all, and the version is the model's hash."""

import hashlib
import json
from pathlib import Path

import pytest

from attrition.core import contract
from attrition.core.platform import artifact
from attrition.core.platform.errors import UserError


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model" / "metadata.json"
    artifact.write_json(target, {"version": 1})
    with pytest.raises(UnicodeEncodeError):
        artifact.write_text(target, "half written \ud800")  # fails while writing
    assert target.read_text() == '{\n  "version": 1\n}\n'
    assert [p.name for p in target.parent.iterdir()] == ["metadata.json"]


def test_model_version_is_the_start_of_the_sha256(tmp_path):
    model_file = tmp_path / contract.MODEL_FILE
    model_file.write_text("tree\n")
    digest = hashlib.sha256(b"tree\n").hexdigest()
    assert artifact.sha256_of(model_file) == digest
    assert artifact.model_version(model_file) == digest[:16] == artifact.version_of(digest)


@pytest.fixture()
def model_text(trained_dir) -> bytes:
    return (trained_dir / "model" / contract.MODEL_FILE).read_bytes()


@pytest.mark.parametrize("cut, problem", [
    (lambda data: data[: len(data) // 2], "its trees are cut short"),
    (lambda data: data[: data.index(b"Tree=3\n")], "its trees are cut short"),
    (lambda data: data[: data.index(b"end of trees") + 13], "it ends before its parameters"),
    (lambda data: b"hello\n" + data, "does not start like a LightGBM text model"),
])
def test_a_model_file_that_is_not_whole_is_refused_before_lightgbm_reads_it(tmp_path, model_text, cut, problem):
    broken = tmp_path / contract.MODEL_FILE
    broken.write_bytes(cut(model_text))
    with pytest.raises(UserError, match=f"is not a whole LightGBM model .*{problem}"):
        artifact.check_model_text(broken)
    whole = tmp_path / "whole.txt"
    whole.write_bytes(model_text)
    artifact.check_model_text(whole)


@pytest.mark.parametrize("change, problem", [
    ({"decision_threshold": float("nan")}, "decision_threshold nan must be a number between 0 and 1"),
    ({"decision_threshold": 5}, "decision_threshold 5 must be"),
    ({"decision_threshold": "0.5"}, "decision_threshold '0.5' must be"),
    ({"format_version": 2}, "format_version 2 is not supported"),
    ({"schema": {"classes": ["No"]}}, "schema.classes \\['No'\\] must be two different labels"),
    ({"schema": {"classes": ["No", "No"]}}, "must be two different labels"),
    ({"schema": {"features": []}}, "must be non-empty lists"),
    ({"schema": {"features": [{"name": "Nope", "kind": "numeric"}]}}, "not one of the input columns"),
    ({"schema": {"label_position": 99}}, "schema.label_position 99 is outside"),
])
def test_metadata_that_would_serve_nonsense_is_refused(trained_dir, change, problem):
    metadata = json.loads((trained_dir / "model" / contract.METADATA_FILE).read_text())
    for key, value in change.items():
        if key == "schema":
            metadata["schema"].update(value)
        else:
            metadata[key] = value
    with pytest.raises(UserError, match=problem):
        artifact.check_metadata(metadata, Path("metadata.json"))
