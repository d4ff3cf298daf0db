"""ECS Exec into the plotly PoC on the emulator's data plane, deployed by
site.yml as a user runs it: tasks in private subnets that reach AWS only
through the local inventory's VPC endpoints, with poc_enable_execute_command.

The tests run in order on one deployment: deploy (site.yml adds the
ssmmessages endpoint) → `execute-command` gets a session → a re-run changes
nothing → without the ssmmessages endpoint ECS refuses as AWS does.
"""
import pytest

from data_plane import deploy
from data_plane import eventually
from data_plane import stack_of
from data_plane import tasks
from harness import stats

REGION = "us-east-1"
SSMMESSAGES = f"com.amazonaws.{REGION}.ssmmessages"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from stack_of(tmp_path_factory.mktemp("ecs-exec"),
                        [("plotly", {"poc_enable_execute_command": True, "poc_priority": 100})])


def endpoints(aws, service_name=None):
    filters = [{"Name": "vpc-endpoint-state", "Values": ["available", "pending"]}]
    if service_name:
        filters.append({"Name": "service-name", "Values": [service_name]})
    return aws["ec2"].describe_vpc_endpoints(Filters=filters)["VpcEndpoints"]


def running_task(aws):
    return eventually(lambda: (lambda found: found[0] if len(found) == 1 and found[0]["lastStatus"] == "RUNNING"
                               else None)(tasks(aws, "plotly")), timeout=120, what="one running plotly task")


def execute(aws, task):
    return aws["ecs"].execute_command(cluster="pocstack", task=task["taskArn"], container="plotly",
                                      command="/bin/sh", interactive=True)


def test_deploy_adds_the_ssmmessages_endpoint_where_the_tasks_use_endpoints(stack, measured):
    deploy(stack, measured, "deploy with ECS Exec")
    aws = stack["aws"]
    [endpoint] = endpoints(aws, SSMMESSAGES)
    assert endpoint["VpcEndpointType"] == "Interface" and endpoint["PrivateDnsEnabled"]
    task_subnets = aws["ecs"].describe_services(cluster="pocstack", services=["plotly"])["services"][0][
        "networkConfiguration"]["awsvpcConfiguration"]["subnets"]
    assert sorted(endpoint["SubnetIds"]) == sorted(task_subnets)
    # The inventory's five, plus ssmmessages: nothing else.
    names = sorted(e["ServiceName"].rsplit(".", 1)[-1] if "ecr." not in e["ServiceName"]
                   else e["ServiceName"].split(f"{REGION}.", 1)[1] for e in endpoints(aws))
    assert names == ["ecr.api", "ecr.dkr", "logs", "s3", "ssm", "ssmmessages"]


def test_execute_command_opens_a_session_in_the_running_container(stack):
    aws = stack["aws"]
    task = running_task(aws)
    [container] = task["containers"]
    [agent] = container["managedAgents"]
    assert (agent["name"], agent["lastStatus"]) == ("ExecuteCommandAgent", "RUNNING")
    answer = execute(aws, task)
    assert (answer["clusterArn"], answer["taskArn"], answer["containerName"], answer["containerArn"],
            answer["interactive"]) == (task["clusterArn"], task["taskArn"], "plotly", container["containerArn"], True)
    session = answer["session"]
    assert session["streamUrl"] == (f"wss://ssmmessages.{REGION}.amazonaws.com/v1/data-channel/"
                                    f"{session['sessionId']}?role=publish_subscribe")
    assert session["tokenValue"]


def test_a_rerun_changes_nothing(stack, measured):
    out = deploy(stack, measured, "re-run")
    assert {host: counts["changed"] for host, counts in stats(out).items()} == {"localhost": 0, "plotly": 0}


def test_without_the_ssmmessages_endpoint_ecs_exec_cannot_connect(stack):
    aws = stack["aws"]
    [endpoint] = endpoints(aws, SSMMESSAGES)
    aws["ec2"].delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    task = running_task(aws)  # it keeps running: ECS Exec is not needed to run
    with pytest.raises(aws["ecs"].exceptions.TargetNotConnectedException) as refused:
        execute(aws, task)
    assert refused.value.response["Error"]["Message"] == \
        "The execute command failed due to an internal error. Try again later."
