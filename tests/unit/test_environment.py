import pytest

from attrition import environment, server


def test_serving_defaults():
    settings = environment.serving_settings({})
    assert (settings.port, settings.timeout, settings.max_payload_bytes) == (8080, 60, 6 * 1024 * 1024)
    assert settings.default_accept == "application/json" and settings.access_log is False


def test_batch_transform_gets_its_longer_timeout():
    assert environment.serving_settings({"SAGEMAKER_BATCH": "true"}).timeout == 600
    assert environment.serving_settings({"SAGEMAKER_BATCH": "true",
                                         "SAGEMAKER_MODEL_SERVER_TIMEOUT": "90"}).timeout == 90


@pytest.mark.parametrize("name, value, message", [
    ("SAGEMAKER_BIND_TO_PORT", "http", "SAGEMAKER_BIND_TO_PORT='http' is not a valid int"),
    ("SAGEMAKER_BIND_TO_PORT", "70000", "is outside 1..65535"),
    ("SAGEMAKER_MODEL_SERVER_WORKERS", "0", "is outside 1..256"),
    ("SAGEMAKER_MAX_PAYLOAD_IN_MB", "lots", "is not a valid float"),
])
def test_bad_settings_name_the_variable(name, value, message):
    with pytest.raises(ValueError, match=message):
        environment.serving_settings({name: value})


def test_serve_refuses_bad_settings_before_starting(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))
    monkeypatch.setenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/html")
    assert server.main() == 2
    assert "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT='text/html' must be one of" in capsys.readouterr().err
    monkeypatch.delenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")
    assert server.main() == 2
    assert "model.txt is missing" in capsys.readouterr().err
