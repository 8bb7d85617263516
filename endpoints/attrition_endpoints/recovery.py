"""A (re)started service finds its endpoints again: those whose instances all still run serve on
at once; the others start their instances again (Creating, then InService or Failed); a deletion
under way when the service stopped is finished, an update abandoned (its new fleet stopped).
Then the balancer starts with what serves."""

from collections.abc import Callable

from . import docker
from .lifecycle import Lifecycle
from .records import Endpoint, Store


def recover(store: Store, lifecycle: Lifecycle) -> None:
    work: list[tuple[Endpoint, Callable[[], None]]] = []
    with store.lock:
        for endpoint in store.state.endpoints.values():
            if endpoint.incoming:  # a blue/green update the stop interrupted: the old fleet serves on
                docker.remove(*(i.container for i in endpoint.incoming))
                endpoint.incoming, endpoint.incoming_variants, endpoint.incoming_config = [], [], ""
                endpoint.incoming_share = 0.0
                endpoint.failure = f"The update was interrupted by a restart; the endpoint keeps configuration " \
                                   f"{endpoint.config}."
            alive = bool(endpoint.instances) and all(docker.running(i.container) for i in endpoint.instances)
            if endpoint.status == "Deleting":
                work.append((endpoint, lambda e=endpoint: lifecycle.delete(e)))  # type: ignore[misc]
            elif endpoint.status == "Failed":
                continue
            elif alive:
                endpoint.status = "InService"
            else:
                docker.remove(*(i.container for i in endpoint.instances))
                endpoint.instances, endpoint.status = [], "Creating"
                work.append((endpoint, lambda e=endpoint: lifecycle.create(e)))  # type: ignore[misc]
        store.save()
        lifecycle.balancer.start([e for e in store.state.endpoints.values() if e.instances])
    for endpoint, job in work:
        lifecycle.in_background(endpoint, job)
