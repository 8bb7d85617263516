"""technical_documentation.md: the outline of the EU AI Act's technical documentation (Annex IV).

Its sections come in the Annex's order, each filled from the artifacts the model card is made of
(core.reports.card.Evidence) or marked for a person (core.reports.card.PERSON): what a machine cannot know (who
the provider is, the risk management system, the declaration of conformity) is never made up.
"""

from pathlib import Path

from ..platform import artifact
from ..quality import bias
from .card import PERSON, QUALITY, Evidence

RETENTION = "ATTRITION_CAPTURE_RETENTION_DAYS"


def document(evidence: Evidence) -> str:
    """The Markdown outline, from the same evidence as the model card."""
    sections = [
        ("1. General description of the AI system", _general(evidence)),
        ("2. Elements of the AI system and its development", _development(evidence)),
        ("3. Monitoring, functioning and control", _control(evidence)),
        ("4. Appropriateness of the performance metrics", _metrics_fit()),
        ("5. Risk management system (Article 9)", [f"- **{PERSON}**: the organisation's risk management process, "
                                                    "its owner, and where this model's risks are recorded."]),
        ("6. Changes through the lifecycle", _changes(evidence)),
        ("7. Harmonised standards applied", [f"- **{PERSON}**: the standards or specifications applied, if any."]),
        ("8. EU declaration of conformity", [f"- **{PERSON}**: a copy of the declaration, once the provider has "
                                                              "drawn it up."]),
        ("9. Post-market monitoring plan", _monitoring()),
    ]
    manifest = evidence.manifest
    head = [f"# Technical documentation: attrition model {manifest.get('model_version', '?')}", "",
            "An outline in the order of Annex IV of the EU AI Act (an attrition model used for decisions on "
            "promotion, termination or the monitoring of workers is high-risk, Annex III point 4). Lines marked "
            f"**{PERSON}** need a person; everything else was filled from the training artifacts.", ""]
    body = [line for title, lines in sections for line in (f"## {title}", "", *lines, "")]
    return "\n".join(head + body)


def write(folder: Path, evidence: Evidence) -> None:
    artifact.write_text(folder / "technical_documentation.md", document(evidence))


def _general(evidence: Evidence) -> list[str]:
    manifest = evidence.manifest
    versions = manifest.get("versions", {})
    return [
        "- **Intended purpose**: help HR find employees and groups at risk of leaving, and why, so retention "
        "measures can be offered early; decision support only, never the sole ground for a decision on a person.",
        f"- **Provider**: **{PERSON}** (name and contact of the organisation placing the system in service).",
        f"- **Version**: model {manifest.get('model_version', '?')}, image revision "
        f"{manifest.get('image_revision') or 'unknown'}, trained {manifest.get('trained_at', '?')}.",
        f"- **Software**: Python {versions.get('python', '?')}, LightGBM {versions.get('lightgbm', '?')}, "
        f"NumPy {versions.get('numpy', '?')}; served by the image's `serve` (HTTP, SageMaker's container contract).",
        "- **Instructions for use**: the project's README (serving API, explanations, retention levers).",
    ]


def _development(evidence: Evidence) -> list[str]:
    manifest, hp = evidence.manifest, evidence.manifest.get("hyperparameters", {})
    files = [f"  - `{entry['file']}` ({channel}, {entry['rows']} rows, SHA-256 `{entry['sha256']}`)"
             for channel, entries in (manifest.get("data") or {}).items() for entry in entries]
    schema = evidence.schema
    features = [f"{f.name} ({f.kind})" for f in schema.features] if schema else []
    dropped = [f"{name} ({reason})" for name, reason in (schema.dropped if schema else {}).items()]
    return [
        "- **Methods**: gradient-boosted decision trees (LightGBM), trained from scratch on the organisation's "
        "export; no pre-trained model.",
        f"- **Design choices**: {hp.get('num_boost_round', '?')} rounds at most, learning rate "
        f"{hp.get('learning_rate', '?')}, {hp.get('num_leaves', '?')} leaves; the decision threshold is chosen "
        f"for `{hp.get('threshold_objective', '?')}` ({evidence.quality.get('threshold', 0.0):.4f}); every "
        "hyperparameter is in the model card's training details.",
        "- **Optimised for**: binary log loss (the probability of leaving).",
        "- **Data** (files read, as the manifest records them):", *files,
        f"- **Features** ({len(features)}): {', '.join(features) or 'see metadata.json'}.",
        f"- **Columns not used**: {', '.join(dropped) or 'none'}.",
        f"- **Labelling**: `{hp.get('label_column', '?')}` = `{hp.get('positive_class', '?')}` is a leaver, "
        f"as recorded in the export. **{PERSON}**: how the organisation records leavers, and its known gaps.",
        f"- **Human oversight (Article 14)**: a model is registered pending approval; only an approver's "
        "`attrition-deploy approve` (with a reason, in the audit trail) makes it the champion, and `--reject` "
        f"withdraws it. **{PERSON}**: who the approvers are, and how an HR reviewer overrides a prediction.",
        f"- **Validation and testing**: {_quality_line(evidence)}",
    ]


def _quality_line(evidence: Evidence) -> str:
    quality = evidence.quality
    shown = ", ".join(f"{name} {quality[name]:.4f}" for name in QUALITY if isinstance(quality.get(name), float))
    gate = evidence.gate
    verdict = "" if gate is None else f" Gate {'passed' if gate.get('passed') else 'refused'}: " + \
        "; ".join(gate.get("reasons", [])) + "."
    return f"on {evidence.evaluated_on} ({quality.get('rows', '?')} employees): {shown}.{verdict}"


def _control(evidence: Evidence) -> list[str]:
    outside = bias.outside(evidence.audit)
    ratios = [f"{facet}={g['group']} {g['impact_ratio']:.2f}" for facet, table in
              evidence.audit.get("impact_ratios", {}).items() for g in table["groups"]
              if g.get("impact_ratio") is not None and g["impact_ratio"] < 0.8]
    not_audited = evidence.audit.get("not_audited", [])
    return [
        "- **Accuracy for groups of persons**: every group's figures are in `bias.json` (SageMaker Clarify's "
        "metrics) and the model card.",
        f"- **Bias metrics outside their acceptable ranges**: {'; '.join(outside) or 'none'}.",
        f"- **Impact ratios under 0.8** (NYC Local Law 144, selection rate over the most selected group's): "
        f"{'; '.join(ratios) or 'none'}.",
        f"- **Groups not audited** (columns missing): {', '.join(not_audited) or 'none'}.",
        "- **Foreseeable unintended outcomes**: a prediction read as a verdict on a person; a group flagged more "
        f"often than another for reasons in the data, not in the person. **{PERSON}**: the reviewer's reading.",
        "- **Input data**: CSV or JSON rows with the training export's columns (the OpenAPI document of `serve`).",
    ]


def _metrics_fit() -> list[str]:
    return [
        "- ROC AUC ranks leavers above stayers whatever the threshold; precision, recall and F1 at the decision "
        "threshold say how many flags are right and how many leavers are found. Each is an average: a group's "
        "own figures can differ, hence the bias audit. On a few hundred test rows an AUC moves by several "
        "hundredths; the gate judges differences against that noise (DeLong).",
    ]


def _changes(evidence: Evidence) -> list[str]:
    return [
        "- Each model is a new version in the registry; every registration, approval, promotion, deployment "
        "and retraining decision is in the audit trail (`attrition-deploy history`, a hash chain that "
        "`history --verify` checks), with the data's SHA-256 and the metrics.",
        f"- This version: {evidence.manifest.get('model_version', '?')}, trained on "
        f"{evidence.manifest.get('trained_at', '?')}.",
    ]


def _monitoring() -> list[str]:
    return [
        "- **Logging**: with data capture on, each request and answer (inference id, event id, time) is kept "
        "in the capture store; the audit trail keeps every decision about the model for as long as the file is "
        f"kept. Capture retention: **{PERSON}** (the period, and `{RETENTION}` or the S3 lifecycle rule that "
        "enforces it).",
        "- **Monitoring**: the image's `monitor` compares captured inputs with the training baseline (Model "
        "Monitor's data quality) and recommends retraining on drift; the pipelines' retraining runs the same gate.",
        f"- **Review cadence**: **{PERSON}** (at least yearly, with a new bias audit, for Local Law 144).",
    ]
