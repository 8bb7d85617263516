"""Fixtures of the serving tests: the ASGI app over the model trained on the bundled data."""

import pytest

from attrition.core.platform import environment
from attrition.serve.app import App
from tests.http_client import Client


@pytest.fixture()
def settings():
    return environment.serving_settings({"SAGEMAKER_MODEL_SERVER_WORKERS": "2"})


@pytest.fixture()
def client(trained_model, settings):
    return Client(App(trained_model, settings))


@pytest.fixture(scope="module")
def ibm_rows(ibm_text):
    return ibm_text.splitlines()
