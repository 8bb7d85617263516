"""What gunicorn imports in each worker: the model is loaded here, once, before any request."""

import os

from . import datacapture, environment, model
from .app import create_app

settings = environment.serving_settings()
app = create_app(model.load(environment.paths().model_dir, settings.predict_threads), settings,
                 datacapture.recorder(os.environ))
