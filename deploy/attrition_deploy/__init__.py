"""attrition-deploy: from a trained model directory to a SageMaker endpoint, with boto3.

Every subcommand can print, with --dry-run, the exact API requests it would make, without
credentials or network: see plans.py for what is sent and aws.py for how.
"""
