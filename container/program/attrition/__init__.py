"""attrition-sagemaker: train and serve a LightGBM employee-attrition model on SageMaker."""
