"""technical_documentation.md: Annex IV's outline, filled from the artifacts or marked for a person."""

import json
import re

from attrition.core.quality import bias
from attrition.core.reports import card


def test_training_writes_the_outline_in_annex_ivs_order_filled_from_its_artifacts(trained_dir):
    data = trained_dir / "output" / "data"
    text = (data / "technical_documentation.md").read_text()
    manifest = json.loads((trained_dir / "model" / "manifest.json").read_text())
    numbers = [int(n) for n in re.findall(r"^## (\d+)\. ", text, re.M)]
    assert numbers == list(range(1, 10))
    train = manifest["data"]["train"][0]
    assert f"`{train['file']}` (train, {train['rows']} rows, SHA-256 `{train['sha256']}`)" in text
    assert f"model {manifest['model_version']}" in text and "LightGBM " + manifest["versions"]["lightgbm"] in text
    assert "EmployeeNumber (identifier-like" in text  # the columns not used, and why
    outside = bias.outside(json.loads((data / "bias.json").read_text()))
    assert outside and "; ".join(outside) in text
    person = [line for line in text.splitlines() if card.PERSON in line]
    for needed in ("Provider", "risk management", "declaration", "approvers", "Capture retention", "Review cadence"):
        assert any(needed in line for line in person), needed


def test_evaluate_writes_it_with_the_test_figures_and_the_gates_verdict(tmp_path, trained_dir, ibm_text):
    from attrition.evaluate import job as evaluate

    test = tmp_path / "test"
    test.mkdir()
    (test / "test.csv").write_text(ibm_text)
    assert evaluate.main(["--model", str(trained_dir / "model"), "--test", str(test), "--output",
                          str(tmp_path / "out")], {"SAGEMAKER_BASE_DIR": str(tmp_path / "opt_ml")}) == 0
    text = (tmp_path / "out" / "technical_documentation.md").read_text()
    assert "on the test split (1470 employees): auc 0." in text and "Gate passed: test AUC" in text
