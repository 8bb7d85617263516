"""The floor plan holds: one room per job over a shared core, documented and tested room by room."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "container" / "program" / "attrition"
JOBS = ("train", "serve", "monitor", "prepare", "evaluate", "score", "groundtruth")
LAYOUT = (ROOT / "docs" / "layout.md").read_text()  # the layout page of the documentation site


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py")


def room(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0]


def imported(path: Path, source: str | None = None) -> list[list[str]]:
    """Every name a module imports, as its dotted parts, relative imports resolved
    (`from ..core.platform import errors` in attrition/serve/app.py: attrition, core, platform, errors)."""
    found = []
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            target = [*base, *node.module.split(".")] if node.module else base
            found += [[*target, alias.name] for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [alias.name.split(".") for alias in node.names]
    return found


def imported_rooms(path: Path, source: str | None = None) -> set[str]:
    """The rooms of attrition that a module imports."""
    return {parts[1] for parts in imported(path, source) if parts[0] == "attrition" and len(parts) > 1}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_job_imports_another_job_and_the_core_imports_none(path):
    own = room(path)
    allowed = {"core"} | ({own} if own in JOBS else set())
    assert imported_rooms(path) <= allowed, f"{path.name} ({own}) imports {imported_rooms(path) - allowed}"


# The core's themes, and the themes each may build on (contract.py, at the core's root, any may read).
THEMES = {"platform": set(), "table": {"platform"}, "predict": {"platform", "table"},
          "quality": {"platform", "table"}, "wire": {"platform", "table"},
          "reports": {"platform", "table", "quality"}}


def imported_themes(path: Path, source: str | None = None) -> set[str]:
    """The core's themes a module imports (the contract module, at the core's root, left out)."""
    return {parts[2] for parts in imported(path, source) if parts[:2] == ["attrition", "core"] and len(parts) > 2
            and parts[2] in THEMES}


CORE_MODULES = [p for p in modules() if room(p) == "core" and p.parent != PACKAGE / "core"]


@pytest.mark.parametrize("path", CORE_MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_theme_of_the_core_builds_only_on_the_themes_below_it(path):
    theme = path.relative_to(PACKAGE / "core").parts[0]
    allowed = THEMES[theme] | {theme}
    assert imported_themes(path) <= allowed, f"{path.name} ({theme}) imports {imported_themes(path) - allowed}"


def test_the_theme_check_sees_every_spelling_of_an_import_upwards():
    path = PACKAGE / "core" / "table" / "schema.py"
    assert imported_themes(path) == {"platform", "table"}
    for upwards in ("from ..predict import model", "from ..predict.model import load",
                    "from attrition.core.predict import model", "from ...core.predict import model"):
        assert "predict" in imported_themes(path, f"{path.read_text()}\n{upwards}\n"), upwards
    assert set(THEMES) == {p.name for p in (PACKAGE / "core").iterdir() if (p / "__init__.py").is_file()}


def test_the_boundary_check_sees_relative_imports():
    """A check that cannot fail is no check: a serve module importing train must be caught."""
    path = PACKAGE / "serve" / "invocations.py"
    source = path.read_text() + "\nfrom ..train import fitting\nfrom .. import monitor\n"
    assert imported_rooms(path) == {"core", "serve"}
    assert imported_rooms(path, source) == {"core", "serve", "train", "monitor"}


def test_environment_variables_are_read_in_one_module():
    reads = re.compile(r"os\.getenv\(|os\.environ\.get\(|os\.environ\[[^]]+\](?!\s*=)")
    offenders = [f"{p.relative_to(PACKAGE)}:{n}" for p in modules() if p.name != "environment.py"
                 for n, line in enumerate(p.read_text().splitlines(), 1) if reads.search(line)]
    assert not offenders, offenders


def test_readme_layout_lists_every_module_and_no_other():
    block = LAYOUT[LAYOUT.index("```"):]
    block = block[: block.index("```", 3)]
    listed, folders = set(), []  # folders: the open folders below attrition/, as (indent, name)
    for line in block.splitlines():
        name, indent = line.strip().split(" ")[0], len(line) - len(line.lstrip())
        folders = [(i, f) for i, f in folders if i < indent]
        if name.endswith("/") and (folders or (indent == 6 and name.rstrip("/") in ("core", *JOBS))):
            folders.append((indent, name.rstrip("/")))
        elif name.endswith(".py") and folders and indent == folders[-1][0] + 2:
            listed.add("/".join([*(f for _, f in folders), name]))
    actual = {str(p.relative_to(PACKAGE)) for p in modules()}
    assert listed == actual, f"missing from docs/layout.md: {sorted(actual - listed)}; stale: {sorted(listed - actual)}"


def test_every_module_with_logic_has_its_own_test_module():
    # Covered elsewhere, by design: the C-API predictor is tested through the Predictor interface
    # against the stumps, and asgi.py is what gunicorn imports (the container tests start it).
    covered_by = {"core/predict/lightgbm_capi.py": "core/predict/test_predictors.py"}
    missing = []
    for path in modules():
        if not any(isinstance(n, ast.FunctionDef) for n in ast.walk(ast.parse(path.read_text()))):
            continue  # no logic: constants, exception classes
        relative = str(path.relative_to(PACKAGE))
        test = covered_by.get(relative, str(path.relative_to(PACKAGE).with_name(f"test_{path.name}")))
        if not (ROOT / "tests" / "unit" / test).is_file():
            missing.append(relative)
    assert not missing, f"no test module for: {missing}"


def test_serve_command_does_not_import_numpy_or_lightgbm():
    probe = ("import sys; import attrition.serve.server, attrition.core.platform.artifact; "
             "print(sorted(m for m in ('numpy', 'lightgbm', 'scipy', 'flask') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(PACKAGE.parent)}).stdout
    assert out.strip() == "[]"


def test_the_deploy_cli_needs_boto3_alone():
    """sdk.py is the only module that touches the SageMaker SDK, and the CLI never imports it."""
    deploy = ROOT / "deploy" / "attrition_deploy"
    for path in sorted(deploy.glob("*.py")):
        imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.Import | ast.ImportFrom)
                    for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}
        if path.name != "sdk.py":
            assert "sagemaker" not in imported, path.name
            assert "sdk" not in {alias.name for node in ast.walk(ast.parse(path.read_text()))
                                 if isinstance(node, ast.ImportFrom) for alias in node.names}, path.name
    probe = "import sys; import attrition_deploy.cli; print('sagemaker' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={}).stdout
    assert out.strip() == "False"


ENDPOINTS = ROOT / "endpoints" / "attrition_endpoints"
# Where each module of the endpoint service is tested: unit tests where the logic stands alone,
# tests/endpoints (the real image, HAProxy and boto3) where the module's job is driving them.
ENDPOINT_TESTS = {
    "api.py": "unit/endpoints/test_api.py", "records.py": "unit/endpoints/test_api.py",
    "balancer.py": "unit/endpoints/test_balancer.py", "captures.py": "unit/endpoints/test_captures.py",
    "asynchronous.py": "endpoints/test_service.py", "cli.py": "endpoints/test_readme.py",
    "docker.py": "endpoints/test_service.py", "instances.py": "endpoints/test_service.py",
    "lifecycle.py": "endpoints/test_service.py", "neighbours.py": "endpoints/test_readme.py",
    "recovery.py": "endpoints/test_service.py", "server.py": "endpoints/test_service.py",
    "metrics.py": "unit/endpoints/test_metrics.py", "alarms.py": "unit/endpoints/test_alarms.py",
    "rollout.py": "unit/endpoints/test_rollout.py", "autoscaling.py": "endpoints/test_rollouts.py",
}


def test_every_module_of_the_endpoint_service_is_tested_and_listed_in_the_readme():
    modules = {p.name for p in ENDPOINTS.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    assert modules == set(ENDPOINT_TESTS), f"untested or stale: {modules ^ set(ENDPOINT_TESTS)}"
    assert all((ROOT / "tests" / test).is_file() for test in ENDPOINT_TESTS.values())
    start = LAYOUT.index("  attrition_endpoints/")
    block = LAYOUT[start:LAYOUT.index("tests/\n", start)]
    assert {line.split()[0] for line in block.splitlines()[1:] if line.strip()} == modules


def test_the_endpoint_service_meets_the_others_only_over_http_and_files():
    """No import of the image's package, the deploy CLI, moto or MLflow: it talks to them over HTTP
    (and starts moto and MLflow as processes), so the CLI's boto3-only promise holds for it too."""
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore"}
    for path in sorted(ENDPOINTS.glob("*.py")):
        assert top_level_imports(path) <= allowed, f"{path.name} imports {top_level_imports(path) - allowed}"


def top_level_imports(path: Path) -> set[str]:
    """The distributions' top-level names a module imports (relative imports left out)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add((node.module or "").split(".")[0])
    return names


PIPELINES = ROOT / "pipelines" / "attrition_pipelines"
# Where each module of the pipelines is tested: unit tests (seconds, no Docker) for the runners'
# decisions and the Kubeflow steps; the definitions in the pipelines' venv without Docker; the
# engines themselves on Docker.
PIPELINE_TESTS = {
    "local.py": "unit/pipelines/test_local.py", "retrain_on_drift.py": "unit/pipelines/test_retrain_on_drift.py",
    "sagemaker_runner.py": "unit/pipelines/test_sagemaker_runner.py",
    "kubeflow_steps.py": "unit/pipelines/test_kubeflow_steps.py",
    "sagemaker_pipeline.py": "pipelines/test_definitions.py",
    "sagemaker_definition.py": "pipelines/test_definitions.py",
    "kubeflow_pipeline.py": "pipelines/test_kubeflow.py", "kubeflow_runner.py": "pipelines/test_kubeflow.py",
    "registry.py": "pipelines/test_promote.py", "registry_server.py": "pipelines/test_duties.py",
    "duties.py": "pipelines/test_duties.py", "next_year.py": "pipelines/test_next_year.py",
}
OUTER_RING = {"attrition_deploy": ROOT / "deploy" / "attrition_deploy", "attrition_endpoints": ENDPOINTS,
              "attrition_pipelines": PIPELINES}


def test_every_module_of_the_pipelines_is_tested_and_listed_in_the_readme():
    modules = {p.name for p in PIPELINES.glob("*.py") if p.name != "__init__.py"}
    assert modules == set(PIPELINE_TESTS), f"untested or stale: {modules ^ set(PIPELINE_TESTS)}"
    assert all((ROOT / "tests" / test).is_file() for test in PIPELINE_TESTS.values())
    start = LAYOUT.index("  attrition_pipelines/")
    block = LAYOUT[start:LAYOUT.index("endpoints/\n", start)]
    assert {line.split()[0] for line in block.splitlines()[1:] if line.strip() and line.startswith("    ")
            and not line.startswith("      ")} == modules


def test_the_kubeflow_steps_need_only_the_images_python():
    """kubeflow_steps.py runs as `python3 -c` in the image: the standard library and the contract."""
    path = PIPELINES / "kubeflow_steps.py"
    imported = top_level_imports(path)
    assert imported <= set(sys.stdlib_module_names) | {"attrition"}, imported - set(sys.stdlib_module_names)
    ours = {(node.module, alias.name) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("attrition") for alias in node.names}
    assert ours == {("attrition.core", "contract")}


def test_the_outer_ring_is_one_package_with_no_module_name_twice():
    """No module named like another anywhere in the outer ring (the old `run_local` and `pipeline`
    twice each), and every package the pyproject installs is a folder of the repository."""
    names = [p.stem for folder in OUTER_RING.values() for p in folder.glob("*.py")
             if p.name not in ("__init__.py", "__main__.py", "cli.py")]  # each CLI's is its package's
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
    pyproject = (ROOT / "pyproject.toml").read_text()
    for name, folder in OUTER_RING.items():
        assert f'{name} = "{folder.relative_to(ROOT)}"' in pyproject


def test_nothing_inserts_into_sys_path():
    """The package is installed (pip install -e .): no script or module reaches into another folder."""
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True)
    offenders = []
    for name in tracked.stdout.splitlines():
        path = ROOT / name
        if path == Path(__file__) or path.suffix not in (".py", "") or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if re.search(r"sys\.path(\.insert|\.append|\[:0\]|\s*=)", text):
            offenders.append(name)
    assert not offenders, offenders
