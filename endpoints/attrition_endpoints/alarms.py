"""CloudWatch alarms as a rollout watches them. moto stores alarms but does not evaluate them, so
the service does what CloudWatch would: it reads each alarm's metric with get_metric_statistics
(the numbers metrics.py published), compares the last EvaluationPeriods with the threshold, and
sets the alarm's state in CloudWatch with the reason, so `describe_alarms` shows what happened."""

import operator
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": operator.ge, "GreaterThanThreshold": operator.gt,
    "LessThanThreshold": operator.lt, "LessThanOrEqualToThreshold": operator.le,
}


class Alarms:
    def __init__(self, cloudwatch: Callable[[], Any]):
        self.cloudwatch = cloudwatch

    def missing(self, names: list[str]) -> list[str]:
        """The names no alarm has (CloudWatch not answering: all of them)."""
        try:
            found = self.cloudwatch().describe_alarms(AlarmNames=names)["MetricAlarms"]
        except Exception:  # botocore's: the stand-in is not there
            return names
        return sorted(set(names) - {a["AlarmName"] for a in found})

    def firing(self, names: list[str]) -> str:
        """Evaluate each alarm now and set its state as CloudWatch would (ALARM, or OK once its
        metric is back within the threshold); the first in ALARM, or "" when none is."""
        fired = ""
        for alarm in self.cloudwatch().describe_alarms(AlarmNames=names)["MetricAlarms"] if names else []:
            breached = self._breached(alarm)
            state = "ALARM" if breached else "OK"
            if alarm["StateValue"] != state:
                self.cloudwatch().set_alarm_state(AlarmName=alarm["AlarmName"], StateValue=state,
                                                  StateReason=breached or "Threshold not crossed in the last periods.")
            if breached and not fired:
                fired = str(alarm["AlarmName"])
        return fired

    def _breached(self, alarm: dict[str, Any]) -> str:
        """Why the alarm's metric breaches its threshold ("" when it does not, or cannot be read)."""
        if "MetricName" not in alarm or alarm.get("ComparisonOperator") not in COMPARISONS:
            return ""  # metric math, anomaly bands: not evaluated here
        period, periods = int(alarm["Period"]), int(alarm["EvaluationPeriods"])
        needed = int(alarm.get("DatapointsToAlarm") or periods)
        statistic = alarm.get("Statistic", "Average")
        end = datetime.now(UTC) + timedelta(seconds=1)  # timestamps travel in whole seconds: keep this one
        points = self.cloudwatch().get_metric_statistics(
            Namespace=alarm["Namespace"], MetricName=alarm["MetricName"], Dimensions=alarm.get("Dimensions", []),
            StartTime=end - timedelta(seconds=period * periods), EndTime=end, Period=period,
            Statistics=[statistic])["Datapoints"]
        compare = COMPARISONS[alarm["ComparisonOperator"]]
        values = [p[statistic] for p in sorted(points, key=lambda p: p["Timestamp"])[-periods:]]
        breaching = [v for v in values if compare(v, float(alarm["Threshold"]))]
        if len(breaching) < needed:
            return ""
        return (f"Threshold Crossed: {len(breaching)} of the last {len(values)} datapoints of {alarm['MetricName']} "
                f"({', '.join(f'{v:g}' for v in values)}) were {alarm['ComparisonOperator']} {alarm['Threshold']:g}.")
