"""What gunicorn imports in each worker: the model is loaded here, once, before any request.

A model that cannot be loaded ends the worker with exit code 3, which gunicorn reads as "worker
failed to boot" and stops the whole server, instead of starting new workers forever.
"""

import sys

from ..core.platform import environment, logs
from ..core.platform.errors import UserError
from ..core.predict import model
from .app import App
from .recorder import recorder


def _load() -> App:
    settings = environment.serving_settings()
    try:
        served = model.load(environment.paths().model_dir, settings.predict_threads)
    except UserError as error:
        logs.say(f"serve: {error}", sys.stderr)
        sys.exit(3)
    except OSError as error:
        logs.say(f"serve: {environment.os_error_message(error)}", sys.stderr)
        sys.exit(3)
    return App(served, settings, recorder(environment.capture_settings()))


app = _load()
