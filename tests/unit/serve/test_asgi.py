"""What gunicorn imports: a loadable model gives the app; anything else stops the worker with
gunicorn's "failed to boot" code and one line, so the server stops instead of respawning."""

import subprocess
import sys

from tests.helpers import ROOT

PROGRAM = ROOT / "container" / "program"


def import_app(base):
    probe = "import attrition.serve.asgi as a; print(type(a.app).__name__)"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={"PYTHONPATH": str(PROGRAM), "SAGEMAKER_BASE_DIR": str(base)})


def test_a_trained_model_gives_the_app(trained_dir):
    done = import_app(trained_dir)
    assert done.returncode == 0 and done.stdout.strip() == "App", done.stderr


def test_no_model_is_one_line_and_exit_code_3(tmp_path):
    done = import_app(tmp_path)
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1 and "is missing. Run `train` first" in done.stderr
