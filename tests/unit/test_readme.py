"""The README is the user's manual: its tables must match the code."""

import re
from pathlib import Path

from attrition import hyperparameters

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_hyperparameter_is_documented_with_its_default():
    rows = dict(re.findall(r"^\| `(\w+)` \| \w+ \| ([^|]+) \|", README, re.M))
    for spec in hyperparameters.SPECS:
        assert spec.name in rows, f"{spec.name} is missing from the README table"
        shown = rows[spec.name].strip().strip("`")
        expected = "(none)" if spec.default == "" else spec.default
        if spec.kind is bool:
            expected = str(expected).lower()
        assert shown == str(expected) or float(shown) == expected, (spec.name, shown)


def test_every_serving_variable_is_documented():
    source = (Path(hyperparameters.__file__).parent / "environment.py").read_text()
    for name in re.findall(r'"((?:SAGEMAKER|ATTRITION)_[A-Z_]+)"', source):
        if name != "ATTRITION_IMAGE_REVISION":
            assert f"`{name}`" in README, name
