"""Training on several hosts, with LightGBM's own data-parallel network.

SageMaker (and the SDK's local mode) start the image on every host of a training job; each reads
resourceconfig.json: the hosts, its own name, its network interface. The leader is hosts[0].
Host k listens on ATTRITION_DISTRIBUTED_PORT + k, and the hosts open one LightGBM network for the
whole job (LightGBM binds its port when the network opens, so it is opened once, not per model).

With FullyReplicated input every host holds every training row and trains on its share, the
rows whose index modulo the number of hosts is its rank; with ShardedByS3Key each host trains on
the files it received. LightGBM's data-parallel learner sums the hosts' histograms, so every host
grows the same trees, as if one machine held all the rows. Held-out rows (a fold, the validation
channel) are scored whole on every host, so every host sees the same scores and stops at the
same tree. The leader then writes every artifact; the others wait at a
barrier (one more collective call on the same network) until it has, so no host exits before the
model exists: SageMaker's local mode stops all hosts as soon as one exits.

Several hosts may share one machine (the SDK's local mode runs every host on the laptop). Each
would start a thread per core and, at each of thousands of allreduce steps, its waiting threads
spin on the cores the other hosts need: two local hosts took 200 s where one takes 2 s. So before
the network opens the hosts tell each other their kernel's boot id (one kernel, one machine; a
container shares its host's), and when num_threads is 0 each host sharing a machine takes its
share of the cores. Hosts on machines of their own (a real cluster) keep every core.
"""

import contextlib
import dataclasses
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lightgbm
import numpy as np

from ..core.platform import logs
from ..core.platform.environment import DistributedSettings
from ..core.platform.errors import UserError

RESOLVE_SECONDS = 120  # a container network's names may take a moment to appear


@dataclass(frozen=True)
class Cluster:
    hosts: tuple[str, ...]
    current: str
    interface: str
    settings: DistributedSettings
    sharded: bool = False  # each host holds only its own training rows (ShardedByS3Key)

    @property
    def rank(self) -> int:
        return self.hosts.index(self.current)

    @property
    def size(self) -> int:
        return len(self.hosts)

    @property
    def leader(self) -> bool:
        return self.rank == 0

    @property
    def name(self) -> str:
        return f"host {self.current} (rank {self.rank}/{self.size})"

    def params(self) -> dict:
        """LightGBM's parameters for a model grown across the hosts (the network is already open)."""
        return {"tree_learner": "data", "num_machines": self.size, "pre_partition": True}

    def share(self, rows: int) -> np.ndarray:
        """The indices of the rows this host trains on: its own rows when sharded, otherwise
        every size-th row from its rank."""
        return np.arange(rows) if self.sharded else np.arange(self.rank, rows, self.size)


def cluster(resources: dict, settings: DistributedSettings) -> Cluster | None:
    """The cluster resourceconfig.json describes; None for a single host."""
    hosts = resources.get("hosts") or []
    if len(hosts) < 2:
        return None
    current = resources.get("current_host")
    if current not in hosts or len(set(hosts)) != len(hosts):
        raise UserError(f"resourceconfig.json: current_host {current!r} must be one of the distinct hosts {hosts}")
    return Cluster(tuple(hosts), str(current), str(resources.get("network_interface_name", "")), settings)


@dataclass(frozen=True)
class Hosts:
    """Where the train job runs: this host alone (no cluster), or a cluster growing one model
    together. The one place the job tells the two apart; its steps are the same either way."""

    cluster: Cluster | None = None

    @property
    def sharded(self) -> bool:
        return self.cluster is not None and self.cluster.sharded

    @property
    def writes(self) -> bool:
        """Whether this host writes the model: a host alone, or the cluster's leader."""
        return self.cluster is None or self.cluster.leader

    def shard(self) -> "Hosts":
        """The same hosts, each training on its own files (ShardedByS3Key)."""
        return self if self.cluster is None else Hosts(dataclasses.replace(self.cluster, sharded=True))

    def lightgbm_params(self) -> dict:
        """LightGBM's parameters for where the model grows: none for a host alone."""
        return {} if self.cluster is None else self.cluster.params()

    def share(self, rows: int) -> np.ndarray:
        """The indices of the rows this host trains on, of `rows` it holds: all of them alone or
        sharded (its own files), every size-th from its rank otherwise."""
        return np.arange(rows) if self.cluster is None else self.cluster.share(rows)

    def threads(self, num_threads: int) -> int:
        return num_threads if self.cluster is None else threads(self.cluster, num_threads)

    def checkpoint_folder(self, folder: Path) -> Path | None:
        """Checkpoints are a single host's: on several, each would save its own."""
        return folder if self.cluster is None else None

    def network(self, failure_file: Path) -> contextlib.AbstractContextManager:
        return network(self.cluster, failure_file)

    def trained(self, rows: int) -> None:
        """Say which share of the rows this host trained on (a host alone says nothing)."""
        if self.cluster is not None:
            logs.say(f"distributed: host={self.cluster.current} rank={self.cluster.rank}/{self.cluster.size} "
                     f"rows={len(self.cluster.share(rows))}")

    def finish(self) -> None:
        if self.cluster is not None:
            barrier(self.cluster)  # the others wait here until the leader has written the model


ALONE = Hosts()  # this host alone: no cluster


def hosts(resources: dict, settings: DistributedSettings) -> Hosts:
    return Hosts(cluster(resources, settings))


@contextlib.contextmanager
def network(group: Cluster | None, failure_file: Path) -> Iterator[None]:
    """LightGBM's network, open while the block runs; nothing for a single host.

    When a host never comes (or leaves), LightGBM can end the process with a segmentation fault
    instead of an error, after ATTRITION_DISTRIBUTED_TIMEOUT minutes: the failure file is written
    before joining and removed only when the block succeeds, so even then the job's failure names
    this host and why. An error of ours in the block overwrites it with the real reason."""
    if group is None:
        yield
        return
    machines = ",".join(f"{_address(host)}:{group.settings.port + k}" for k, host in enumerate(group.hosts))
    holder = _holder()
    logs.say(f"distributed: {group.name} joins {machines} (interface {group.interface or 'any'})")
    failure_file.parent.mkdir(parents=True, exist_ok=True)
    failure_file.write_text(_lost(group, machines) + "\n")
    try:
        holder.set_network(machines, local_listen_port=group.settings.port + group.rank,
                           listen_time_out=group.settings.timeout_minutes, num_machines=group.size)
    except lightgbm.basic.LightGBMError as error:
        raise UserError(f"{group.name}: could not join the other hosts: {_reason(error)}") from None
    try:
        yield
    except UserError as error:
        raise UserError(f"{group.name}: {error}") from None
    finally:
        holder.free_network()
    failure_file.unlink()


def barrier(group: Cluster) -> None:
    """Return when every host has called it: building a tiny Dataset across the network is a
    collective step (the hosts exchange their bin boundaries)."""
    try:
        lightgbm.Dataset(np.arange(8, dtype=float).reshape(-1, 1), label=np.arange(8) % 2,
                         params={"verbosity": -1, "min_data_in_bin": 1, **group.params()}).construct()
    except lightgbm.basic.LightGBMError as error:
        raise UserError(f"lost the other hosts at the end of training: {_reason(error)}; another host "
                        "failed or stopped (see its failure)") from None


def threads(group: Cluster, num_threads: int) -> int:
    """num_threads for this host: as asked, or (0, every core) its share of the machine's cores
    among the hosts of the group running on it."""
    if num_threads:
        return num_threads
    sharing = colocated(group)
    if sharing == 1:
        return 0
    share = max(1, (os.cpu_count() or 1) // sharing)
    logs.say(f"distributed: {sharing} hosts share this machine's {os.cpu_count()} cores: {share} thread(s) each")
    return share


def colocated(group: Cluster, boot_id_file: Path = Path("/proc/sys/kernel/random/boot_id")) -> int:
    """How many of the group's hosts (this one included) run on this machine's kernel.

    Host k answers on port + size + k with its boot id, to each of the others once, while it asks
    each of them for theirs; a host that never answers is a host LightGBM's network will not find
    either, so the wait is the same timeout and the failure the same message."""
    mine = boot_id_file.read_text().strip() if boot_id_file.exists() else f"unknown-{group.current}"
    port = group.settings.port + group.size
    deadline = time.monotonic() + 60 * group.settings.timeout_minutes
    addresses = [f"{_address(host)}:{port + k}" for k, host in enumerate(group.hosts)]
    with socket.create_server(("", port + group.rank)) as listener:
        answering = threading.Thread(target=_answer, args=(listener, mine, group.size - 1, deadline), daemon=True)
        answering.start()
        theirs = [_ask(address, deadline) for k, address in enumerate(addresses) if k != group.rank]
        answering.join(max(0.0, deadline - time.monotonic()))
    if None in theirs:
        raise UserError(_lost(group, ",".join(addresses)))
    return 1 + sum(other == mine for other in theirs)


def _answer(listener: socket.socket, boot_id: str, count: int, deadline: float) -> None:
    listener.settimeout(1.0)
    while count and time.monotonic() < deadline:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        with connection:
            connection.sendall(boot_id.encode() + b"\n")
        count -= 1


def _ask(address: str, deadline: float) -> str | None:
    host, port = address.rsplit(":", 1)
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, int(port)), timeout=5) as connection:
                return connection.makefile("r").readline().strip()
        except OSError:
            time.sleep(0.2)
    return None


def _holder() -> lightgbm.Booster:
    """A Booster to hold the network open (LightGBM opens it from a Booster): one stump."""
    tiny = lightgbm.train({"objective": "binary", "verbosity": -1, "num_leaves": 2, "min_data_in_leaf": 1,
                           "min_data_in_bin": 1}, lightgbm.Dataset(np.arange(4, dtype=float).reshape(-1, 1),
                                                                    label=[0, 1, 0, 1]), num_boost_round=1)
    return lightgbm.Booster(model_str=tiny.model_to_string())


def _lost(group: Cluster, addresses: str) -> str:
    return (f"{group.name}: lost the other hosts at {addresses} (waited up to {group.settings.timeout_minutes} "
            "minute(s)): a host failed (see its failure) or cannot be reached on its port")


def _address(host: str) -> str:
    deadline = time.monotonic() + RESOLVE_SECONDS
    while True:
        try:
            return socket.gethostbyname(host)
        except OSError as error:
            if time.monotonic() > deadline:
                raise UserError(f"cannot resolve training host {host!r}: {error}") from None
            time.sleep(1)


def _reason(error: Exception) -> str:
    return str(error).split(" at /")[0]
