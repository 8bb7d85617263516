"""The `evaluate` job, on SageMaker's Processing contract: a trained model scored on the test split.

    /opt/ml/processing/model/        the model directory, or the model.tar.gz a training step wrote
    /opt/ml/processing/champion/     optional: the approved model of the group, the same way
    /opt/ml/processing/test/         the test split's CSV files (prepare's test/test.csv)
    /opt/ml/processing/evaluation/evaluation.json, bias.json

evaluation.json is in the Model Registry's model-quality shape (ROC AUC, PR AUC, F1, precision,
recall, accuracy, the confusion matrix), at the model's own decision threshold; its "attrition"
section adds the model version, the test rows and their SHA-256, for a pipeline's gate and the
audit trail. bias.json is the bias audit on the test split (the train job's, on unseen rows), and
the evaluation lists the metrics outside their acceptable ranges. The model is loaded as `serve`
loads it (text and JSON only); the test rows are read as `train` reads its channels.

Champion vs challenger: when a champion is mounted, both models are scored on the same rows.
"attrition.gate" holds the whole decision (evaluate/gate.py): the test AUC not below
--auc-threshold; then, against a champion, not worse in AUC and no group treated worse, each
beyond the noise of the test rows. Without a champion the bar alone decides and the bias findings
go to the reviewer. The pipelines' gate reads only `passed`. The groups audited are those the
model was trained to audit (its bias_facets), unless --bias-facets names others.
"""

import argparse
import os
from pathlib import Path

from ..core import contract
from ..core.platform import artifact, environment, jobs, logs
from ..core.platform.errors import UserError
from ..core.predict import model
from ..core.quality import bias, metrics
from ..core.reports import annex, card
from ..core.table import data, features
from . import gate


def main(argv: list[str] | None = None, environ=None) -> int:
    return jobs.run("evaluate", os.environ if environ is None else environ, lambda paths: _work(paths, argv))


def _work(paths: environment.Paths, argv: list[str] | None) -> str:
    args = _parser(paths).parse_args(argv)
    jobs.leave_root("evaluate", reads=[args.model, args.champion, args.test], writes=[args.output, paths.output_dir])
    quality = run(args)["binary_classification_metrics"]
    logs.say(f"test:auc={quality['auc']['value']:.4f}")
    return f"test:f1={quality['f1']['value']:.4f}"


def run(args: argparse.Namespace) -> dict:
    trained = model.load_any(args.model, args.output)
    champion = _champion(args.champion, args.output)
    schema = trained.schema
    table = data.read_channel(args.test, schema.label_column, "auto")
    missing = sorted(set(schema.feature_names) - set(table.columns))
    if missing:
        raise UserError(f"the test split lacks the model's feature column(s): {', '.join(missing)}")
    rows, y, classes = data.label_vector(table, schema.classes[1])
    if classes != schema.classes:
        raise UserError(f"test labels {classes} differ from the model's {schema.classes}")
    columns = table.column_values(rows)
    facets = args.bias_facets if args.bias_facets is not None else _trained_facets(trained)
    result, scored = _score(trained, columns, y, facets)
    evaluation = {
        **metrics.model_quality(result),
        "attrition": {**_summary(trained, result, scored.audit), "test_data": table.files,
                      "positives": result["positives"], "bias_facets": ",".join(map(str, facets))},
    }
    against = None
    if champion is not None:
        lacking = sorted(set(champion.schema.feature_names) - set(table.columns))
        if lacking:
            raise UserError(f"the test split lacks the champion's feature column(s): {', '.join(lacking)}")
        champion_result, against = _score(champion, columns, y, facets)
        evaluation["attrition"]["champion"] = _summary(champion, champion_result, against.audit)
    settings = gate.Settings(args.auc_threshold, args.auc_tolerance, args.bias_tolerance, args.min_impact_ratio)
    evaluation["attrition"]["gate"] = gate.judge(scored, against, gate.Rows(y, columns, facets), settings)
    artifact.write_json(args.output / contract.BIAS_FILE, scored.audit)
    artifact.write_json(args.output / contract.EVALUATION_FILE, evaluation)
    files = [entry["file"] for entry in table.files]
    evidence = card.Evidence(trained.manifest, "the test split", result, files, scored.audit,
                             trained.metadata.get("feature_importance", []), evaluation["attrition"]["gate"],
                             trained.schema)
    card.write(args.output, evidence)
    annex.write(args.output, evidence)
    return evaluation


def _score(trained: model.Model, columns: dict, y, facets: list[bias.Facet]) -> tuple[dict, gate.Scored]:
    schema = trained.schema
    probabilities = trained.predict(features.encode_table(schema, columns, len(y)))
    predicted = (probabilities >= trained.threshold).astype(int)
    audit = bias.audit(facets, columns, y, predicted, schema.label_column, schema.classes[1], probabilities)
    return metrics.evaluate(y, probabilities, trained.threshold), gate.Scored(probabilities, predicted, audit)


def _trained_facets(trained: model.Model) -> list[bias.Facet]:
    """The groups the model's training audited (its manifest's bias_facets); the default ones for
    a model saved without a manifest."""
    return bias.facets(str(trained.manifest.get("hyperparameters", {}).get("bias_facets", bias.DEFAULT_FACETS)))


def _summary(trained: model.Model, result: dict, audit: dict) -> dict:
    return {"model_version": trained.version, "decision_threshold": trained.threshold, "rows": result["rows"],
            "metrics": {k: result[k] for k in ("auc", "pr_auc", "f1", "precision", "recall", "accuracy")},
            "bias_outside_acceptable_ranges": bias.outside(audit)}


def _champion(source: Path | None, scratch_in: Path) -> model.Model | None:
    """The champion, or None when the folder is absent or holds no model (no approved model yet)."""
    if source is None or not source.exists():
        return None
    if source.is_dir() and not ((source / contract.MODEL_FILE).is_file() or (source / "model.tar.gz").is_file()):
        return None
    return model.load_any(source, scratch_in)


def _parser(paths: environment.Paths) -> argparse.ArgumentParser:
    processing = paths.processing_dir
    parser = jobs.Arguments(prog="evaluate", description="score a trained model on the test split")
    parser.add_model(processing / "model")
    parser.add_argument("--test", type=Path, default=processing / "test", help="the test split's CSV files")
    parser.add_argument("--output", type=Path, default=processing / "evaluation",
                        help="where evaluation.json and bias.json go")
    parser.add_argument("--champion", type=Path, default=processing / "champion",
                        help="the approved model to beat (absent or empty: there is none yet)")
    parser.add_argument("--auc-threshold", type=_tolerance, default=0.0,
                        help="the bar: the test AUC not below this beyond the noise of the test rows "
                             "(default: %(default)s, no bar)")
    parser.add_argument("--auc-tolerance", type=_tolerance, default=0.01,
                        help="how much lower than the champion's the new model's AUC may be beyond the noise "
                             "of the test rows (default: %(default)s)")
    parser.add_argument("--bias-tolerance", type=_tolerance, default=0.0,
                        help="how much further outside an acceptable range than the champion a bias metric may "
                             "move beyond the noise of the test rows, on its scale (log for DI; default: %(default)s)")
    parser.add_argument("--min-impact-ratio", type=_tolerance, default=0.0,
                        help="refuse the model when any group's impact ratio (Local Law 144: its selection or "
                             "scoring rate over the highest group's) is below this (default: %(default)s, off)")
    parser.add_argument("--bias-facets", type=bias.facets, default=None,
                        help="the groups to audit, as the bias_facets hyperparameter (default: those the model "
                             "was trained with)")
    return parser


def _tolerance(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number in [0, 1]")
    return value
