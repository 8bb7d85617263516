"""score: a folder of CSV files scored offline, row for row what /invocations answers."""

import pytest

from attrition.score import job as score
from tests.http_client import Client, post


def run(tmp_path, model_dir, files: dict, *args) -> int:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, text in files.items():
        (inputs / name).write_text(text)
    return score.main(["--model", str(model_dir), "--input", str(inputs), "--output", str(tmp_path / "out"), *args],
                      {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")})


def test_each_file_scored_as_the_endpoint_answers(tmp_path, trained_dir, trained_model, ibm_text):
    from attrition.core import environment
    from attrition.serve.app import App

    rows = ibm_text.splitlines()
    big = "\n".join(rows + rows[1:] * 3) + "\n"  # 5,880 employees: several frames
    assert run(tmp_path, trained_dir / "model", {"big.csv": big, "few.csv": "\n".join(rows[1:4]) + "\n"}) == 0
    client = Client(App(trained_model, environment.serving_settings({})))
    for name, text in (("big.csv", big), ("few.csv", "\n".join(rows[1:4]) + "\n")):
        expected = post(client, text, accept="text/csv").get_data(as_text=True)
        assert (tmp_path / "out" / f"{name}.out").read_text() == expected


def test_join_puts_each_row_before_its_answer(tmp_path, trained_dir, ibm_text):
    rows = ibm_text.splitlines()[:3]
    assert run(tmp_path, trained_dir / "model", {"a.csv": "\n".join(rows) + "\n"}, "--join") == 0
    lines = (tmp_path / "out" / "a.csv.out").read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith(rows[1] + ",0.")


@pytest.mark.parametrize("files, message", [({}, "no file to score"),
                                            ({"bad.csv": "1,2\n"}, "bad.csv: rows have 2 fields")])
def test_nothing_or_something_unreadable_to_score_is_one_line(tmp_path, trained_dir, files, message):
    assert run(tmp_path, trained_dir / "model", files) == 2
    assert message in (tmp_path / "opt_ml" / "output" / "failure").read_text()
