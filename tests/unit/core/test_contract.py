"""The contract holds: every name the image, the deploy CLI and the pipelines share is spelled in
core/contract.py only. A file name, parameter, tag or metric name written out anywhere else in
their code as a value (the string itself, a path ending in it, a `name=` log line) fails here,
naming the file and line; prose that mentions a name (a message, a help text) is free to."""

import ast
from pathlib import Path

import pytest

from attrition.core import contract

ROOT = Path(__file__).resolve().parents[3]
CODE = [ROOT / "container" / "program" / "attrition", ROOT / "deploy" / "attrition_deploy",
        ROOT / "endpoints" / "attrition_endpoints", ROOT / "pipelines" / "attrition_pipelines"]
# Plain English words as well as names: checked only where they can mean nothing but the registry's.
WORDS = {contract.APPROVAL_TAG, contract.CHAMPION_ALIAS}
REGISTRY_CLIENTS = {"registry.py", "duties.py", "governance.py", "mlflow_registry.py"}


def names() -> set[str]:
    values = {v for k, v in vars(contract).items() if k.isupper() and isinstance(v, str)}
    return values - WORDS


def strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant of a module with its line, f-strings' literal parts included,
    docstrings left out (prose may name a file)."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def modules() -> list[Path]:
    return sorted(p for folder in CODE for p in folder.rglob("*.py") if p.name != "contract.py")


def spelled_again(path: Path, root: Path = ROOT) -> list[str]:
    shared, found = names(), []
    words = WORDS if path.name in REGISTRY_CLIENTS else set()
    for line, text in strings(path):
        hits = [name for name in shared if text == name or text.endswith("/" + name) or text.startswith(name + "=")]
        hits += [word for word in words if text == word]
        found += [f"{path.relative_to(root)}:{line}: {hit!r}" for hit in hits]
    metrics = [t for t in ast.walk(ast.parse(path.read_text())) if isinstance(t, ast.Tuple)
               and [getattr(e, "value", None) for e in t.elts] == list(contract.METRIC_NAMES)]
    return found + [f"{path.relative_to(root)}:{t.lineno}: METRIC_NAMES" for t in metrics]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_shared_name_is_spelled_outside_the_contract(path):
    assert spelled_again(path) == []


def test_the_check_finds_a_name_spelled_again(tmp_path):
    """A check that cannot fail is no check."""
    module = tmp_path / "registry.py"
    module.write_text('"""Reads model.txt."""\nTAG = "approval"\nPATH = f"{root}/no-champion.txt"\n'
                      'NAMES = ("auc", "pr_auc", "logloss", "accuracy", "precision", "recall", "f1")\n')
    assert sorted(spelled_again(module, tmp_path)) == ["registry.py:2: 'approval'", "registry.py:3: 'no-champion.txt'",
                                                       "registry.py:4: METRIC_NAMES"]


@pytest.mark.parametrize("word", [*contract.TRUE_VALUES, *contract.FALSE_VALUES])
def test_every_reader_of_a_yes_or_no_takes_the_same_words(word):
    """One vocabulary (#22): a hyperparameter, an environment variable, the deploy CLI's --hp and
    a request's explain= read the same words the same way, in any case."""
    from attrition.core.platform import environment
    from attrition.serve import explanations
    from attrition.train import hyperparameters
    from attrition_deploy import parser

    yes = word in contract.TRUE_VALUES
    for spelled in (word, word.upper(), word.capitalize()):
        assert hyperparameters.parse({"extra_trees": spelled}).extra_trees is yes
        assert environment.setting({"SAGEMAKER_BATCH": spelled}, "SAGEMAKER_BATCH", bool, not yes) is yes
        assert parser.hyperparameter(f"extra_trees={spelled}") == ("extra_trees", spelled)
        if word not in ("1", "0"):  # explain=1 asks for one driver
            assert explanations.top_k(spelled) == (explanations.DEFAULT_TOP_K if yes else 0)
    for reader in (lambda: hyperparameters.parse({"extra_trees": "maybe"}),
                   lambda: environment.setting({"X": "maybe"}, "X", bool, False),
                   lambda: explanations.top_k("maybe")):
        with pytest.raises(Exception, match="maybe"):
            reader()
