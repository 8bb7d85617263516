"""Channels in: the training channel found by either name, a channel read, labelled and encoded,
and validation encoded with training's schema (a column it lacks is named)."""

import pytest

from attrition.core.platform.errors import UserError
from attrition.train import channels, hyperparameters
from tests.helpers import BUNDLED_CSV, make_opt_ml

HP = hyperparameters.parse({})


def test_the_training_channel_is_train_or_training_and_its_absence_is_named(tmp_path):
    assert channels.training_channel(make_opt_ml(tmp_path / "a", channels={"training": {"x.csv": "a\n"}})) == "training"
    assert channels.training_channel(make_opt_ml(tmp_path / "b", channels={"train": {"x.csv": "a\n"}})) == "train"
    with pytest.raises(UserError, match="expected a channel named 'train' \\(or 'training'\\)"):
        channels.training_channel(make_opt_ml(tmp_path / "c"))


def test_a_channel_is_read_labelled_and_encoded_and_validation_shares_its_schema(tmp_path):
    text = BUNDLED_CSV.read_text(encoding="utf-8-sig")
    head, *rows = text.splitlines()
    paths = make_opt_ml(tmp_path, channels={"train": {"ibm.csv": "\n".join([head, *rows[:1000]]) + "\n"},
                                            "validation": {"v.csv": "\n".join([head, *rows[1000:]]) + "\n"}})
    training, held = channels.read(paths, HP, "train", sharded=False)
    assert training.x.shape[0] == len(training.y) == 1000 and held is not None and len(held.y) == 470
    assert held.schema is training.schema and training.y.sum() > 0
    assert "EmployeeNumber" in training.schema.dropped  # an identifier is not a feature


def test_validation_lacking_a_training_column_is_named(tmp_path):
    text = BUNDLED_CSV.read_text(encoding="utf-8-sig")
    head, *rows = text.splitlines()
    short = ",".join(c for c in head.split(",") if c != "OverTime")
    keep = [i for i, c in enumerate(head.split(",")) if c != "OverTime"]
    cut = [",".join(row.split(",")[i] for i in keep) for row in rows[1000:]]
    paths = make_opt_ml(tmp_path, channels={"train": {"ibm.csv": "\n".join([head, *rows[:1000]]) + "\n"},
                                            "validation": {"v.csv": "\n".join([short, *cut]) + "\n"}})
    with pytest.raises(UserError, match="OverTime"):
        channels.read(paths, HP, "train", sharded=False)
