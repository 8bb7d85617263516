"""evaluate: the model scored on the test split, in the Model Registry's model-quality shape."""

import io
import json
import tarfile

import pytest

from attrition.core.quality import metrics
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


def test_an_intersection_gets_local_law_144_ratios_and_the_gate_can_require_them(tmp_path, trained_dir, ibm_text):
    test = tmp_path / "test"
    test.mkdir()
    (test / "test.csv").write_text(ibm_text)
    common = ["--model", str(trained_dir / "model"), "--test", str(test), "--output", str(tmp_path / "out"),
              "--bias-facets", "Gender&MaritalStatus"]
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")}
    assert evaluate.main(common, environ) == 0
    table = json.loads((tmp_path / "out" / "bias.json").read_text())["impact_ratios"]["Gender&MaritalStatus"]
    assert len(table["groups"]) == 6 and sum(g["members"] for g in table["groups"]) == 1470
    assert max(g["impact_ratio"] for g in table["groups"]) == 1.0 and table["median_score"] > 0
    lowest = min(g["impact_ratio"] for g in table["groups"])
    assert evaluate.main(common + ["--min-impact-ratio", f"{lowest + 0.01:.4f}"], environ) == 0
    gate = json.loads((tmp_path / "out" / "evaluation.json").read_text())["attrition"]["gate"]
    assert gate["passed"] is False and any(r.startswith("impact ratio: Gender&MaritalStatus=") for r in gate["reasons"])


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


def test_an_archive_is_unpacked_beside_the_outputs_and_nothing_is_left_anywhere(tmp_path, trained_dir, ibm_text,
                                                                                 monkeypatch):
    """/tmp may be read-only (docker run --read-only): nothing is written outside /opt/ml."""
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in (trained_dir / "model").iterdir():
            tar.add(path, arcname=path.name)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "no-tmp"))  # a /tmp that cannot be written
    code, _ = run(tmp_path, archive, ibm_text)
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "evaluation").iterdir()) == [
        "bias.json", "evaluation.json", "model_card.html", "model_card.json", "technical_documentation.md"]


def test_an_archive_member_too_large_is_refused_before_it_is_read(tmp_path, ibm_text):
    archive = tmp_path / "model.tar.gz"
    info = tarfile.TarInfo("model.txt")
    info.size = 3 << 30  # a header that announces 3 GiB; the data is never read
    archive.write_bytes(info.tobuf() + b"\0" * 1024)
    code, _ = run(tmp_path, archive, ibm_text)
    failure = (tmp_path / "opt_ml" / "output" / "failure").read_text()
    assert code == 2 and "model.txt is 3.0 GiB, over the 2 GiB a model file may be" in failure


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


def test_without_a_champion_the_gate_passes_on_quality_alone(tmp_path, trained_dir, ibm_text):
    code, evaluation = run(tmp_path, trained_dir / "model", ibm_text)  # no champion folder mounted
    assert code == 0 and "champion" not in evaluation["attrition"]
    assert evaluation["attrition"]["gate"]["passed"] is True
    assert "no champion yet" in evaluation["attrition"]["gate"]["reasons"][1]


@pytest.fixture(scope="module")
def weak_model(tmp_path_factory, ibm_text):
    """A model of one stump on a handful of rows: clearly worse than the trained one."""
    from tests.helpers import make_opt_ml, run_training

    base = tmp_path_factory.mktemp("weak")
    few = "\n".join(ibm_text.splitlines()[:301]) + "\n"
    paths = make_opt_ml(base, {"num_boost_round": "2", "num_leaves": "2", "early_stopping_rounds": "0"},
                        {"train": {"ibm.csv": few}})
    assert run_training(paths) == 0
    return base / "model"


def test_the_challenger_must_be_as_good_as_the_champion_on_the_same_rows(tmp_path, trained_dir, weak_model,
                                                                         ibm_text):
    test = tmp_path / "test"
    test.mkdir()
    (test / "test.csv").write_text(ibm_text)
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")}

    def judged(challenger, champion, *extra) -> dict:
        out = tmp_path / "out"
        assert evaluate.main(["--model", str(challenger), "--champion", str(champion), "--test", str(test),
                              "--output", str(out), *extra], environ) == 0
        return json.loads((out / "evaluation.json").read_text())["attrition"]

    worse = judged(weak_model, trained_dir / "model")
    assert worse["gate"]["passed"] is False and worse["champion"]["rows"] == worse["rows"] == 1470
    assert worse["metrics"]["auc"] < worse["champion"]["metrics"]["auc"] - 0.05
    reason = worse["gate"]["reasons"][1]
    assert reason.endswith(": worse beyond noise") and "tolerance 0.01" in reason
    better = judged(trained_dir / "model", weak_model)  # far better AUC, but flags more singles than the stumps
    assert better["gate"]["passed"] is False and better["champion"]["model_version"] != better["model_version"]
    assert any(line.startswith("bias: MaritalStatus=Single DI 2.") for line in better["gate"]["reasons"])
    assert judged(trained_dir / "model", weak_model, "--bias-facets", "Gender")["gate"]["passed"] is True
    assert judged(weak_model, trained_dir / "model", "--auc-tolerance", "1")["gate"]["passed"] is True
    same = judged(trained_dir / "model", trained_dir / "model")
    assert same["gate"]["passed"] is True and "no group treated worse" in same["gate"]["reasons"][-1]


def test_an_empty_champion_folder_means_none_and_a_bad_tolerance_is_refused(tmp_path, trained_dir, ibm_text):
    test = tmp_path / "test"
    test.mkdir()
    (test / "test.csv").write_text(ibm_text)
    (tmp_path / "champion").mkdir()
    (tmp_path / "champion" / "no-champion.txt").write_text("none approved yet")
    common = ["--model", str(trained_dir / "model"), "--test", str(test), "--output", str(tmp_path / "out"),
              "--champion", str(tmp_path / "champion")]
    environ = {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")}
    assert evaluate.main(common, environ) == 0
    assert "champion" not in json.loads((tmp_path / "out" / "evaluation.json").read_text())["attrition"]
    assert evaluate.main(common + ["--auc-tolerance", "-0.1"], environ) == 2
    assert "--auc-tolerance" in (tmp_path / "opt_ml" / "output" / "failure").read_text()
    assert evaluate.main(common + ["--bias-tolerance", "x"], environ) == 2


def test_the_groups_audited_are_those_the_model_was_trained_with(tmp_path, ibm_text):
    from tests.helpers import make_opt_ml, run_training

    paths = make_opt_ml(tmp_path / "train", {"num_boost_round": "2", "early_stopping_rounds": "0",
                                             "bias_facets": "Gender,Age>50"}, {"train": {"ibm.csv": ibm_text}})
    assert run_training(paths) == 0
    code, evaluation = run(tmp_path, tmp_path / "train" / "model", ibm_text)
    assert code == 0 and evaluation["attrition"]["bias_facets"] == "Gender,Age>50"
    audited = json.loads((tmp_path / "evaluation" / "bias.json").read_text())["post_training_bias_metrics"]["facets"]
    assert list(audited) == ["Gender", "Age"] and audited["Age"][0]["value_or_threshold"] == "(50, inf)"
