"""What the data plane tests share: an emulator that runs ECS tasks as
containers, boto3 clients on it, and the Docker engine's view of the tasks."""
import json
import os
import time
import urllib.error
import urllib.request

import boto3
import docker
import pytest

from harness import Emulator
from harness import failure_message
from harness import make_inventory
from harness import run

TASK_LABEL = "com.amazonaws.ecs.task-arn"


def data_plane_emulator(state_dir):
    """An Emulator with its data plane; skipped where no Docker engine can be
    had, except in CI (CI=true), where that is a failure."""
    try:
        return Emulator(state_dir, data_plane=True)
    except RuntimeError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(e))


def stack_of(tmp, services):
    """A module's stack (a generator for its fixture to `yield from`): a data
    plane emulator, boto3 clients on it, and a local inventory of `services`
    (make_inventory's list); at the end, no container may be left."""
    emulator = data_plane_emulator(tmp / "emulator")
    inventory = make_inventory(tmp, services)
    yield {"emulator": emulator, "inventory": inventory, "aws": clients(emulator.port), "port": emulator.port}
    emulator.stop()
    assert not containers_of(emulator.port, running_only=False), "the emulator left containers behind at exit"


def deploy(stack, measured, what, service="plotly"):
    """site.yml -e service=SERVICE, which must succeed; its stats go to the run's measured section."""
    rc, out = run(stack["inventory"], stack["port"], extra=["-e", f"service={service}"])
    assert rc == 0, failure_message(out)
    measured(f"{what}: {json.loads(out)['stats'][service]}")
    return out


def clients(port, region="us-east-1", names=("ecs", "elbv2", "ec2", "logs", "iam", "ssm")):
    kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name=region,
              aws_access_key_id="testing", aws_secret_access_key="testing")
    return {name: boto3.client(name, **kw) for name in names}


def engine():
    return docker.from_env(timeout=30)


def containers_of(port, running_only=True):
    """The containers the emulator on `port` made, by task ARN."""
    client, found = engine(), {}
    # Sparse, then one by one: a task stopping meanwhile must not fail the list with 404.
    for sparse in client.containers.list(all=not running_only, sparse=True,
                                         filters={"label": f"pocstack.emulator={port}"}):
        try:
            container = client.containers.get(sparse.id)
        except docker.errors.NotFound:
            continue
        found[container.labels[TASK_LABEL]] = container
    return found


def published(container, port=8050):
    """http://127.0.0.1:PORT of a container's published port."""
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1", binding  # never on another address
    return f"http://127.0.0.1:{binding['HostPort']}"


def http_status(url, user=None, password=None, timeout=10):
    request = urllib.request.Request(url)
    if user is not None:
        import base64

        request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def tasks(aws, service, cluster="pocstack", desired_status="RUNNING"):
    arns = aws["ecs"].list_tasks(cluster=cluster, serviceName=service, desiredStatus=desired_status)["taskArns"]
    return aws["ecs"].describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def service(aws, name, cluster="pocstack"):
    return aws["ecs"].describe_services(cluster=cluster, services=[name])["services"][0]


def eventually(check, timeout=120, interval=1.0, what="the condition"):
    """Poll check() until it returns a truthy value; return it, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what} did not happen within {timeout} s (last: {last!r})")
