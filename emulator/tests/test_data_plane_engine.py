"""The data plane's mechanics through the AWS API alone (boto3, no playbook):
tasks follow the desired count, stop and exit as ECS says, fail their
start-up checks with Fargate's words, log to CloudWatch Logs, and leave no
container behind on a reset or at exit.

Needs a Docker engine with the local base image (emulator/docker-setup.sh
start); skipped without one, except in CI. The image is a local one (not
ECR), so no registry is needed here; tests/integration/test_data_plane*.py
cover the ECR path with the collection's own deploys.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest

from pocstack_emulator.docker_engine import own_containers

LAUNCHER = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "pocstack-emulator"))
IMAGE = os.environ.get("POCSTACK_BASE_IMAGE", "pocstack/python-base:bookworm")
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine():
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.images.get(IMAGE)
        return client
    except Exception as e:  # no SDK, no engine, no image
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Docker engine with {IMAGE} ({type(e).__name__}: {e}); emulator/docker-setup.sh start")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    docker = engine()
    port = free_port()
    state = str(tmp_path_factory.mktemp("data-plane-engine"))
    run = [sys.executable, LAUNCHER]
    started = subprocess.run([*run, "start", "--port", str(port), "--state-dir", state, "--data-plane", "auto"],
                             capture_output=True, text=True, timeout=90)
    assert started.returncode == 0, started.stdout + started.stderr
    assert "data plane: ECS tasks run as containers on Docker" in started.stdout, started.stdout
    yield {"port": port, "docker": docker, "url": f"http://127.0.0.1:{port}"}
    subprocess.run([*run, "stop", "--port", str(port), "--state-dir", state], timeout=60, check=True)
    assert not ours(docker, port), "containers left after the emulator stopped"


def ours(docker, port):
    return own_containers(docker, port)


@pytest.fixture
def aws(emulator):
    urllib.request.urlopen(urllib.request.Request(emulator["url"] + "/moto-api/reset", method="POST"), timeout=30)
    assert not ours(emulator["docker"], emulator["port"]), "a reset left containers behind"
    kw = dict(endpoint_url=emulator["url"], region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    found = {name: boto3.client(name, **kw) for name in ("ec2", "ecs", "iam", "logs")}
    found.update(network(found["ec2"]))
    found["ecs"].create_cluster(clusterName="c")
    return found


def network(ec2):
    """A public subnet (internet gateway) and a private one with no way out."""
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=table, SubnetId=public)
    return {"public": public, "private": private}


def task_definition(aws, command, family="sleeper", logs=False, role=None, task_role=None):
    container = {"name": "main", "image": IMAGE, "command": ["sh", "-c", command], "essential": True}
    extra = {}
    if logs:
        container["logConfiguration"] = {"logDriver": "awslogs", "options": {
            "awslogs-group": "/test/sleeper", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}
    if role:
        extra["executionRoleArn"] = role
    if task_role:
        extra["taskRoleArn"] = task_role
    return aws["ecs"].register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[container], **extra)["taskDefinition"]["taskDefinitionArn"]


def create_service(aws, definition, count=1, subnet="public", breaker=False, execute_command=False):
    aws["ecs"].create_service(
        cluster="c", serviceName="s", taskDefinition=definition, desiredCount=count, launchType="FARGATE",
        enableExecuteCommand=execute_command,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": breaker, "rollback": breaker},
                                 "maximumPercent": 200, "minimumHealthyPercent": 100},
        networkConfiguration={"awsvpcConfiguration": {"subnets": [aws[subnet]],
                                                      "assignPublicIp": "ENABLED" if subnet == "public" else "DISABLED"}})


def service(aws):
    return aws["ecs"].describe_services(cluster="c", services=["s"])["services"][0]


def tasks(aws, status="RUNNING"):
    arns = aws["ecs"].list_tasks(cluster="c", serviceName="s", desiredStatus=status)["taskArns"]
    return aws["ecs"].describe_tasks(cluster="c", tasks=arns)["tasks"] if arns else []


def until(check, timeout=60, what="it"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    pytest.fail(f"{what} did not happen within {timeout} s")


def test_the_desired_count_is_the_number_of_containers(aws, emulator):
    create_service(aws, task_definition(aws, "sleep 300"), count=2)
    until(lambda: service(aws)["runningCount"] == 2, what="2 running tasks")
    running = tasks(aws)
    assert len(running) == 2 and {t["lastStatus"] for t in running} == {"RUNNING"}
    assert len(ours(emulator["docker"], emulator["port"])) == 2
    # Each task has its own interface and private IP in the subnet, spread as ECS spreads.
    ips = {t["containers"][0]["networkInterfaces"][0]["privateIpv4Address"] for t in running}
    assert len(ips) == 2 and all(ip.startswith("10.9.0.") for ip in ips)
    until(lambda: service(aws)["events"][0]["message"] == "(service s) has reached a steady state.",
          what="the steady state")
    aws["ecs"].update_service(cluster="c", service="s", desiredCount=0)
    until(lambda: not ours(emulator["docker"], emulator["port"]), what="the containers removed")
    stopped = tasks(aws, "STOPPED")
    assert {(t["lastStatus"], t["stopCode"]) for t in stopped} == {("STOPPED", "ServiceSchedulerInitiated")}
    assert all(t["stoppedReason"].startswith("Scaling activity initiated by (deployment ecs-svc/") for t in stopped)
    assert tasks(aws) == []  # ListTasks lists RUNNING tasks unless told otherwise


def test_an_essential_container_that_exits_trips_the_circuit_breaker(aws):
    create_service(aws, task_definition(aws, "echo starting; exit 3"), breaker=True)
    failed = until(lambda: service(aws)["deployments"][0]["rolloutState"] == "FAILED" and service(aws),
                   what="the circuit breaker")
    deployment = failed["deployments"][0]
    assert deployment["failedTasks"] == 3 and deployment["rolloutStateReason"] == \
        "ECS deployment circuit breaker: tasks failed to start."
    stopped = tasks(aws, "STOPPED")
    assert stopped and all(t["stopCode"] == "EssentialContainerExited" for t in stopped)
    assert all(t["stoppedReason"] == "Essential container in task exited" for t in stopped)
    assert {t["containers"][0]["exitCode"] for t in stopped} == {3}
    time.sleep(2)
    assert tasks(aws) == []  # a failed deployment with nothing to roll back to gets no more tasks


def test_user_stopped_task_is_replaced(aws):
    create_service(aws, task_definition(aws, "sleep 300"))
    [first] = until(lambda: [t for t in tasks(aws) if t["lastStatus"] == "RUNNING"], what="a running task")
    aws["ecs"].stop_task(cluster="c", task=first["taskArn"], reason="testing")
    [stopped] = until(lambda: tasks(aws, "STOPPED"), what="the stopped task")
    assert (stopped["stopCode"], stopped["stoppedReason"]) == ("UserInitiated", "testing")
    [second] = until(lambda: [t for t in tasks(aws) if t["lastStatus"] == "RUNNING"], what="a replacement")
    assert second["taskArn"] != first["taskArn"]


def test_a_role_ecs_cannot_assume_stops_the_task_in_ecs_words(aws):
    ec2_trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = aws["iam"].create_role(RoleName="wrong-trust", AssumeRolePolicyDocument=json.dumps(ec2_trust))["Role"]["Arn"]
    create_service(aws, task_definition(aws, "sleep 300", role=role))
    [stopped] = until(lambda: tasks(aws, "STOPPED")[:1], what="the stopped task")
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"] == (
        f"ECS was unable to assume the role '{role}' that was provided for this task. Please verify that the role "
        "being passed has the proper trust relationship and permissions and that your IAM user has permissions to "
        "pass this role.")


def logging_role(aws, allowed=True):
    role = aws["iam"].create_role(RoleName="exec", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"] if allowed else ["logs:CreateLogStream"]
    aws["iam"].put_role_policy(RoleName="exec", PolicyName="logs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions,
                                                 "Resource": "arn:aws:logs:us-east-1:*:log-group:/test/sleeper:*"}]}))
    aws["logs"].create_log_group(logGroupName="/test/sleeper")
    return role


def test_stdout_reaches_the_task_log_stream(aws):
    create_service(aws, task_definition(aws, "echo hello from the task; sleep 300", logs=True, role=logging_role(aws)))
    [task] = until(lambda: [t for t in tasks(aws) if t["lastStatus"] == "RUNNING"], what="a running task")
    stream = f"ecs/main/{task['taskArn'].rsplit('/', 1)[1]}"
    events = until(lambda: aws["logs"].filter_log_events(logGroupName="/test/sleeper",
                                                         logStreamNames=[stream])["events"], what="a log event")
    assert [e["message"] for e in events] == ["hello from the task"]


def test_a_role_that_may_not_put_log_events_stops_the_task(aws):
    create_service(aws, task_definition(aws, "sleep 300", logs=True, role=logging_role(aws, allowed=False)))
    [stopped] = until(lambda: tasks(aws, "STOPPED")[:1], what="the stopped task")
    reason = stopped["stoppedReason"]
    assert reason.startswith("ResourceInitializationError: failed to validate logger args: create stream has been "
                             "retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: User: "
                             "arn:aws:sts::123456789012:assumed-role/exec/")
    assert "is not authorized to perform: logs:PutLogEvents on resource: arn:aws:logs:us-east-1:123456789012:" \
           "log-group:/test/sleeper:log-stream:ecs/main/" in reason


def test_a_private_subnet_with_no_way_out_cannot_reach_cloudwatch_logs(aws):
    create_service(aws, task_definition(aws, "sleep 300", logs=True, role=logging_role(aws)), subnet="private")
    [stopped] = until(lambda: tasks(aws, "STOPPED")[:1], what="the stopped task")
    assert stopped["stoppedReason"] == (
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
        "failed to create Cloudwatch log stream: RequestError: send request failed caused by: "
        'Post "https://logs.us-east-1.amazonaws.com/": dial tcp 52.46.152.12:443: i/o timeout : exit status 1')


EXEC_CHANNEL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel"]}]}


def exec_task(aws, enabled):
    role = aws["iam"].create_role(RoleName="task", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    aws["iam"].put_role_policy(RoleName="task", PolicyName="exec", PolicyDocument=json.dumps(EXEC_CHANNEL))
    create_service(aws, task_definition(aws, "sleep 300", task_role=role), execute_command=enabled)
    [task] = until(lambda: [t for t in tasks(aws) if t["lastStatus"] == "RUNNING"], what="a running task")
    return task


def execute(aws, task):
    return aws["ecs"].execute_command(cluster="c", task=task["taskArn"], container="main", command="/bin/sh",
                                      interactive=True)


def test_ecs_exec_opens_a_session_while_the_agent_can_reach_ssmmessages_as_the_task_role(aws):
    task = exec_task(aws, enabled=True)
    [agent] = task["containers"][0]["managedAgents"]
    assert (agent["name"], agent["lastStatus"]) == ("ExecuteCommandAgent", "RUNNING") and agent["lastStartedAt"]
    answer = execute(aws, task)
    session = answer["session"]
    assert (answer["taskArn"], answer["clusterArn"], answer["containerName"], answer["interactive"]) == (
        task["taskArn"], task["clusterArn"], "main", True)
    assert answer["containerArn"] == task["containers"][0]["containerArn"]
    assert session["streamUrl"] == (f"wss://ssmmessages.us-east-1.amazonaws.com/v1/data-channel/"
                                    f"{session['sessionId']}?role=publish_subscribe")
    assert session["tokenValue"]
    # Without the channel actions the agent cannot connect: ECS's words, at the call.
    aws["iam"].delete_role_policy(RoleName="task", PolicyName="exec")
    with pytest.raises(aws["ecs"].exceptions.TargetNotConnectedException) as refused:
        execute(aws, task)
    assert refused.value.response["Error"]["Message"] == \
        "The execute command failed due to an internal error. Try again later."


def test_ecs_exec_into_a_task_run_without_it_is_refused_in_ecs_words(aws):
    task = exec_task(aws, enabled=False)
    assert not task["containers"][0].get("managedAgents")
    with pytest.raises(aws["ecs"].exceptions.InvalidParameterException) as refused:
        execute(aws, task)
    assert refused.value.response["Error"]["Message"] == (
        "The execute command failed because execute command was not enabled when the task was run or the execute "
        "command agent isn\u2019t running. Wait and try again or run a new task with execute command enabled and "
        "try again.")


def test_reset_and_exit_remove_every_container(emulator):
    """The module's fixtures assert it: after every reset (aws) and after the
    emulator stops (emulator); here the reset once more, with tasks running."""
    kw = dict(endpoint_url=emulator["url"], region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    urllib.request.urlopen(urllib.request.Request(emulator["url"] + "/moto-api/reset", method="POST"), timeout=30)
    ec2, ecs = boto3.client("ec2", **kw), boto3.client("ecs", **kw)
    subnets = network(ec2)
    ecs.create_cluster(clusterName="c")
    aws = {"ecs": ecs, **subnets}
    create_service(aws, task_definition(aws, "sleep 300"), count=3)
    until(lambda: len(ours(emulator["docker"], emulator["port"])) == 3, what="3 containers")
    urllib.request.urlopen(urllib.request.Request(emulator["url"] + "/moto-api/reset", method="POST"), timeout=30)
    until(lambda: not ours(emulator["docker"], emulator["port"]), timeout=10, what="no container after the reset")


def test_without_an_engine_the_emulator_says_why_and_runs_no_task(tmp_path):
    port = free_port()
    run = [sys.executable, LAUNCHER]
    started = subprocess.run([*run, "start", "--port", str(port), "--state-dir", str(tmp_path), "--data-plane", "off"],
                             capture_output=True, text=True, timeout=90)
    try:
        assert started.returncode == 0
        assert ("data plane off: turned off (--data-plane off); ECS services get no tasks (control plane only)"
                in started.stdout)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_pocstack/dataplane", timeout=10) as resp:
            found = json.load(resp)
        assert {k: found[k] for k in ("enabled", "reason", "engine", "tasks")} == {
            "enabled": False, "reason": "turned off (--data-plane off)", "engine": None, "tasks": []}
    finally:
        subprocess.run([*run, "stop", "--port", str(port), "--state-dir", str(tmp_path)], timeout=60)


def test_an_unreachable_engine_is_named_in_one_line(tmp_path):
    port = free_port()
    run = [sys.executable, LAUNCHER]
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    started = subprocess.run([*run, "start", "--port", str(port), "--state-dir", str(tmp_path), "--data-plane", "auto"],
                             capture_output=True, text=True, timeout=90, env=env)
    try:
        lines = [line for line in started.stdout.splitlines() if line.startswith("data plane")]
        assert len(lines) == 1 and lines[0].startswith(
            "data plane off: no Docker engine answers at unix:///nonexistent/docker.sock")
    finally:
        subprocess.run([*run, "stop", "--port", str(port), "--state-dir", str(tmp_path)], timeout=60)
