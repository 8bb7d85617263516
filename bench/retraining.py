"""The drift demo's retraining decision over many seeds: how often a challenger trained on next
year's shifted export replaces the champion, and that deliberately worse challengers never do.

    .venv/bin/python -m bench.retraining     (BENCH_SEEDS, default 20)

As the README's demo and both local pipelines run it, with the image's own jobs in this process:
the champion is the pipeline's model on this year's half of the bundled employees
(attrition-next-year --this-year; prepare with seed 0, train on its train and validation
splits). For each seed, next year's export is drawn from the other half (employees the champion
never saw, shifted), prepared with that seed, and three challengers are trained on it and judged
by `evaluate` against the champion on the same test rows, with the runners' defaults (test AUC not
below 0.80 beyond noise, AUC tolerance 0.01, bias tolerance 0):

    shifted    trained on the shifted export as it is: should replace the champion in most runs
    shuffled   its training labels shuffled: no signal, must be refused every time
    biased     every single employee in its training rows marked as a leaver: must be refused

Prints a row per seed (test AUC of each, champion's, verdicts, the first reason of a refusal) and
the counts. Nothing is written outside a temporary folder, removed at the end.
"""

import csv
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from attrition.evaluate import job as evaluate
from attrition.prepare import job as prepare
from attrition.train import job as training
from attrition_pipelines.next_year import halves, sample
from bench.support import as_csv, quiet

ROOT = Path(__file__).resolve().parents[1]

BUNDLED = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"
SEEDS = int(os.environ.get("BENCH_SEEDS", "20"))
AUC_THRESHOLD = 0.80
CHALLENGERS = ("shifted", "shuffled", "biased")


def main() -> None:
    with BUNDLED.open(newline="") as f:
        this_year, unseen = halves(list(csv.DictReader(f)))
    with tempfile.TemporaryDirectory(prefix="attrition-bench-retraining-") as folder:
        work = Path(folder)
        champion = pipeline_model(work / "champion", this_year, seed=0, change=None)
        heads = " ".join(f"{name:>9} {'':>7}" for name in CHALLENGERS)
        print(f"{'seed':>4} {'champion':>8} {heads}  first reason")
        passed = dict.fromkeys(CHALLENGERS, 0)
        for seed in range(1, SEEDS + 1):
            export = sample(unseen, len(unseen), seed, shifted=True, replace=False)
            split = prepared(work / f"seed{seed}" / "split", export, seed)
            row, reason = [], ""
            for name in CHALLENGERS:
                model = trained(work / f"seed{seed}" / name, split, seed, change=name)
                verdict = judged(work / f"seed{seed}" / f"{name}-evaluation", model, champion, split / "test")
                replaced = verdict["gate"]
                passed[name] += replaced
                row.append(f"{verdict['auc']:>9.4f} {'replace' if replaced else 'refuse':>7}")
                if not replaced and not reason:
                    reason = f"{name}: {verdict['refusal']}"
            print(f"{seed:>4} {verdict['champion_auc']:>8.4f} " + " ".join(row) + f"  {reason[:150]}")
        print()
        for name in CHALLENGERS:
            print(f"{name:>9}: replaced the champion in {passed[name]} of {SEEDS} runs")


def pipeline_model(base: Path, employees: list[dict], seed: int, change: str | None) -> Path:
    return trained(base, prepared(base / "split", employees, seed), seed, change)


def prepared(base: Path, employees: list[dict], seed: int) -> Path:
    (base / "input").mkdir(parents=True)
    (base / "input" / "export.csv").write_text(as_csv(employees))
    quiet(prepare.main, ["--input", str(base / "input"), "--output", str(base / "output"), "--seed", str(seed)],
          {"SAGEMAKER_BASE_DIR": str(base / "opt_ml")})
    return base / "output"


def trained(base: Path, split: Path, seed: int, change: str | None) -> Path:
    """The pipeline's train step on the split's train and validation channels, its labels changed
    as the challenger asks."""
    config = base / "input" / "config"
    config.mkdir(parents=True)
    config.joinpath("hyperparameters.json").write_text(json.dumps({"seed": str(seed)}))
    rng = np.random.default_rng(seed)
    for channel in ("train", "validation"):
        rows = read_csv(next((split / channel).glob("*.csv")))
        if change == "shuffled":
            labels = rng.permutation([r["Attrition"] for r in rows])
            rows = [{**r, "Attrition": label} for r, label in zip(rows, labels)]
        elif change == "biased":
            rows = [{**r, "Attrition": "Yes"} if r["MaritalStatus"] == "Single" else r for r in rows]
        (base / "input" / "data" / channel).mkdir(parents=True)
        (base / "input" / "data" / channel / f"{channel}.csv").write_text(as_csv(rows))
    assert quiet(training.main, {"SAGEMAKER_BASE_DIR": str(base)}) == 0, f"training failed in {base}"
    return base / "model"


def judged(output: Path, model: Path, champion: Path, test: Path) -> dict:
    """`evaluate` with the runners' bar: its gate decides, and its first failed reason says why."""
    code = quiet(evaluate.main, ["--model", str(model), "--champion", str(champion), "--test", str(test),
                                 "--output", str(output), "--auc-threshold", str(AUC_THRESHOLD)],
                 {"SAGEMAKER_BASE_DIR": str(output / "opt_ml")})
    assert code == 0, f"evaluate failed in {output}"
    evaluation = json.loads((output / "evaluation.json").read_text())["attrition"]
    refusals = (": below beyond noise", ": worse beyond noise")
    failed = [r for r in evaluation["gate"]["reasons"]
              if r.endswith(refusals) or (r.startswith("bias: ") and "no group" not in r)]
    return {"gate": evaluation["gate"]["passed"], "auc": evaluation["metrics"]["auc"],
            "champion_auc": evaluation["champion"]["metrics"]["auc"], "refusal": failed[0] if failed else ""}


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


if __name__ == "__main__":
    main()
