"""Multi-container tasks as ECS runs them: dependsOn start order, essential
and non-essential containers, one network namespace per task.

RegisterTaskDefinition's refusals need no Docker; the data-plane cases run on
the same emulator, engine and image as test_data_plane_engine.py (its
fixtures) and observe the containers (Docker's State, their output) and what
DescribeTasks reports.
"""
import urllib.request

import pytest
from botocore.exceptions import ClientError

import test_data_plane_engine as engine_tests
from test_data_plane_engine import IMAGE
from test_data_plane_engine import create_service
from test_data_plane_engine import ours
from test_data_plane_engine import tasks
from test_data_plane_engine import until
from test_strict import client
from test_strict import launcher
from test_strict import started

emulator = engine_tests.emulator
aws = engine_tests.aws

# Stops at once on SIGTERM (a shell waiting in `sleep 600` would wait out the stop timeout).
IDLE = 'trap "exit 0" TERM; while true; do sleep 1; done'
# The sidecar: an HTTP server on port 8000 of the task's namespace, healthy once it answers on 127.0.0.1.
SERVE = "python3 -m http.server 8000 --bind 0.0.0.0 --directory /etc"
HEALTH = {"command": ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')"],
          "interval": 5, "timeout": 2, "retries": 2}
# The main container reaches the sidecar on 127.0.0.1 (one namespace), says so, then idles.
REACH = ("python3 -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/'); "
         "print('reached the sidecar', flush=True)\" && " + IDLE)


def container(name, command, essential=True, depends_on=None, **extra):
    found = {"name": name, "image": IMAGE, "command": ["sh", "-c", command], "essential": essential, **extra}
    if depends_on:
        found["dependsOn"] = [{"containerName": n, "condition": c} for n, c in depends_on.items()]
    return found


def register(ecs, containers):
    return ecs.register_task_definition(
        family="ordered", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=containers)["taskDefinition"]["taskDefinitionArn"]


# -- RegisterTaskDefinition (no Docker) --------------------------------------------------------

@pytest.fixture(scope="module")
def emulator_client(tmp_path_factory):
    """An emulator without a data plane (strict, the default): ECS's API alone."""
    control = started(tmp_path_factory, "depends-on")
    yield client(control, "ecs")
    launcher("stop", "--port", str(control["port"]), "--state-dir", control["state"])


REFUSED = [
    ([container("main", "true", depends_on={"ghost": "START"})],
     "Cannot depend on container + 'ghost' because it does not exist"),
    ([container("main", "true", depends_on={"init": "SUCCESS"}), container("init", "true")],
     "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container"),
    ([container("main", "true", depends_on={"init": "COMPLETE"}), container("init", "true")],
     "A dependency container with SUCCESS or COMPLETE condition cannot be an essential container"),
    ([container("main", "true", essential=False), container("side", "true", essential=False)],
     "Task definition must have at least one essential container."),
    ([container("main", "true"), container("main", "true", essential=False)],
     "Container names must be unique within a task definition. Duplicate: main"),
]


@pytest.mark.parametrize("containers, message", REFUSED)
def test_registration_refuses_what_ecs_refuses(emulator_client, containers, message):
    with pytest.raises(ClientError) as refused:
        register(emulator_client, containers)
    assert refused.value.response["Error"]["Code"] == "ClientException"
    assert refused.value.response["Error"]["Message"] == message


def test_registration_accepts_the_conditions_ecs_accepts(emulator_client):
    arn = register(emulator_client, [
        container("main", "true", depends_on={"init": "SUCCESS", "side": "HEALTHY", "log": "START"}),
        container("init", "true", essential=False), container("side", "true", healthCheck=HEALTH),
        container("log", "true", essential=False)])
    stored = emulator_client.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"]
    assert stored[0]["dependsOn"] == [{"containerName": "init", "condition": "SUCCESS"},
                                      {"containerName": "side", "condition": "HEALTHY"},
                                      {"containerName": "log", "condition": "START"}]


def test_an_unknown_condition_is_refused_by_the_api_enum(emulator_client):
    with pytest.raises(ClientError) as refused:
        register(emulator_client, [container("main", "true", depends_on={"side": "READY"}),
                                   container("side", "true")])
    assert "READY" in refused.value.response["Error"]["Message"]


# -- the data plane (Docker) --------------------------------------------------------------------

def docker_state(emulator, name):
    """The Docker container of the task's container `name` (or of its namespace holder)."""
    found = [c for c in ours(emulator["docker"], emulator["port"])
             if c.labels.get("com.amazonaws.ecs.container-name") == name]
    assert len(found) == 1, [c.name for c in ours(emulator["docker"], emulator["port"])]
    return found[0]


def by_name(task):
    return {c["name"]: c for c in task["containers"]}


def test_main_starts_once_its_sidecar_is_healthy_in_one_namespace_held_by_a_pause_container(aws, emulator):
    """The first container depends on the second: a holder keeps the
    namespace and the published port (127.0.0.1 only); the main container
    starts only after the sidecar's health check passed, and reaches it on
    127.0.0.1."""
    create_service(aws, register(aws["ecs"], [
        container("main", REACH, depends_on={"sidecar": "HEALTHY"}),
        container("sidecar", SERVE, healthCheck=HEALTH, portMappings=[{"containerPort": 8000}])]))
    pending = until(lambda: [t for t in tasks(aws) if by_name(t)["sidecar"]["lastStatus"] == "RUNNING"],
                    timeout=30, what="the sidecar running")[0]
    if pending["lastStatus"] == "PENDING":  # unless the check passed meanwhile: the main one waits
        assert by_name(pending)["main"]["lastStatus"] == "PENDING"
    task = until(lambda: [t for t in tasks(aws) if t["lastStatus"] == "RUNNING"], timeout=40,
                 what="the task running")[0]
    assert {c["name"]: (c["lastStatus"], c["healthStatus"]) for c in task["containers"]} == {
        "main": ("RUNNING", "UNKNOWN"), "sidecar": ("RUNNING", "HEALTHY")}
    sidecar, main = docker_state(emulator, "sidecar"), docker_state(emulator, "main")
    holder = docker_state(emulator, "~internal~ecs~pause")
    healthy_at = min(entry["End"] for entry in sidecar.attrs["State"]["Health"]["Log"] if entry["ExitCode"] == 0)
    assert main.attrs["State"]["StartedAt"] > healthy_at  # both RFC 3339 in UTC, same precision
    assert main.attrs["HostConfig"]["NetworkMode"] == sidecar.attrs["HostConfig"]["NetworkMode"] == \
        f"container:{holder.id}"
    until(lambda: b"reached the sidecar" in main.logs(), timeout=10, what="the main container's word")
    holder.reload()
    binding = holder.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1"
    with urllib.request.urlopen(f"http://127.0.0.1:{binding['HostPort']}/hostname", timeout=5) as answer:
        assert answer.status == 200  # the sidecar's server, through the holder's published port


def test_a_successful_init_container_lets_the_main_one_start_and_non_essential_exits_keep_the_task(aws, emulator):
    create_service(aws, register(aws["ecs"], [
        container("main", IDLE, depends_on={"init": "SUCCESS"}),
        container("init", "echo seeded", essential=False),
        container("side", "sleep 2; exit 3", essential=False)]))
    until(lambda: [t for t in tasks(aws) if by_name(t)["side"]["lastStatus"] == "STOPPED"], timeout=40,
          what="the non-essential sidecar exited")
    task = tasks(aws)[0]
    assert task["lastStatus"] == "RUNNING" and task["desiredStatus"] == "RUNNING"
    assert {c["name"]: (c["lastStatus"], c.get("exitCode")) for c in task["containers"]} == {
        "main": ("RUNNING", None), "init": ("STOPPED", 0), "side": ("STOPPED", 3)}
    init, main = docker_state(emulator, "init"), docker_state(emulator, "main")
    assert main.attrs["State"]["StartedAt"] > init.attrs["State"]["FinishedAt"]
    assert tasks(aws, "STOPPED") == []


def test_an_init_container_that_fails_stops_the_task_in_ecs_words(aws, emulator):
    create_service(aws, register(aws["ecs"], [
        container("main", IDLE, depends_on={"init": "SUCCESS"}),
        container("init", "exit 1", essential=False)]))
    stopped = until(lambda: tasks(aws, "STOPPED"), timeout=40, what="the task stopped")[0]
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    containers = by_name(stopped)
    assert containers["init"]["exitCode"] == 1
    assert containers["main"]["exitCode"] == 143
    assert containers["main"]["reason"] == (
        f"CannotStartContainerError: dependency graph: failed to resolve container ordering dependency "
        f"[init({IMAGE}) (STOPPED->RUNNING) - Exit: 1] for target [main({IMAGE}) (NONE->RUNNING)] "
        "as dependency did not exit successfully.")


def test_a_dependency_that_never_gets_healthy_within_its_start_timeout_stops_the_task(aws, emulator):
    failing = {"command": ["CMD-SHELL", "exit 1"], "interval": 5, "timeout": 2, "retries": 1}
    create_service(aws, register(aws["ecs"], [
        container("main", IDLE, depends_on={"sidecar": "HEALTHY"}),
        container("sidecar", IDLE, healthCheck=failing, startTimeout=3)]))
    stopped = until(lambda: tasks(aws, "STOPPED"), timeout=40, what="the task stopped")[0]
    assert (stopped["stopCode"], stopped["stoppedReason"]) == ("EssentialContainerExited",
                                                              "Essential container in task exited")
    containers = by_name(stopped)
    assert containers["main"]["exitCode"] == 143
    assert containers["main"]["reason"] == (
        f"CannotStartContainerError: dependency graph: container ordering dependency "
        f"[sidecar({IMAGE}) (RUNNING->RUNNING)] for target [main({IMAGE}) (NONE->RUNNING)] has timed out.")
    assert "startedAt" not in stopped  # it never ran
