"""What the in-process benchmarks share: the bundled employees, a job run without its log lines,
CSV text of rows, and a model trained by the image's own train job."""

import contextlib
import csv
import io
import json
from pathlib import Path

from attrition.train import job as training

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"


def quiet(function, *args) -> int:
    """A job's main(), its log lines swallowed: the benchmark prints its own table."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return function(*args)


def as_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def train(base: Path, export: str) -> Path:
    """The image's `train` (seed 0), in this process, on CSV text; `base` is its SAGEMAKER_BASE_DIR
    (the model lands in base / "model"), returned."""
    (base / "input" / "data" / "train").mkdir(parents=True)
    (base / "input" / "data" / "train" / "export.csv").write_text(export)
    (base / "input" / "config").mkdir(parents=True)
    (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps({"seed": "0"}))
    assert quiet(training.main, {"SAGEMAKER_BASE_DIR": str(base)}) == 0
    return base
