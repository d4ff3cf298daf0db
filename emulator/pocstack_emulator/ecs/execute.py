"""ECS ExecuteCommand (ECS Exec) into the data plane's tasks.

AWS: ExecuteCommand hands out a Session Manager session ({sessionId,
streamUrl, tokenValue}) for one container of a RUNNING task, which the
session-manager-plugin then opens against ssmmessages. ECS refuses
- a task that was not run with execute command enabled (its service's
  enableExecuteCommand when the task was launched), or whose agent is not
  running: InvalidParameterException, in the words below;
- a task whose agent has no Session Manager channel: the agent in the task
  opens it through the task's own network interface (NAT, a public IP, or
  the ssmmessages interface endpoint) as the task role, which needs the four
  ssmmessages channel actions; without either: TargetNotConnectedException.
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
moto 5.2.5: has no ExecuteCommand.
Emulated: both refusals and the session's shape, judged on moto's state at
the call (the network through ec2/network.py's reach(), the task role
through iam/policy.py). Not emulated: the Session Manager data channel
itself; the stream URL leads nowhere here.

The texts are AWS's, as the AWS CLI prints them (seen in aws/aws-cli#6456,
#6070 and fabfuel/ecs-deploy#193); AWS writes "isn’t" with a typographic
apostrophe.
"""
import secrets
import uuid

from moto.ecs.exceptions import ECSException
from moto.ecs.exceptions import InvalidParameterException

from pocstack_emulator.ec2 import network
from pocstack_emulator.iam import policy

AGENT = "ExecuteCommandAgent"
CHANNEL_ACTIONS = ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                   "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel")
NOT_ENABLED = ("The execute command failed because execute command was not enabled when the task was run or the "
               "execute command agent isn\u2019t running. Wait and try again or run a new task with execute command "
               "enabled and try again.")
NOT_CONNECTED = "The execute command failed due to an internal error. Try again later."


class TargetNotConnectedException(ECSException):
    code = "TargetNotConnectedException"

    def __init__(self):
        super().__init__(NOT_CONNECTED)


def agent_blocked(task):
    """Why the task's ExecuteCommandAgent has no Session Manager channel, or None."""
    path, why = network.reach(task.backends["ec2"], task.region_name, task.subnet_id, task.private_ip,
                              task.public_ip, task.security_groups, "ssmmessages")
    if not path:
        return f"no path to ssmmessages: {why}"
    role = getattr(task.task_definition, "task_role_arn", None)
    if not role:
        return "the task definition has no task role"
    try:
        identity, boundary = policy.role_policies(task.backends["iam"], role.rsplit("/", 1)[-1])
    except Exception:  # the role is gone
        return f"the task role {role} does not exist"
    for action in CHANNEL_ACTIONS:
        allowed, why = policy.is_allowed(identity, boundary, action, "*")
        if not allowed:
            return f"the task role may not {action} ({why})"
    return None


def find_task(backend, cluster, task):
    """The data plane's task `task` (ARN or ID) of `cluster` (name or ARN)."""
    cluster_name = (cluster or "default").split("/")[-1]
    backend._get_cluster(cluster_name)  # ClusterNotFoundException, as ECS
    task_id = (task or "").split("/")[-1]
    for arn, found in backend.tasks.get(cluster_name, {}).items():
        if arn.split("/")[-1] == task_id:
            return found
    raise InvalidParameterException("The specified task was not found.")


def execute_command(backend, cluster, task, container, command, interactive):
    """ExecuteCommand's answer for one task, or AWS's refusal."""
    found = find_task(backend, cluster, task)
    if not hasattr(found, "subnet_id"):  # moto's own (RunTask) records run nothing: no agent runs
        raise InvalidParameterException(NOT_ENABLED)
    containers = [c for c in found.containers if container in (None, "", c.name)]
    if not containers:
        raise InvalidParameterException(f"The container {container} does not exist in the task.")
    target = containers[0]
    if not found.enable_execute_command or found.last_status != "RUNNING" or target.last_status != "RUNNING":
        raise InvalidParameterException(NOT_ENABLED)
    if agent_blocked(found):
        raise TargetNotConnectedException()
    session_id = f"ecs-execute-command-{uuid.uuid4().hex[:17]}"
    return {
        "clusterArn": found.cluster_arn,
        "containerArn": target.container_arn,
        "containerName": target.name,
        "interactive": bool(interactive),
        "session": {
            "sessionId": session_id,
            "streamUrl": f"wss://ssmmessages.{found.region_name}.amazonaws.com/v1/data-channel/{session_id}"
                         "?role=publish_subscribe",
            "tokenValue": secrets.token_urlsafe(96),
        },
        "taskArn": found.task_arn,
    }


def managed_agents(started_at):
    """What DescribeTasks reports for a container of an exec-enabled task: the
    agent process runs with the container (RUNNING says the process runs, not
    that its channel is connected: AWS's own note, aws/containers-roadmap#187)."""
    return [{"name": AGENT, "lastStatus": "RUNNING", "lastStartedAt": started_at}]


def install(plane):
    """ExecuteCommand as an action of moto's ECS responses (under the plane's lock)."""
    from moto.core.responses import ActionResult
    from moto.ecs import responses

    def execute_command_(self):
        with plane.lock:
            answer = execute_command(self.ecs_backend, self._get_param("cluster", "default"),
                                     self._get_param("task"), self._get_param("container"),
                                     self._get_param("command"), self._get_param("interactive", False))
        return ActionResult(answer)

    responses.EC2ContainerServiceResponse.execute_command = execute_command_
