"""The Docker engine the data plane runs tasks on (Docker SDK for Python).

`connect()` answers (client, None) when an engine answers at DOCKER_HOST or
the local socket, else (None, reason). Every container the emulator makes
carries the label pocstack.emulator=<port>, so that it finds (and removes)
its own containers, and never touches anyone else's: on start (a crashed
run's leftovers), on reset and on exit.
"""
import os

LABEL = "pocstack.emulator"
TASK_LABEL = "pocstack.emulator.task"


def connect(timeout=10):
    """(docker client, None), or (None, why not) in one line."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        import docker
    except ImportError as e:  # pragma: no cover - moto[server] brings it
        return None, f"the Docker SDK for Python is missing ({e})"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client, None
    except Exception as e:  # docker.errors.DockerException, requests' errors, PermissionError
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        return None, f"no Docker engine answers at {host} ({text[:200]})"


def describe(client):
    version = client.version()
    info = client.info()
    return f"Docker {version.get('Version', '?')} ({info.get('Driver', '?')} storage)"


def own_containers(client, port, running_only=False):
    """The containers this emulator (port) made.

    Listed sparse, then inspected one by one: a container removed between the
    list and its inspection (a task stopping meanwhile) is left out, where
    the SDK's own list() would fail with 404 Not Found.
    """
    import docker

    found = []
    for sparse in client.containers.list(all=not running_only, sparse=True, filters={"label": f"{LABEL}={port}"}):
        try:
            found.append(client.containers.get(sparse.id))
        except docker.errors.NotFound:
            pass
    return found


def remove_own(client, port):
    """Remove every container this emulator (port) made; returns how many."""
    removed = 0
    for container in own_containers(client, port):
        try:
            container.remove(force=True, v=True)
            removed += 1
        except Exception:  # already gone
            pass
    return removed
