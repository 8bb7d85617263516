"""attrition-sagemaker: train and serve a LightGBM employee-attrition model on SageMaker.

One sub-package per job (`train`, `serve`, `monitor`, `prepare`, `evaluate`, `score`,
`groundtruth`) over a shared `core`; `core.contract` holds the names the tools around the image
share with it.
"""
