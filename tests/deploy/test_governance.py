"""The audit trail: an append-only log that `history` prints newest first, and `approve` on a
SageMaker package (moto in server mode); approving an MLflow version is in tests/pipelines."""

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attrition_deploy import audit
from tests.deploy.test_cli import IMAGE, ROLE, cli, client


def _entry(event: str, version: str, **extra) -> dict:
    return audit.record(event, actor="tester@host", trigger="a test",
                        model={"name": "attrition", "version": version, "model_version": f"m{version}"}, **extra)


def test_records_come_back_newest_first_and_a_damaged_line_is_named(tmp_path):
    log = tmp_path / "audit.jsonl"
    for version in ("1", "2", "3"):
        audit.append(log, _entry("registered", version))
    audit.append(log, audit.record("deployed", actor="x", trigger="t", model={"endpoint": "e", "models": ["m"]}))
    assert [e["model"].get("version") for e in audit.read(log).entries] == [None, "3", "2", "1"]
    assert [e["model"]["version"] for e in audit.read(log, model="attrition", limit=2).entries] == ["3", "2"]
    with log.open("a") as out:
        out.write('{"cut short\n[1, 2]\n"text"\n' + "[" * 100_000 + "\n" + '{"half a rec')
    audit.append(log, _entry("registered", "4"))
    trail = audit.read(log)
    assert trail.damaged == [5, 6, 7, 8, 9] and [e["model"].get("version") for e in trail.entries][:2] == ["4", None]
    assert trail.entries[0]["seq"] == 10 and audit.verify(log).broken.startswith("line 5: not an audit record")
    with pytest.raises(ValueError, match="event 'erased' must be one of"):
        audit.record("erased", actor="x", trigger="t")


def test_one_record_schema_data_are_hashes_per_channel_and_metrics_numbers():
    digest = "ab" * 32
    metadata = {"data_train_0": f"train.csv sha256:{digest} rows:882", "data_train_1": "x.csv sha256:bad rows:1",
                "data_validation_0": f"v.csv sha256:{digest} rows:294", "metric_auc": "0.8609", "model_data": "s3://b/m"}
    assert audit.metadata_hashes(metadata) == {"train": [digest], "validation": [digest]}
    assert audit.metric_values(metadata) == {"auc": 0.8609}
    manifest = {"data": {"train": [{"file": "train.csv", "sha256": digest, "rows": 882}]}}
    assert audit.data_hashes(manifest) == {"train": [digest]}
    with pytest.raises(TypeError, match="must be a list of SHA-256 hex digests"):
        _entry("registered", "1", data={"data_train_0": ["train.csv sha256:..."]})
    with pytest.raises(TypeError, match="must be a number"):
        _entry("registered", "1", metrics={"auc": "0.86"})


def _writer(log, number: int) -> None:
    for i in range(500):
        audit.append(log, _entry("refused", f"{number}.{i}", reasons=["x" * 500]))


def test_concurrent_writers_never_interleave_inside_a_line_and_the_chain_verifies(tmp_path):
    log = tmp_path / "audit.jsonl"
    writers = [multiprocessing.Process(target=_writer, args=(log, n)) for n in range(2)]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
    lines = log.read_text().splitlines()
    assert len(lines) == 1000 and all(json.loads(line)["event"] == "refused" for line in lines)
    assert audit.verify(log) == audit.Verification(1000, 0, json.loads(lines[-1])["hash"], "")


def _chain(tmp_path, count: int = 5) -> tuple[Path, list[str]]:
    log = tmp_path / "audit.jsonl"
    for version in range(1, count + 1):
        audit.append(log, _entry("registered", str(version)))
    return log, log.read_text().splitlines(keepends=True)


@pytest.mark.parametrize(("edit", "named"), [
    (lambda lines: [lines[0], lines[1].replace('"m2"', '"m9"'), *lines[2:]],
     "line 2: the record was changed after it was written"),
    (lambda lines: [*lines[:-1], lines[-1].replace('"m5"', '"m9"')],
     "line 5: the record was changed after it was written"),
    (lambda lines: [lines[0], lines[1], *lines[3:]], "line 3: record 4 where record 3 belongs: 1 record(s) removed"),
    (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], "line 2: record 3 where record 2 belongs"),
    (lambda lines: [*lines[:2], lines[1], *lines[2:]], "line 3: record 2 where record 3 belongs: records were "
                                                       "reordered or copied"),
    (lambda lines: [*lines[:3], '{"event": "approved"}\n', *lines[3:]], "line 4: a record without its place"),
    (lambda lines: [*lines[:4], lines[4][:40]], "line 5: cut short"),
    (lambda lines: [*lines[:2], "\n", *lines[2:]], "line 3: not an audit record"),
])
def test_verify_names_the_first_record_changed_removed_inserted_or_reordered(tmp_path, edit, named):
    log, lines = _chain(tmp_path)
    assert audit.verify(log).broken == ""
    log.write_text("".join(edit(lines)))
    assert audit.verify(log).broken.startswith(named), audit.verify(log).broken


def test_a_record_rehashed_by_a_forger_still_breaks_the_chain_after_it(tmp_path):
    log, lines = _chain(tmp_path)
    forged = json.loads(lines[1]) | {"verdict": "Approved"}
    forged["hash"] = audit.digest(forged)
    log.write_text("".join([lines[0], json.dumps(forged) + "\n", *lines[2:]]))
    assert audit.verify(log).broken.startswith("line 3: the record before it is not the one it was written after: "
                                               "line 2 was changed")


def test_records_from_before_the_chain_are_counted_and_linked_by_their_bytes(tmp_path):
    log = tmp_path / "audit.jsonl"
    old = _entry("registered", "1")
    log.write_text(json.dumps(old) + "\n" + json.dumps(old | {"event": "approved"}) + "\n")
    written = audit.append(log, _entry("promoted", "1"))
    assert written["seq"] == 3 and audit.verify(log) == audit.Verification(3, 2, written["hash"], "")
    log.write_text(log.read_text().replace('"approved"', '"rejected"', 1))
    assert audit.verify(log).broken.startswith("line 3: the record before it is not the one")


def test_history_verify_prints_the_head_or_exits_2_naming_the_break(tmp_path):
    log, lines = _chain(tmp_path, 3)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    shown = cli(env, "history", "--verify", "--audit-log", log).stdout
    assert f"3 record(s) verify; head: record 3 sha256 {json.loads(lines[2])['hash']}" in shown
    log.write_text("".join([lines[0], lines[2]]))
    refused = cli(env, "history", "--verify", "--audit-log", log, check=False)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "does not verify: line 2: record 3 where record 2 belongs" in refused.stderr and not refused.stdout


def test_history_prints_the_log_without_any_aws_configuration(tmp_path):
    log = tmp_path / "audit.jsonl"
    audit.append(log, _entry("registered", "1", metrics={"auc": 0.8609}, verdict="PendingManualApproval"))
    audit.append(log, _entry("promoted", "1", reasons=["AUC 0.8609 vs champion 0.8500 (tolerance 0.01): not worse"]))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    shown = cli(env, "history", "--audit-log", log).stdout.splitlines()
    assert "promoted  attrition v1 (model m1)" in shown[0] and "by tester@host" in shown[0]
    assert shown[1].strip().startswith("AUC 0.8609 vs champion") and "auc=0.8609" in shown[2]
    assert json.loads(cli(env, "history", "--audit-log", log, "--json").stdout)[0]["event"] == "promoted"
    missing = cli(env, "history", "--audit-log", tmp_path / "nowhere.jsonl", check=False)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no audit log at" in missing.stderr


def test_history_skips_and_names_damaged_lines_and_escapes_every_text(tmp_path):
    log = tmp_path / "audit.jsonl"
    audit.append(log, _entry("rejected", "1", reasons=["fine\n2026-01-01T00:00:00Z  approved  attrition v9  by ceo"]))
    with log.open("a") as out:
        out.write('["json", "but not an object"]\n{"half a rec')
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "none")}
    shown = cli(env, "history", "--audit-log", log)
    assert shown.stdout.count("\n") == 2 and "approved  attrition v9" not in shown.stdout.splitlines()[1][:40]
    assert "fine\\n2026-01-01" in shown.stdout
    assert "skipped 2 damaged line(s) (2, 3)" in shown.stderr and shown.stderr.count("\n") == 1


def test_an_append_the_disk_cuts_short_fails_loudly_and_leaves_the_log_readable(tmp_path):
    """RLIMIT_FSIZE stands in for a full disk: the write is cut short or refused, as ENOSPC does."""
    log = tmp_path / "audit.jsonl"
    audit.append(log, _entry("registered", "1"))
    script = f"""
import resource, signal, sys
from attrition_deploy import audit
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({log.stat().st_size + 100}, {log.stat().st_size + 100}))
try:
    audit.append(__import__("pathlib").Path({str(log)!r}), audit.record("refused", actor="a", trigger="t",
                 reasons=["x" * 1000]))
except OSError as error:
    sys.exit(str(error))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env=os.environ)
    assert done.returncode == 1 and "the audit record was not written" in done.stderr
    trail = audit.read(log)
    assert trail.damaged == [] and [e["event"] for e in trail.entries] == ["registered"]


def test_approving_a_package_records_who_and_why_there_and_in_the_log(aws_env, trained_dir):
    model_dir = trained_dir / "model"
    registered = cli(aws_env, "register", "--name", "attrition-gov", "--image", IMAGE, "--role", ROLE,
                     "--model-data", "s3://hr-models/attrition/model.tar.gz", "--group", "attrition-gov",
                     "--manifest", model_dir / "manifest.json",
                     "--model-card", trained_dir / "output" / "data" / "model_card.json").stdout.strip()
    sagemaker = client(aws_env, "sagemaker")
    card = sagemaker.describe_model_card(ModelCardName="attrition-gov")  # in review while the package waits
    content = json.loads(card["Content"])
    assert card["ModelCardStatus"] == "PendingReview" and content["model_package_details"] == {
        "model_package_arn": registered, "model_package_group_name": "attrition-gov",
        "model_approval_status": "PendingManualApproval"}
    assert content["intended_uses"]["risk_rating"] == "High"
    # Each event as it happened (#23): the registration shows the status it was registered with, not
    # the package's current one (read before approving: moto's UpdateModelPackage drops the package's
    # CustomerMetadataProperties, which SageMaker keeps).
    before = json.loads(cli(aws_env, "history", "--group", "attrition-gov", "--json").stdout)
    assert [(e["event"], e["verdict"]) for e in before] == [("registered", "PendingManualApproval")]
    reason = "bias report reviewed: Age>40 DI 0.46 comes from the labels"
    assert cli(aws_env, "approve", "--package", registered, "--reason", reason).stdout.strip() == (
        "Approved attrition-gov/1")
    package = sagemaker.describe_model_package(ModelPackageName=registered)
    assert package["ModelApprovalStatus"] == "Approved" and package["ApprovalDescription"].startswith(reason + " (by ")
    assert sagemaker.describe_model_card(ModelCardName="attrition-gov")["ModelCardStatus"] == "Approved"
    logged = audit.read(Path(aws_env["ATTRITION_AUDIT_LOG"])).entries
    assert [e["event"] for e in logged] == ["approved", "registered"]
    manifest = json.loads((model_dir / "manifest.json").read_text())
    for entry in logged:  # both carry the data's hashes per channel and the metrics (#23)
        assert entry["data"] == audit.data_hashes(manifest), entry
        assert entry["metrics"]["auc"] == pytest.approx(manifest["metrics"]["auc"], abs=1e-4), entry
        assert entry["model"]["model_version"] == manifest["model_version"]
    from_aws = json.loads(cli(aws_env, "history", "--group", "attrition-gov", "--json").stdout)
    assert {e["event"] for e in from_aws} == {"approved", "registered"}
    assert next(e for e in from_aws if e["event"] == "approved")["verdict"] == "Approved"
    assert all(e["model"]["package"] == registered for e in from_aws)
    assert any(reason in " ".join(e["reasons"]) for e in from_aws)
    both = cli(aws_env, "approve", "--package", registered, "--version", "attrition/1", "--reason", "x", check=False)
    assert both.returncode == 2 and "either --version NAME/VERSION (MLflow) or --package ARN" in both.stderr


def test_a_model_card_that_is_not_one_is_refused_before_anything_is_created(aws_env, trained_dir, tmp_path):
    common = ["register", "--name", "attrition-bad", "--image", IMAGE, "--role", ROLE, "--model-data",
              "s3://hr-models/attrition/model.tar.gz"]
    (tmp_path / "card.json").write_text('{"evaluation": 1}')
    (tmp_path / "big.json").write_text(json.dumps({"model_overview": {"model_description": "x" * 100_001}}))
    for card, said in (("card.json", "is not a model card"), ("big.json", "over CreateModelCard's 100,000")):
        refused = cli(aws_env, *common, "--model-card", tmp_path / card, check=False)
        assert refused.returncode == 2 and said in refused.stderr and refused.stderr.count("\n") == 1
    assert client(aws_env, "sagemaker").list_models()["Models"] == []
    drafted = cli(aws_env, *common, "--model-card", trained_dir / "output" / "data" / "model_card.json")
    assert drafted.stdout.strip() == "attrition-bad"  # no package: the card stays a draft
    assert client(aws_env, "sagemaker").describe_model_card(ModelCardName="attrition-bad")["ModelCardStatus"] == "Draft"
