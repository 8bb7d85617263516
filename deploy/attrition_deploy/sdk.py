"""The image from the SageMaker Python SDK, 2.x or 3.x: training with the metric definitions that
`train` prints, and a predictor that sends CSV and reads JSON.

Neither SDK is a dependency of the image or of the attrition-deploy CLI (which never imports this
module): install one yourself, `pip install -r deploy/requirements-sdk2.txt` (or -sdk3.txt).

    estimator = sdk.estimator(IMAGE, ROLE, instance_type="ml.m5.large")        # 2.x
    trainer = sdk.model_trainer(IMAGE, ROLE, compute=Compute(...))               # 3.x
    predictor = sdk.predictor("attrition")                                       # 2.x
"""

from typing import Any

from .plans import metric_definitions


def estimator(image_uri: str, role: str, **kwargs: Any) -> Any:
    """A 2.x Estimator on the image; SageMaker reads validation:auc and the rest from its log."""
    from sagemaker.estimator import Estimator

    return Estimator(image_uri=image_uri, role=role, metric_definitions=metric_definitions(), **kwargs)


def model_trainer(image_uri: str, role: str, **kwargs: Any) -> Any:
    """A 3.x ModelTrainer on the image (it starts the image with no command: the image trains)."""
    from sagemaker.core.shapes import MetricDefinition
    from sagemaker.train import ModelTrainer

    definitions = [MetricDefinition(name=m["Name"], regex=m["Regex"]) for m in metric_definitions()]
    return ModelTrainer(training_image=image_uri, role=role, **kwargs).with_metric_definitions(definitions)


def predictor(endpoint_name: str, sagemaker_session: Any = None) -> Any:
    """A 2.x Predictor that sends rows as CSV (a row of values, or a list of rows) and reads the
    JSON answer: {"predictions": [{"probability": ..., "label": ...}, ...]}."""
    from sagemaker.deserializers import JSONDeserializer
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import CSVSerializer

    return Predictor(endpoint_name, sagemaker_session=sagemaker_session, serializer=CSVSerializer(),
                     deserializer=JSONDeserializer())
