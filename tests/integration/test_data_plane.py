"""The plotly PoC's life on the emulator's data plane, through site.yml and
teardown.yml as a user runs them: every behaviour is observed on the real
container (its published 127.0.0.1 port, the Docker engine, its CloudWatch
Logs stream), not read back from stored settings.

The tests run in order on one deployment: deploy → a re-run (unchanged) and
a health check change in --check --diff → a changed secret → scaling
1→3→1 → a crashing change the circuit breaker rolls back → teardown.
"""
import ipaddress

import pytest

from data_plane import containers_of
from data_plane import deploy
from data_plane import eventually
from data_plane import http_status
from data_plane import published
from data_plane import service
from data_plane import stack_of
from data_plane import tasks
from harness import changed_tasks
from harness import failure_message
from harness import results
from harness import run
from harness import set_service
from harness import stats
from harness import task_name

PASSWORD = "dp-Secret-1"
NEW_PASSWORD = "dp-Secret-2"
TASK_DEFINITION = "task | Task definition (secrets by valueFrom, awslogs)"


def secrets(password):
    return [{"name": "PLOTLY_USER", "value": "tester"}, {"name": "PLOTLY_PASS", "value": password}]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from stack_of(tmp_path_factory.mktemp("data-plane"),
                        [("plotly", {"poc_secrets": secrets(PASSWORD), "poc_priority": 100})])


def the_container(stack):
    """The one running task's container (after any draining has ended)."""
    running = eventually(lambda: (lambda found: found if len(found) == 1 else None)(containers_of(stack["port"])),
                         timeout=120, what="exactly one running container")
    return next(iter(running.items()))


def test_deploy_runs_the_app_built_from_files_app_as_a_container(stack, measured):
    deploy(stack, measured, "first deploy")
    aws = stack["aws"]
    task_arn, container = the_container(stack)
    [task] = tasks(aws, "plotly")
    assert task["taskArn"] == task_arn and task["lastStatus"] == "RUNNING"
    # The image the task definition names, by digest, is what runs.
    definition = aws["ecs"].describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    image = definition["containerDefinitions"][0]["image"]
    assert "@sha256:" in image and image.endswith(task["containers"][0]["imageDigest"])
    assert container.image.id  # pulled from the registry behind ECR by that digest
    # Limits from the task definition: 256 CPU units, 512 MiB.
    assert container.attrs["HostConfig"]["NanoCpus"] == 256 * 10 ** 9 // 1024
    assert container.attrs["HostConfig"]["Memory"] == 512 * 2 ** 20
    # Its private IP comes from one of the task subnets; the ENI exists while it runs.
    ip = task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
    subnets = aws["ec2"].describe_subnets(SubnetIds=service(aws, "plotly")["networkConfiguration"]["awsvpcConfiguration"]["subnets"])
    assert any(ipaddress.ip_address(ip) in ipaddress.ip_network(s["CidrBlock"]) for s in subnets["Subnets"])
    assert aws["ec2"].describe_network_interfaces(Filters=[{"Name": "private-ip-address", "Values": [ip]}])["NetworkInterfaces"]
    # The app answers on its published loopback port: /health without login, the
    # dashboard only with the secret ECS injected from SSM.
    url = published(container)
    assert http_status(url + "/health") == 200
    assert http_status(url + "/", "tester", PASSWORD) == 200
    assert http_status(url + "/", "tester", "wrong") == 401
    # The target is healthy in the service's target group, checked by the emulator.
    group = service(aws, "plotly")["loadBalancers"][0]["targetGroupArn"]
    health = aws["elbv2"].describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    assert [(h["Target"]["Id"], h["TargetHealth"]["State"]) for h in health] == [(ip, "healthy")]
    # What gunicorn printed is in the task's stream (what `aws logs tail` reads).
    stream = f"ecs/plotly/{task_arn.rsplit('/', 1)[1]}"
    events = eventually(lambda: aws["logs"].filter_log_events(logGroupName="/pocstack/plotly",
                                                              logStreamNames=[stream])["events"],
                        what="log events in " + stream)
    assert any("Listening at: http://0.0.0.0:8050" in e["message"] for e in events)
    messages = [e["message"] for e in service(aws, "plotly")["events"]]
    assert messages[0] == "(service plotly) has reached a steady state."
    # files/app's own HEALTHCHECK is the task definition's container health
    # check (ECS runs no other), run by Docker and reported HEALTHY.
    check = definition["containerDefinitions"][0]["healthCheck"]
    assert check["command"][:2] == ["CMD", "python3"] and "/health" in check["command"][-1]
    assert (check["interval"], check["timeout"], check["retries"], check["startPeriod"]) == (10, 3, 3, 10)
    assert container.attrs["Config"]["Healthcheck"]["Test"] == check["command"]
    [task] = tasks(aws, "plotly")
    assert task["healthStatus"] == "HEALTHY" and task["containers"][0]["healthStatus"] == "HEALTHY"


def test_a_re_run_is_unchanged_and_check_diff_shows_a_health_check_change(stack, measured):
    rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    assert stats(out)["plotly"]["changed"] == 0, changed_tasks(out, "plotly")
    set_service(stack["inventory"], "plotly", {"poc_health_check": {"command": ["CMD-SHELL", "exit 0"], "interval": 5}})
    try:
        rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=plotly", "--check", "--diff"])
    finally:
        set_service(stack["inventory"], "plotly", {"poc_health_check": None})
    assert rc == 0, failure_message(out)
    [result] = [task["hosts"]["plotly"] for play in results(out)["plays"] for task in play["tasks"]
                if task_name(task) == TASK_DEFINITION]
    assert result["changed"] and result["changes"] == ["containerDefinitions[plotly].healthCheck.command",
                                                       "containerDefinitions[plotly].healthCheck.interval",
                                                       "containerDefinitions[plotly].healthCheck.startPeriod",
                                                       "containerDefinitions[plotly].healthCheck.timeout"]
    after = result["diff"]["after"]["containerDefinitions"][0]["healthCheck"]
    assert after == {"command": ["CMD-SHELL", "exit 0"], "interval": 5, "timeout": 5, "retries": 3}
    assert len(stack["aws"]["ecs"].list_task_definitions(familyPrefix="plotly")["taskDefinitionArns"]) == 1


def test_a_changed_secret_rolls_the_service_to_a_task_that_sees_it(stack, measured):
    aws = stack["aws"]
    old_arn, _ = the_container(stack)
    set_service(stack["inventory"], "plotly", {"poc_secrets": secrets(NEW_PASSWORD)})
    deploy(stack, measured, "secret change")
    new_arn, container = the_container(stack)
    assert new_arn != old_arn
    url = published(container)
    assert http_status(url + "/", "tester", NEW_PASSWORD) == 200
    assert http_status(url + "/", "tester", PASSWORD) == 401
    [old] = aws["ecs"].describe_tasks(cluster="pocstack", tasks=[old_arn])["tasks"]
    assert old["lastStatus"] == "STOPPED" and old["stopCode"] == "ServiceSchedulerInitiated"
    assert old["stoppedReason"].startswith("Scaling activity initiated by (deployment ecs-svc/")
    assert [d["status"] for d in service(aws, "plotly")["deployments"]] == ["PRIMARY"]


@pytest.mark.parametrize("count", [3, 1])
def test_the_desired_count_runs_exactly_that_many_containers(stack, measured, count):
    aws = stack["aws"]
    set_service(stack["inventory"], "plotly", {"poc_desired_count": count})
    deploy(stack, measured, f"desired count {count}")
    running = eventually(lambda: (lambda found: found if len(found) == count else None)(containers_of(stack["port"])),
                         timeout=120, what=f"{count} running containers")
    assert {t["taskArn"] for t in tasks(aws, "plotly")} == set(running)
    for container in running.values():
        assert http_status(published(container) + "/health") == 200
    assert service(aws, "plotly")["runningCount"] == count


def test_a_crashing_change_is_rolled_back_and_the_old_task_keeps_serving(stack, measured):
    aws = stack["aws"]
    before_arn, before = the_container(stack)
    good_definition = service(aws, "plotly")["taskDefinition"]
    set_service(stack["inventory"], "plotly", {"poc_environment": {"PORT": "oops"}})
    rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=plotly"])
    message = failure_message(out)
    assert rc != 0
    assert "was rolled back by the deployment circuit breaker" in message, message
    assert "EssentialContainerExited: Essential container in task exited" in message, message
    assert "container plotly: exit code 1" in message, message
    # The diagnosis quotes what the app said as it died.
    assert "PORT must be a whole number, got 'oops'" in message, message
    # ECS rolled back to the last completed task definition; the old task served throughout.
    assert eventually(lambda: service(aws, "plotly")["taskDefinition"] == good_definition, what="the rollback")
    assert http_status(published(before) + "/", "tester", NEW_PASSWORD) == 200
    failed = [d for d in service(aws, "plotly")["deployments"] if d["rolloutState"] == "FAILED"]
    assert all(d["failedTasks"] >= 3 for d in failed)
    stopped = tasks(aws, "plotly", desired_status="STOPPED")
    assert any(t["stopCode"] == "EssentialContainerExited" and t["containers"][0]["exitCode"] == 1 for t in stopped)
    # Fixed in the inventory, the next run deploys again and converges.
    set_service(stack["inventory"], "plotly", {"poc_environment": {"PORT": "8050"}})
    deploy(stack, measured, "after the fix")
    eventually(lambda: len(containers_of(stack["port"])) == 1, what="one container after the fix")
    measured(f"rolled back from {before_arn.rsplit('/', 1)[1][:12]}")


def test_teardown_leaves_no_container_interface_or_target(stack, measured):
    aws = stack["aws"]
    group = service(aws, "plotly")["loadBalancers"][0]["targetGroupArn"]
    rc, out = run(stack["inventory"], stack["port"], playbook="playbooks/teardown.yml",
                  extra=["-e", "service=plotly", "-e", "teardown_shared=true"])
    assert rc == 0, failure_message(out)
    eventually(lambda: not containers_of(stack["port"], running_only=False), timeout=120,
               what="every container of the emulator removed")
    assert service(aws, "plotly")["status"] == "INACTIVE"
    assert not tasks(aws, "plotly")
    interfaces = aws["ec2"].describe_network_interfaces()["NetworkInterfaces"]
    assert not [i for i in interfaces if i.get("Description", "").startswith("arn:aws:ecs:")]
    groups = aws["elbv2"].describe_target_groups()["TargetGroups"]
    assert group not in [g["TargetGroupArn"] for g in groups]
