import errno

import pytest

from attrition.core.platform import environment


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
    with pytest.raises(environment.SettingError, match=message):
        environment.serving_settings({name: value})


@pytest.mark.parametrize("name, value, message", [
    ("ATTRITION_MONITOR_PSI", "nan", "ATTRITION_MONITOR_PSI='nan' is not a number"),
    ("ATTRITION_MONITOR_MIN_ROWS", "ten", "ATTRITION_MONITOR_MIN_ROWS='ten' is not a valid int"),
    ("ATTRITION_MONITOR_KS_ALPHA", "2", "is outside 0.0..1.0"),
    ("publish_cloudwatch_metrics", "maybe", "publish_cloudwatch_metrics='maybe' must be true or false"),
])
def test_bad_monitor_settings_name_the_variable(name, value, message):
    with pytest.raises(environment.SettingError, match=message):
        environment.monitor_settings({name: value})


def test_monitor_settings_default_to_the_processing_layout():
    settings = environment.monitor_settings({"SAGEMAKER_BASE_DIR": "/x", "publish_cloudwatch_metrics": "Enabled"})
    assert str(settings.dataset_source) == "/x/processing/endpointdata"
    assert str(settings.baseline_statistics) == "/x/model/statistics.json"
    assert settings.publish_cloudwatch_metrics is True and settings.min_rows == 100


def test_capture_percent_is_checked():
    assert environment.capture_settings({}).folder is None
    with pytest.raises(environment.SettingError, match="ATTRITION_CAPTURE_PERCENT='150' is outside"):
        environment.capture_settings({"ATTRITION_CAPTURE_DIR": "/c", "ATTRITION_CAPTURE_PERCENT": "150"})




def test_file_errors_say_what_to_do():
    denied = environment.os_error_message(PermissionError(errno.EACCES, "Permission denied", "/opt/ml/model/model.txt"))
    assert denied.startswith("cannot use /opt/ml/model/model.txt: Permission denied. The container runs as uid")
    assert environment.os_error_message(OSError(errno.ENOSPC, "No space left on device")).startswith(
        "cannot write: No space left on device. Free disk space")
    full = environment.os_error_message(OSError(errno.ENOSPC, "No space left on device", "/opt/ml/model/x"))
    assert "larger volume" in full
