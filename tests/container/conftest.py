"""Fixtures that build the real image and run it with `docker run`, on loopback only.

Without a Docker engine these tests skip, saying why; with ATTRITION_REQUIRE_DOCKER=1
(set by .ci/run) they fail instead, so CI can never pass by skipping them.
Environment: BASE_IMAGE (build argument), ATTRITION_TEST_IMAGE (use this tag, skip the build).
"""

import shutil
from pathlib import Path

import pytest

from tests.container.docker_helpers import TEST_DIR, Server, run_train


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
