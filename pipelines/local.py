"""What both local runners share: their command line (one set of options for both engines, so a
user moves from one to the other unchanged) and the bundled data."""

import argparse
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"


def arguments(description: str, argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--image", required=True, help="the image, as built by container/local_test/build.sh")
    parser.add_argument("--data", type=Path, default=BUNDLED, help="the HR export (default: the bundled data)")
    parser.add_argument("--seed", type=int, default=0, help="the split's seed")
    parser.add_argument("--auc-threshold", type=float, default=0.80, help="the gate: test AUC at least this")
    parser.add_argument("--mlflow", default=os.environ.get("MLFLOW_TRACKING_URI"),
                        help="MLflow tracking URI to register the model in (default: $MLFLOW_TRACKING_URI)")
    parser.add_argument("--model-name", default="attrition", help="the registered model's name in MLflow")
    parser.add_argument("--batch-score", action="store_true", help="also score the data with the new model")
    return parser.parse_args(argv)
