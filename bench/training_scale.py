"""How cost grows with the export: training time, peak memory and rows/s for 15 k, 150 k and
1.5 M employees (default hyperparameters), the growth exponent, and the rows/s Batch
Transform-sized requests get through /invocations.

    .venv/bin/python -m bench.training_scale     (after ./scripts/test has made .venv)

The exports are drawn from the bundled data (attrition-next-year's sampler, unshifted) with
incomes and rates jittered by up to 5 %, written to a temporary folder and deleted afterwards;
nothing is committed. Each training runs the real `train` job in a fresh Python process, which
reports its own peak resident memory. BENCH_SIZES (default 15000,150000,1500000) and
BENCH_TRAIN_TIMEOUT (seconds per size, default 3600) bound the run. Serving: the model of the
smallest export behind the real `serve` (gunicorn, 2 workers) on a free loopback port, sent
headerless CSV requests of at most SageMaker's default MaxPayloadInMB (6 MB), one at a time, as
Batch Transform's MultiRecord strategy sends them; stopped by its PID at the end.

With BENCH_IMAGE set (an image built from container/), the largest export is trained once more
in that image under `docker run --memory BENCH_MEMORY` (default 1g, no network), and its time,
exit status and the container's peak memory (cgroup, page cache included) are printed.
"""

import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from attrition_pipelines.next_year import sample
from tests.container.docker_helpers import free_port

ROOT = Path(__file__).resolve().parents[1]

IBM = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "15000,150000,1500000").split(",")]
TIMEOUT = int(os.environ.get("BENCH_TRAIN_TIMEOUT", "3600"))
JITTERED = ("MonthlyIncome", "DailyRate", "HourlyRate", "MonthlyRate")
PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker Batch Transform's default MaxPayloadInMB
# VmHWM, not ru_maxrss: after fork and exec, ru_maxrss starts from the parent's peak
TRAIN = ("import time; from attrition.train import job; start = time.time(); code = job.main(); "
         "peak = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]; "
         "print('BENCH', code, time.time() - start, peak)")
IMAGE, MEMORY = os.environ.get("BENCH_IMAGE"), os.environ.get("BENCH_MEMORY", "1g")
CGROUP_PEAK = "/sys/fs/cgroup/memory/memory.max_usage_in_bytes /sys/fs/cgroup/memory.peak"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="attrition-scale-"))
    try:
        employees = list(csv.DictReader(IBM.open(encoding="utf-8-sig")))
        rows = [train(work / str(n), export(employees, n)) for n in SIZES]
        print("| employees | export MB | training (s) | peak memory (MB) | rows/s | memory / file size |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            if r["seconds"] is None:
                print(f"| {r['rows']:,} | {r['mb']:.0f} | did not finish in {TIMEOUT} s | — | — | — |")
                continue
            print(f"| {r['rows']:,} | {r['mb']:.0f} | {r['seconds']:.1f} | {r['peak_mb']:.0f} "
                  f"| {r['rows'] / r['seconds']:,.0f} | {r['peak_mb'] / r['mb']:.1f}x |")
        done = [r for r in rows if r["seconds"] is not None]
        if len(done) >= 2:
            print(f"\ngrowth exponent (time ~ rows^k, least squares): k = {exponent(done, 'seconds'):.2f}; "
                  f"memory: k = {exponent(done, 'peak_mb'):.2f}")
        if IMAGE:
            print(f"\n| in `docker run --memory {MEMORY}` | export MB | exit | training (s) | container peak (MB) |")
            print("|---|---|---|---|---|")
            r = in_docker(work / str(SIZES[-1]), IMAGE)
            print(f"| {SIZES[-1]:,} employees | {rows[-1]['mb']:.0f} | {r['code']} | {r['seconds']:.1f} "
                  f"| {r['peak_mb']:.0f} |")
        print("\n| rows through /invocations | requests (≤ 6 MB CSV) | seconds | rows/s |")
        print("|---|---|---|---|")
        for n, requests, seconds in serve_rate(work / str(SIZES[0]), employees):
            print(f"| {n:,} | {requests} | {seconds:.1f} | {n / seconds:,.0f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def export(employees: list, n: int) -> list:
    rng = np.random.default_rng(n)
    drawn = sample(employees, n, seed=n, shifted=False)
    for row in drawn:
        for name in JITTERED:
            row[name] = str(max(1, round(int(row[name]) * (1 + rng.uniform(-0.05, 0.05)))))
    return drawn


def train(base: Path, employees: list) -> dict:
    folder = base / "input" / "data" / "train"
    folder.mkdir(parents=True)
    (base / "input" / "config").mkdir(parents=True)
    with (folder / "export.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(employees[0]))
        writer.writeheader()
        writer.writerows(employees)
    mb = (folder / "export.csv").stat().st_size / 1e6
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base)}
    print(f"training on {len(employees):,} employees ({mb:.0f} MB) ...", file=sys.stderr, flush=True)
    try:
        done = subprocess.run([sys.executable, "-c", TRAIN], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"rows": len(employees), "mb": mb, "seconds": None}
    line = [x for x in done.stdout.splitlines() if x.startswith("BENCH ")][-1].split()
    if line[1] != "0":
        raise SystemExit(f"training failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return {"rows": len(employees), "mb": mb, "seconds": float(line[2]), "peak_mb": int(line[3]) / 1024}


def in_docker(base: Path, image: str) -> dict:
    """The same export's training in the image, memory capped; the model is written to a folder of
    its own. The container's cgroup reports its peak (v1 or v2) before it exits."""
    (base / "docker-model").mkdir()
    (base / "docker-model").chmod(0o777)
    script = f"train; code=$?; cat {CGROUP_PEAK} 2>/dev/null | head -1; exit $code"
    start = time.monotonic()
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", "--memory", MEMORY, "--memory-swap", MEMORY,
                           "-v", f"{base / 'input'}:/opt/ml/input:ro", "-v", f"{base / 'docker-model'}:/opt/ml/model",
                           image, "sh", "-c", script], capture_output=True, text=True, timeout=TIMEOUT)
    seconds = time.monotonic() - start
    peak = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "0"
    return {"code": done.returncode, "seconds": seconds, "peak_mb": int(peak) / 2**20 if peak.isdigit() else 0}


def exponent(rows: list, key: str) -> float:
    x = np.log([r["rows"] for r in rows])
    y = np.log([r[key] for r in rows])
    return float(np.polyfit(x, y, 1)[0])


def serve_rate(base: Path, employees: list) -> list:
    """(rows, requests, seconds) for each size, through a real `serve` with the smallest model."""
    port = free_port()
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base), "SAGEMAKER_BIND_TO_PORT": str(port),
           "SAGEMAKER_MODEL_SERVER_WORKERS": "2", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "6",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # serve execs gunicorn
    server = subprocess.Popen([sys.executable, str(ROOT / "container" / "program" / "serve")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_ready(f"http://127.0.0.1:{port}/ping")
        bodies = _payloads(employees)
        results = []
        for n in SIZES:
            sent, requests, start = 0, 0, time.monotonic()
            while sent < n:
                body, rows = bodies[requests % len(bodies)]
                request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                                 headers={"Content-Type": "text/csv", "Accept": "text/csv"})
                with urllib.request.urlopen(request, timeout=120) as answer:
                    answer.read()
                sent, requests = sent + rows, requests + 1
            results.append((sent, requests, time.monotonic() - start))
        return results
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def _payloads(employees: list) -> list:
    """Headerless CSV bodies of the feature columns, each just under 6 MB, and their row counts."""
    features = [name for name in employees[0] if name != "Attrition"]
    lines = []
    for row in export(employees, 60000):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([row[name] for name in features])
        lines.append(out.getvalue())
    bodies: list = []
    current: list = []
    size = 0
    for line in lines:
        if size + len(line) > PAYLOAD_BYTES:
            bodies.append(("".join(current).encode(), len(current)))
            current, size = [], 0
        current.append(line)
        size += len(line)
    return bodies or [("".join(current).encode(), len(current))]


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer {url}")


if __name__ == "__main__":
    main()
