"""Soak benchmark: the image served for a few minutes under a mixed load on kept-alive connections.

    .venv/bin/python -m bench.soak          (after ./scripts/test has made .venv)

What it does, all on this machine's loopback: builds the image (BASE_IMAGE as for the tests, or
uses ATTRITION_TEST_IMAGE), trains the bundled data in it, serves it with 2 workers and data
capture on, and sends SOAK_SECONDS (default 180) of requests from SOAK_CLIENTS (default 6)
threads, each on one kept-alive connection at a time: mostly 1-row CSV, then 100-row JSON,
1.5 MB CSV and 6 MB CSV (the payload limit), mixed. It counts every failure: a non-2xx answer
and a dropped connection (no answer at all) alike, and reports requests, failures, p50/p99 per
kind, and the server's memory at the start, the middle and the end. It stops by itself; the
container is removed by its id.
"""

import http.client
import json
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.serving import IBM, build_image, container_memory_mb, train
from tests.container.docker_helpers import Server

ROOT = Path(__file__).resolve().parents[1]

SECONDS = int(os.environ.get("SOAK_SECONDS", "180"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "6"))
MIX = [("1-row CSV", 80), ("100-row JSON", 15), ("1.5 MB CSV", 4), ("6 MB CSV", 1)]  # kind, weight


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="attrition-soak-"))
    try:
        image = build_image()
        model_dir = train(image, work)
        capture = work / "capture"
        capture.mkdir(mode=0o777)
        capture.chmod(0o777)
        server = Server(image, model_dir, {"SAGEMAKER_MODEL_SERVER_WORKERS": "2", "ATTRITION_CAPTURE_DIR": "/capture",
                                           "ATTRITION_CAPTURE_PERCENT": "10"},
                        ["-v", f"{capture}:/capture"])
        try:
            server.wait_ready()
            report(soak(server), capture)
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bodies() -> dict[str, tuple[bytes, str]]:
    header, *rows = IBM.read_text(encoding="utf-8-sig").splitlines()
    records = [dict(zip(header.split(","), row.split(","))) for row in rows[:100]]
    csv_of = lambda n: ("\n".join([header, *(rows * (n // len(rows) + 1))[:n]]) + "\n").encode()  # noqa: E731
    return {"1-row CSV": (csv_of(1), "text/csv"),
            "100-row JSON": (json.dumps({"instances": records}).encode(), "application/json"),
            "1.5 MB CSV": (csv_of(6800), "text/csv"),
            "6 MB CSV": (csv_of(27_500), "text/csv")}


def soak(server: Server) -> dict:
    payloads = bodies()
    kinds, weights = zip(*MIX)
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    failures = {"non-2xx": 0, "dropped": 0}
    memory = {"start": container_memory_mb(server.name)}
    stop = time.monotonic() + SECONDS
    lock = threading.Lock()

    def client(seed: int) -> None:
        pick = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        while time.monotonic() < stop:
            kind = pick.choices(kinds, weights)[0]
            body, content_type = payloads[kind]
            began = time.perf_counter()
            try:
                connection.request("POST", "/invocations", body, {"Content-Type": content_type})
                response = connection.getresponse()
                response.read()
                failed = None if 200 <= response.status < 300 else "non-2xx"
            except OSError:
                failed = "dropped"
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            with lock:
                if failed:
                    failures[failed] += 1
                else:
                    latencies[kind].append(time.perf_counter() - began)
        connection.close()

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(SECONDS / 2)
    memory["middle"] = container_memory_mb(server.name)
    for thread in threads:
        thread.join()
    memory["end"] = container_memory_mb(server.name)
    return {"latencies": latencies, "failures": failures, "memory": memory}


def report(result: dict, capture: Path) -> None:
    latencies, failures, memory = result["latencies"], result["failures"], result["memory"]
    answered = sum(map(len, latencies.values()))
    total = answered + sum(failures.values())
    print(f"\nSoak: {SECONDS} s, {CLIENTS} kept-alive clients, 2 workers, capture 10 %; {os.cpu_count()} cores\n")
    print("| kind | answered | p50 | p99 |\n|---|---|---|---|")
    for kind, seconds in latencies.items():
        if len(seconds) > 1:
            p50, p99 = statistics.median(seconds), statistics.quantiles(seconds, n=100)[98]
            print(f"| {kind} | {len(seconds):,} | {p50 * 1e3:.1f} ms | {p99 * 1e3:.1f} ms |")
    captured = sum(1 for path in capture.rglob("*.jsonl") for _ in path.open())
    print(f"\nrequests {total:,}; failed {sum(failures.values()):,} (non-2xx {failures['non-2xx']:,}, "
          f"dropped connections {failures['dropped']:,}); captured records {captured:,}")
    print(f"server memory: start {memory['start']:.0f} MB, middle {memory['middle']:.0f} MB, "
          f"end {memory['end']:.0f} MB")


if __name__ == "__main__":
    main()
