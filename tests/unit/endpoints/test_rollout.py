"""A blue/green update's plan, as SageMaker reads DeploymentConfig."""

from attrition_endpoints.rollout import plan


def routing(**fields) -> dict:
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": fields, "TerminationWaitInSeconds": 7,
                                      "MaximumExecutionTimeoutInSeconds": 900},
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]}}


def test_a_canary_takes_its_share_then_all_and_each_step_bakes():
    steps = plan(routing(Type="CANARY", WaitIntervalInSeconds=30, CanarySize={"Type": "CAPACITY_PERCENT", "Value": 10}),
                 2)
    assert steps.shares == (0.1, 1.0) and steps.bake_s == 30 and steps.termination_wait_s == 7
    assert steps.timeout_s == 900 and steps.alarms == ("errors", "latency")


def test_a_canary_counted_in_instances_is_that_share_of_the_new_fleet():
    assert plan(routing(Type="CANARY", WaitIntervalInSeconds=0, CanarySize={"Type": "INSTANCE_COUNT", "Value": 1}),
                4).shares == (0.25, 1.0)


def test_linear_steps_end_at_all_of_the_traffic():
    steps = plan(routing(Type="LINEAR", WaitIntervalInSeconds=5, LinearStepSize={"Type": "CAPACITY_PERCENT",
                                                                                 "Value": 30}), 1)
    assert steps.shares == (0.3, 0.6, 0.9, 1.0)


def test_no_deployment_config_is_all_at_once_with_nothing_to_watch():
    steps = plan(None, 1)
    assert steps.shares == (1.0,) and steps.bake_s == 0 and steps.alarms == ()
