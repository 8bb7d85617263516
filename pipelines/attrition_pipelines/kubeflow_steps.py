"""The Kubeflow pipeline's steps, run inside the image: each component's command is
`python3 -c <this file's text> STEP EXECUTOR_OUTPUT NAME VALUE ...` (kubeflow_pipeline.py reads the
text when it compiles). A step calls the image's own command (`prepare`, `train`, `evaluate`,
`score`), lays its files where Kubeflow expects the outputs, and writes Kubeflow's executor output:
each artifact with its metadata, and the parameters the pipeline branches on.

The standard library and the image's `attrition.core.contract` only: it runs on the image's
Python, where only the image's code is.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable

from attrition.core import contract

Args = dict[str, str]


class Output:
    """Kubeflow's executor output, built up by a step."""

    def __init__(self, args: Args) -> None:
        self.args = args
        self.artifacts: dict = {}
        self.parameters: dict = {}

    def artifact(self, name: str, metadata: dict | None = None) -> None:
        self.artifacts[name] = {"artifacts": [{"name": name, "uri": self.args[name + "_uri"],
                                               "metadata": metadata or {}}]}

    def parameter(self, name: str, value: object, text: str) -> None:
        """A parameter output: in the executor output, and in its own file (what a task's output reads)."""
        self.parameters[name] = value
        os.makedirs(os.path.dirname(self.args[name]), exist_ok=True)
        with open(self.args[name], "w") as out:
            out.write(text)

    def write(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            json.dump({"artifacts": self.artifacts, "parameterValues": self.parameters}, out)


def run(*command: str, **env: str) -> None:
    subprocess.run(list(command), check=True, env={**os.environ, **env})


def tree(source: str, target: str) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)


def read_json(path: str) -> dict:
    with open(path) as source:
        return json.load(source)


def prepare(args: Args, work: str, out: Output) -> None:
    run("prepare", "--input", args["export"], "--output", work, "--seed", args["seed"],
        "--test-fraction", args["test_fraction"], "--validation-fraction", args["validation_fraction"])
    for name in ("train", "validation", "test", "profile"):
        tree(os.path.join(work, name), args[name])
        out.artifact(name)


def train(args: Args, work: str, out: Output) -> None:
    for name in ("train", "validation"):
        tree(args[name], os.path.join(work, "input", "data", name))
    os.makedirs(os.path.join(work, "input", "config"), exist_ok=True)
    with open(os.path.join(work, "input", "config", "hyperparameters.json"), "w") as config:
        json.dump({"seed": args["seed"]}, config)
    run("train", SAGEMAKER_BASE_DIR=work)
    tree(os.path.join(work, "model"), args["model"])
    manifest = read_json(os.path.join(args["model"], contract.MANIFEST_FILE))
    out.artifact("model", {"model_version": manifest["model_version"], "validation_auc": manifest["metrics"]["auc"]})


def evaluate(args: Args, work: str, out: Output) -> None:
    """The image's `evaluate` holds the whole gate; this step only passes its verdict on."""
    run("evaluate", "--model", args["model"], "--champion", args["champion"], "--test", args["test"],
        "--output", work, "--auc-threshold", args["auc_threshold"], "--auc-tolerance", args["auc_tolerance"],
        "--bias-tolerance", args["bias_tolerance"])
    evaluation = read_json(os.path.join(work, contract.EVALUATION_FILE))
    written = {"evaluation": contract.EVALUATION_FILE, "bias": contract.BIAS_FILE,
               "model_card": contract.MODEL_CARD_FILE}
    for name, file in written.items():
        os.makedirs(os.path.dirname(args[name]), exist_ok=True)
        shutil.copy(os.path.join(work, file), args[name])
    quality = evaluation["binary_classification_metrics"]
    values = {k: quality[k]["value"] for k in ("auc", "pr_auc", "f1", "precision", "recall", "accuracy")}
    matrix = quality["confusion_matrix"]
    out.artifact("bias")
    out.artifact("model_card")
    out.artifact("evaluation", evaluation["attrition"])
    out.artifact("metrics", {f"test_{k}": v for k, v in values.items()})
    out.artifact("classification", {"confusionMatrix": {
        "annotationSpecs": [{"displayName": "stays"}, {"displayName": "leaves"}],
        "rows": [{"row": [matrix["0"]["0"], matrix["0"]["1"]]}, {"row": [matrix["1"]["0"], matrix["1"]["1"]]}]}})
    passed = evaluation["attrition"]["gate"]["passed"]
    out.parameter("test_auc", values["auc"], repr(values["auc"]))
    out.parameter("gate_passed", passed, json.dumps(passed))


def register(args: Args, work: str, out: Output) -> None:
    """The model as it goes to the registry: its files, evaluation, lineage and approval status."""
    tree(args["model"], args["registered"])
    evaluation = read_json(args["evaluation"])
    manifest = read_json(os.path.join(args["model"], contract.MANIFEST_FILE))
    out.artifact("registered", {"approval": args["approval"], "model_version": manifest["model_version"],
                                "test_auc": evaluation["binary_classification_metrics"]["auc"]["value"],
                                "data": manifest["data"], "image_revision": manifest.get("image_revision")})


def score(args: Args, work: str, out: Output) -> None:
    run("score", "--model", args["model"], "--input", args["employees"], "--output", args["scores"],
        "--cohorts", args["cohorts"])
    out.artifact("scores")


STEPS: dict[str, Callable[[Args, str, Output], None]] = {
    "prepare": prepare, "train": train, "evaluate": evaluate, "register": register, "score": score}


def main(argv: list[str]) -> int:
    step, executor_output, *rest = argv
    args = dict(zip(rest[::2], rest[1::2]))
    out = Output(args)
    STEPS[step](args, tempfile.mkdtemp(), out)
    out.write(executor_output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
