"""What SageMaker hands a container and how every job runs on it: the /opt/ml paths and
variables, the media types, errors and log lines, dropping root, artifacts written atomically.
"""
