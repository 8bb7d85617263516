"""What both local runners decide, without Docker or an engine: their shared command line, the
champion folder when the registry has none, and the verdict on a finished run (a refusal recorded
in the audit trail, nothing registered)."""

import json

import pytest

from attrition.core import contract
from attrition_deploy import audit
from attrition_pipelines import local


def evaluation(passed: bool) -> dict:
    return {"attrition": {"gate": {"passed": passed, "reasons": ["test AUC 0.71 < 0.80" if not passed else "ok"]},
                          "metrics": {"test_auc": 0.71}, "model_version": "a" * 16}}


def model_dir(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"data": {"train": [{"sha256": "1" * 64}]}}))
    return folder


def test_both_engines_share_one_command_line_with_the_bundled_data_by_default():
    args = local.arguments("a runner", ["--image", "attrition-sagemaker:local"])
    assert args.data == local.BUNDLED and local.BUNDLED.is_file()
    assert (args.auc_threshold, args.auc_tolerance, args.bias_tolerance) == (0.80, 0.01, 0.0)
    assert args.cohorts == "Department,JobRole" and not args.promote and not args.batch_score
    with pytest.raises(SystemExit):
        local.arguments("a runner", [])  # --image is required


def test_without_a_registry_the_champion_folder_holds_only_the_marker(tmp_path):
    args = local.arguments("a runner", ["--image", "i"])
    args.mlflow = None
    assert local.champion(args, tmp_path / "champion") is None
    assert [p.name for p in (tmp_path / "champion" / "model").iterdir()] == [contract.NO_CHAMPION]


def test_a_refused_model_is_recorded_with_its_reasons_and_not_registered(tmp_path):
    log = tmp_path / "audit.jsonl"
    args = local.arguments("a runner", ["--image", "i", "--audit-log", str(log), "--mlflow", "http://127.0.0.1:9",
                                        "--trigger", "drift"])
    before = {"name": "attrition", "version": "3", "model_version": "b" * 16, "path": "/x"}
    result = local.conclude(args, evaluation(False), {}, model_dir(tmp_path), before, "sagemaker-local-pipeline")
    assert result == {"gate_passed": False, "reasons": ["test AUC 0.71 < 0.80"], "replaced_champion": False,
                      "champion_before": "3"}  # no registry call: port 9 would have refused it
    [entry] = audit.read(log).entries
    assert entry["event"] == "refused" and entry["trigger"] == "drift" and entry["reasons"] == ["test AUC 0.71 < 0.80"]
    assert entry["champion"] == {"name": "attrition", "version": "3", "model_version": "b" * 16}


def test_a_passing_model_without_a_registry_is_reported_not_registered(tmp_path):
    args = local.arguments("a runner", ["--image", "i", "--audit-log", str(tmp_path / "audit.jsonl")])
    args.mlflow = None
    result = local.conclude(args, evaluation(True), {}, model_dir(tmp_path), None, "kubeflow-local-pipeline")
    assert result["gate_passed"] and "registered" not in result and result["champion_before"] is None
    assert not (tmp_path / "audit.jsonl").exists()


def test_the_cohort_summary_is_one_line_per_cohort_of_the_first_grouping():
    report = {"groupings": [{"by": ["Department"], "cohorts": [
        {"cohort": {"Department": "Sales"}, "expected_leavers": 12.34, "interval": [8, 17], "employees": 446}]},
        {"by": ["JobRole"], "cohorts": []}]}
    assert local.cohort_summary(report) == {"Sales": "12.3 leavers expected (95 % 8-17) of 446"}


def test_the_working_folder_is_removed_whatever_happens(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with pytest.raises(RuntimeError), local.working_folder("attrition-test-", keep=False) as work:
        (work / "export.csv").write_text("employee data")
        raise RuntimeError("a step failed")
    assert not work.exists()
