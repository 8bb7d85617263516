"""The serve command refuses bad settings and a missing model before gunicorn starts."""


from attrition.serve import server


def test_serve_refuses_bad_settings_before_starting(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("SAGEMAKER_BASE_DIR", str(tmp_path))
    monkeypatch.setenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "text/html")
    assert server.main() == 2
    assert "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT='text/html' must be one of" in capsys.readouterr().err
    monkeypatch.delenv("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")
    assert server.main() == 2
    assert "model.txt is missing" in capsys.readouterr().err
