r"""The attrition pipeline on Kubeflow Pipelines (kfp 2.x), every step in this image.

    prepare -> train -> evaluate (the new model and the champion on the same test rows)
        -> gate (dsl.If the evaluation's gate passed: test AUC >= auc_threshold, not worse than the champion)
        -> register
                   \-> batch score (inside the gate, dsl.If batch_score_on: the image's `score` on scoring_uri,
                       with cohort forecasts)

champion_uri is a folder holding the approved model to beat (its files or model.tar.gz), or only
a marker file when there is none yet; the local runner fills it from the MLflow `champion` alias.

Each component is a container component running one of the image's entries. What surrounds an
entry (laying out /opt/ml, copying files to the artifacts' paths, reporting the outputs in
executor_output.json, which kfp's local runner reads) is kubeflow_steps.py, run by the image's own
Python. `register` marks the model for the registry and carries what a SageMaker
model package carries (the evaluation, lineage, approval) as artifact metadata; the local runner then
registers it in MLflow, as a KFP cluster would with an MLflow step of its own.

    ATTRITION_IMAGE=REGISTRY/attrition-sagemaker:TAG attrition-pipeline-compile

The image is read from ATTRITION_IMAGE when this module is imported (kfp builds each component's
spec as it is declared); the committed kubeflow_pipeline.yaml uses the default, attrition-sagemaker:local.
"""

import argparse
import os
import sys
from pathlib import Path

from kfp import compiler, dsl
from kfp.dsl import Artifact, ClassificationMetrics, Dataset, Input, Metrics, Model, Output

IMAGE = os.environ.get("ATTRITION_IMAGE", "attrition-sagemaker:local")
COMPILED = Path(__file__).with_name("kubeflow_pipeline.yaml")
STEPS = Path(__file__).with_name("kubeflow_steps.py").read_text()  # run with python3 -c: see its docstring


def _step(step: str, **named) -> dsl.ContainerSpec:
    args = [step, dsl.PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER]
    for name, value in named.items():
        args += [name, value]
    return dsl.ContainerSpec(image=IMAGE, command=["python3", "-c", STEPS], args=args)


@dsl.container_component
def prepare(export: Input[Dataset], seed: int, test_fraction: float, validation_fraction: float,
            train: Output[Dataset], validation: Output[Dataset], test: Output[Dataset], profile: Output[Artifact]):
    """Check, profile and split the export (the image's `prepare`)."""
    return _step("prepare", export=export.path, seed=seed, test_fraction=test_fraction,
                 validation_fraction=validation_fraction, train=train.path, train_uri=train.uri,
                 validation=validation.path, validation_uri=validation.uri, test=test.path, test_uri=test.uri,
                 profile=profile.path, profile_uri=profile.uri)


@dsl.container_component
def train(train: Input[Dataset], validation: Input[Dataset], seed: int, model: Output[Model]):
    """Train on the train and validation splits (the image's `train`)."""
    return _step("train", train=train.path, validation=validation.path, seed=seed, model=model.path,
                 model_uri=model.uri)


@dsl.container_component
def evaluate(model: Input[Model], champion: Input[Model], test: Input[Dataset], auc_threshold: float,
             auc_tolerance: float, bias_tolerance: float, evaluation: Output[Artifact], bias: Output[Artifact],
             model_card: Output[Artifact], metrics: Output[Metrics],
             classification: Output[ClassificationMetrics], test_auc: dsl.OutputPath(float),  # type: ignore[valid-type]
             gate_passed: dsl.OutputPath(bool)):  # type: ignore[valid-type]  # kfp wants the call form
    """Score the untouched test split with the new model and the champion (the image's
    `evaluate`); metrics for the KFP UI, and the model card for the registry."""
    return _step("evaluate", model=model.path, champion=champion.path, test=test.path, auc_threshold=auc_threshold,
                 auc_tolerance=auc_tolerance, bias_tolerance=bias_tolerance,
                 evaluation=evaluation.path, evaluation_uri=evaluation.uri, bias=bias.path, bias_uri=bias.uri,
                 model_card=model_card.path, model_card_uri=model_card.uri,
                 metrics_uri=metrics.uri, classification_uri=classification.uri, test_auc=test_auc,
                 gate_passed=gate_passed)


@dsl.container_component
def register(model: Input[Model], evaluation: Input[Artifact], approval: str, registered: Output[Model]):
    """The model as it goes to the registry, with its evaluation, lineage and approval status."""
    return _step("register", model=model.path, evaluation=evaluation.path, approval=approval,
                 registered=registered.path, registered_uri=registered.uri)


@dsl.container_component
def batch_score(model: Input[Model], employees: Input[Dataset], cohorts: str, scores: Output[Dataset]):
    """Score a file of employees with the registered model, and forecast leavers per cohort (the
    image's `score --cohorts`)."""
    return _step("score", model=model.path, employees=employees.path, cohorts=cohorts, scores=scores.path,
                 scores_uri=scores.uri)


@dsl.pipeline(name="attrition", description="prepare, train, evaluate, gate and register an attrition model")
def attrition_pipeline(export_uri: str, champion_uri: str, seed: int = 0, test_fraction: float = 0.2,
                       validation_fraction: float = 0.2, auc_threshold: float = 0.80, auc_tolerance: float = 0.01,
                       bias_tolerance: float = 0.0,
                       approval: str = "PendingManualApproval", batch_score_on: bool = False,
                       scoring_uri: str = "", cohorts: str = "Department,JobRole") -> float:
    export = dsl.importer(artifact_uri=export_uri, artifact_class=Dataset, reimport=False)
    prepared = prepare(export=export.output, seed=seed, test_fraction=test_fraction,
                       validation_fraction=validation_fraction)
    trained = train(train=prepared.outputs["train"], validation=prepared.outputs["validation"], seed=seed)
    champion = dsl.importer(artifact_uri=champion_uri, artifact_class=Model, reimport=False)
    evaluated = evaluate(model=trained.outputs["model"], champion=champion.output, test=prepared.outputs["test"],
                         auc_threshold=auc_threshold, auc_tolerance=auc_tolerance, bias_tolerance=bias_tolerance)
    with dsl.If(evaluated.outputs["gate_passed"] == True, name="gate"):  # noqa: E712 (a kfp condition)
        register(model=trained.outputs["model"], evaluation=evaluated.outputs["evaluation"], approval=approval)
        with dsl.If(batch_score_on == True, name="batch-score"):  # noqa: E712 (a kfp condition, not Python's)
            employees = dsl.importer(artifact_uri=scoring_uri, artifact_class=Dataset, reimport=False)
            batch_score(model=trained.outputs["model"], employees=employees.output, cohorts=cohorts)
    return evaluated.outputs["test_auc"]


def compile_to(path: Path = COMPILED) -> None:
    compiler.Compiler().compile(attrition_pipeline, str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attrition-pipeline-compile",
                                     description="compile the Kubeflow pipeline to its IR YAML "
                                                 "(the image: $ATTRITION_IMAGE, default attrition-sagemaker:local)")
    parser.add_argument("--output", type=Path, default=COMPILED, help="where the YAML goes")
    compile_to(parser.parse_args(argv).output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
