"""A blue/green update's plan, from UpdateEndpoint's DeploymentConfig as SageMaker reads it: the
shares of the traffic the new fleet takes, step by step (ALL_AT_ONCE: all; CANARY: the canary,
then all; LINEAR: equal steps), how long each step bakes while the alarms are watched, how long
the old fleet waits before it stops, and the whole update's time limit."""

import math
from dataclasses import dataclass

from .records import Request


@dataclass(frozen=True)
class Plan:
    shares: tuple[float, ...]
    bake_s: float
    termination_wait_s: float
    timeout_s: float
    alarms: tuple[str, ...]


def plan(deployment: Request | None, instances: int) -> Plan:
    """No DeploymentConfig: all at once, nothing to bake or watch (SageMaker's default update)."""
    deployment = deployment or {}
    policy = deployment.get("BlueGreenUpdatePolicy", {})
    routing = policy.get("TrafficRoutingConfiguration", {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0})
    alarms = tuple(a["AlarmName"] for a in deployment.get("AutoRollbackConfiguration", {}).get("Alarms", []))
    kind = routing["Type"]
    if kind == "CANARY":
        shares: tuple[float, ...] = (_share(routing["CanarySize"], instances), 1.0)
    elif kind == "LINEAR":
        step = _share(routing["LinearStepSize"], instances)
        shares = tuple(round(min(1.0, step * k), 6) for k in range(1, math.ceil(1 / step - 1e-9) + 1))
    else:
        shares = (1.0,)
    return Plan(shares=shares, bake_s=float(routing.get("WaitIntervalInSeconds", 0)),
                termination_wait_s=float(policy.get("TerminationWaitInSeconds", 0)),
                timeout_s=float(policy.get("MaximumExecutionTimeoutInSeconds", 28800)), alarms=alarms)


def _share(size: Request, instances: int) -> float:
    """A CanarySize or LinearStepSize as a share of the traffic: a percentage of the capacity, or
    a number of the new fleet's instances."""
    if size["Type"] == "CAPACITY_PERCENT":
        return min(1.0, max(0.0, float(size["Value"]) / 100))
    return min(1.0, float(size["Value"]) / max(1, instances))
