"""The documentation site is the user's manual: it builds with mkdocs --strict (no broken link or
anchor, every page in the navigation), its generated references cover the code, and its tables
match the code."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from attrition.train import hyperparameters
from attrition_deploy import parser

PACKAGE = Path(hyperparameters.__file__).resolve().parents[1]
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = "\n".join(page.read_text() for page in sorted(DOCS.glob("*.md")))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={"NO_MKDOCS_2_WARNING": "1", "PATH": ""})
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


def test_the_site_builds_strict_with_every_page_in_its_navigation(site):
    config = (ROOT / "mkdocs.yml").read_text()
    for page in DOCS.glob("*.md"):
        assert f": {page.name}" in config, f"{page.name} is not in mkdocs.yml's nav"
        assert (site / (page.stem if page.stem != "index" else "") / "index.html").is_file()


def test_the_api_reference_is_every_operation_of_openapi_json(site):
    document = json.loads((PACKAGE / "serve" / "openapi.json").read_text())
    page = (site / "api" / "index.html").read_text()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert f"{method.upper()} {path}" in page and operation["summary"].split("&")[0] in page


def test_the_cli_reference_is_every_subcommand_and_option_of_the_parser(site):
    page = (site / "cli" / "index.html").read_text()
    top = parser.build()
    subcommands = next(a for a in top._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subcommands.choices.items():
        assert f"attrition-deploy {name}" in page
        for action in sub._actions:
            if action.help and action.help != "==SUPPRESS==" and action.option_strings and action.dest != "help":
                assert action.option_strings[0] in page, (name, action.option_strings[0])


def test_the_readme_is_short_and_links_every_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 120
    for page in DOCS.glob("*.md"):
        assert page.name == "index.md" or f"(docs/{page.name})" in readme, page.name


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
    source = (PACKAGE / "core" / "platform" / "environment.py").read_text()
    names = re.findall(r'setting\(environ, "(\w+)"', source)
    assert len(names) > 20
    for name in names:
        assert f"`{name}`" in README, name
