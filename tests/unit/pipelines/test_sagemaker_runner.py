"""The SageMaker runner's progress lines, read from the SDK's local executor's log messages."""

from attrition_pipelines import sagemaker_runner


def test_each_step_start_success_and_failure_is_one_progress_line():
    line = sagemaker_runner._step_line
    assert line("Starting pipeline step: 'Train'") == "Train: started"
    assert line("Pipeline step 'Evaluate' SUCCEEDED.") == "Evaluate: succeeded"
    assert line("Pipeline step 'Gate' FAILED. Failure message is: " + "x" * 500) == "Gate: failed: " + "x" * 300
    assert line("Creating processing-job with name attrition-prepare") is None
