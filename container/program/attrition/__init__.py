"""attrition-sagemaker: train and serve a LightGBM employee-attrition model on SageMaker.

One sub-package per job (`train`, `serve`, `monitor`) over a shared `core`.
"""
