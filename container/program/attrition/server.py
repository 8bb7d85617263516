"""The `serve` command: check the settings and the model, then become gunicorn.

The checks run before gunicorn starts so that a wrong setting or a missing model ends the
container with one clear line instead of a worker boot loop. `exec` makes gunicorn the
container's main process, so SageMaker's SIGTERM reaches it directly.
"""

import json
import os
import sys
from pathlib import Path

from . import environment, mediatypes

PROGRAM_DIR = Path(__file__).resolve().parent.parent
GUNICORN_CONFIG = PROGRAM_DIR / "gunicorn.conf.py"


def main() -> int:
    try:
        settings = environment.serving_settings()
        if settings.default_accept not in mediatypes.RESPONSE_TYPES:
            raise ValueError(
                f"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT={settings.default_accept!r} must be one of "
                f"{', '.join(mediatypes.RESPONSE_TYPES)}"
            )
        _check_model(environment.paths().model_dir)
    except ValueError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 2
    print(f"serve: port {settings.port}, {settings.workers} worker(s), timeout {settings.timeout}s")
    # gunicorn imports the config and the app by name: make the package importable for it.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROGRAM_DIR), os.environ.get("PYTHONPATH")]))
    os.execvp("gunicorn", ["gunicorn", "--config", str(GUNICORN_CONFIG), "attrition.wsgi:app"])


def _check_model(model_dir: Path) -> None:
    """Cheap checks (no LightGBM import); the worker does the full load."""
    for name in (environment.MODEL_FILE, environment.METADATA_FILE):
        if not (model_dir / name).is_file():
            raise ValueError(
                f"no model at {model_dir}: {name} is missing. Run `train` first, or mount a "
                "directory holding model.txt and metadata.json"
            )
    try:
        json.loads((model_dir / environment.METADATA_FILE).read_text())
    except ValueError as error:
        raise ValueError(f"{model_dir / environment.METADATA_FILE} is not valid JSON: {error}") from None
