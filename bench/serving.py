"""Serving benchmark: our container against the raw limit and two peers, as ratios.

    .venv/bin/python -m bench.serving          (after ./scripts/test has made .venv)

What it does, all on this machine's loopback:
- builds the image (BASE_IMAGE as for the tests) and trains the bundled data in it;
- builds the image of an earlier commit (BENCH_BEFORE, default d281369: the last one served by
  gunicorn's sync workers behind plain WSGI) from git, to compare with in the same run;
- starts, each on a free port: our container as users run it (2 workers of gunicorn's asyncio
  worker), the same on a local SageMaker endpoint (endpoints/local-endpoints), the earlier image,
  the pandas-per-request pattern of AWS's example (bench/peers), and
  MLServer 1.7.1 with its LightGBM runtime (installed into bench/.mlserver-venv on first use;
  tuned: no parallel workers, OMP_NUM_THREADS=1);
- measures, in this process, the limit (Booster.predict on numpy arrays) and our own predictor;
- loads each server with wrk in BENCH_ROUNDS interleaved rounds (default 3) of BENCH_SECONDS
  (default 5) per scenario, and reports medians. Every server is stopped by its PID or
  container id at the end.
Needs: docker (an engine), wrk (apt-get install wrk).
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from attrition.core.platform import mediatypes
from attrition.core.predict import levers, model
from attrition.core.table import features
from attrition.core.wire import codecs
from tests.container.docker_helpers import Server, docker, free_port, free_ports_in_a_row, request

ROOT = Path(__file__).resolve().parents[1]

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
IBM = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"
POST_LUA = ROOT / "bench" / "peers" / "post.lua"
MLSERVER_VENV = ROOT / "bench" / ".mlserver-venv"
MLSERVER_PINS = ["mlserver==1.7.1", "mlserver-lightgbm==1.7.1", "uvloop==0.21.0"]  # uvloop: SeldonIO/MLServer#2286
BEFORE = os.environ.get("BENCH_BEFORE", "d281369")


def main() -> None:
    for tool in ("docker", "wrk"):
        if shutil.which(tool) is None:
            sys.exit(f"bench needs {tool} on PATH")
    work = Path(tempfile.mkdtemp(prefix="attrition-bench-"))
    image = build_image()
    before_image = build_before()
    model_dir = train(image, work)
    trained = model.load(model_dir)
    payloads = write_payloads(work, trained)
    started: list = []
    try:
        ours = start_ours(image, model_dir, started, {})
        before = start_ours(before_image, model_dir, started, {})
        naive = start_naive(model_dir, started)
        mlserver = start_mlserver(model_dir, work, started)
        endpoint = start_local_endpoint(image, model_dir, work, started)
        limit = in_process_limits(trained, payloads)
        results = load_all(ours, before, naive, mlserver, endpoint, payloads)
        extras = {
            "cold_start_s": statistics.median(cold_start(image, model_dir) for _ in range(3)),
            "memory_mb": container_memory_mb(ours.name),
            "image_mb": int(docker("image", "inspect", "-f", "{{.Size}}", image).stdout) / 1e6,
        }
    finally:
        for stop in reversed(started):
            stop()
    report(limit, results, extras)


def build_image() -> str:
    tag = os.environ.get("ATTRITION_TEST_IMAGE", "attrition-sagemaker:bench")
    if "ATTRITION_TEST_IMAGE" not in os.environ:
        base = os.environ.get("BASE_IMAGE", "python:3.11-slim-bookworm")
        docker("build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "-t", tag,
               str(ROOT / "container"), timeout=1800)
    return tag


def build_before() -> str:
    """The image as it was at commit BEFORE, built from git (no work tree needed)."""
    tag = f"attrition-sagemaker:before-{BEFORE}"
    base = os.environ.get("BASE_IMAGE", "python:3.11-slim-bookworm")
    context = subprocess.run(["git", "-C", str(ROOT), "archive", f"{BEFORE}:container"], capture_output=True,
                             check=True).stdout
    built = subprocess.run(["docker", "build", "-q", "--network", "host", "--build-arg", f"BASE_IMAGE={base}",
                            "-t", tag, "-"], input=context, capture_output=True, timeout=1800)
    if built.returncode:
        raise SystemExit(f"could not build {BEFORE}: {built.stderr.decode()[-2000:]}")
    return tag


def train(image: str, work: Path) -> Path:
    opt_ml = work / "opt_ml"
    shutil.copytree(IBM.parents[2], opt_ml / "input")
    docker("run", "--rm", "--network", "host", "--user", f"{os.getuid()}:{os.getgid()}",
           "-v", f"{opt_ml}:/opt/ml", image, "train")
    return opt_ml / "model"


def write_payloads(work: Path, trained) -> dict:
    header, *rows = IBM.read_text(encoding="utf-8-sig").splitlines()
    label = header.split(",").index("Attrition")
    headerless = [",".join(c[:label] + c[label + 1:]) for c in (r.split(",") for r in rows)]
    many = (headerless * 7)[:10000]
    files = {
        "one": "\n".join(headerless[:1]) + "\n",
        "thousand": "\n".join(many[:1000]) + "\n",
        "ten_thousand": "\n".join(many) + "\n",
    }
    paths: dict[str, Any] = {}  # payload files, and two encoded matrices
    for name, text in files.items():
        paths[name] = work / f"{name}.csv"
        paths[name].write_text(text)
    for name in ("one", "thousand"):
        matrix = encoded(trained, files[name])
        v2 = {"inputs": [{"name": "features", "shape": list(matrix.shape), "datatype": "FP64",
                          "data": matrix.ravel().tolist()}]}
        paths[f"v2_{name}"] = work / f"v2_{name}.json"
        paths[f"v2_{name}"].write_text(json.dumps(v2))
    paths["matrix_one"] = encoded(trained, files["one"])
    paths["matrix_10k"] = encoded(trained, files["ten_thousand"])
    return paths


def encoded(trained, text: str) -> np.ndarray:
    frame = codecs.decode(text.encode(), mediatypes.CSV, "", trained.schema)
    return features.encode(trained.schema, frame.columns, frame.n_rows)


class Endpoint:
    def __init__(self, name: str, url: str, path: str = "/invocations"):
        self.name, self.url, self.path = name, url, path


def start_ours(image, model_dir, started, env) -> Server:
    server = Server(image, model_dir, {"SAGEMAKER_MODEL_SERVER_WORKERS": "2", **env})
    started.append(server.stop)
    server.wait_ready()
    return server


def start_process(command, env, started, ready_url, cwd=None) -> subprocess.Popen:
    log = tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False)  # noqa: SIM115 (the server outlives this call)
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=cwd, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    started.append(lambda: _stop_process(process))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if request("GET", ready_url, timeout=2)[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
        if process.poll() is not None:
            break
    raise SystemExit(f"{command[0]} did not start; see {log.name}")


def _stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)  # its own session: gunicorn or mlserver and their workers
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


def start_naive(model_dir, started) -> Endpoint:
    port = free_port()
    start_process([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                   "naive_app:app"], {"MODEL_DIR": str(model_dir)}, started,
                  f"http://127.0.0.1:{port}/ping", cwd=ROOT / "bench" / "peers")
    return Endpoint("naive", f"http://127.0.0.1:{port}")


def start_mlserver(model_dir, work, started) -> Endpoint:
    if not (MLSERVER_VENV / "bin" / "mlserver").exists():
        subprocess.run([sys.executable, "-m", "venv", str(MLSERVER_VENV)], check=True)
        subprocess.run([str(MLSERVER_VENV / "bin" / "pip"), "install", "--quiet", *MLSERVER_PINS],
                       check=True)
    folder = work / "mlserver"
    (folder / "attrition").mkdir(parents=True)
    shutil.copy(model_dir / "model.txt", folder / "attrition" / "model.bst")
    (folder / "attrition" / "model-settings.json").write_text(json.dumps(
        {"name": "attrition", "implementation": "mlserver_lightgbm.LightGBMModel",
         "parameters": {"uri": "./model.bst"}}))
    port = free_port()
    (folder / "settings.json").write_text(json.dumps(
        {"http_port": port, "grpc_port": free_port(), "metrics_port": free_port(),
         "host": "127.0.0.1", "parallel_workers": 0}))
    start_process([str(MLSERVER_VENV / "bin" / "mlserver"), "start", str(folder)],
                  {"OMP_NUM_THREADS": "1"}, started,
                  f"http://127.0.0.1:{port}/v2/models/attrition/ready")
    return Endpoint("mlserver", f"http://127.0.0.1:{port}", "/v2/models/attrition/infer")


def start_local_endpoint(image, model_dir, work, started) -> Endpoint:
    """The same model on a local SageMaker endpoint (endpoints/local-endpoints: HAProxy in front of
    one instance of the image with 2 workers, as `ours`), moto for its S3, no MLflow."""
    import boto3

    folder, port = work / "endpoints", free_ports_in_a_row(2)  # the service's, and moto's (port + 1)
    cli = [str(Path(sys.executable).parent / "local-endpoints")]
    common = ["--folder", str(folder), "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    up = subprocess.run([*cli, "up", *common, "--no-mlflow"], env=env, capture_output=True, text=True, timeout=900)
    started.append(lambda: subprocess.run([*cli, "down", *common], env=env, capture_output=True, timeout=120))
    if up.returncode:
        raise SystemExit(f"local-endpoints up failed: {up.stderr}")
    values = dict(pair.split("=", 1) for pair in up.stdout.split()[1:])
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=values["AWS_ENDPOINT_URL"])
    s3.create_bucket(Bucket="bench")
    archive = work / "model.tar.gz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(model_dir), "."], check=True)
    s3.upload_file(str(archive), "bench", "model.tar.gz")
    sm = session.client("sagemaker", endpoint_url=values["AWS_ENDPOINT_URL_SAGEMAKER"])
    sm.create_model(ModelName="bench", ExecutionRoleArn="arn:aws:iam::123456789012:role/bench", PrimaryContainer={
        "Image": image, "ModelDataUrl": "s3://bench/model.tar.gz",
        "Environment": {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}})
    sm.create_endpoint_config(EndpointConfigName="bench", ProductionVariants=[
        {"VariantName": "only", "ModelName": "bench", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    sm.create_endpoint(EndpointName="bench", EndpointConfigName="bench")
    sm.get_waiter("endpoint_in_service").wait(EndpointName="bench", WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    return Endpoint("endpoint", f"http://127.0.0.1:{port}", "/endpoints/bench/invocations")


def in_process_limits(trained, payloads) -> dict:
    booster, one, many = trained.booster, payloads["matrix_one"], payloads["matrix_10k"]
    return {
        "one_row_rows_s": rate(lambda: booster.predict(one, num_threads=1), 1),
        "ten_k_rows_s_1t": rate(lambda: booster.predict(many, num_threads=1), len(many)),
        "ten_k_rows_s_2t": rate(lambda: booster.predict(many, num_threads=2), len(many)),
        "ours_one_row_rows_s": rate(lambda: trained.predict(one), 1),
        "ours_ten_k_rows_s": rate(lambda: trained.predict(many), len(many)),
        "explain_cost": rate(lambda: trained.predict(many[:1000]), 1000)
        / rate(lambda: trained.contributions(many[:1000]), 1000),
        "levers_ms": 1e3 / levers_rate(trained, many[:1000]),
    }


def levers_rate(trained, matrix: np.ndarray) -> float:
    """Employees at risk searched per second for levers=3, in-process (those under the threshold
    need no search)."""
    search = levers.LeverSearch(trained, levers.from_metadata(trained.metadata))
    p = trained.predict(matrix)
    at_risk = matrix[p >= trained.threshold]
    risks = p[p >= trained.threshold].tolist()
    return rate(lambda: search.search(at_risk, risks, 3), len(at_risk))


def rate(call, rows: int, seconds: float = 2.0) -> float:
    call()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        count += 1
    return count * rows / (time.perf_counter() - start)


def wrk(url: str, connections: int, body=None, content_type="text/csv", header=None) -> dict:
    command = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{SECONDS}s",
               "--latency", "--timeout", "10s"]
    env = dict(os.environ)
    if body is not None:
        command += ["-s", str(POST_LUA)]
        env.update(BODY_FILE=str(body), CONTENT_TYPE=content_type)
        if header:
            env["EXTRA_HEADER"] = header
    out = subprocess.run(command + [url], capture_output=True, text=True, env=env,
                         timeout=SECONDS + 60).stdout
    # A dropped connection (wrk's socket errors: read, write, timeout) is a failure as much as
    # a non-2xx answer: the 64 KiB kept-alive bug went unseen while only the latter counted.
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk saw failed requests or dropped connections from {url}:\n{out}")
    p99, rate = re.search(r"99%\s+([\d.]+)(us|ms|s)", out), re.search(r"Requests/sec:\s+([\d.]+)", out)
    if p99 is None or rate is None:
        raise SystemExit(f"wrk printed no latency or rate for {url}:\n{out}")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    return {"rps": float(rate.group(1)), "p99_ms": float(p99.group(1)) * scale}


def load_all(ours, before, naive, mlserver, endpoint, p) -> dict:
    scenarios = {
        "endpoint_one": lambda: wrk(endpoint.url + endpoint.path, 4, p["one"]),
        "ours_ping": lambda: wrk(ours.url + "/ping", 4),
        "ours_one": lambda: wrk(ours.url + "/invocations", 4, p["one"]),
        "ours_one_close": lambda: wrk(ours.url + "/invocations", 4, p["one"], header="Connection: close"),
        "ours_10k": lambda: wrk(ours.url + "/invocations", 1, p["ten_thousand"]),
        "ours_1k": lambda: wrk(ours.url + "/invocations", 1, p["thousand"]),
        "ours_1k_explain": lambda: wrk(ours.url + "/invocations", 1, p["thousand"],
                                       header="X-Amzn-SageMaker-Custom-Attributes: explain=3"),
        "ours_one_levers": lambda: wrk(ours.url + "/invocations", 4, p["one"],
                                       header="X-Amzn-SageMaker-Custom-Attributes: levers=3"),
        "ours_one_whatif": lambda: wrk(ours.url + "/invocations", 4, p["one"],
                                       header="X-Amzn-SageMaker-Custom-Attributes: whatif=OverTime:No"),
        "before_ping": lambda: wrk(before.url + "/ping", 4),
        "before_one": lambda: wrk(before.url + "/invocations", 4, p["one"]),
        "before_10k": lambda: wrk(before.url + "/invocations", 1, p["ten_thousand"]),
        "naive_one": lambda: wrk(naive.url + "/invocations", 4, p["one"]),
        "naive_10k": lambda: wrk(naive.url + "/invocations", 1, p["ten_thousand"]),
        "mls_one": lambda: wrk(mlserver.url + mlserver.path, 4, p["v2_one"], "application/json"),
        "mls_1k": lambda: wrk(mlserver.url + mlserver.path, 1, p["v2_thousand"], "application/json"),
    }
    runs: dict[str, list] = {name: [] for name in scenarios}
    for number in range(1, ROUNDS + 1):
        for name, run in scenarios.items():
            runs[name].append(run())
        print(f"round {number}/{ROUNDS} done", file=sys.stderr)
    return {name: {key: statistics.median(r[key] for r in results) for key in results[0]}
            for name, results in runs.items()}


def cold_start(image, model_dir) -> float:
    server = Server(image, model_dir, {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"})
    try:
        return server.wait_ready()
    finally:
        server.stop()


def container_memory_mb(name: str) -> float:
    usage = docker("stats", "--no-stream", "--format", "{{.MemUsage}}", name).stdout.split("/")[0]
    found = re.match(r"([\d.]+)\s*([KMG]i?B)", usage.strip())
    if found is None:
        raise SystemExit(f"docker stats printed no memory use for {name}: {usage!r}")
    number, unit = found.groups()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[unit] * 1.048576


def report(limit: dict, r: dict, extras: dict) -> None:
    one = r["ours_one"]["rps"]
    ten_k = r["ours_10k"]["rps"] * 10000
    explain = r["ours_1k"]["rps"] / r["ours_1k_explain"]["rps"]
    print(f"\nServing benchmark: medians of {ROUNDS} interleaved rounds of {SECONDS} s; loopback; "
          f"{os.cpu_count()} cores\n")
    print("| server | 1-row requests, 4 connections | p99 | large CSV requests, 1 connection |")
    print("|---|---|---|---|")
    print(f"| in-process `Booster.predict`, numpy, 1 thread (the limit) | {limit['one_row_rows_s']:,.0f} rows/s | — "
          f"| {limit['ten_k_rows_s_1t']:,.0f} rows/s (10k rows; {limit['ten_k_rows_s_2t']:,.0f} with 2 threads) |")
    print(f"| in-process, our predictor (stumps as step functions) | {limit['ours_one_row_rows_s']:,.0f} "
          f"rows/s | — | {limit['ours_ten_k_rows_s']:,.0f} rows/s (10k rows) |")
    print(f"| **ours** (container, 2 asyncio workers, keep-alive) | {one:,.0f} req/s "
          f"| {r['ours_one']['p99_ms']:.1f} ms | {ten_k:,.0f} rows/s (10k-row CSV) |")
    ping = r["ours_ping"]
    print(f"| ours `/ping` (our HTTP floor) | {ping['rps']:,.0f} req/s | {ping['p99_ms']:.1f} ms | — |")
    print(f"| ours, a new connection per request | {r['ours_one_close']['rps']:,.0f} req/s "
          f"| {r['ours_one_close']['p99_ms']:.1f} ms | — |")
    described = ": 2 sync workers, plain WSGI" if BEFORE == "d281369" else ""
    print(f"| ours before ({BEFORE}{described}) | {r['before_one']['rps']:,.0f} req/s "
          f"| {r['before_one']['p99_ms']:.1f} ms | {r['before_10k']['rps'] * 10000:,.0f} rows/s (10k-row CSV); "
          f"`/ping` {r['before_ping']['rps']:,.0f} req/s |")
    print(f"| ours on a local SageMaker endpoint (HAProxy in front, `/endpoints/<name>/invocations`) "
          f"| {r['endpoint_one']['rps']:,.0f} req/s | {r['endpoint_one']['p99_ms']:.1f} ms | — |")
    print(f"| MLServer 1.7.1 + mlserver-lightgbm (V2, tuned) | {r['mls_one']['rps']:,.0f} req/s | "
          f"{r['mls_one']['p99_ms']:.1f} ms | {r['mls_1k']['rps'] * 1000:,.0f} rows/s (1000-row V2 JSON) |")
    print(f"| Flask + gunicorn, pandas.read_csv per request | {r['naive_one']['rps']:,.0f} req/s | "
          f"{r['naive_one']['p99_ms']:.1f} ms | {r['naive_10k']['rps'] * 10000:,.0f} rows/s (10k-row CSV) |")
    goals = [
        ("1-row throughput vs MLServer", one / r["mls_one"]["rps"], ">= 3"),
        ("1-row throughput vs before, same run", one / r["before_one"]["rps"], ">= 0.90"),
        ("1-row throughput, a connection per request, vs before", r["ours_one_close"]["rps"] / r["before_one"]["rps"],
         ">= 0.90"),
        ("1-row p99 (ms)", r["ours_one"]["p99_ms"], "<= 1.1 x before"),
        ("1-row p99 before (ms)", r["before_one"]["p99_ms"], "(reported)"),
        ("10k-row CSV throughput vs before", ten_k / (r["before_10k"]["rps"] * 10000), ">= 0.90"),
        ("1-row throughput vs our /ping", one / r["ours_ping"]["rps"], "(reported)"),
        ("1-row throughput through the local endpoint vs the container directly", r["endpoint_one"]["rps"] / one,
         ">= 0.5"),
        ("1-row p99 added by the local endpoint's load balancer (ms)",
         r["endpoint_one"]["p99_ms"] - r["ours_one"]["p99_ms"], "<= 1"),
        ("10k-row CSV rows/s vs in-process predict, 1 thread", ten_k / limit["ten_k_rows_s_1t"], ">= 0.70"),
        ("explanations (top 3) cost per row vs plain, over HTTP", explain, "<= 5"),
        ("explanations (top 3) cost per row over HTTP (us)", 1e6 / (r["ours_1k_explain"]["rps"] * 1000),
         "(reported)"),
        ("plain prediction cost per row over HTTP, 1000-row CSV (us)", 1e6 / (r["ours_1k"]["rps"] * 1000),
         "(reported)"),
        ("contributions cost per row vs plain, in-process", limit["explain_cost"], "(for reference)"),
        ("levers=3 search per employee at risk, in-process (ms)", limit["levers_ms"], "< 1"),
        ("1-row levers=3 p99 over HTTP (ms)", r["ours_one_levers"]["p99_ms"], "<= 2"),
        ("1-row levers=3 throughput vs plain", r["ours_one_levers"]["rps"] / one, "(reported)"),
        ("1-row what-if throughput vs plain", r["ours_one_whatif"]["rps"] / one, "(reported)"),
        ("1-row throughput vs the pandas pattern", one / r["naive_one"]["rps"], "(for reference)"),
        ("cold start, docker run to first 200 on /ping (s)", extras["cold_start_s"], "<= 2"),
        ("memory of the server with 2 workers (MB)", extras["memory_mb"], "<= 300"),
        ("image size (MB)", extras["image_mb"], "<= 450"),
    ]
    print("\n| measure | value | goal |\n|---|---|---|")
    for name, value, goal in goals:
        print(f"| {name} | {value:.2f} | {goal} |")


if __name__ == "__main__":
    main()
