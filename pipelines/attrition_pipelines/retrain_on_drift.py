"""Drift triggers retraining, locally and for free: the image's `monitor` on a local endpoint's
captured traffic, against the champion's baseline; on a drift verdict, a local pipeline on the
new data, its model against the champion; then whether the challenger replaced the champion, and why.

    attrition-retrain --image attrition-sagemaker:local --capture CAPTURE_DIR \\
        --data NEW_EXPORT.csv --mlflow URI [--promote] [--batch-score] [--engine sagemaker|kubeflow]

CAPTURE_DIR is what `serve` wrote with ATTRITION_CAPTURE_DIR set (or SageMaker's data capture,
downloaded). The champion is the MLflow model version with the alias `champion`. Retraining is
triggered by drift in the inputs, by a drop in the performance estimated from the predictions
(both in the data-quality verdict), and, with --ground-truth (what the image's `groundtruth`
wrote), by a realised drop in model quality. Every decision goes to the audit trail
(--audit-log). Exit 0 with a verdict, 2 with one line on bad input.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from attrition_deploy import audit
from attrition_pipelines import local

RUNNERS = {"sagemaker": "attrition_pipelines.sagemaker_runner", "kubeflow": "attrition_pipelines.kubeflow_runner"}


def main(argv=None) -> int:
    parser = local.parser(__doc__.splitlines()[0])
    parser.add_argument("--capture", type=Path, required=True, help="the endpoint's captured traffic (a folder)")
    parser.add_argument("--engine", choices=sorted(RUNNERS), default="sagemaker", help="which local pipeline retrains")
    parser.add_argument("--ground-truth", type=Path, help="ground-truth files for the capture: also judge the "
                                                          "realised model quality")
    parser.set_defaults(data=None)  # the new export must be named: retraining on the old one proves nothing
    args = parser.parse_args(argv)
    try:
        with local.working_folder("attrition-drift-", args.keep) as work:
            result = run(args, work)
    except (ValueError, OSError) as error:  # bad input, a failed step, no docker: one line
        print(f"attrition-retrain: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))  # the last line: one JSON object
    return 0


def run(args, work: Path) -> dict:
    if not args.mlflow:
        raise ValueError("--mlflow (or MLFLOW_TRACKING_URI) is needed: the champion lives in the registry")
    if not args.capture.is_dir():
        raise ValueError(f"--capture {args.capture} is not a folder")
    if args.data is None or not args.data.is_file():
        raise ValueError(f"--data {args.data or '(none)'} is not a file: give the new labelled export to retrain on")
    champion = local.champion(args, work / "champion")
    if champion is None:
        raise ValueError(f"registered model {args.model_name!r} has no champion yet: run a local pipeline with "
                         "--promote first")
    report = monitor(args.image, args.capture, Path(champion["path"]), work / "monitor")
    verdict = report["verdict"]
    if args.ground_truth:
        verdict = both(verdict, monitor(args.image, args.capture, Path(champion["path"]), work / "quality",
                                        args.ground_truth)["verdict"])
    kept = args.audit_log.parent / f"drift-report-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    shutil.copy(work / "monitor" / "drift_report.json", kept)
    print(f"monitor: {verdict['summary']}\ndrift report: {kept}", flush=True)
    decision = {"name": args.model_name, "version": champion["version"], "model_version": champion["model_version"]}
    if not verdict["retraining_recommended"]:
        audit.append(args.audit_log, audit.record(
            "retraining-skipped", actor="monitor", trigger=f"captured traffic in {args.capture}", model=decision,
            verdict=verdict["summary"], reasons=verdict["reasons"]))
        print(f"champion v{champion['version']} stays: nothing to retrain on", flush=True)
        return {"drift": False, "retrained": False, "champion": champion["version"], "monitor": verdict}
    trigger = f"drift in {args.capture}: {verdict['summary']}"
    audit.append(args.audit_log, audit.record(
        "retraining-started", actor="monitor", trigger=trigger, model=decision,
        data={"export": [_sha256(args.data)]}, verdict=f"retrain on {args.data}", reasons=verdict["reasons"]))
    outcome = retrain(args, trigger)
    replaced = outcome.get("replaced_champion", False)
    new = (outcome.get("registered") or {}).get("version")
    if replaced:
        print(f"challenger v{new} replaced champion v{champion['version']}", flush=True)
    elif outcome.get("gate_passed"):
        print(f"champion v{champion['version']} stays: challenger v{new} passed the gate and awaits a reviewer "
              f"(attrition-deploy approve --version {args.model_name}/{new}), or retrain with --promote", flush=True)
    else:
        print(f"champion v{champion['version']} stays: the challenger did not pass the gate", flush=True)
    for reason in outcome.get("reasons", []):
        print(f"  {reason}", flush=True)
    return {"drift": True, "retrained": True, "replaced_champion": replaced, "champion_before": champion["version"],
            "champion": new if replaced else champion["version"], "monitor": verdict, "pipeline": outcome}


def monitor(image: str, capture: Path, model: Path, output: Path, ground_truth: Path | None = None) -> dict:
    """The image's `monitor` job on the capture, with the champion's baseline: data quality, or,
    with ground truth, model quality."""
    output.mkdir(parents=True)
    quality = ["-e", "analysis_type=MODEL_QUALITY",
               "-v", f"{ground_truth.resolve()}:/opt/ml/processing/groundtruth:ro"] if ground_truth else []
    command = ["docker", "run", "--rm", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}", *quality,
               "-v", f"{capture.resolve()}:/opt/ml/processing/endpointdata:ro", "-v", f"{model}:/opt/ml/model:ro",
               "-v", f"{output}:/opt/ml/processing/resultdata", image, "monitor"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise ValueError(f"monitor failed: {lines[-1] if lines else f'exit code {done.returncode}'}")
    return json.loads((output / ("model_quality_report.json" if ground_truth else "drift_report.json")).read_text())


def both(drift: dict, quality: dict) -> dict:
    """One verdict from the data-quality and the model-quality monitors: retrain when either says so."""
    return {"retraining_recommended": drift["retraining_recommended"] or quality["retraining_recommended"],
            "summary": f"{drift['summary']}; {quality['summary']}",
            "reasons": drift["reasons"] + ([quality["summary"]] if quality["retraining_recommended"] else [])}


def retrain(args, trigger: str) -> dict:
    """The chosen local pipeline, as its own command (with --promote, --batch-score as given): its
    last line is its result."""
    command = [sys.executable, "-m", RUNNERS[args.engine], "--image", args.image, "--data", str(args.data),
               "--seed", str(args.seed), "--auc-threshold", str(args.auc_threshold),
               "--auc-tolerance", str(args.auc_tolerance),
               "--bias-tolerance", str(args.bias_tolerance), "--mlflow", args.mlflow, "--model-name", args.model_name,
               "--audit-log", str(args.audit_log), "--trigger", trigger]
    if args.promote:
        command.append("--promote")
    if args.batch_score:
        command += ["--batch-score", "--cohorts", args.cohorts]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise ValueError(f"the {args.engine} pipeline failed (exit code {done.returncode}): see its output above")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    sys.exit(main())
