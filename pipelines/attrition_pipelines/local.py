"""What both local runners share: their command line (one set of options for both engines, so a
user moves from one to the other unchanged), the bundled data, the champion they fetch from the
MLflow registry before a run, and what they conclude after it (register, promote, audit)."""

import argparse
import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from attrition.core import contract
from attrition_deploy import audit

ROOT = Path(__file__).resolve().parents[2]  # the repository: the package is installed editable
BUNDLED = ROOT / "container" / "local_test" / "test_dir" / "input" / "data" / "train" / "ibm_hr_attrition.csv"


def arguments(description: str, argv=None) -> argparse.Namespace:
    return parser(description).parse_args(argv)


def parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--image", required=True, help="the image, as built by container/local_test/build.sh")
    parser.add_argument("--data", type=Path, default=BUNDLED, help="the HR export (default: the bundled data)")
    parser.add_argument("--seed", type=int, default=0, help="the split's seed")
    parser.add_argument("--auc-threshold", type=float, default=0.80,
                        help="the gate: test AUC not below this beyond the noise of the test rows")
    parser.add_argument("--auc-tolerance", type=float, default=0.01,
                        help="the gate: AUC not below the champion's minus this beyond the noise of the test rows")
    parser.add_argument("--bias-tolerance", type=float, default=0.0,
                        help="the gate: no bias metric further outside its range than the champion's by more than "
                             "this, beyond the noise of the test rows (log scale for DI)")
    parser.add_argument("--mlflow", default=os.environ.get("MLFLOW_TRACKING_URI"),
                        help="MLflow tracking URI: the champion comes from it, the new model goes to it "
                             "(default: $MLFLOW_TRACKING_URI)")
    parser.add_argument("--model-name", default="attrition", help="the registered model's name in MLflow")
    parser.add_argument("--promote", action="store_true",
                        help="a model that passes the gate becomes the champion (approved, alias `champion`)")
    parser.add_argument("--audit-log", type=Path, default=audit.default_log(),
                        help="the audit trail, JSON Lines (default: $ATTRITION_AUDIT_LOG or %(default)s)")
    parser.add_argument("--trigger", default="", help="why this run happens, for the audit trail")
    parser.add_argument("--batch-score", action="store_true", help="also score the data with the new model")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run's working folder (it holds copies of the HR export); by default it is "
                             "removed when the run ends, whether it succeeded or not")
    parser.add_argument("--verbose", action="store_true",
                        help="show the engine's own output (its SDK's notices, every container's log); by default "
                             "only a progress line a step, with the elapsed time, and the verdict")
    parser.add_argument("--cohorts", default="Department,JobRole",
                        help="with --batch-score: forecast leavers per group of these columns (score --cohorts)")
    return parser


def cohort_summary(report: dict) -> dict:
    """The first grouping of a cohorts.json, one line per cohort: what the runners print."""
    grouping = report["groupings"][0]
    return {" & ".join(c["cohort"].values()): f"{c['expected_leavers']:.1f} leavers expected "
            f"(95 % {c['interval'][0]}-{c['interval'][1]}) of {c['employees']}" for c in grouping["cohorts"]}


def batch_score(args: argparse.Namespace, model_dir: Path, folder: Path) -> dict:
    """The image's `score` on the export with a model that passed the gate (the Kubeflow
    pipeline's batch step, which kfp's local runner cannot reach inside the gate), as a container
    without network: {"scored": rows, "cohorts": the forecast per cohort}."""
    (folder / "input").mkdir(parents=True)
    (folder / "output").mkdir()
    shutil.copy(args.data, folder / "input" / "employees.csv")
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}",
                           "-v", f"{model_dir}:/opt/ml/model:ro", "-v", f"{folder}:/opt/ml/processing", args.image,
                           "score", "--model", "/opt/ml/model", "--input", "/opt/ml/processing/input",
                           "--output", "/opt/ml/processing/output", "--cohorts", args.cohorts],
                          capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise ValueError(f"batch scoring failed: {lines[-1] if lines else f'exit code {done.returncode}'}")
    scores = sorted((folder / "output").glob("*.out"))
    return {"scored": sum(len(p.read_text().splitlines()) for p in scores),
            "cohorts": cohort_summary(json.loads((folder / "output" / "cohorts.json").read_text()))}


@contextlib.contextmanager
def progress(work: Path, verbose: bool, logger_name: str, step_line: Callable[[str], str | None]):
    """Progress lines on stderr, `[ 12.3 s] Train: succeeded`, made by `step_line` from the
    engine's log records (None: not a progress line). Unless `verbose`, everything else the engine
    and its containers print goes to work/engine.log instead of the terminal; when the block
    fails, that log's last lines are shown, so nothing needed to understand a failure is lost."""
    started = time.monotonic()
    saved = [os.dup(1), os.dup(2)]  # the terminal's stdout and stderr, whatever the block redirects
    terminal = saved[1]

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            line = step_line(record.getMessage())
            if line:
                os.write(terminal, f"[{time.monotonic() - started:6.1f} s] {line}\n".encode())

    logger = logging.getLogger(logger_name)
    handler = Lines()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    log = work / "engine.log"
    if not verbose:
        with log.open("ab") as sink:
            for descriptor in (1, 2):
                os.dup2(sink.fileno(), descriptor)
    try:
        yield
    except ValueError:  # the user's to fix, said in one line by the runner
        raise
    except BaseException:
        _restore(saved)
        if not verbose and log.is_file():
            tail = log.read_text(errors="replace").splitlines()[-30:]
            print("\n".join(["the engine's last lines:", *tail]), file=sys.stderr)
        raise
    finally:
        logger.removeHandler(handler)
        _restore(saved)
        for descriptor in saved:
            os.close(descriptor)
    print(f"[{time.monotonic() - started:6.1f} s] done", file=sys.stderr, flush=True)


def _restore(saved: list[int]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    for descriptor, copy in zip((1, 2), saved):
        with contextlib.suppress(OSError):
            os.dup2(copy, descriptor)


COMPOSE_FOLDER = "com.docker.compose.project.working_dir"  # the label of each SageMaker local-mode container


@contextlib.contextmanager
def working_folder(prefix: str, keep: bool):
    """A folder for one run, removed at the end whatever happens (unless `keep`), with every
    container SageMaker's local mode started from a compose file inside it (the SDK leaves them
    stopped): employee data and containers do not pile up run after run."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        remove_local_mode_leftovers(work)
        if keep:
            print(f"kept the working folder {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)


def remove_local_mode_leftovers(work: Path) -> None:
    """The containers SageMaker's local mode started from a compose file under `work` (it leaves
    them stopped), removed by ID, and its network once unused."""
    listing = f'{{{{.ID}}}} {{{{.Label "{COMPOSE_FOLDER}"}}}}'
    try:
        listed = subprocess.run(["docker", "ps", "-a", "--filter", f"label={COMPOSE_FOLDER}", "--format", listing],
                                capture_output=True, text=True, check=False)
        mine = [line.split(" ", 1)[0] for line in listed.stdout.splitlines()
                if (line.partition(" ")[2] + os.sep).startswith(str(work) + os.sep)]  # work, or a folder in it
        if mine:
            subprocess.run(["docker", "rm", "-f", *mine], capture_output=True, check=False)
        remove_sdk_network()
    except OSError:  # no docker client: nothing of ours can be running
        pass


SDK_NETWORK = "sagemaker-local"  # the network the SageMaker SDK's local mode creates, and leaves behind


def remove_sdk_network() -> None:
    """The local mode's network, once no container uses it (Docker refuses while one does, and
    then it stays for the run that still needs it)."""
    subprocess.run(["docker", "network", "rm", SDK_NETWORK], capture_output=True, check=False)


def champion(args: argparse.Namespace, folder: Path) -> dict | None:
    """The registry's champion, its files in folder/model; without one, folder/model holds only
    the contract.NO_CHAMPION marker (a pipeline input may not be empty)."""
    found = None
    if args.mlflow:
        from attrition_pipelines.registry import champion as fetch

        found = fetch(args.model_name, folder, args.mlflow, args.audit_log)
    if found is None:
        (folder / "model").mkdir(parents=True, exist_ok=True)
        (folder / "model" / contract.NO_CHAMPION).write_text("no approved model yet\n")
    return found


def conclude(args: argparse.Namespace, evaluation: dict, bias: dict, model_dir: Path, before: dict | None,
             source: str, card: dict | None = None) -> dict:
    """The gate's verdict on a finished run; a passing model registered (and made champion with
    --promote), a refused one recorded; every decision in the audit trail."""
    from attrition_pipelines.registry import promote, register

    gate = evaluation["attrition"]["gate"]
    metrics = evaluation["attrition"]["metrics"]
    before = {key: before[key] for key in ("name", "version", "model_version")} if before else None
    reasons = list(gate["reasons"])
    passed = bool(gate["passed"])  # the evaluate step's whole decision: the bar, the champion, bias
    trigger = args.trigger or f"run by {audit.actor()}"
    result: dict = {"gate_passed": passed, "reasons": reasons, "replaced_champion": False,
                    "champion_before": before["version"] if before else None}
    if not passed:
        audit.append(args.audit_log, audit.record(
            "refused", actor=source, trigger=trigger, champion=before,
            model={"name": args.model_name, "model_version": evaluation["attrition"]["model_version"]},
            data=audit.data_hashes(json.loads((model_dir / contract.MANIFEST_FILE).read_text())), metrics=metrics,
            verdict="refused by the gate", reasons=reasons))
        return result
    if not args.mlflow:
        return result
    registered = register(args.model_name, model_dir, evaluation, args.image, tracking_uri=args.mlflow,
                          source=source, bias=bias, log=args.audit_log, trigger=trigger, card=card)
    result["registered"] = registered
    if registered.get("already_registered"):
        reasons.append(f"the same model as {args.model_name} v{registered['version']} (model "
                       f"{registered['model_version']}): not registered again")
        if before and before["version"] == registered["version"]:
            return result  # it is the champion already
    if args.promote:
        promote(registered, reasons, args.mlflow, args.audit_log, actor=source, trigger=trigger, before=before,
                metrics=metrics)
        result["replaced_champion"] = True
    return result
