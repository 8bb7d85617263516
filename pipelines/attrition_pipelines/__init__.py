"""The pipelines run locally on their real engines (SageMaker Pipelines, Kubeflow Pipelines), the
MLflow registry they register in, and drift-triggered retraining."""
