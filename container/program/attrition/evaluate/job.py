"""The `evaluate` job, on SageMaker's Processing contract: a trained model scored on the test split.

    /opt/ml/processing/model/        the model directory, or the model.tar.gz a training step wrote
    /opt/ml/processing/test/         the test split's CSV files (prepare's test/test.csv)
    /opt/ml/processing/evaluation/evaluation.json, bias.json

evaluation.json is in the Model Registry's model-quality shape (ROC AUC, PR AUC, F1, precision,
recall, accuracy, the confusion matrix), at the model's own decision threshold; its "attrition"
section adds the model version, the test rows and their SHA-256, for a pipeline's gate and the
audit trail. bias.json is the bias audit on the test split (the train job's, on unseen rows), and
the evaluation lists the metrics outside their acceptable ranges. The model is loaded as `serve`
loads it (text and JSON only); the test rows are read as `train` reads its channels.
"""

import argparse
import os
from pathlib import Path

from ..core import artifact, bias, data, environment, features, jobs, logs, metrics, model
from ..core.errors import UserError


def main(argv: list[str] | None = None, environ=None) -> int:
    return jobs.run("evaluate", os.environ if environ is None else environ, lambda paths: _work(paths, argv))


def _work(paths: environment.Paths, argv: list[str] | None) -> str:
    args = _parser(paths).parse_args(argv)
    jobs.leave_root("evaluate", reads=[args.model, args.test], writes=[args.output, paths.output_dir])
    quality = run(args)["binary_classification_metrics"]
    logs.say(f"test:auc={quality['auc']['value']:.4f}")
    return f"test:f1={quality['f1']['value']:.4f}"


def run(args: argparse.Namespace) -> dict:
    trained = model.load_any(args.model)
    schema = trained.schema
    table = data.read_channel(args.test, schema.label_column, "auto")
    missing = sorted(set(schema.feature_names) - set(table.columns))
    if missing:
        raise UserError(f"the test split lacks the model's feature column(s): {', '.join(missing)}")
    rows, y, classes = data.label_vector(table, schema.classes[1])
    if classes != schema.classes:
        raise UserError(f"test labels {classes} differ from the model's {schema.classes}")
    columns = table.column_values(rows)
    probabilities = trained.predict(features.encode(schema, columns, len(rows)))
    result = metrics.evaluate(y, probabilities, trained.threshold)
    audit = bias.audit(args.bias_facets, columns, y, (probabilities >= trained.threshold).astype(int),
                       schema.label_column, schema.classes[1])
    evaluation = {
        **metrics.model_quality(result),
        "attrition": {"model_version": trained.version, "decision_threshold": trained.threshold,
                      "rows": result["rows"], "positives": result["positives"], "test_data": table.files,
                      "metrics": {k: result[k] for k in ("auc", "pr_auc", "f1", "precision", "recall", "accuracy")},
                      "bias_outside_acceptable_ranges": bias.outside(audit)},
    }
    artifact.write_json(args.output / "bias.json", audit)
    artifact.write_json(args.output / "evaluation.json", evaluation)
    return evaluation


def _parser(paths: environment.Paths) -> argparse.ArgumentParser:
    processing = paths.processing_dir
    parser = jobs.Arguments(prog="evaluate", description="score a trained model on the test split")
    parser.add_model(processing / "model")
    parser.add_argument("--test", type=Path, default=processing / "test", help="the test split's CSV files")
    parser.add_argument("--output", type=Path, default=processing / "evaluation",
                        help="where evaluation.json and bias.json go")
    parser.add_argument("--bias-facets", type=bias.facets, default=bias.DEFAULT_FACETS,
                        help="the groups to audit, as the bias_facets hyperparameter (default: %(default)s)")
    return parser
