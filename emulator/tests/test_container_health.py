"""Container health checks on the data plane, through the AWS API alone: the
task definition's healthCheck runs as the container's Docker healthcheck,
DescribeTasks reports the container's and the task's healthStatus, and a
service's task whose essential container turns UNHEALTHY is stopped ("Task
failed container health checks") and replaced, as on ECS.

Same emulator, engine and image as test_data_plane_engine.py (its fixtures).
"""
import time
from types import SimpleNamespace

import pytest

import test_data_plane_engine as engine_tests
from pocstack_emulator.ecs.tasks import docker_healthcheck
from pocstack_emulator.ecs.tasks import task_health
from test_data_plane_engine import IMAGE
from test_data_plane_engine import create_service
from test_data_plane_engine import ours
from test_data_plane_engine import service
from test_data_plane_engine import tasks
from test_data_plane_engine import until

# The same fixtures (one emulator for this module).
emulator = engine_tests.emulator
aws = engine_tests.aws

# Stops at once on SIGTERM (a shell waiting in `sleep 600` would wait out the stop timeout).
IDLE = 'trap "exit 0" TERM; while true; do sleep 1; done'


def register(aws, containers):
    return aws["ecs"].register_task_definition(
        family="checked", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=containers)["taskDefinition"]["taskDefinitionArn"]


def container(name, health_check=None, essential=True):
    found = {"name": name, "image": IMAGE, "command": ["sh", "-c", IDLE], "essential": essential}
    if health_check:
        found["healthCheck"] = health_check
    return found


def test_a_failing_check_stops_the_task_in_ecs_words_and_the_service_replaces_it(aws):
    create_service(aws, register(aws, [container("main", {"command": ["CMD-SHELL", "exit 1"], "interval": 5,
                                                          "timeout": 2, "retries": 1})]))
    stopped = until(lambda: tasks(aws, "STOPPED"), timeout=60, what="the unhealthy task stopped")[0]
    assert stopped["stoppedReason"] == "Task failed container health checks"
    assert stopped["stopCode"] == "ServiceSchedulerInitiated"
    assert stopped["healthStatus"] == "UNHEALTHY"
    assert [c["healthStatus"] for c in stopped["containers"]] == ["UNHEALTHY"]
    replacement = until(lambda: [t for t in tasks(aws) if t["taskArn"] != stopped["taskArn"]], timeout=30,
                        what="a replacement task")[0]
    assert replacement["healthStatus"] in ("UNKNOWN", "UNHEALTHY")
    events = [e["message"] for e in service(aws)["events"]]
    assert f"(service s) (task {stopped['taskArn'].rsplit('/', 1)[-1]}) failed container health checks." in events
    assert service(aws)["deployments"][0]["failedTasks"] >= 1


def test_a_passing_check_reports_healthy_and_unchecked_containers_unknown(aws, emulator):
    create_service(aws, register(aws, [
        container("main", {"command": ["CMD", "true"], "interval": 5, "timeout": 2, "retries": 2, "startPeriod": 1}),
        container("sidecar", essential=False),
    ]))
    task = until(lambda: [t for t in tasks(aws) if t.get("healthStatus") == "HEALTHY"], timeout=60,
                 what="a HEALTHY task")[0]
    assert {c["name"]: c["healthStatus"] for c in task["containers"]} == {"main": "HEALTHY", "sidecar": "UNKNOWN"}
    by_name = {c.labels["com.amazonaws.ecs.container-name"]: c for c in ours(emulator["docker"], emulator["port"])}
    main, sidecar = by_name["main"].attrs["Config"]["Healthcheck"], by_name["sidecar"].attrs["Config"]["Healthcheck"]
    assert main == {"Test": ["CMD", "true"], "Interval": 5 * 10 ** 9, "Timeout": 2 * 10 ** 9, "Retries": 2,
                    "StartPeriod": 1 * 10 ** 9}
    assert sidecar == {"Test": ["NONE"]}  # ECS runs no HEALTHCHECK the image brings along
    until(lambda: "(service s) has reached a steady state." in [e["message"] for e in service(aws)["events"]],
          timeout=30, what="the steady state")
    time.sleep(1)
    assert not tasks(aws, "STOPPED")


def test_ecs_defaults_fill_in_what_a_health_check_leaves_out():
    assert docker_healthcheck({"healthCheck": {"command": ["CMD-SHELL", "exit 0"]}}) == {
        "test": ["CMD-SHELL", "exit 0"], "interval": 30 * 10 ** 9, "timeout": 5 * 10 ** 9, "retries": 3,
        "start_period": 0}
    assert docker_healthcheck({}) == {"test": ["NONE"]}


def checked(status, essential=True, check=True):
    definition = {"healthCheck": {"command": ["CMD", "true"]}} if check else {}
    return SimpleNamespace(health_status=status, essential=essential, definition=definition)


@pytest.mark.parametrize("containers, expected", [
    ([], "UNKNOWN"),
    ([checked("UNKNOWN", check=False)], "UNKNOWN"),
    ([checked("HEALTHY")], "HEALTHY"),
    ([checked("HEALTHY"), checked("UNKNOWN", check=False)], "HEALTHY"),  # unchecked containers do not count
    ([checked("HEALTHY"), checked("UNHEALTHY", essential=False)], "HEALTHY"),  # nor do non-essential ones
    ([checked("HEALTHY"), checked("UNKNOWN")], "UNKNOWN"),
    ([checked("UNKNOWN"), checked("UNHEALTHY")], "UNHEALTHY"),
])
def test_a_task_is_as_healthy_as_its_essential_checked_containers(containers, expected):
    assert task_health(containers) == expected
