"""The `serve` command: check the settings and the model, then become gunicorn.

The checks run before gunicorn starts so that a wrong setting or a missing model ends the
container with one clear line instead of a worker boot loop. `exec` makes gunicorn the
container's main process, so SageMaker's SIGTERM reaches it directly.
"""

import json
import os
import sys
from pathlib import Path

from ..core import contract
from ..core.platform import artifact, environment, logs, privileges
from ..core.platform.errors import UserError

PROGRAM_DIR = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = PROGRAM_DIR / "gunicorn.conf.py"


def main() -> int:
    try:
        settings = environment.serving_settings()
        capture = environment.capture_settings()
        model_dir = environment.paths().model_dir
        note = privileges.drop_root(reads=[model_dir], writes=[capture.folder] if capture.folder else [])
        if note:
            logs.say(f"serve {note}")
        _check_model(model_dir)
    except UserError as error:
        logs.say(f"serve: {error}", sys.stderr)
        return 2
    except OSError as error:
        logs.say(f"serve: {environment.os_error_message(error)}", sys.stderr)
        return 2
    logs.say(f"serve: port {settings.port}, {settings.workers} worker(s), timeout {settings.timeout}s")
    # gunicorn imports the config and the app by name: make the package importable for it.
    os.environ["PYTHONPATH"] = environment.pythonpath_with(PROGRAM_DIR)
    os.execvp("gunicorn", ["gunicorn", "--config", str(GUNICORN_CONFIG), "attrition.serve.asgi:app"])


def _check_model(model_dir: Path) -> None:
    """The checks that need no LightGBM (so the server starts fast): files present and whole,
    metadata that makes sense. Each worker then loads the model itself."""
    for name in (contract.MODEL_FILE, contract.METADATA_FILE):
        if not (model_dir / name).is_file():
            raise UserError(
                f"no model at {model_dir}: {name} is missing. Run `train` first, or mount a "
                "directory holding model.txt and metadata.json"
            )
    metadata_path = model_dir / contract.METADATA_FILE
    try:
        metadata = json.loads(metadata_path.read_text())
    except ValueError as error:
        raise UserError(f"{metadata_path} is not valid JSON: {error}") from None
    artifact.check_metadata(metadata, metadata_path)
    artifact.check_model_text(model_dir / contract.MODEL_FILE)
