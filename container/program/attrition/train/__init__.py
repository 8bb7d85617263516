"""The `train` job: /opt/ml/input -> a LightGBM model, its metadata, metrics and report."""
