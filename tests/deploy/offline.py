"""attrition-deploy run in-process, for tests that need no moto (dry runs)."""

from attrition_deploy import cli


def run(capsys, *args) -> tuple[int, str, str]:
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err
