"""Every job ends in one line and an exit code: 2 for the user's mistakes, 1 for ours."""

import errno

import pytest

from attrition.core.platform import jobs
from attrition.core.platform.errors import UserError


def failing(error):
    def work(paths):
        raise error
    return work


@pytest.mark.parametrize("error, code, line", [
    (UserError("label column 'Attrition' is missing"), 2, "label column 'Attrition' is missing"),
    (OSError(errno.ENOSPC, "No space left on device", "/opt/ml/model/x"), 2, "cannot write /opt/ml/model/x"),
    (KeyError("bug"), 1, "internal error (KeyError): 'bug'"),
    (OSError(errno.EIO, "Input/output error"), 1, "internal error (OSError)"),
])
def test_a_failure_is_one_line_in_the_failure_file_and_an_exit_code(tmp_path, capsys, error, code, line):
    assert jobs.run("job", {"SAGEMAKER_BASE_DIR": str(tmp_path)}, failing(error)) == code
    failure = (tmp_path / "output" / "failure").read_text()
    assert failure.startswith(line) and failure.count("\n") == 1
    assert f"job failed: {line}" in capsys.readouterr().err


def test_success_prints_the_closing_line(tmp_path, capsys):
    assert jobs.run("job", {"SAGEMAKER_BASE_DIR": str(tmp_path)}, lambda paths: "job: done") == 0
    assert capsys.readouterr().out == "job: done\n" and not (tmp_path / "output" / "failure").exists()


def test_a_wrong_argument_is_a_users_mistake():
    parser = jobs.Arguments(prog="prepare")
    parser.add_argument("--seed", type=int)
    with pytest.raises(UserError, match="prepare: argument --seed: invalid int value: 'x'"):
        parser.parse_args(["--seed", "x"])
