"""The README is the user's manual: its tables must match the code."""

import re
from pathlib import Path

from attrition.train import hyperparameters

PACKAGE = Path(hyperparameters.__file__).resolve().parents[1]

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


def test_every_environment_variable_is_documented():
    source = (PACKAGE / "core" / "environment.py").read_text()
    names = re.findall(r'setting\(environ, "(\w+)"', source)
    assert len(names) > 20
    for name in names:
        assert f"`{name}`" in README, name
