"""What gunicorn imports in each worker: the model is loaded here, once, before any request."""

from ..core import environment, model
from .app import create_app
from .recorder import recorder

settings = environment.serving_settings()
app = create_app(model.load(environment.paths().model_dir, settings.predict_threads), settings,
                 recorder(environment.capture_settings()))
