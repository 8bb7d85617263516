"""The Docker engine, through its command-line client: every container the service starts carries
its label, so `down` finds and removes exactly those."""

import contextlib
import subprocess

LABEL = "attrition-endpoints"


class DockerError(Exception):
    """The engine refused or did not answer: one line saying why."""


def run(*args: str, timeout: float = 120) -> str:
    try:
        done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise DockerError("the docker client is not installed") from None
    except subprocess.TimeoutExpired:
        raise DockerError(f"docker {args[0]} did not answer in {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise DockerError(lines[-1] if lines else f"docker {args[0]} failed ({done.returncode})")
    return done.stdout.strip()


def start(image: str, name: str, service: str, environment: dict[str, str], mounts: list[tuple[str, str, str]],
          command: list[str]) -> str:
    """Start a container on the host's network; its ID. mounts: (host path, container path, mode)."""
    args = ["run", "--detach", "--network", "host", "--name", name, "--label", f"{LABEL}={service}"]
    for key, value in environment.items():
        args += ["--env", f"{key}={value}"]
    for source, target, mode in mounts:
        args += ["--volume", f"{source}:{target}:{mode}"]
    return run(*args, image, *command)


def image_exists(image: str) -> bool:
    try:
        run("image", "inspect", "--format", "{{.Id}}", image)
        return True
    except DockerError:
        return False


def running(container: str) -> bool:
    try:
        return run("inspect", "--format", "{{.State.Running}}", container) == "true"
    except DockerError:
        return False


def logs_tail(container: str, lines: int = 5) -> str:
    try:
        done = subprocess.run(["docker", "logs", "--tail", str(lines), container], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return " | ".join(line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip())


def remove(*containers: str) -> None:
    if containers:
        with contextlib.suppress(DockerError):  # already gone
            run("rm", "--force", "--volumes", *containers)


def labelled(service: str) -> list[str]:
    """Every container (running or not) the service with this ID started."""
    out = run("ps", "--all", "--quiet", "--filter", f"label={LABEL}={service}")
    return out.split()


def signal(container: str, name: str) -> None:
    run("kill", "--signal", name, container)
