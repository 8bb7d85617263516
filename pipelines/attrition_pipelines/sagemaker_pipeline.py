"""The attrition pipeline on SageMaker Pipelines, every step in this image.

    Prepare (Processing: `prepare`) -> Train (Training: `train`) -> Evaluate (Processing:
    `evaluate`, the new model and the champion on the same test rows; the whole gate: test AUC >=
    AucThreshold, not worse than the champion) -> Gate (the evaluation's gate passed) -> Register (a Model
    Registry package with the evaluation and bias audit as ModelMetrics) -> BatchScore (Transform,
    when BatchScore is "true") and Cohorts (Processing: `score --cohorts CohortColumns`, the leavers
    forecast per group)

ChampionModelUrl names the approved model to beat (a model.tar.gz); its default, a prefix holding
only a no-champion.txt marker, means there is none yet. `attrition-deploy pipeline upsert` writes that marker
and `pipeline start` passes the group's latest approved package; the local runner the MLflow
registry's `champion` alias.

`get_pipeline` follows the convention of SageMaker Projects' MLOps template. With a
LocalPipelineSession the same definition runs on Docker, for free: local mode has no Model
Registry, so there the Register step creates the model only (the local runner then registers it in
MLflow, as the Kubeflow pipeline does).
"""


from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput, TransformInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor
from sagemaker.transformer import Transformer
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionEquals
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import LocalPipelineSession, PipelineSession
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TrainingStep, TransformStep

from attrition.core import contract
from attrition_deploy.plans import metric_definitions

PROCESSING = "/opt/ml/processing"
CONTENT_TYPES = ["text/csv", "application/json", "application/jsonlines"]


def get_pipeline(region, role=None, default_bucket=None, model_package_group_name="AttritionModels",
                 pipeline_name="AttritionPipeline", base_job_prefix="attrition", image_uri=None,
                 input_data_uri=None, processing_instance_type="ml.m5.large",
                 training_instance_type="ml.m5.large", sagemaker_session=None) -> Pipeline:
    """The pipeline; `sagemaker_session` a PipelineSession (AWS) or a LocalPipelineSession (Docker)."""
    session = sagemaker_session or PipelineSession(default_bucket=default_bucket)
    local = isinstance(session, LocalPipelineSession)
    bucket = default_bucket or session.default_bucket()
    prefix = f"s3://{bucket}/{base_job_prefix}"
    p = _parameters(input_data_uri, processing_instance_type, training_instance_type, f"{prefix}/champion/none/")

    prepare = ProcessingStep(
        name="Prepare",
        processor=_processor(image_uri, role, p["ProcessingInstanceType"], "prepare", session, base_job_prefix),
        inputs=[ProcessingInput(source=p[contract.INPUT_DATA_URL], destination=f"{PROCESSING}/input/export")],
        outputs=[ProcessingOutput(output_name=name, source=f"{PROCESSING}/output/{name}",
                                  destination=Join("/", [prefix, "prepared", name]))
                 for name in ("train", "validation", "test", "profile")],
        job_arguments=["--seed", p["Seed"].to_string(), "--test-fraction", p["TestFraction"].to_string(),
                       "--validation-fraction", p["ValidationFraction"].to_string()],
    )
    split = prepare.properties.ProcessingOutputConfig.Outputs
    estimator = Estimator(image_uri=image_uri, role=role, instance_count=1, instance_type=p["TrainingInstanceType"],
                          output_path=f"{prefix}/models", base_job_name=f"{base_job_prefix}-train",
                          metric_definitions=metric_definitions(), sagemaker_session=session,
                          hyperparameters={"seed": p["Seed"]})
    train = TrainingStep(name="Train", estimator=estimator, inputs={
        channel: TrainingInput(s3_data=split[channel].S3Output.S3Uri, content_type="text/csv")
        for channel in ("train", "validation")})
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    evaluation = PropertyFile(name="Evaluation", output_name="evaluation", path=contract.EVALUATION_FILE)
    evaluate = ProcessingStep(
        name="Evaluate",
        processor=_processor(image_uri, role, p["ProcessingInstanceType"], "evaluate", session, base_job_prefix),
        inputs=[ProcessingInput(source=model_data, destination=f"{PROCESSING}/model"),
                ProcessingInput(source=p[contract.CHAMPION_MODEL_URL], destination=f"{PROCESSING}/champion"),
                ProcessingInput(source=split["test"].S3Output.S3Uri, destination=f"{PROCESSING}/test")],
        job_arguments=["--auc-threshold", p["AucThreshold"].to_string(),
                       "--auc-tolerance", p["AucTolerance"].to_string(),
                       "--bias-tolerance", p["BiasTolerance"].to_string()],
        outputs=[ProcessingOutput(output_name="evaluation", source=f"{PROCESSING}/evaluation",
                                  destination=Join("/", [prefix, "evaluation"]))],
        property_files=[evaluation],
    )
    gate_passed = JsonGet(step_name=evaluate.name, property_file=evaluation, json_path=contract.GATE_PASSED_PATH)

    model = Model(image_uri=image_uri, model_data=model_data, role=role, sagemaker_session=session)
    if local:
        register = ModelStep(name="Register", step_args=model.create(instance_type="ml.m5.large"))
    else:
        evaluated = evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri
        metrics = ModelMetrics(
            model_statistics=MetricsSource(s3_uri=Join("/", [evaluated, contract.EVALUATION_FILE]),
                                           content_type="application/json"),
            bias=MetricsSource(s3_uri=Join("/", [evaluated, contract.BIAS_FILE]), content_type="application/json"))
        register = ModelStep(name="Register", step_args=model.register(
            content_types=CONTENT_TYPES, response_types=CONTENT_TYPES,
            inference_instances=["ml.m5.large", "ml.c5.large"], transform_instances=["ml.m5.large"],
            model_package_group_name=model_package_group_name, approval_status=p["ApprovalStatus"],
            model_metrics=metrics))
    create = ModelStep(name="CreateModel", step_args=model.create(instance_type="ml.m5.large")) if not local \
        else register
    batch = TransformStep(
        name="BatchScore",
        transformer=Transformer(model_name=create.properties.ModelName, instance_count=1,
                                instance_type=p["ProcessingInstanceType"], output_path=f"{prefix}/scores",
                                strategy="MultiRecord", accept="text/csv", assemble_with="Line",
                                sagemaker_session=session),
        inputs=TransformInput(data=p["ScoringDataUrl"], content_type="text/csv", split_type="Line"),
    )
    cohorts = ProcessingStep(
        name="Cohorts",
        processor=_processor(image_uri, role, p["ProcessingInstanceType"], "score", session, base_job_prefix),
        inputs=[ProcessingInput(source=model_data, destination=f"{PROCESSING}/model"),
                ProcessingInput(source=p["ScoringDataUrl"], destination=f"{PROCESSING}/input")],
        outputs=[ProcessingOutput(output_name="cohorts", source=f"{PROCESSING}/scores",
                                  destination=Join("/", [prefix, "cohorts"]))],
        job_arguments=["--cohorts", p["CohortColumns"]],
    )
    score = ConditionStep(name="ScoreIfAsked", conditions=[ConditionEquals(left=p["BatchScore"], right="true")],
                          if_steps=[batch, cohorts], else_steps=[])
    gate = ConditionStep(
        name="Gate",
        conditions=[ConditionEquals(left=gate_passed, right=True)],
        if_steps=[register, score] if local else [register, create, score],
        else_steps=[FailStep(name="Refused", error_message=Join(" ", [
            "refused by the gate (test AUC below", p["AucThreshold"].to_string(),
            "or worse than the champion): the reasons are in",
            evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri]))],
    )
    return Pipeline(name=pipeline_name, parameters=list(p.values()), steps=[prepare, train, evaluate, gate],
                    sagemaker_session=session)


def _parameters(input_data_uri, processing_instance_type, training_instance_type, no_champion) -> dict:
    parameters = [
        ParameterString(name=contract.INPUT_DATA_URL, default_value=input_data_uri),
        ParameterString(name="ProcessingInstanceType", default_value=processing_instance_type),
        ParameterString(name="TrainingInstanceType", default_value=training_instance_type),
        ParameterInteger(name="Seed", default_value=0),
        ParameterFloat(name="TestFraction", default_value=0.2),
        ParameterFloat(name="ValidationFraction", default_value=0.2),
        ParameterFloat(name="AucThreshold", default_value=0.80),
        ParameterString(name=contract.CHAMPION_MODEL_URL, default_value=no_champion),
        ParameterFloat(name="AucTolerance", default_value=0.01),
        ParameterFloat(name="BiasTolerance", default_value=0.0),
        ParameterString(name="ApprovalStatus", default_value="PendingManualApproval"),
        ParameterString(name="BatchScore", default_value="false"),
        ParameterString(name="ScoringDataUrl", default_value=input_data_uri),
        ParameterString(name="CohortColumns", default_value="Department,JobRole"),
    ]
    return {parameter.name: parameter for parameter in parameters}


def _processor(image_uri, role, instance_type, entry, session, prefix) -> Processor:
    return Processor(image_uri=image_uri, role=role, instance_count=1, instance_type=instance_type,
                     entrypoint=[entry], base_job_name=f"{prefix}-{entry}", sagemaker_session=session)

