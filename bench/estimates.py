"""How close the monitor's estimate of performance comes before the labels arrive.

    .venv/bin/python -m bench.estimates     (BENCH_RUNS, default 200)

A champion is trained on this year's half of the bundled employees (attrition-next-year
--this-year); its baseline keeps the out-of-fold calibration map. Then BENCH_RUNS windows of 500
employees are drawn from the other half, whose labels are known: the model scores them (as the
endpoint would), monitor/estimate.py estimates ROC AUC, precision, recall and F1 from the
probabilities alone, and the estimate is compared with what the labels say. Printed per setting:
the mean |estimated - realised|, the mean estimated - realised (the bias: the error on average
over the windows), the noise floor (the mean |realised - its own expectation| under the
probabilities, which no estimate can beat), the error of an oracle that knew the value over all
the setting's windows together (real labels, no model: how far a window of 500 strays from the
whole on its own), and how often the 95 % interval held the realised value, on unshifted windows
and on next_year's shifted ones
(whose shift changes features but not the labels: the relation between the two moves, which no
estimate from probabilities can see).
"""

import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from attrition.core.predict import model
from attrition.core.quality import metrics
from attrition.core.table import features
from attrition.core.wire import codecs
from attrition.monitor import estimate
from attrition_pipelines.next_year import halves, sample
from bench.support import BUNDLED, as_csv, train

ROWS = 500
NAMES = ("auc", "precision", "recall", "f1")


def main() -> int:
    runs = int(os.environ.get("BENCH_RUNS", "200"))
    this_year, unseen = halves(list(csv.DictReader(io.StringIO(BUNDLED.read_text()))))
    with tempfile.TemporaryDirectory(prefix="attrition-bench-") as folder:
        base = train(Path(folder) / "opt_ml", as_csv(this_year))
        champion = model.load(base / "model")
        mapping = json.loads((base / "model" / "constraints.json").read_text())["attrition"]["calibration"]
        measured = json.loads((base / "output" / "data" / "metrics.json").read_text())["calibration"]
        print(f"out of fold: AUC {measured['auc']:.4f}, expected from the probabilities "
              f"{measured['expected_auc']:.4f}, Brier {measured['brier']:.4f}, "
              f"ECE {measured['expected_calibration_error']:.4f}")
        print("calibration map: " + (f"Platt a={mapping['a']:.3f} b={mapping['b']:.3f}" if mapping else
                                     "none needed (the raw out-of-fold probabilities expect the realised AUC)"))
        print(f"{'window':>10} {'map':>4}  " + "  ".join(
            f"{n + ' |err|':>15} {'bias':>7} {'noise':>6} {'oracle':>6} {'cover':>6}" for n in NAMES))
        for shifted in (False, True):
            windows = [sample(unseen, ROWS, 2000 + seed, shifted) for seed in range(runs)]
            scored = [score(champion, w) for w in windows]
            for used in ((mapping, None) if mapping else (None,)):
                errors, noise, covered = compare(scored, champion.threshold, used)
                oracle = oracle_errors(scored, champion.threshold)
                print(f"{'shifted' if shifted else 'unshifted':>10} {'yes' if used else 'no':>4}  " + "  ".join(
                    f"{np.mean(np.abs(errors[n])):>15.4f} {np.mean(errors[n]):>+7.4f} {np.mean(noise[n]):>6.4f} "
                    f"{np.mean(oracle[n]):>6.4f} {np.mean(covered[n]):>6.1%}" for n in NAMES))
    return 0


def score(champion, employees: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    rows = [{k: v for k, v in e.items() if k != "Attrition"} for e in employees]
    frame = codecs.decode(as_csv(rows).encode(), "text/csv", "utf-8", champion.schema)
    p = champion.predict(features.encode(champion.schema, frame.columns, frame.n_rows))
    return np.array([e["Attrition"] == "Yes" for e in employees], dtype=np.int64), p


def compare(scored, threshold: float, mapping) -> tuple[dict, dict, dict]:
    """Per window: estimated - realised (signed), the estimate's noise, and whether its interval held."""
    errors: dict = {n: [] for n in NAMES}
    noise: dict = {n: [] for n in NAMES}
    covered: dict = {n: [] for n in NAMES}
    for y, p in scored:
        realised = metrics.evaluate(y, p, threshold)
        estimated = estimate.estimate(p, threshold, mapping)
        for name in NAMES:
            errors[name].append(estimated[name]["value"] - realised[name])
            noise[name].append(estimated[name]["noise"])
            covered[name].append(estimated[name]["low"] <= realised[name] <= estimated[name]["high"])
    return errors, noise, covered


def oracle_errors(scored, threshold: float) -> dict:
    """|realised - the value over every window together| per window: what an estimate that knew
    the whole exactly, but not the window, would err by."""
    whole = metrics.evaluate(np.concatenate([y for y, _ in scored]), np.concatenate([p for _, p in scored]),
                             threshold)
    return {name: [abs(metrics.evaluate(y, p, threshold)[name] - whole[name]) for y, p in scored] for name in NAMES}


if __name__ == "__main__":
    sys.exit(main())
