"""Do the pages people read stay small as the data grows? monitor_report.html and profile.html.

    .venv/bin/python -m bench.report_size     (BENCH_ROWS, default 1500,15000,150000,1500000)

A model is trained on the bundled employees. Each window is next year's employees (drawn with
attrition-next-year's shift, so the page has drift to show) repeated up to the row count, written
as CSV; the image's `monitor` reads it in a process of its own, and `prepare` profiles the same
rows as an export. The table gives each page's size, the run's time and its peak memory (VmHWM):
the pages summarise (bars per bucket, a row per feature), so their size must not follow the rows.
The issue's bound: under 2 MB for a 1.5 M-row window.
"""

import csv
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from attrition_pipelines.next_year import sample
from bench.support import BUNDLED, as_csv, train

LIMIT = 2 * 1024 * 1024  # bytes: the bound #26 sets for a 1.5 M-row window
# One job in a process of its own, so its peak memory is its own: prints seconds and peak MB.
PROBE = ("import time; start = time.monotonic(); "
         "from {module} import main; code = main({call}); "
         "peak = int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) / 1024; "
         "print(code, round(time.monotonic() - start, 1), round(peak))")


def main() -> int:
    sizes = [int(n) for n in os.environ.get("BENCH_ROWS", "1500,15000,150000,1500000").split(",")]
    employees = list(csv.DictReader(io.StringIO(BUNDLED.read_text())))
    with tempfile.TemporaryDirectory(prefix="attrition-bench-") as folder:
        base = train(Path(folder) / "opt_ml", BUNDLED.read_text())
        block = as_csv(sample(employees, 1500, seed=1, shifted=True))
        header, body = block.split("\n", 1)
        lines, number = [line.split(",") for line in body.splitlines()], header.split(",").index("EmployeeNumber")
        print("| rows | window MB | monitor (s) | peak MB | monitor_report.html | prepare (s) | peak MB "
              "| profile.html |")
        print("|---|---|---|---|---|---|---|---|")
        worst = 0
        for rows in sizes:
            window = Path(folder) / f"window-{rows}"
            window.mkdir()
            with open(window / "employees.csv", "w") as out:
                out.write(header + "\n")
                for i in range(rows):  # each row its own employee number: an export holds no duplicates
                    cells = lines[i % len(lines)]
                    out.write(",".join([*cells[:number], str(10**7 + i), *cells[number + 1:]]) + "\n")
            mb = (window / "employees.csv").stat().st_size / 2**20
            monitored = _run("attrition.monitor.job", "", {
                "SAGEMAKER_BASE_DIR": str(base), "dataset_source": str(window),
                "output_path": str(Path(folder) / f"report-{rows}")})
            report = (Path(folder) / f"report-{rows}" / "monitor_report.html").stat().st_size
            prepared = _run("attrition.prepare.job", repr(["--input", str(window), "--output",
                                                           str(Path(folder) / f"prepared-{rows}")]),
                            {"SAGEMAKER_BASE_DIR": str(Path(folder) / f"prepare-{rows}")})
            profile = (Path(folder) / f"prepared-{rows}" / "profile" / "profile.html").stat().st_size
            worst = max(worst, report, profile)
            print(f"| {rows:,} | {mb:.0f} | {monitored[0]} | {monitored[1]} | {report / 1024:.0f} kB "
                  f"| {prepared[0]} | {prepared[1]} | {profile / 1024:.0f} kB |", flush=True)
            (window / "employees.csv").unlink()
    print(f"\nlargest page: {worst / 1024:.0f} kB, {worst / LIMIT:.1%} of the 2 MB bound")
    return 0 if worst < LIMIT else 1


def _run(module: str, call: str, environ: dict) -> tuple[str, str]:
    """(seconds, peak MB) of one job run in a process of its own; stops the benchmark if it fails."""
    done = subprocess.run([sys.executable, "-c", PROBE.format(module=module, call=call)], capture_output=True,
                          text=True, env={**os.environ, **environ}, timeout=3600)
    code, seconds, peak = (done.stdout.strip().splitlines() or ["? ? ?"])[-1].split()
    if done.returncode or code != "0":
        raise SystemExit(f"{module} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, peak


if __name__ == "__main__":
    started = time.monotonic()
    status = main()
    print(f"({time.monotonic() - started:.0f} s in all)")
    sys.exit(status)
