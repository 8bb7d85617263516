"""Autoscaling as Application Auto Scaling does it for a variant: the scalable target and the
target-tracking policy `deploy --autoscale` registers (moto stores them), applied by the service.
Every few seconds, for each variant with both, the instances needed to bring
SageMakerVariantInvocationsPerInstance (per minute) back to the policy's target, within the
target's MinCapacity..MaxCapacity, after the cooldown; each change logged with its cause."""

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from .lifecycle import Lifecycle
from .metrics import Metrics
from .records import Endpoint, Request

DIMENSION = "sagemaker:variant:DesiredInstanceCount"
METRIC = "SageMakerVariantInvocationsPerInstance"
CHECK_S = 2.0


class Autoscaler:
    def __init__(self, lifecycle: Lifecycle, metrics: Metrics, autoscaling: Callable[[], Any], window_s: float):
        self.lifecycle, self.metrics, self.autoscaling, self.window_s = lifecycle, metrics, autoscaling, window_s
        self.changed: dict[str, float] = {}  # resource id -> when its last change ended
        self.problem = ""

    def every(self, stop: threading.Event) -> None:
        while not stop.wait(CHECK_S):
            try:
                self.check()
            except Exception as error:  # Application Auto Scaling not answering: said once, tried again
                if str(error) != self.problem:
                    self.problem = str(error)
                    print(f"local-endpoints: autoscaling paused: {error}", flush=True)

    def check(self) -> None:
        with self.lifecycle.store.lock:
            settled = [e for e in self.lifecycle.store.state.endpoints.values() if e.status == "InService"]
        for endpoint in settled:
            for variant in endpoint.variants:
                if not variant.max_concurrency:
                    self._scale(endpoint, variant.name)

    def _scale(self, endpoint: Endpoint, variant: str) -> None:
        resource = f"endpoint/{endpoint.name}/variant/{variant}"
        targets = self.autoscaling().describe_scalable_targets(
            ServiceNamespace="sagemaker", ResourceIds=[resource], ScalableDimension=DIMENSION)["ScalableTargets"]
        policy = self._policy(resource) if targets else None
        if not policy:
            return
        running = sum(1 for i in endpoint.instances if i.variant == variant)
        rate = self.metrics.per_minute(endpoint.name, variant, self.window_s)
        if rate is None or not running:
            return
        target, low, high = float(policy["TargetValue"]), targets[0]["MinCapacity"], targets[0]["MaxCapacity"]
        wanted = min(high, max(low, math.ceil(rate / target)))
        cooldown = policy.get("ScaleOutCooldown", 300) if wanted > running else policy.get("ScaleInCooldown", 300)
        if wanted == running or (wanted < running and policy.get("DisableScaleIn")):
            return
        if time.monotonic() - self.changed.get(resource, float("-inf")) < cooldown:
            return
        print(f"local-endpoints: {resource}: {running} -> {wanted} instance(s): {rate / running:.0f} invocations "
              f"per instance per minute against a target of {target:g}", flush=True)
        with self.lifecycle.store.lock:
            endpoint.status = "Updating"
        self.lifecycle.change_weights_and_capacities(endpoint, [{"VariantName": variant,
                                                                 "DesiredInstanceCount": wanted}])
        self.changed[resource] = time.monotonic()

    def _policy(self, resource: str) -> Request | None:
        """The variant's target-tracking policy on invocations per instance, if it has one."""
        policies = self.autoscaling().describe_scaling_policies(
            ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=DIMENSION)["ScalingPolicies"]
        for policy in policies:
            tracking = policy.get("TargetTrackingScalingPolicyConfiguration", {})
            if tracking.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType") == METRIC:
                return dict(tracking)
        return None
