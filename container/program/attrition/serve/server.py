"""The `serve` command: check the settings and the model, then become gunicorn.

The checks run before gunicorn starts so that a wrong setting or a missing model ends the
container with one clear line instead of a worker boot loop. `exec` makes gunicorn the
container's main process, so SageMaker's SIGTERM reaches it directly.
"""

import json
import os
import sys
from pathlib import Path

from ..core import artifact, environment
from ..core.errors import UserError

PROGRAM_DIR = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = PROGRAM_DIR / "gunicorn.conf.py"


def main() -> int:
    try:
        settings = environment.serving_settings()
        environment.capture_settings()  # checked now, used by each worker
        _check_model(environment.paths().model_dir)
    except UserError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    print(f"serve: port {settings.port}, {settings.workers} worker(s), timeout {settings.timeout}s")
    # gunicorn imports the config and the app by name: make the package importable for it.
    os.environ["PYTHONPATH"] = environment.pythonpath_with(PROGRAM_DIR)
    os.execvp("gunicorn", ["gunicorn", "--config", str(GUNICORN_CONFIG), "attrition.serve.wsgi:app"])


def _check_model(model_dir: Path) -> None:
    """Cheap checks (no LightGBM import); the worker does the full load."""
    for name in (artifact.MODEL_FILE, artifact.METADATA_FILE):
        if not (model_dir / name).is_file():
            raise UserError(
                f"no model at {model_dir}: {name} is missing. Run `train` first, or mount a "
                "directory holding model.txt and metadata.json"
            )
    try:
        json.loads((model_dir / artifact.METADATA_FILE).read_text())
    except ValueError as error:
        raise UserError(f"{model_dir / artifact.METADATA_FILE} is not valid JSON: {error}") from None
