"""The documentation's newcomer path (docs/monitoring.md), run as written: from a clone to a
champion, a served model with capture, and a retraining decision, with only the variables of the
block's first line set."""

import contextlib
import os
import re
import signal
import subprocess

import pytest

from attrition_deploy import audit
from tests.container.docker_helpers import ROOT, docker, free_port

pytestmark = pytest.mark.container
MARKER = "<!-- newcomer-path -->"


def newcomer_block() -> str:
    readme = (ROOT / "docs" / "monitoring.md").read_text()
    found = re.search(re.escape(MARKER) + r"\n```bash\n(.*?)\n```", readme, re.S)
    assert found, f"docs/monitoring.md has no bash block after {MARKER}"
    return found.group(1)


def test_the_readme_block_sets_its_variables_first_and_only_there():
    first, *rest = newcomer_block().splitlines()
    assert first.startswith("export IMAGE=${IMAGE:-") and all(" WORK=${WORK:-" not in line for line in rest)


def test_the_newcomers_path_runs_as_written(image, pipeline_env, tmp_path):
    work = tmp_path / "demo"
    env = {**pipeline_env, "IMAGE": image, "WORK": str(work), "PORT": str(free_port()),
           "MLFLOW_PORT": str(free_port())}
    try:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", newcomer_block()], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=1500)
    finally:  # a failed step leaves the registry and the server running: stop what the block started
        pid = work / "mlflow.pid"
        if pid.is_file():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid.read_text()), signal.SIGTERM)
        docker("rm", "-f", "attrition-demo", check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    decided = re.search(r"^(challenger v2 replaced champion v1|champion v1 stays.*)$", done.stdout, re.M)
    assert decided, done.stdout[-3000:]
    assert "retraining recommended" in done.stdout  # the capture of next year's employees drifted
    captured = sum(len(p.read_text().splitlines()) for p in (work / "capture").rglob("*.jsonl"))
    assert captured == 1  # the one request, captured whole
    events = [e["event"] for e in audit.read(work / "attrition-audit.jsonl").entries]  # newest first
    assert events[-2:] == ["promoted", "registered"] and "retraining-started" in events  # the first champion
    assert audit.verify(work / "attrition-audit.jsonl").broken == ""  # every writer chains its records
    assert "retraining-started" in done.stdout  # printed by `history` at the end
