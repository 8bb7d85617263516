"""What the service knows, as typed records, kept on disk in one JSON file written atomically.

Models and endpoint configurations are kept as the requests that created them (SageMaker's own
shapes); an endpoint adds its status and the instances that serve it.
"""

import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

Request = dict[str, Any]


@dataclass
class Created:
    """A model or an endpoint configuration: its request, ARN and creation time."""

    arn: str
    request: Request
    created: float
    deleted: bool = False  # deleted while an endpoint still runs on it: hidden, kept until no endpoint does


@dataclass
class Instance:
    """One container of one variant, answering on 127.0.0.1:port."""

    variant: str
    container: str
    port: int
    started: float = 0.0


@dataclass
class VariantState:
    name: str
    weight: float
    desired_weight: float
    count: int
    desired_count: int
    max_concurrency: int = 0  # a serverless variant's MaxConcurrency; 0: a variant of instances
    shadow: bool = False  # a shadow variant: a sampled copy of the traffic, its answers never returned


@dataclass
class Endpoint:
    name: str
    arn: str
    config: str
    status: str
    created: float
    modified: float
    failure: str = ""
    variants: list[VariantState] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    # A blue/green update under way: the new fleet, its configuration, and its share of the traffic.
    incoming: list[Instance] = field(default_factory=list)
    incoming_config: str = ""
    incoming_variants: list[VariantState] = field(default_factory=list)
    incoming_share: float = 0.0
    last_deployment: Request | None = None  # the DeploymentConfig of the last update

    def variant(self, name: str) -> VariantState | None:
        return next((v for v in self.variants if v.name == name), None)

    def mirrored(self) -> list[tuple[str, float]]:
        """(shadow variant, share of the production traffic copied to it), for those running."""
        production = sum(v.weight for v in self.variants if not v.shadow) or 1.0
        running = {i.variant for i in self.instances}
        return [(v.name, min(1.0, v.weight / production)) for v in self.variants if v.shadow and v.name in running]

    def fleets(self) -> list[tuple[list[Instance], list[VariantState], float]]:
        """(instances, their variants, share of the traffic): the serving fleet, and the incoming one."""
        serving = (self.instances, self.variants, 1.0 - self.incoming_share)
        return [serving, (self.incoming, self.incoming_variants, self.incoming_share)] if self.incoming else [serving]


@dataclass
class State:
    models: dict[str, Created] = field(default_factory=dict)
    configs: dict[str, Created] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)


class Store:
    """The state and its lock; `save` after every change, so a restart finds it again."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.RLock()
        self.state = load(path)

    def save(self) -> None:
        with self.lock:
            write_atomically(self.path, json.dumps(asdict(self.state), indent=1, sort_keys=True))

    def in_use(self) -> tuple[set[str], set[str]]:
        """(configurations, models) that an endpoint runs on or is moving to."""
        configs = {n for e in self.state.endpoints.values() for n in (e.config, e.incoming_config) if n}
        models = {v["ModelName"] for n in configs if n in self.state.configs
                  for v in all_variants(self.state.configs[n].request)}
        return configs, models

    def forget_deleted(self) -> None:
        """Configurations and models deleted while in use, once no endpoint uses them."""
        with self.lock:
            configs, models = self.in_use()
            for kept, used in ((self.state.configs, configs), (self.state.models, models)):
                for name in [n for n, c in kept.items() if c.deleted and n not in used]:
                    del kept[name]
            self.save()


def all_variants(config: Request) -> list[Request]:
    """An endpoint configuration's production variants, then its shadow ones."""
    return [*config["ProductionVariants"], *config.get("ShadowProductionVariants", [])]


def load(path: Path) -> State:
    if not path.exists():
        return State()
    raw = json.loads(path.read_text())
    return State(
        models={k: Created(**v) for k, v in raw["models"].items()},
        configs={k: Created(**v) for k, v in raw["configs"].items()},
        endpoints={k: Endpoint(**{**v, "variants": [VariantState(**s) for s in v["variants"]],
                                  "instances": [Instance(**i) for i in v["instances"]],
                                  "incoming": [Instance(**i) for i in v.get("incoming", [])],
                                  "incoming_variants": [VariantState(**s) for s in v.get("incoming_variants", [])]})
                   for k, v in raw["endpoints"].items()})


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def now() -> float:
    return round(time.time(), 3)
