"""The model card: SageMaker Model Card content from the training artifacts, within its size
limit, with the fields for a person marked, and a page a browser shows whole."""

import json

import pytest

from attrition.core.platform.errors import UserError
from attrition.core.reports import card
from tests.browser import render

SECTIONS = ["additional_information", "business_details", "evaluation_details", "intended_uses", "model_overview",
            "training_details"]


def test_every_training_writes_a_card_filled_from_its_artifacts(trained_dir):
    data = trained_dir / "output" / "data"
    written = (data / "model_card.json").read_text()
    content = json.loads(written)
    manifest = json.loads((trained_dir / "model" / "manifest.json").read_text())
    assert sorted(content) == SECTIONS and len(written) <= card.CONTENT_LIMIT
    assert content["model_overview"]["model_id"] == manifest["model_version"]
    assert content["intended_uses"]["risk_rating"] == "High" and "Annex III" in \
        content["intended_uses"]["explanations_for_risk_rating"]
    assert content["model_overview"]["model_owner"] == card.PERSON
    assert content["business_details"]["business_stakeholders"] == card.PERSON
    details = content["training_details"]["training_job_details"]
    assert details["training_datasets"][0].endswith(manifest["data"]["train"][0]["sha256"])
    assert {"name": "bias_facets", "value": manifest["hyperparameters"]["bias_facets"]} in details["hyper_parameters"]
    (evaluation,) = content["evaluation_details"]
    groups = {g["name"].split(" (")[0]: g["metric_data"] for g in evaluation["metric_groups"]}
    assert list(groups) == ["Model quality", "Bias", "Impact ratios", "Explainability"]
    quality = {m["name"]: m["value"] for m in groups["Model quality"]}
    assert quality["auc"] == pytest.approx(manifest["metrics"]["auc"])
    bias_json = json.loads((data / "bias.json").read_text())
    assert len(groups["Bias"]) == sum(len(g.get("metrics", [])) for entries in
                                      bias_json["post_training_bias_metrics"]["facets"].values() for g in entries
                                      if all(m["value"] is not None for m in g.get("metrics", [])))
    assert any(m["name"].startswith("Gender=Female impact ratio") for m in groups["Impact ratios"])
    (bars,) = groups["Explainability"]
    assert bars["type"] == "bar_chart" and len(bars["value"]) == len(bars["x_axis_name"]) == card.IMPORTANCE_BARS


def _evidence(groups: int, outside: bool) -> card.Evidence:
    value = 0.5 if outside else 1.0  # DI
    facets = {"Column": [{"value_or_threshold": f"group {i}", "members": 50,
                          "metrics": [{"name": "DI", "description": "", "value": value}]} for i in range(groups)]}
    audit = {"post_training_bias_metrics": {"facets": facets}, "impact_ratios": {}}
    return card.Evidence({"model_version": "m1", "hyperparameters": {}}, "the test split",
                         {"auc": 0.8, "threshold": 0.5, "rows": 10}, ["t.csv"], audit, [])


def test_a_card_over_the_size_limit_keeps_only_the_bias_figures_outside_their_ranges_or_is_refused():
    fits = card.content(_evidence(2000, outside=False))
    (group,) = [g for g in fits["evaluation_details"][0]["metric_groups"] if g["name"].startswith("Bias")]
    assert group["metric_data"] == [] and "only those outside their ranges fit" in group["name"]
    with pytest.raises(UserError, match=r"model_card.json would be [\d,]+ characters, over SageMaker's limit"):
        card.content(_evidence(2000, outside=True))


def test_the_page_shows_every_section_marks_the_person_fields_and_loads_nothing(trained_dir, tmp_path):
    page = trained_dir / "output" / "data" / "model_card.html"
    text = page.read_text()
    assert page.stat().st_size < 200_000 and text.count('class="person"') >= 6
    rendered = render(page, tmp_path)
    assert rendered.resources == [] and rendered.page_width <= 1280
    assert rendered.headings == ["Model overview", "Intended uses", "Business details", "Training details",
                                 "Evaluation details", "Additional information", "Sign-off"]
