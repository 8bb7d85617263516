"""evaluate: the model scored on the test split, in the Model Registry's model-quality shape."""

import io
import json
import tarfile

import pytest

from attrition.core import metrics
from attrition.evaluate import job as evaluate


def run(tmp_path, model, test_text: str) -> tuple[int, dict]:
    test = tmp_path / "test"
    test.mkdir(exist_ok=True)
    (test / "test.csv").write_text(test_text)
    code = evaluate.main(["--model", str(model), "--test", str(test), "--output", str(tmp_path / "evaluation")],
                         {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")})
    result = tmp_path / "evaluation" / "evaluation.json"
    return code, json.loads(result.read_text()) if result.exists() else {}


def test_a_model_directory_scored_on_the_test_split(tmp_path, trained_dir, trained_model, ibm_text):
    code, evaluation = run(tmp_path, trained_dir / "model", ibm_text)
    assert code == 0
    quality = evaluation["binary_classification_metrics"]
    cm = quality["confusion_matrix"]
    assert cm["0"]["0"] + cm["0"]["1"] == 1233 and cm["1"]["0"] + cm["1"]["1"] == 237
    assert 0.8 < quality["auc"]["value"] < 1 and evaluation["attrition"]["model_version"] == trained_model.version
    assert evaluation["attrition"]["decision_threshold"] == trained_model.threshold
    assert len(evaluation["attrition"]["test_data"][0]["sha256"]) == 64
    audit = json.loads((tmp_path / "evaluation" / "bias.json").read_text())
    assert sorted(audit["post_training_bias_metrics"]["facets"]) == ["Age", "Gender", "MaritalStatus"]
    assert any("MaritalStatus=Single" in line for line in evaluation["attrition"]["bias_outside_acceptable_ranges"])


def test_bias_facets_are_chosen_on_the_command_line(tmp_path, trained_dir, ibm_text):
    test = tmp_path / "test"
    test.mkdir()
    (test / "test.csv").write_text(ibm_text)
    common = ["--model", str(trained_dir / "model"), "--test", str(test), "--output", str(tmp_path / "out")]
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")}
    assert evaluate.main(common + ["--bias-facets", "JobLevel>2"], environ) == 0
    audit = json.loads((tmp_path / "out" / "bias.json").read_text())
    assert list(audit["pre_training_bias_metrics"]["facets"]) == ["JobLevel"]
    assert evaluate.main(common + ["--bias-facets", "Age>old"], environ) == 2
    assert "bias facet 'Age>old'" in (tmp_path / "opt_ml" / "output" / "failure").read_text()


def test_the_model_tar_gz_a_training_step_writes(tmp_path, trained_dir, ibm_text):
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in (trained_dir / "model").iterdir():
            tar.add(path, arcname=path.name)
    code, evaluation = run(tmp_path, tmp_path, ibm_text)  # a folder holding model.tar.gz, as SageMaker mounts it
    direct = tmp_path / "direct"
    direct.mkdir()
    _, from_dir = run(direct, trained_dir / "model", ibm_text)
    assert code == 0 and evaluation["binary_classification_metrics"] == from_dir["binary_classification_metrics"]


def test_an_archive_that_escapes_its_folder_is_refused(tmp_path, ibm_text):
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    code, _ = run(tmp_path, archive, ibm_text)
    assert code == 2 and "is not a readable model.tar.gz" in (tmp_path / "opt_ml" / "output" / "failure").read_text()
    assert not (tmp_path.parent / "outside.txt").exists()


@pytest.mark.parametrize("text, message", [
    ("Age,Attrition\n30,Yes\n40,No\n", "lacks the model's feature column"),
    ("Nothing\n1\n", "lacks the model's feature column(s): Age, BusinessTravel"),
])
def test_a_test_split_that_does_not_fit_the_model_fails_with_one_line(tmp_path, trained_dir, text, message):
    code, _ = run(tmp_path, trained_dir / "model", text)
    assert code == 2 and message in (tmp_path / "opt_ml" / "output" / "failure").read_text()


def test_the_model_quality_shape_is_what_train_writes_too(trained_dir):
    written = json.loads((trained_dir / "output" / "data" / "evaluation.json").read_text())
    assert set(written["binary_classification_metrics"]) == set(
        metrics.model_quality(metrics.evaluate(*[__import__("numpy").array([0.0, 1.0])] * 2, 0.5))[
            "binary_classification_metrics"])
