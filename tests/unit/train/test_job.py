import errno
import json
import re

import pytest

from attrition.core.platform import artifact
from tests.helpers import FAST, make_opt_ml, run_training

SMALL = "Age,Attrition,Dept\n" + "".join(
    f"{20 + i % 30},{'Yes' if i % 5 == 0 else 'No'},{['Sales', 'HR', 'R&D'][i % 3]}\n"
    for i in range(60)
)


def test_bundled_data_trains_a_useful_model(trained_dir):
    metrics = json.loads((trained_dir / "output" / "data" / "metrics.json").read_text())
    assert metrics["validation"]["auc"] > 0.75
    assert metrics["validation"]["rows"] == 1470  # out-of-fold: every row scored once
    assert len(metrics["cross_validation"]["fold_auc"]) == 5
    for name in ("auc", "pr_auc", "accuracy", "precision", "recall", "f1", "confusion_matrix"):
        assert name in metrics["validation"]


def test_model_directory_holds_text_and_json_only(trained_dir, ibm_text):
    files = sorted(p.name for p in (trained_dir / "model").iterdir())
    assert files == ["constraints.json", "manifest.json", "metadata.json", "model.txt", "statistics.json"]
    metadata = json.loads((trained_dir / "model" / "metadata.json").read_text())
    assert metadata["schema"]["classes"] == ["No", "Yes"]
    assert 0.05 < metadata["decision_threshold"] < 0.6  # F1-optimal on a 16 % positive class
    top = metadata["feature_importance"][0]
    assert set(top) == {"feature", "gain", "mean_abs_shap"} and top["mean_abs_shap"] > 0
    assert (trained_dir / "model" / "model.txt").read_text().startswith("tree")






def test_bias_audit_of_the_bundled_data(trained_dir):
    audit = json.loads((trained_dir / "output" / "data" / "bias.json").read_text())
    post = audit["post_training_bias_metrics"]["facets"]
    assert sorted(post) == ["Age", "Gender", "MaritalStatus"]
    assert [g["value_or_threshold"] for g in post["Gender"]] == ["Female", "Male"]
    assert [g["value_or_threshold"] for g in post["Age"]] == ["(40, inf)"]
    female = {m["name"]: m["value"] for m in post["Gender"][0]["metrics"]}
    assert set(female) == {"DPPL", "DI", "RD", "AD", "FNRD", "FPRD"} and female["DI"] > 0
    single = audit["pre_training_bias_metrics"]["facets"]["MaritalStatus"]
    assert {g["value_or_threshold"] for g in single} == {"Divorced", "Married", "Single"}
    report = (trained_dir / "output" / "data" / "report.html").read_text()
    assert "<h2>Bias audit</h2>" in report
    assert "MaritalStatus=Single DPL" in report  # singles leave far more often (25 % vs 12 %)


def test_explainability_in_clarify_shape(trained_dir):
    written = json.loads((trained_dir / "output" / "data" / "explainability.json").read_text())
    shap = written["explanations"]["kernel_shap"]["label0"]
    metadata = json.loads((trained_dir / "model" / "metadata.json").read_text())
    assert list(shap["global_shap_values"]) == [row["feature"] for row in metadata["feature_importance"]]
    assert shap["global_shap_values"]["OverTime"] > 0
    # the expected value is the log-odds of the average employee: below 0 for a 16 % positive class
    assert -3 < shap["expected_value"] < 0


def test_evaluation_json_has_model_registry_shape(trained_dir):
    evaluation = json.loads((trained_dir / "output" / "data" / "evaluation.json").read_text())
    binary = evaluation["binary_classification_metrics"]
    assert set(binary["confusion_matrix"]) == {"0", "1"}
    assert 0 < binary["auc"]["value"] <= 1


def test_metric_lines_are_scrapable(tmp_path, capsys):
    paths = make_opt_ml(tmp_path, FAST, {"train": {"a.csv": SMALL}})
    assert run_training(paths) == 0
    lines = capsys.readouterr().out.splitlines()
    found = {m.group(1) for line in lines if (m := re.fullmatch(r"validation:(\w+)=([0-9.]+)", line))}
    assert {"auc", "pr_auc", "accuracy", "precision", "recall", "f1", "logloss"} <= found


def test_sdk_channel_name_training_and_a_validation_channel(tmp_path):
    paths = make_opt_ml(tmp_path, FAST, {"training": {"a.csv": SMALL}, "validation": {"v.csv": SMALL}})
    assert run_training(paths) == 0
    metrics = json.loads((paths.output_data_dir / "metrics.json").read_text())
    assert metrics["validation_source"].startswith("validation channel")
    assert metrics["validation"]["rows"] == 60




def test_local_tuning_is_reproducible(tmp_path):
    runs = []
    for name in ("a", "b"):
        paths = make_opt_ml(tmp_path / name, {**FAST, "tuning_trials": "3", "folds": "3"},
                            {"train": {"a.csv": SMALL}})
        assert run_training(paths) == 0
        runs.append(json.loads((paths.output_data_dir / "tuning.json").read_text()))
    assert runs[0] == runs[1]
    assert len(runs[0]["trials"]) == 3
    assert runs[0]["best"]["auc"] == max(t["auc"] for t in runs[0]["trials"])


def test_other_hr_exports_train_with_defaults(tmp_path, ibm_text):
    """Fewer columns, missing values, categories already encoded as integers."""
    header, *rows = [line.split(",") for line in ibm_text.splitlines()]
    keep = ["Attrition", "Age", "OverTime", "JobRole", "MonthlyIncome", "YearsAtCompany", "MaritalStatus"]
    index = [header.index(c) for c in keep]
    codes = {}
    lines = [",".join(keep)]
    for n, row in enumerate(rows):
        cells = [row[i] for i in index]
        cells[3] = str(codes.setdefault(cells[3], len(codes)))  # JobRole as integer codes
        if n % 9 == 0:
            cells[4] = ""  # MonthlyIncome missing for one employee in nine
        lines.append(",".join(cells))
    paths = make_opt_ml(tmp_path, {"categorical_columns": "JobRole"},
                        {"train": {"export.csv": "\n".join(lines) + "\n"}})
    assert run_training(paths) == 0
    metrics = json.loads((paths.output_data_dir / "metrics.json").read_text())
    assert metrics["cross_validation"]["auc_mean"] > 0.75
    metadata = json.loads((paths.model_dir / "metadata.json").read_text())
    kinds = {f["name"]: f["kind"] for f in metadata["schema"]["features"]}
    assert kinds["JobRole"] == "categorical" and kinds["MonthlyIncome"] == "numeric"
    audit = json.loads((paths.output_data_dir / "bias.json").read_text())
    assert audit["not_audited"] == ["Gender"]  # this export has no Gender column


def test_builtin_layout_without_header(tmp_path):
    text = "".join(f"{1 if i % 4 == 0 else 0},{i % 7},{['a', 'b'][i % 2]}\n" for i in range(80))
    paths = make_opt_ml(tmp_path, FAST, {"train": {"a.csv": text}})
    assert run_training(paths) == 0
    metadata = json.loads((paths.model_dir / "metadata.json").read_text())
    assert metadata["schema"]["input_columns"] == ["feature_1", "feature_2"]
    assert metadata["schema"]["classes"] == ["0", "1"]


@pytest.mark.parametrize("hyperparameters, channels, validation, message", [
    (FAST, {}, None, "each of the 2 hosts trains on its own files.*add a 'validation' channel \\(FullyReplicated\\)"),
    (FAST, {"validation": {"v.csv": SMALL}}, "ShardedByS3Key", "validation channel must be FullyReplicated"),
    ({**FAST, "tuning_trials": "2"}, {"validation": {"v.csv": SMALL}}, None, "tune with `attrition-deploy tune`"),
])
def test_sharded_rows_on_several_hosts_need_a_replicated_validation_channel(tmp_path, hyperparameters, channels,
                                                                             validation, message):
    paths = make_opt_ml(tmp_path, hyperparameters, {"train": {"a.csv": SMALL}, **channels})
    paths.resource_config_file.write_text(json.dumps({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}))
    config = {"train": {"S3DistributionType": "ShardedByS3Key"}}
    if validation:
        config["validation"] = {"S3DistributionType": validation}
    paths.input_data_config_file.write_text(json.dumps(config))
    assert run_training(paths) == 2
    assert re.search(message, paths.failure_file.read_text())


@pytest.mark.parametrize(
    "hyperparameters, channels, message",
    [
        ({}, {}, "no training data: expected a channel named 'train'"),
        ({}, {"train": {"a.csv": ""}}, "a.csv is empty"),
        ({"label_column": "Left"}, {"train": {"a.csv": SMALL}}, "label column 'Left'"),
        ({}, {"train": {"a.csv": SMALL.replace("Yes", "No")}}, "single class"),
        ({"num_leaves": "0"}, {"train": {"a.csv": SMALL}}, "num_leaves='0' is out of range"),
        ({"max_depht": "3"}, {"train": {"a.csv": SMALL}}, "unknown hyperparameter.*max_depht"),
        ({}, {"train": {"a.csv": SMALL + "1,2,3,4\n"}}, "line 62 has 4 fields; expected 3"),
        ({"boosting": "rf", "bagging_freq": "0", "feature_fraction": "1"}, {"train": {"a.csv": SMALL}},
         "boosting=rf needs sampling"),
        ({}, {"train": {"a.csv": SMALL}, "validation": {"v.csv": "Age,Attrition\n1,Yes\n"}},
         "validation channel's columns differ"),
        ({"bias_facets": "Age>forty"}, {"train": {"a.csv": SMALL}}, "bias facet 'Age>forty'"),
        ({"folds": "20"}, {"train": {"a.csv": SMALL}}, "20-fold cross-validation needs at least 20 rows of each class"),
    ],
)
def test_failures_write_a_failure_file_and_exit_non_zero(tmp_path, hyperparameters, channels, message):
    paths = make_opt_ml(tmp_path, hyperparameters, channels)
    assert run_training(paths) == 2
    reason = paths.failure_file.read_text()
    assert reason.count("\n") == 1 and len(reason) <= 1024
    assert re.search(message, reason), reason
    assert not paths.model_dir.exists()


def test_pipe_mode_streams_the_channel_through_its_fifo(tmp_path, ibm_text):
    """SageMaker's Pipe mode: no folder, a FIFO named train_0 carrying the files one after another,
    written by another process (as SageMaker's agent does)."""
    import os
    import subprocess

    paths = make_opt_ml(tmp_path, FAST)
    paths.input_data_config_file.write_text(json.dumps({"train": {"TrainingInputMode": "Pipe"}}))
    paths.data_dir.mkdir(parents=True)
    fifo = paths.channel_pipe("train")
    os.mkfifo(fifo)
    header, *lines = ibm_text.splitlines()
    halves = ["\n".join([header, *lines[:700]]) + "\n", "\n".join([header, *lines[700:]]) + "\n"]
    (tmp_path / "stream.csv").write_text("".join(halves))
    writer = subprocess.Popen(["sh", "-c", f"cat '{tmp_path / 'stream.csv'}' > '{fifo}'"])
    assert run_training(paths) == 0
    assert writer.wait(10) == 0
    manifest = json.loads((paths.model_dir / "manifest.json").read_text())
    assert manifest["data"]["train"][0]["rows"] == 1470  # the second file's header is not a row
    assert manifest["data"]["train"][0]["file"] == "data/train_0 (Pipe mode)"


def test_unreadable_hyperparameters_file_is_a_user_error(tmp_path):
    paths = make_opt_ml(tmp_path, {}, {"train": {"a.csv": SMALL}})
    paths.hyperparameters_file.write_text('{"num_leaves": "8",}')
    assert run_training(paths) == 2
    assert paths.failure_file.read_text().startswith("hyperparameters.json is not valid JSON")


def test_a_column_name_cannot_forge_a_metric_line(tmp_path, ibm_text, capsys):
    header, *rows = ibm_text.splitlines()
    forged = header.replace("DailyRate", '"DailyRate\nvalidation:auc=0.9999"')
    paths = make_opt_ml(tmp_path, FAST, {"train": {"ibm.csv": "\n".join([forged, *rows]) + "\n"}})
    assert run_training(paths) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "validation:auc=0.9999" not in lines
    assert len([line for line in lines if line.startswith("validation:auc=")]) == 1
    assert any("DailyRate\\nvalidation:auc=0.9999" in line for line in lines)


def test_too_little_data_trains_with_clear_warnings(tmp_path, ibm_text, capsys):
    lines = ibm_text.splitlines()
    paths = make_opt_ml(tmp_path, {"folds": "2"}, {"train": {"small.csv": "\n".join(lines[:11]) + "\n"}})
    assert run_training(paths) == 0
    warnings = json.loads((paths.output_data_dir / "metrics.json").read_text())["warnings"]
    assert any("only 10 labelled rows" in w for w in warnings)
    assert any("rows of the rarer class" in w for w in warnings)
    assert "warning: only 10 labelled rows" in capsys.readouterr().out


def test_the_bundled_data_gives_no_warning(trained_dir):
    assert json.loads((trained_dir / "output" / "data" / "metrics.json").read_text())["warnings"] == []


def test_a_full_disk_leaves_no_servable_model_and_says_what_to_do(tmp_path, ibm_text, monkeypatch):
    paths = make_opt_ml(tmp_path, FAST, {"train": {"ibm.csv": ibm_text}})
    real = artifact.write_text

    def full(path, text):
        if path.name == "report.html":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, text)

    monkeypatch.setattr(artifact, "write_text", full)
    assert run_training(paths) == 2
    failure = paths.failure_file.read_text()
    assert "No space left on device" in failure and "larger volume" in failure
    assert not list(paths.model_dir.iterdir())


def test_text_in_a_numeric_column_is_named_by_row_never_quoted(tmp_path, ibm_text, capsys):
    """An employee's details typed into a number column must not travel into the model, its
    baseline, the report or the log: the column is dropped with a reason naming the row."""
    header, *rows = ibm_text.splitlines()
    income = header.split(",").index("MonthlyIncome")
    cells = rows[5].split(",")
    cells[income] = "SSN 123-45-6789 John Smith"
    rows[5] = ",".join(cells)
    paths = make_opt_ml(tmp_path, FAST, {"train": {"ibm.csv": "\n".join([header, *rows]) + "\n"}})
    assert run_training(paths) == 0
    log = capsys.readouterr()
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent.name != "train"]
    assert not [p.name for p in written if "John Smith" in p.read_text(errors="replace")]
    assert "John Smith" not in log.out + log.err
    metadata = json.loads((paths.model_dir / "metadata.json").read_text())
    reason = metadata["schema"]["dropped"]["MonthlyIncome"]
    assert reason == "mixes numbers and text (1 row(s) of text, the first in row 6)"


def test_a_declared_validation_channel_that_is_absent_is_one_line_exit_2(tmp_path):
    paths = make_opt_ml(tmp_path, FAST, {"train": {"a.csv": SMALL}})
    paths.input_data_config_file.write_text(json.dumps({"train": {}, "validation": {}}))
    assert run_training(paths) == 2
    failure = paths.failure_file.read_text()
    assert "declares a validation channel but" in failure and failure.count("\n") <= 1


@pytest.mark.parametrize("name", ["hyperparameters.json", "inputdataconfig.json", "resourceconfig.json"])
def test_a_config_file_nested_too_deep_is_one_line_exit_2(tmp_path, name):
    paths = make_opt_ml(tmp_path, FAST, {"train": {"a.csv": SMALL}})
    (paths.config_dir / name).write_text("[" * 100_000 + "]" * 100_000)
    assert run_training(paths) == 2
    assert paths.failure_file.read_text().startswith(f"{name} is nested too deeply")
