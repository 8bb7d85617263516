"""Fixtures that build the real image and run it with `docker run`, on loopback only.

Without a Docker engine these tests skip, saying why; with ATTRITION_REQUIRE_DOCKER=1
(set by .ci/run) they fail instead, so CI can never pass by skipping them.
Environment: BASE_IMAGE (build argument), ATTRITION_TEST_IMAGE (use this tag, skip the build).
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.container.docker_helpers import ROOT, TEST_DIR, Server, docker, engine_problem, run_train


@pytest.fixture(scope="session")
def image() -> str:
    problem = engine_problem()
    if problem:
        if os.environ.get("ATTRITION_REQUIRE_DOCKER") == "1":
            pytest.fail(f"container tests are mandatory here but {problem}")
        pytest.skip(f"container tests need Docker: {problem}")
    tag = os.environ.get("ATTRITION_TEST_IMAGE")
    if tag:
        return tag
    tag = "attrition-sagemaker:test"
    base = os.environ.get("BASE_IMAGE", "python:3.11-slim-bookworm")
    docker("build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}",
           "--build-arg", "GIT_COMMIT=test", "-t", tag, str(ROOT / "container"), timeout=1800)
    return tag


@pytest.fixture(scope="session")
def trained_opt_ml(image, tmp_path_factory) -> Path:
    """The bundled local_test/test_dir, trained by the image exactly as a user would."""
    opt_ml = tmp_path_factory.mktemp("container") / "opt_ml"
    shutil.copytree(TEST_DIR / "input", opt_ml / "input")
    result = run_train(image, opt_ml)
    assert result.returncode == 0, result.stdout + result.stderr
    (opt_ml / "train.log").write_text(result.stdout)
    return opt_ml


@pytest.fixture(scope="session")
def server(image, trained_opt_ml):
    srv = Server(image, trained_opt_ml / "model",
                 {"SAGEMAKER_MODEL_SERVER_WORKERS": "2", "ATTRITION_ACCESS_LOG": "true"})
    try:
        srv.ready_after = srv.wait_ready()
        yield srv
    finally:
        srv.stop()
