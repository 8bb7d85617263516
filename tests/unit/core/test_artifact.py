"""The model directory's files are written whole or not at all, and the version is the model's hash."""

import hashlib

import pytest

from attrition.core import artifact


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model" / "metadata.json"
    artifact.write_json(target, {"version": 1})
    with pytest.raises(UnicodeEncodeError):
        artifact.write_text(target, "half written \ud800")  # fails while writing
    assert target.read_text() == '{\n  "version": 1\n}\n'
    assert [p.name for p in target.parent.iterdir()] == ["metadata.json"]


def test_model_version_is_the_start_of_the_sha256(tmp_path):
    model_file = tmp_path / artifact.MODEL_FILE
    model_file.write_text("tree\n")
    digest = hashlib.sha256(b"tree\n").hexdigest()
    assert artifact.sha256_of(model_file) == digest
    assert artifact.model_version(model_file) == digest[:16] == artifact.version_of(digest)
