"""Training on several hosts that share this machine, as the SageMaker SDK's local mode runs
`instance_count=2`: one host alone against two hosts, default hyperparameters, the bundled data.

    BENCH_IMAGE=attrition-sagemaker:dev .venv/bin/python -m bench.multi_host

Each host is a container of the image on the host network with its own /opt/ml and
resourceconfig.json (as tests/container/test_distributed.py starts them); the time is from the
first `docker run` until every host has exited. BENCH_ROUNDS (default 3) rounds, one host and two
hosts interleaved; the table prints each round and the ratio of the medians. Before the hosts
shared the cores (num_threads 0 on every host), two hosts took 208.7 s where one took 1.6 s.
"""

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.container.docker_helpers import TEST_DIR, distributed_ports

ROOT = Path(__file__).resolve().parents[1]

IMAGE = os.environ.get("BENCH_IMAGE", "")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
TIMEOUT = 900  # seconds a round may take before it is stopped and reported


def main() -> None:
    if not IMAGE:
        raise SystemExit("set BENCH_IMAGE to an image built from container/")
    times: dict[int, list[float]] = {1: [], 2: []}
    print(f"{'round':>5} {'hosts':>5} {'seconds':>8}")
    for round_ in range(1, ROUNDS + 1):
        for hosts in (1, 2):
            seconds = train(hosts)
            times[hosts].append(seconds)
            print(f"{round_:>5} {hosts:>5} {seconds:>8.2f}")
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"\nmedian: one host {one:.2f} s, two hosts {two:.2f} s: two hosts take {two / one:.2f}x one host's time")


def train(count: int) -> float:
    """Seconds for one training job on `count` hosts of this machine."""
    names = [f"algo-{k + 1}" for k in range(count)]
    port = distributed_ports(count)
    with tempfile.TemporaryDirectory(prefix="attrition-bench-hosts-") as folder:
        containers = []
        start = time.monotonic()
        try:
            for name in names:
                opt_ml = Path(folder) / name
                shutil.copytree(TEST_DIR / "input", opt_ml / "input")
                (opt_ml / "input" / "config" / "resourceconfig.json").write_text(json.dumps(
                    {"current_host": name, "hosts": names, "network_interface_name": "eth0"}))
                aliases = [a for host in names for a in ("--add-host", f"{host}:127.0.0.1")]
                containers.append(subprocess.run(
                    ["docker", "run", "-d", "--network", "host", *aliases, "--user", f"{os.getuid()}:{os.getgid()}",
                     "-e", f"ATTRITION_DISTRIBUTED_PORT={port}", "-v", f"{opt_ml}:/opt/ml", IMAGE, "train"],
                    capture_output=True, text=True, check=True).stdout.strip())
            waits = [subprocess.run(["docker", "wait", c], capture_output=True, text=True, timeout=TIMEOUT)
                     for c in containers]
            codes = [wait.stdout.strip() for wait in waits]
            seconds = time.monotonic() - start
            if codes != ["0"] * count:
                raise SystemExit(f"{count} host(s): exit codes {codes}")
            return seconds
        finally:
            subprocess.run(["docker", "rm", "-f", *containers], capture_output=True)


if __name__ == "__main__":
    main()
