"""Alarms as a rollout watches them, against moto's CloudWatch (which stores alarms and metrics
but does not evaluate): the service evaluates, and sets the state CloudWatch shows."""

from datetime import UTC, datetime

import boto3

from attrition_endpoints.alarms import Alarms

DIMENSIONS = [{"Name": "EndpointName", "Value": "e"}, {"Name": "VariantName", "Value": "main"}]


def cloudwatch(url: str):
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name="us-east-1").client("cloudwatch", endpoint_url=url)


def alarm(client, name: str, threshold: float) -> None:
    client.put_metric_alarm(AlarmName=name, Namespace="AWS/SageMaker", MetricName="Invocation4XXErrors",
                            Dimensions=DIMENSIONS, Statistic="Sum", Period=60, EvaluationPeriods=1,
                            Threshold=threshold, ComparisonOperator="GreaterThanThreshold")


def test_an_alarm_whose_metric_crosses_its_threshold_fires_and_says_why(moto_server):
    client = cloudwatch(moto_server)
    alarm(client, "canary-errors", 0)
    alarm(client, "canary-many-errors", 100)
    watch = Alarms(lambda: client)
    assert watch.firing(["canary-errors", "canary-many-errors"]) == ""  # no data yet: nothing fires
    client.put_metric_data(Namespace="AWS/SageMaker", MetricData=[{
        "MetricName": "Invocation4XXErrors", "Dimensions": DIMENSIONS, "Value": 12.0, "Timestamp": datetime.now(UTC)}])
    assert watch.firing(["canary-many-errors"]) == ""
    assert watch.firing(["canary-many-errors", "canary-errors"]) == "canary-errors"
    state = client.describe_alarms(AlarmNames=["canary-errors"])["MetricAlarms"][0]
    assert state["StateValue"] == "ALARM" and "Invocation4XXErrors (12) were GreaterThanThreshold 0" \
        in state["StateReason"]
    client.put_metric_alarm(AlarmName="canary-errors", Namespace="AWS/SageMaker", MetricName="Invocation4XXErrors",
                            Dimensions=DIMENSIONS, Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=20,
                            ComparisonOperator="GreaterThanThreshold")  # the team raises its bar
    assert watch.firing(["canary-errors"]) == ""
    assert client.describe_alarms(AlarmNames=["canary-errors"])["MetricAlarms"][0]["StateValue"] == "OK"


def test_missing_alarms_are_named(moto_server):
    client = cloudwatch(moto_server)
    alarm(client, "exists", 1)
    assert Alarms(lambda: client).missing(["exists", "typo"]) == ["typo"]
