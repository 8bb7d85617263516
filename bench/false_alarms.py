"""How often the data-quality monitor cries wolf, and how often it catches real drift.

    .venv/bin/python -m bench.false_alarms     (BENCH_RUNS, default 200)

A model is trained on the bundled employees (its baseline: statistics.json and constraints.json).
Then `monitor` (the image's job, in this process) reads windows of employees resampled from that
same data, where nothing drifted: every "retraining recommended" is a false alarm. The same
monitor reads windows drawn with attrition-next-year's shift (more overtime, a new job role,
higher R&D incomes): every window not caught is a miss. Both at 150 and 500 rows a window.

The per-feature checks are corrected for testing some 30 features at once as Bonferroni would: a
numeric feature drifts when its Kolmogorov-Smirnov p-value is below 0.001 (so at most 30 x 0.001 =
3 % of windows raise a false KS alarm); a PSI above 0.2 and a share of unseen categories above
1 % are thresholds on the size of a change, which noise reaches only in small windows.
"""

import csv
import io
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from attrition.monitor import job as monitoring
from attrition_pipelines.next_year import sample
from bench.support import BUNDLED, as_csv, quiet, train


def main() -> int:
    runs = int(os.environ.get("BENCH_RUNS", "200"))
    employees = list(csv.DictReader(io.StringIO(BUNDLED.read_text())))
    with tempfile.TemporaryDirectory(prefix="attrition-bench-") as folder:
        base = train(Path(folder) / "opt_ml", BUNDLED.read_text())
        print(f"{'rows':>5} {'window':>10} {'recommended':>12} {'rate':>7}  most flagged")
        for rows in (150, 500):
            for shifted in (False, True):
                count = runs if not shifted else max(runs // 4, 1)
                alarms, flagged = windows(base, Path(folder) / f"w{rows}{shifted}", employees, rows, shifted, count)
                top = ", ".join(f"{reason} {n}" for reason, n in flagged.most_common(3)) or "-"
                label = "shifted" if shifted else "unshifted"
                print(f"{rows:>5} {label:>10} {alarms:>5} / {count:<5} {alarms / count:>7.1%}  {top}")
    return 0


def windows(base: Path, folder: Path, employees: list, rows: int, shifted: bool, count: int) -> tuple[int, Counter]:
    alarms, flagged = 0, Counter[str]()
    for seed in range(count):
        window = folder / f"window-{seed}"
        window.mkdir(parents=True)
        (window / "employees.csv").write_text(as_csv(sample(employees, rows, 1000 + seed, shifted)))
        output = folder / f"out-{seed}"
        quiet(monitoring.main, {"SAGEMAKER_BASE_DIR": str(base), "dataset_source": str(window),
                                "output_path": str(output)})
        verdict = json.loads((output / "drift_report.json").read_text())["verdict"]
        alarms += verdict["retraining_recommended"]
        flagged.update(verdict["reasons"])
    return alarms, flagged


if __name__ == "__main__":
    sys.exit(main())
