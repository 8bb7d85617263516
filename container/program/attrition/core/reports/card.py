"""The model card: what a reviewer signs, in SageMaker Model Card's content schema, and as a page.

`content` fills every section it can from the artifacts (the manifest, the metrics, the bias
audit, the importance) and marks the fields only a person can fill with PERSON, so a card never
pretends a decision was taken. The JSON is what `CreateModelCard` takes as Content (at most
CONTENT_LIMIT characters: when the full bias figures do not fit, only those outside their ranges
are kept and the card says so; a card that still does not fit is an error, never cut silently).
`page` is the same card as a self-contained, printable HTML page.

An attrition model is rated High risk: the EU AI Act lists AI used for decisions on promotion,
termination and the monitoring of workers as high-risk (Annex III, point 4).
"""

import html
import json
from dataclasses import dataclass
from pathlib import Path

from .. import contract
from ..platform import artifact
from ..platform.errors import UserError
from ..quality import bias
from ..table.schema import Schema

CONTENT_LIMIT = 100_000  # CreateModelCard's Content, in characters
PERSON = "TO BE COMPLETED BY A PERSON"
QUALITY = ("auc", "pr_auc", "f1", "precision", "recall", "accuracy", "logloss")
IMPORTANCE_BARS = 15


@dataclass(frozen=True)
class Evidence:
    """What a card is made of: the model's manifest, where its metrics come from ("out-of-fold
    cross-validation", "the test split"), the metrics (core.quality.metrics.evaluate's), the datasets'
    names, the bias audit (bias.json), the global importance (mean |SHAP| per feature), the
    gate's verdict when an evaluation judged the model, and the model's columns."""

    manifest: dict
    evaluated_on: str
    quality: dict
    datasets: list[str]
    audit: dict
    importance: list[dict]
    gate: dict | None = None
    schema: Schema | None = None


def content(evidence: Evidence) -> dict:
    """The card's content, within CONTENT_LIMIT."""
    card = _card(evidence, every_bias_metric=True)
    if len(_json(card)) > CONTENT_LIMIT:
        card = _card(evidence, every_bias_metric=False)
    size = len(_json(card))
    if size > CONTENT_LIMIT:
        raise UserError(f"model_card.json would be {size:,} characters, over SageMaker's limit of "
                        f"{CONTENT_LIMIT:,}: audit fewer bias facets")
    return card


def write(folder: Path, evidence: Evidence) -> None:
    """model_card.json (compact: as CreateModelCard takes it) and model_card.html."""
    card = content(evidence)
    artifact.write_text(folder / contract.MODEL_CARD_FILE, _json(card))
    artifact.write_text(folder / "model_card.html", page(card))


def _json(card: dict) -> str:
    return json.dumps(card, sort_keys=True, separators=(",", ":"))


def _card(evidence: Evidence, every_bias_metric: bool) -> dict:
    manifest, hp = evidence.manifest, evidence.manifest.get("hyperparameters", {})
    image = manifest.get("image_revision") or ""
    return {
        "model_overview": {
            "model_id": manifest.get("model_version", ""),
            "model_name": f"attrition-{manifest.get('model_version', '')}",
            "model_description": "Predicts which employees are likely to leave within the horizon of the "
                                 "labels it was trained on, with the reasons behind each prediction (TreeSHAP).",
            "problem_type": "Binary Classification",
            "algorithm_type": f"LightGBM gradient-boosted trees ({hp.get('num_boost_round', '?')} rounds at most)",
            "model_creator": PERSON,
            "model_owner": PERSON,
            "model_artifact": list(contract.MODEL_FILES),
            "inference_environment": {"container_image": [f"attrition-sagemaker (revision {image or 'unknown'})"]},
        },
        "intended_uses": {
            "purpose_of_model": "Help HR find groups of employees at risk of leaving, and the reasons, so that "
                                "retention measures can be offered early.",
            "intended_uses": "Decision support for HR reviewers, who decide. Not for decisions on dismissal, "
                             "promotion or pay, and never as the only ground for an individual decision.",
            "factors_affecting_model_efficiency": "Trained on one export of one organisation: a change in the "
                                                  "workforce, in policy or in how fields are recorded shifts the "
                                                  "data; monitor the inputs and, once known, who actually left.",
            "risk_rating": "High",
            "explanations_for_risk_rating": "AI used for decisions on promotion, termination and the monitoring "
                                            "of workers is high-risk under the EU AI Act (Annex III, point 4); "
                                            "NYC Local Law 144 requires a yearly bias audit of such tools.",
        },
        "business_details": {
            "business_problem": "Employee attrition: the cost of replacing those who leave.",
            "business_stakeholders": PERSON,
            "line_of_business": "Human resources",
        },
        "training_details": {
            "objective_function": {"function": {"function": "Minimize", "facet": "Loss",
                                                "condition": "binary log loss"},
                                   "notes": f"decision threshold chosen for {hp.get('threshold_objective', '?')}"},
            "training_observations": _observations(manifest),
            "training_job_details": {
                "training_arn": manifest.get("training_job_arn") or "local training (no SageMaker job)",
                "training_datasets": [f"{entry['file']} sha256:{entry['sha256']}"
                                      for entries in (manifest.get("data") or {}).values()
                                      for entry in entries][:15],
                "training_environment": {"container_image": [f"attrition-sagemaker (revision {image or 'unknown'})"]},
                "hyper_parameters": [{"name": name, "value": str(value)}
                                     for name, value in sorted(hp.items())][:100],
            },
        },
        "evaluation_details": [{
            "name": f"attrition-{manifest.get('model_version', 'model')}",
            "evaluation_observation": _verdict(evidence),
            "datasets": evidence.datasets[:10],
            "metric_groups": [_quality_group(evidence), _bias_group(evidence.audit, every_bias_metric),
                              _impact_group(evidence.audit), _importance_group(evidence.importance)],
        }],
        "additional_information": {
            "ethical_considerations": f"{PERSON}: the reviewer's reading of the bias figures and impact ratios "
                                      "above, and of the groups not audited "
                                      f"({', '.join(evidence.audit.get('not_audited', [])) or 'none'}).",
            "caveats_and_recommendations": "Probabilities are estimates for groups, not verdicts on persons. "
                                           "Read each explanation as the model's reasons, not as causes.",
            "custom_details": {"reviewer": PERSON, "review_date": PERSON,
                               "bias_facets": str(hp.get("bias_facets", "")),
                               "decision_threshold": str(evidence.quality.get("threshold", ""))},
        },
    }


def _observations(manifest: dict) -> str:
    rows = sum(entry.get("rows", 0) for entries in (manifest.get("data") or {}).values() for entry in entries)
    return (f"{rows} rows read; trained at {manifest.get('trained_at', '?')} with LightGBM "
            f"{manifest.get('versions', {}).get('lightgbm', '?')}.")


def _verdict(evidence: Evidence) -> str:
    said = f"Metrics from {evidence.evaluated_on}, {evidence.quality.get('rows', '?')} employees."
    if evidence.gate is not None:
        said += f" Gate {'passed' if evidence.gate.get('passed') else 'refused'}: " + "; ".join(
            evidence.gate.get("reasons", []))
    return said


def _number(name: str, value: float, notes: str = "") -> dict:
    metric: dict = {"name": name, "type": "number", "value": float(value)}
    return metric | ({"notes": notes} if notes else {})


def _quality_group(evidence: Evidence) -> dict:
    quality = evidence.quality
    matrix = quality.get("confusion_matrix", {})
    data = [_number(name, quality[name]) for name in QUALITY if quality.get(name) is not None]
    data.append(_number("decision threshold", quality.get("threshold", 0.0)))
    if matrix:
        data.append({"name": "confusion matrix", "type": "matrix",
                     "value": [[matrix["tn"], matrix["fp"]], [matrix["fn"], matrix["tp"]]],
                     "x_axis_name": ["predicted stays", "predicted leaves"], "y_axis_name": ["stayed", "left"]})
    return {"name": f"Model quality ({evidence.evaluated_on})", "metric_data": data}


def _bias_group(audit: dict, every_metric: bool) -> dict:
    found = bias.measured(audit)
    if not every_metric:
        found = [m for m in found if bias.distance(m.name, m.value) > 0]
    low_high = {name: f"acceptable {low:g}..{high:g}" for name, (low, high) in bias.ACCEPTABLE.items()}
    return {"name": "Bias (post-training, SageMaker Clarify's metrics)" + (
        "" if every_metric else ": only those outside their ranges fit; every figure is in bias.json"),
        "metric_data": [_number(m.key, m.value, low_high[m.name]) for m in found]}


def _impact_group(audit: dict) -> dict:
    data = []
    for facet, table in audit.get("impact_ratios", {}).items():
        for group in table["groups"]:
            for name in ("impact_ratio", "scoring_impact_ratio"):
                if group.get(name) is not None:
                    data.append(_number(f"{facet}={group['group']} {name.replace('_', ' ')}", group[name],
                                        f"{group['members']} employees"))
        if table["suppressed"]:
            data.append({"name": f"{facet}: suppressed groups", "type": "string",
                         "value": ", ".join(f"{g['group']} ({g['members']})" for g in table["suppressed"])})
    return {"name": "Impact ratios (NYC Local Law 144)", "metric_data": data}


def _importance_group(importance: list[dict]) -> dict:
    top = importance[:IMPORTANCE_BARS]
    return {"name": "Explainability (mean |SHAP|, log-odds)", "metric_data": [{
        "name": "global importance", "type": "bar_chart", "value": [float(row["mean_abs_shap"]) for row in top],
        "x_axis_name": [row["feature"] for row in top], "y_axis_name": "mean |SHAP|"}] if top else []}


def page(card: dict) -> str:
    """The card as a printable page: every section, the fields for a person highlighted."""
    sections = "".join(f"<h2>{_e(_title(name))}</h2>{_section(card[name])}" for name in card)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Model card: {_e(card["model_overview"]["model_id"])}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 980px; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 16px; margin-top: 26px; border-bottom: 1px solid #ccc; }}
h3 {{ font-size: 14px; }} table {{ border-collapse: collapse; margin: 6px 0; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; width: 30%; }} .person {{ background: #fff3b0; font-weight: 600; }}
@media print {{ body {{ margin: 0; }} h2 {{ break-after: avoid; }} tr {{ break-inside: avoid; }} }}
</style></head><body>
<h1>Model card: attrition model {_e(card["model_overview"]["model_id"])}</h1>
<p>SageMaker Model Card content. Fields marked <span class="person">{PERSON}</span> are for the
reviewer to fill in before signing; everything else was filled from the training artifacts.</p>
{sections}
<h2>Sign-off</h2><table><tr><th>Reviewer</th><td class="person">{PERSON}</td></tr>
<tr><th>Date and decision</th><td class="person">{PERSON}</td></tr></table>
</body></html>
"""


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _section(value) -> str:
    if isinstance(value, dict):
        rows = "".join(f"<tr><th>{_e(_title(key))}</th><td>{_section(item)}</td></tr>" for key, item in value.items())
        return f"<table>{rows}</table>"
    if isinstance(value, list):
        if value and all(isinstance(item, dict) and "metric_data" in item for item in value):
            return "".join(f"<h3>{_e(group['name'])}</h3>{_metrics(group['metric_data'])}" for group in value)
        if value and all(isinstance(item, dict) and set(item) == {"name", "value"} for item in value):
            rows = "".join(f"<tr><th>{_e(item['name'])}</th><td>{_e(item['value'])}</td></tr>" for item in value)
            return f"<table>{rows}</table>"
        return "<br>".join(_section(item) for item in value)
    if value == PERSON or (isinstance(value, str) and value.startswith(PERSON)):
        return f'<span class="person">{_e(value)}</span>'
    return _e(str(value))


def _metrics(data: list[dict]) -> str:
    rows = []
    for metric in data:
        value = metric["value"]
        if metric["type"] == "number":
            shown = f"{value:.4f}"
        elif metric["type"] == "bar_chart":
            shown = "<br>".join(f"{_e(name)}: {number:.3f}" for name, number in zip(metric["x_axis_name"], value))
        elif metric["type"] == "matrix":
            shown = "<br>".join(f"{_e(label)}: {row}" for label, row in zip(metric["y_axis_name"], value))
        else:
            shown = _e(str(value))
        rows.append(f"<tr><th>{_e(metric['name'])}</th><td>{shown}</td><td>{_e(metric.get('notes', ''))}</td></tr>")
    return f"<table>{''.join(rows)}</table>" if rows else "<p>none</p>"


def _e(text: str) -> str:
    return html.escape(text, quote=True)
