"""Run the Kubeflow pipeline locally, for free: kfp's local runner with Docker, the real image,
the bundled data, and the model registered in MLflow at the end.

    attrition-pipeline-kubeflow --image attrition-sagemaker:local [--mlflow URI] [--promote]

Needs Docker and pipelines/requirements.txt. The champion (MLflow alias `champion`) is evaluated
beside the new model. Prints the test AUC, the gate's reasons and the registered version.
"""

import json
import os
import shutil
import sys
from pathlib import Path

from attrition_pipelines import local


def main(argv=None) -> int:
    args = local.arguments(__doc__.splitlines()[0], argv)
    try:
        with local.working_folder("attrition-kfp-", args.keep) as work:
            result = run(args, work)
    except ValueError as error:  # the registry said no, or is not there: one line
        print(f"attrition-pipeline-kubeflow: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))  # the last line: one JSON object
    return 0


def run(args, root: Path) -> dict:
    from kfp import local as kfp_local

    os.environ["ATTRITION_IMAGE"] = args.image  # read when the pipeline module is imported
    from attrition_pipelines import kubeflow_pipeline as pipeline
    export = root / "export"  # the runner mounts only pipeline_root: the export must lie under it
    export.mkdir(parents=True)
    shutil.copy(args.data, export / "export.csv")
    before = local.champion(args, root / "champion")  # under pipeline_root too
    kfp_local.init(runner=kfp_local.DockerRunner(), pipeline_root=str(root))
    scoring = root / "scoring"
    scoring.mkdir()
    shutil.copy(args.data, scoring / "employees.csv")
    task = pipeline.attrition_pipeline(export_uri=str(export), champion_uri=str(root / "champion" / "model"),
                                       seed=args.seed, auc_threshold=args.auc_threshold,
                                       auc_tolerance=args.auc_tolerance, bias_tolerance=args.bias_tolerance,
                                       batch_score_on=args.batch_score,
                                       scoring_uri=str(scoring), cohorts=args.cohorts)
    test_auc = float(task.output)
    # kfp 2.17's local runner cannot evaluate dsl.If on a task's output (it logs "Could not resolve
    # parent input"), so the gate's register step does not run locally; a cluster runs it. Here the
    # runner reads the same evaluation's gate.passed, then registers the trained model in MLflow.
    result: dict = {"status": "Succeeded", "test_auc": test_auc}
    evaluation = json.loads(next(root.glob("*/evaluate/evaluation")).read_text())
    bias = json.loads(next(root.glob("*/evaluate/bias")).read_text())
    model_dir = next(root.glob("*/train/model"))
    card = json.loads(next(root.glob("*/evaluate/model_card")).read_text())
    result.update(local.conclude(args, evaluation, bias, model_dir, before, "kubeflow-local-pipeline", card))
    if not result["gate_passed"]:
        result["status"] = "Refused"
    elif args.batch_score:  # the pipeline's batch step is inside the gate, out of the local runner's reach
        result.update(local.batch_score(args, model_dir, root / "batch-score"))
    return result


if __name__ == "__main__":
    sys.exit(main())
