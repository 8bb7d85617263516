"""Endpoints brought up, changed and taken down in the background, as SageMaker does: the caller
gets an answer at once and follows the status (Creating, Updating, Deleting, InService, Failed).

An update is blue/green: the new instances start and pass /ping before the balancer turns to
them, take the traffic in the steps of the update's DeploymentConfig (rollout.py), then the old
ones stop; if the new ones fail, or an alarm fires while a step bakes, the endpoint keeps serving
with the old ones.
"""

import shutil
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import docker, instances, rollout
from .alarms import Alarms
from .asynchronous import AsyncInvocations
from .balancer import Balancer, server_name
from .captures import Uploader
from .instances import InstanceError, Launch
from .records import Endpoint, Instance, Request, Store, VariantState, all_variants, now

DRAIN_S = 2.0  # how long a retired instance keeps answering what HAProxy's previous process sent it


@dataclass(frozen=True)
class Settings:
    folder: Path
    service: str
    ping_timeout: float
    serverless_idle: float  # seconds without a request before a serverless instance stops


class Lifecycle:
    def __init__(self, store: Store, balancer: Balancer, settings: Settings, s3: Callable[[], Any],
                 captures: Uploader, asyncs: AsyncInvocations, alarms: Alarms):
        self.store, self.balancer, self.settings, self.s3 = store, balancer, settings, s3
        self.captures, self.asyncs, self.alarms = captures, asyncs, alarms
        self.cold: dict[str, threading.Lock] = {}  # one cold start at a time per endpoint

    def in_background(self, endpoint: Endpoint, work: Callable[[], None]) -> None:
        """Run `work` on a thread of its own; a bug in it fails the endpoint with the reason (and
        the traceback in the service's log) instead of leaving it Creating or Updating."""
        def guarded() -> None:
            try:
                work()
            except Exception as error:
                traceback.print_exc()
                self._finish(endpoint, "Failed", f"Internal error of the local endpoint service: {error!r}")

        threading.Thread(target=guarded, daemon=True).start()

    def create(self, endpoint: Endpoint) -> None:
        config = self.store.state.configs[endpoint.config].request
        try:
            started = self._start_variants(endpoint.name, config, {})
        except InstanceError as error:
            self._finish(endpoint, "Failed", " ".join(str(error).split()))
            return
        with self.store.lock:
            endpoint.instances = started
        self._finish(endpoint, "InService", "")

    def update(self, endpoint: Endpoint, config_name: str, deployment: Request | None) -> None:
        """Blue/green: the new fleet starts, takes the traffic in the plan's steps, each baked while
        the alarms are watched; an alarm (or the time limit) turns the traffic back and stops it."""
        config = self.store.state.configs[config_name].request
        try:
            started = self._start_variants(endpoint.name, config, {})
        except InstanceError as error:
            self._finish(endpoint, "InService", f"Update failed, the endpoint keeps its configuration: {error}")
            return
        steps = rollout.plan(deployment, len(started))
        with self.store.lock:
            endpoint.incoming, endpoint.incoming_config = started, config_name
            endpoint.incoming_variants, endpoint.incoming_share = variant_states(config), 0.0
            endpoint.last_deployment = deployment
        began = time.monotonic()
        for share in steps.shares:
            self._shift(endpoint, share)
            problem = self._bake(steps, began)
            if problem:
                self._roll_back(endpoint, problem)
                return
        time.sleep(steps.termination_wait_s)
        with self.store.lock:
            old = endpoint.instances
            endpoint.instances, endpoint.variants, endpoint.config = started, endpoint.incoming_variants, config_name
            endpoint.incoming, endpoint.incoming_variants, endpoint.incoming_config = [], [], ""
            endpoint.incoming_share = 0.0
            self._reload()
        self._retire(old)
        self._finish(endpoint, "InService", "")
        self.store.forget_deleted()

    def _shift(self, endpoint: Endpoint, share: float) -> None:
        with self.store.lock:
            endpoint.incoming_share = share
            self._reload()
        print(f"local-endpoints: {endpoint.name}: the new fleet ({endpoint.incoming_config}) takes {share:.0%} "
              "of the traffic", flush=True)

    def _bake(self, steps: rollout.Plan, began: float) -> str:
        """Why the update must roll back ("" when the step baked cleanly)."""
        until = time.monotonic() + steps.bake_s
        while True:
            try:
                alarm = self.alarms.firing(list(steps.alarms))
            except Exception as error:  # CloudWatch not answering: an update that cannot be watched stops
                return f"its alarms could not be read: {error}"
            if alarm:
                return f"alarm {alarm} went into ALARM"
            if time.monotonic() - began > steps.timeout_s:
                return f"it took more than MaximumExecutionTimeoutInSeconds ({steps.timeout_s:.0f} s)"
            if time.monotonic() >= until:
                return ""
            time.sleep(min(1.0, until - time.monotonic()))

    def _roll_back(self, endpoint: Endpoint, problem: str) -> None:
        with self.store.lock:
            endpoint.status, endpoint.incoming_share = "RollingBack", 0.0
            self._reload()
        print(f"local-endpoints: {endpoint.name}: rolling back: {problem}", flush=True)
        with self.store.lock:
            gone = endpoint.incoming
            endpoint.incoming, endpoint.incoming_variants, endpoint.incoming_config = [], [], ""
            self._reload()
        self._retire(gone)
        self._finish(endpoint, "InService", f"The update was rolled back because {problem}; the endpoint keeps "
                                            f"configuration {endpoint.config}.")

    def _retire(self, instances: list[Instance]) -> None:
        """Instances the balancer no longer sends to: stopped once the requests in flight on them
        (held by HAProxy's previous process until they are answered) had time to finish."""
        if instances:
            time.sleep(DRAIN_S)
            docker.remove(*(i.container for i in instances))

    def change_weights_and_capacities(self, endpoint: Endpoint, desired: list[Request]) -> None:
        config = self.store.state.configs[endpoint.config].request
        extra: dict[str, int] = {}
        surplus: list[Instance] = []
        for change in desired:
            variant = endpoint.variant(change["VariantName"])
            assert variant is not None  # checked by the control plane
            variant.desired_weight = float(change.get("DesiredWeight", variant.weight))
            count = int(change.get("DesiredInstanceCount", variant.count))
            variant.desired_count = count
            mine = [i for i in endpoint.instances if i.variant == variant.name]
            extra[variant.name] = max(0, count - len(mine))
            surplus += mine[count:]
        try:
            started = self._start_variants(endpoint.name, config, extra)
        except InstanceError as error:
            self._finish(endpoint, "InService", f"Update failed: {error}")
            return
        with self.store.lock:
            endpoint.instances = [i for i in endpoint.instances if i not in surplus] + started
            for variant in endpoint.variants:
                variant.weight = variant.desired_weight
                variant.count = variant.desired_count
            self._reload()
        self._retire(surplus)
        self._finish(endpoint, "InService", "")

    def delete(self, endpoint: Endpoint) -> None:
        with self.store.lock:
            gone = endpoint.instances + endpoint.incoming
            endpoint.instances, endpoint.incoming = [], []
            self._reload()
        docker.remove(*(i.container for i in gone))
        self.asyncs.forget(endpoint.name)
        self.captures.sync()
        with self.store.lock:
            self.store.state.endpoints.pop(endpoint.name, None)
            self.store.forget_deleted()
        self._forget_unused_model_data()

    def cold_start(self, endpoint: Endpoint, variant_name: str) -> None:
        """A serverless variant with no instance gets one (the caller's request waits for it)."""
        with self.cold.setdefault(endpoint.name, threading.Lock()):
            if any(i.variant == variant_name for i in endpoint.instances):
                return  # another request started it
            config = self.store.state.configs[endpoint.config].request
            variant = next(v for v in all_variants(config) if v["VariantName"] == variant_name)
            began = time.monotonic()
            launch = self._launch(endpoint.name, variant, config.get("DataCaptureConfig"))
            instance = instances.start(launch, self.settings.service, self.settings.ping_timeout)
            with self.store.lock:
                endpoint.instances.append(instance)
                self._reload()
            self.balancer.wait_until_serving(endpoint.name)
            print(f"local-endpoints: cold start of {endpoint.name}/{variant_name}: "
                  f"{time.monotonic() - began:.2f} s", flush=True)

    def stop_idle(self) -> None:
        """Serverless instances that answered nothing for `serverless_idle` seconds stop (scale to zero)."""
        rows = self.balancer.statistics()
        with self.store.lock:
            idle = [(e, i) for e in self.store.state.endpoints.values() if e.status == "InService"
                    for i in e.instances if _is_serverless(e, i.variant) and self._idle(rows, i)]
            for endpoint, instance in idle:
                endpoint.instances.remove(instance)
            if idle:
                self._reload()
        for endpoint, instance in idle:
            docker.remove(instance.container)
            print(f"local-endpoints: {endpoint.name}/{instance.variant} idle for "
                  f"{self.settings.serverless_idle:.0f} s: scaled to zero", flush=True)

    def stop_idle_every(self, stop: threading.Event) -> None:
        while not stop.wait(2.0):
            self.stop_idle()

    def _idle(self, rows: list[dict[str, str]], instance: Instance) -> bool:
        mine = [r for r in rows if r["svname"] == server_name(instance)]  # its rows in every backend
        if not mine or any(r["scur"] != "0" for r in mine):
            return False
        since = [int(r["lastsess"]) for r in mine if r.get("lastsess") not in ("", "-1", None)]
        quiet = min(since) if since else time.time() - instance.started
        return quiet >= self.settings.serverless_idle

    def _start_variants(self, endpoint: str, config: Request, counts: dict[str, int]) -> list[Instance]:
        """Instances of each variant of `config` (counts: how many of which variants; default all
        their initial ones); all or none: those started are removed when one fails. Every
        variant's model data and image are checked, even those that start with no instance."""
        started: list[Instance] = []
        try:
            for variant in all_variants(config):
                count = counts.get(variant["VariantName"], 0) if counts else initial_count(variant)
                launch = self._launch(endpoint, variant, config.get("DataCaptureConfig"))
                instances.check_image(launch.image)
                for _ in range(count):
                    started.append(instances.start(launch, self.settings.service, self.settings.ping_timeout))
        except (InstanceError, docker.DockerError) as error:
            docker.remove(*(i.container for i in started))
            raise InstanceError(str(error)) from None
        return started

    def _launch(self, endpoint: str, variant: Request, capture: Request | None) -> Launch:
        model = self.store.state.models[variant["ModelName"]].request
        container = model.get("PrimaryContainer") or model["Containers"][0]
        folder = self.settings.folder / "models" / variant["ModelName"]
        model_dir = instances.unpack_model(self.s3(), container["ModelDataUrl"], folder) \
            if container.get("ModelDataUrl") else folder
        model_dir.mkdir(parents=True, exist_ok=True)
        on = bool(capture and capture.get("EnableCapture", True))
        return Launch(endpoint=endpoint, variant=variant["VariantName"], image=container["Image"],
                      model_dir=model_dir, environment=dict(container.get("Environment") or {}),
                      capture_dir=capture_folder(self.settings.folder, capture, endpoint, variant["VariantName"])
                      if capture and on else None,
                      capture_percent=float(capture.get("InitialSamplingPercentage", 100)) if capture else 0.0)

    def _finish(self, endpoint: Endpoint, status: str, failure: str) -> None:
        with self.store.lock:
            endpoint.status, endpoint.failure, endpoint.modified = status, failure, now()
            self._reload()

    def _reload(self) -> None:
        """Save, then give the balancer every endpoint that has instances (callers hold the lock)."""
        self.store.save()
        self.balancer.reload([e for e in self.store.state.endpoints.values() if e.instances])

    def _forget_unused_model_data(self) -> None:
        with self.store.lock:
            used = self.store.in_use()[1]
        for folder in (self.settings.folder / "models").glob("*"):
            if folder.name not in used:
                shutil.rmtree(folder, ignore_errors=True)


def initial_count(variant: Request) -> int:
    """A serverless variant starts with no instance: the first request starts one."""
    return 0 if "ServerlessConfig" in variant else int(variant.get("InitialInstanceCount", 1))


def variant_states(config: Request) -> list[VariantState]:
    return [VariantState(name=v["VariantName"], weight=float(v.get("InitialVariantWeight", 1.0)),
                         desired_weight=float(v.get("InitialVariantWeight", 1.0)),
                         count=initial_count(v), desired_count=initial_count(v),
                         max_concurrency=int(v.get("ServerlessConfig", {}).get("MaxConcurrency", 0)),
                         shadow=v in config.get("ShadowProductionVariants", []))
            for v in all_variants(config)]



def _is_serverless(endpoint: Endpoint, variant: str) -> bool:
    state = endpoint.variant(variant)
    return bool(state and state.max_concurrency)


def capture_folder(root: Path, capture: Request, endpoint: str, variant: str) -> Path:
    """SageMaker's layout, under the service's folder: capture/<bucket>/<prefix>/<endpoint>/<variant>."""
    location = str(capture["DestinationS3Uri"]).removeprefix("s3://").removeprefix("https://").strip("/")
    return root / "capture" / location / endpoint / variant
