# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for an ECS service rollout to finish, and say why when it does not.

Three layers, so that the judgement and the wording are tested without AWS:
- small wrappers around the read calls (each takes a client made with
  retry_decorator=AWSRetry.jittered_backoff() and passes aws_retry=True);
- pure functions: `assess` judges one DescribeServices answer, `summarise_*`
  turn AWS shapes into the module's return values, `hints` and `render`
  write the diagnosis;
- `wait_for_rollout`, the polling loop, with an injectable clock and sleep.

Written here because community.aws.ecs_service's `wait` and boto3's
`services_stable` waiter only answer "stable or not": they neither stop early
when the circuit breaker has failed or rolled back the deployment, nor say
which task stopped, with what reason, or why the targets are unhealthy.
"""

import math
import re

try:
    import botocore
except ImportError:
    pass  # the module using this fails with AnsibleAWSModule's message

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils.ecs import describe_service as describe_ecs_service
from ansible_collections.pocstack.aws.plugins.module_utils.ecs_services import TASK_DEFINITION

# Stopped tasks read for a diagnosis: DescribeTasks shows stopped tasks for at
# least an hour, and a crash-looping service stops many; 100 are plenty.
MAX_TASKS = 100
# Stopped tasks and targets written out in the message (all are returned).
SHOWN_TASKS = 5
SHOWN_TARGETS = 10
# Log lines quoted from the newest task that ran (awslogs streams).
LOG_LINES = 15

TIMEOUT_RANGE = (1, 86400)
POLL_RANGE = (1, 300)
EVENTS_RANGE = (0, 100)
TARGET_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$")


class ServiceNotFound(Exception):
    pass


# ---------------------------------------------------------------- AWS reads


def describe_service(ecs, cluster, service):
    """The service as DescribeServices returns it. Raises ServiceNotFound when
    the cluster or the service does not exist, or the service is deleted."""
    try:
        found = describe_ecs_service(ecs, cluster, service, tags=False)
    except is_boto3_error_code("ClusterNotFoundException"):
        raise ServiceNotFound(f"Cluster {cluster} does not exist.")
    if found is None:
        raise ServiceNotFound(f"Service {service} does not exist in cluster {cluster}.")
    if found.get("status") in ("INACTIVE", "DRAINING"):
        raise ServiceNotFound(f"Service {service} in cluster {cluster} is {found['status']} (deleted or being deleted).")
    return found


def list_task_arns(ecs, cluster, service, desired_status, limit=MAX_TASKS):
    """ARNs of the service's tasks with that desired status (RUNNING or STOPPED).
    ListTasks cannot combine startedBy with other filters, so the caller picks
    a deployment's tasks by their startedBy after DescribeTasks."""
    return paginated_query_with_retries(
        ecs, "list_tasks", AWSRetry.jittered_backoff(), cluster=cluster, serviceName=service,
        desiredStatus=desired_status, PaginationConfig={"MaxItems": limit},
    ).get("taskArns", [])


def describe_tasks(ecs, cluster, arns):
    tasks = []
    for start in range(0, len(arns), 100):  # the API's limit per call
        tasks.extend(ecs.describe_tasks(cluster=cluster, tasks=arns[start:start + 100], aws_retry=True).get("tasks", []))
    return tasks


def describe_task_definition(ecs, arn):
    return ecs.describe_task_definition(taskDefinition=arn, aws_retry=True)["taskDefinition"]


def last_log_lines(logs, group, stream, count=LOG_LINES):
    """The newest `count` lines of a log stream, oldest first; None when the stream does not exist."""
    try:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=count, startFromHead=False,
                                     aws_retry=True).get("events", [])
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    return [e.get("message", "").rstrip("\n") for e in events][-count:]


def describe_target_health(elbv2, target_group_arn):
    return elbv2.describe_target_health(TargetGroupArn=target_group_arn, aws_retry=True).get("TargetHealthDescriptions", [])


# ---------------------------------------------------------------- validation


def validate(params):
    """Every mistake in the options, each naming the option and what is allowed."""
    errors = []
    for name, (low, high) in (("timeout", TIMEOUT_RANGE), ("poll_interval", POLL_RANGE), ("last_events", EVENTS_RANGE)):
        value = params.get(name)
        if value is None or not low <= value <= high:
            errors.append(f"{name}={value!r} is out of range; allowed: {low}-{high}")
    expected = params.get("task_definition")
    if expected and not TASK_DEFINITION.match(expected):
        errors.append(f"task_definition={expected!r} is neither a task definition ARN nor family:revision; "
                      "allowed: e.g. plotly:7 or arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:7")
    for arn in params.get("target_group_arns") or []:
        if not TARGET_GROUP_ARN.match(arn):
            errors.append(f"target_group_arns: {arn!r} is not a target group ARN; "
                          "allowed: arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID")
    return errors


# ---------------------------------------------------------------- pure judgement


def short_task_definition(arn):
    """family:revision of a task definition ARN."""
    return (arn or "?").split("/", 1)[-1]


def short_id(arn):
    return (arn or "?").rsplit("/", 1)[-1]


def target_group_name(arn):
    head, sep, rest = (arn or "").partition(":targetgroup/")
    return rest.split("/", 1)[0] if sep else head


def service_target_groups(service):
    return [lb["targetGroupArn"] for lb in service.get("loadBalancers") or [] if lb.get("targetGroupArn")]


def task_definition_matches(arn, expected):
    if not expected:
        return True
    if expected.startswith("arn:"):
        return arn == expected
    return short_task_definition(arn) == expected


def primary_deployment(service):
    deployments = service.get("deployments") or []
    return next((d for d in deployments if d.get("status") == "PRIMARY"), deployments[0] if deployments else None)


def watched_deployment(service, expected):
    """The deployment this wait is about: the one with the expected task
    definition, else a FAILED one (the circuit breaker's verdict), else PRIMARY."""
    deployments = service.get("deployments") or []
    if expected:
        matching = [d for d in deployments if task_definition_matches(d.get("taskDefinition"), expected)]
        if matching:
            return next((d for d in matching if d.get("status") == "PRIMARY"), matching[0])
    failed = [d for d in deployments if d.get("rolloutState") == "FAILED"]
    return failed[0] if failed else primary_deployment(service)


def _failure(deployment, rolled_back_to=None):
    text = (f"deployment {deployment.get('id')} ({short_task_definition(deployment.get('taskDefinition'))}) FAILED: "
            f"{deployment.get('rolloutStateReason', 'no reason given')}")
    if rolled_back_to:
        text += f"; ECS rolled back to {short_task_definition(rolled_back_to.get('taskDefinition'))}"
    return text


def assess(service, expected=None):
    """Judge one DescribeServices answer.

    Returns (outcome, reason): outcome is "failed", "rolled_back" or
    "superseded" (final, stop waiting), "ecs_steady" (ECS is done; targets
    still to check) or "waiting", with what it waits for."""
    primary = primary_deployment(service)
    deployments = service.get("deployments") or []
    if primary is None:
        return "waiting", ["ECS to start a deployment"]
    failed = [d for d in deployments if d.get("rolloutState") == "FAILED"]
    if not task_definition_matches(primary.get("taskDefinition"), expected):
        ours = [d for d in failed if task_definition_matches(d.get("taskDefinition"), expected)]
        if ours:
            return "rolled_back", [_failure(ours[0], primary)]
        return "superseded", [
            f"the PRIMARY deployment {primary.get('id')} runs {short_task_definition(primary.get('taskDefinition'))}, "
            f"not {short_task_definition(expected)}: the service was rolled back or updated by someone else"]
    if primary.get("rolloutState") == "FAILED":
        return "failed", [_failure(primary)]
    if failed and not expected:
        return "rolled_back", [_failure(failed[0], primary)]

    waiting = []
    desired, running = service.get("desiredCount", 0), service.get("runningCount", 0)
    p_desired, p_running = primary.get("desiredCount", desired), primary.get("runningCount", running)
    if p_running != p_desired:
        waiting.append(f"{p_running} of {p_desired} task(s) of {short_task_definition(primary.get('taskDefinition'))} "
                       f"running, {primary.get('pendingCount', 0)} pending")
    if len(deployments) > 1:
        waiting.append(f"the {len(deployments) - 1} older deployment(s) to drain")
    elif running != desired and p_running == p_desired:
        waiting.append(f"the service's running count {running} to reach its desired count {desired}")
    if primary.get("rolloutState") not in (None, "COMPLETED"):
        waiting.append(f"rollout state COMPLETED (now {primary.get('rolloutState')})")
    return ("waiting", waiting) if waiting else ("ecs_steady", [])


def targets_waiting(target_health, desired):
    """What the target groups still lack: every registered target healthy and
    at least `desired` of them in each group. Draining targets are leaving and
    do not count either way."""
    waiting = []
    for arn, descriptions in target_health.items():
        live = [d for d in descriptions if d["TargetHealth"]["State"] != "draining"]
        healthy = sum(1 for d in live if d["TargetHealth"]["State"] == "healthy")
        others = sorted({f"{d['TargetHealth']['State']}: {d['TargetHealth'].get('Reason', '-')}"
                         for d in live if d["TargetHealth"]["State"] != "healthy"})
        if healthy < desired or others:
            waiting.append(f"{desired} healthy target(s) in {target_group_name(arn)} ("
                           + (f"{healthy} healthy" + (f"; {', '.join(others)}" if others else "") if live else "none registered")
                           + ")")
    return waiting


def failure_threshold(breaker, desired):
    """Failed tasks after which the circuit breaker fails a deployment: by
    default 50 % of the desired count, at least 3 and at most 200."""
    conf = breaker.get("thresholdConfiguration") or {}
    kind, value = conf.get("type", "BOUNDED_PERCENT"), conf.get("value", 50)
    if kind == "COUNT":
        return value
    threshold = math.ceil(value * desired / 100)
    return min(200, max(3, threshold)) if kind == "BOUNDED_PERCENT" else threshold


def circuit_breaker(service, deployment):
    breaker = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker") or {}
    enabled, rollback = bool(breaker.get("enable")), bool(breaker.get("rollback"))
    failed_tasks = (deployment or {}).get("failedTasks", 0)
    threshold = failure_threshold(breaker, (deployment or {}).get("desiredCount", service.get("desiredCount", 0)))
    if not enabled:
        verdict = ("disabled: ECS keeps replacing failed tasks and never fails the deployment, "
                   "so only the timeout ends the wait")
    elif (deployment or {}).get("rolloutState") == "FAILED":
        verdict = (f"triggered after {failed_tasks} failed task(s): {deployment.get('rolloutStateReason', 'no reason given')}"
                   + ("; rollback on" if rollback else "; rollback off, the service stays on the failed deployment"))
    else:
        verdict = (f"not triggered: {failed_tasks} failed task(s) so far, it acts at {threshold}"
                   + ("; rollback on" if rollback else "; rollback off"))
    return {"enabled": enabled, "rollback": rollback, "failed_tasks": failed_tasks, "threshold": threshold, "verdict": verdict}


# ---------------------------------------------------------------- summaries


def _time(value):
    return value.isoformat() if hasattr(value, "isoformat") else (str(value) if value is not None else None)


# What the result keeps of each AWS item, snake-cased (a field AWS leaves out is None).
DEPLOYMENT_SUMMARY = ("id", "status", "taskDefinition", "desiredCount", "runningCount", "pendingCount", "failedTasks",
                      "rolloutState", "rolloutStateReason", "createdAt", "updatedAt")
TASK_SUMMARY = ("taskArn", "taskDefinitionArn", "startedBy", "lastStatus", "desiredStatus", "healthStatus", "stopCode",
                "stoppedReason", "createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "stoppedAt")
CONTAINER_SUMMARY = ("name", "image", "lastStatus", "exitCode", "reason", "healthStatus")


def _summary(item, fields):
    """`fields` of an AWS item, snake-cased; times (*At) as ISO 8601 text."""
    return camel_dict_to_snake_dict({k: _time(item.get(k)) if k.endswith("At") else item.get(k) for k in fields})


def summarise_deployment(deployment):
    return dict(_summary(deployment, DEPLOYMENT_SUMMARY), failed_tasks=deployment.get("failedTasks", 0))


def summarise_task(task):
    return dict(_summary(task, TASK_SUMMARY),
                containers=[_summary(c, CONTAINER_SUMMARY) for c in task.get("containers", [])])


def summarise_targets(target_health):
    return [
        {
            "target_group_arn": arn,
            "target_id": d["Target"]["Id"],
            "port": d["Target"].get("Port"),
            "state": d["TargetHealth"]["State"],
            "reason": d["TargetHealth"].get("Reason"),
            "description": d["TargetHealth"].get("Description"),
        }
        for arn in sorted(target_health) for d in target_health[arn]
    ]


def summarise_events(service, count):
    # DescribeServices lists events newest first and keeps the last 100.
    return [{"created_at": _time(e.get("createdAt")), "message": e.get("message")}
            for e in (service.get("events") or [])[:count]]


def deployment_tasks(tasks, deployment):
    """The tasks a deployment started (ECS sets startedBy to the deployment ID),
    newest first."""
    if not deployment:
        return []
    ours = [t for t in tasks if t.get("startedBy") == deployment.get("id")
            or (not t.get("startedBy") and t.get("taskDefinitionArn") == deployment.get("taskDefinition"))]
    return sorted(ours, key=lambda t: str(t.get("stoppedAt") or t.get("createdAt") or ""), reverse=True)


def awslogs_streams(task_definition, task_id):
    """[(container, log group, log stream)] of a task's containers that log with
    the awslogs driver and a stream prefix (the stream is then
    <prefix>/<container>/<task id>; without a prefix it is not knowable)."""
    found = []
    for container in task_definition.get("containerDefinitions", []):
        conf = container.get("logConfiguration") or {}
        options = conf.get("options") or {}
        if conf.get("logDriver") == "awslogs" and options.get("awslogs-group") and options.get("awslogs-stream-prefix"):
            found.append((container["name"], options["awslogs-group"],
                          f"{options['awslogs-stream-prefix']}/{container['name']}/{short_id(task_id)}"))
    return found


def task_that_ran(tasks):
    """The newest task (summaries, newest first) whose containers started, or None."""
    for task in tasks:
        if task.get("started_at") or any(c.get("exit_code") is not None for c in task.get("containers", [])):
            return task
    return None


# ---------------------------------------------------------------- diagnosis


HINTS = {
    "image": ("Image: check that the image exists in its repository under that tag or digest, that the execution role "
              "may pull it (ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer), and that the "
              "tasks reach the registry (a public IP in public subnets, a NAT gateway or VPC endpoints in private ones)."),
    "secrets_permission": ("Secrets: the execution role must be allowed ssm:GetParameters on every parameter in the "
                           "container's secrets, and secretsmanager:GetSecretValue on every Secrets Manager secret "
                           "(poc_secrets_manager), with kms:Decrypt on their key when it is a customer managed key "
                           "(\"Access to KMS is not allowed\": the entry's kms_key); the stopped reason names the "
                           "parameter or secret it could not read."),
    "secret_missing": ("Secrets: a parameter named in the container's secrets (valueFrom) does not exist in this "
                       "account and region; compare the names with the parameters that exist. A Secrets Manager "
                       "secret (poc_secrets_manager): its complete ARN, with the 6-character suffix, and its "
                       "version_stage or version_id must exist."),
    "secret_json_key": ("Secrets: the Secrets Manager secret's SecretString is no JSON object with the key the "
                        "container asks for (poc_secrets_manager[].json_key); add the key to the secret, or fix "
                        "json_key."),
    "network": ("Network: the tasks could not reach an AWS endpoint (ECR, SSM, CloudWatch Logs): give them a public "
                "IP in public subnets, or a NAT gateway or VPC endpoints in private subnets."),
    "exited": ("The container exits by itself: read its log stream (awslogs, stream prefix ecs) for the error; exit "
               "code 137 means it was killed (out of memory, or it ignored SIGTERM), 1 usually an error at start-up."),
    "start": "The container could not start: check its command, entry point and memory in the task definition.",
    "architecture": ("exec format error: the image is made for another CPU architecture than the tasks' "
                     "(runtimePlatform; poc_cpu_architecture, X86_64 by default): build it for that platform "
                     "(poc_image.platform, linux/arm64 for ARM64) or mirror a variant that has it, or change the "
                     "tasks' architecture."),
    "health": ("Health checks: the target group's health check path (/health) must answer 200 on the container port "
               "without authentication and within the health check timeout; the service's health check grace "
               "period must cover the app's start-up."),
    "container_health": ("Container health check: the task definition's healthCheck command (poc_health_check) "
                         "failed more often than its retries allow; run it inside the container (ECS Exec, or docker "
                         "exec locally), and make its start period cover the app's start-up."),
    "health_code": ("Health check answered the wrong HTTP code (see the target's description): /health must answer "
                    "200 without login; 401 means it sits behind basic auth, 404 a wrong path or port."),
    "health_network": ("Health checks time out or cannot connect: the task security group must allow the container "
                       "port from the load balancer's security group, and the app must listen on 0.0.0.0 on the "
                       "container port, not on 127.0.0.1."),
    "not_in_use": ("Target group not in use: no listener rule of the load balancer forwards to it, or the targets sit "
                   "in an Availability Zone the load balancer does not use."),
    "pending": ("Tasks stay pending and none has stopped: read the service events for placement or capacity "
                "errors, and the tasks' last status (PROVISIONING: capacity or network interfaces; PENDING: image "
                "pull or secrets). The local emulator starts tasks only with its data plane (a Docker engine)."),
    "generic": ("The usual causes: the image exists and the execution role may pull it; the execution role can read "
                "the SSM parameters; /health answers 200 on the container port; the task security group allows the "
                "container port from the load balancer."),
}


def classify_task(task):
    """Hint keys for one stopped task, from its stop code and reasons."""
    text = " ".join([task.get("stopped_reason") or ""] + [c.get("reason") or "" for c in task.get("containers", [])])
    lowered = text.lower()
    keys = []
    if "cannotpullcontainererror" in lowered:
        keys.append("image")
    if "accessdenied" in lowered or "not authorized" in lowered:
        # "unable to pull secrets or registry auth" heads both kinds: what
        # follows (ecr registry auth / secrets from ssm) and the denied action tell.
        if "ecr registry auth" in lowered or "ecr:" in lowered:
            if "image" not in keys:
                keys.append("image")
        elif any(word in lowered for word in ("ssm:", "secretsmanager:", "kms:", "secrets from", "secret from")):
            keys.append("secrets_permission")
    if ("parameternotfound" in lowered or "invalidparameters" in lowered
            or ("secret from asm" in lowered and "resourcenotfoundexception" in lowered)):
        keys.append("secret_missing")
    if "did not contain json key" in lowered or ("secret from asm" in lowered and "invalid character" in lowered):
        keys.append("secret_json_key")
    if "resourceinitializationerror" in lowered and not keys:
        keys.append("network")
    if "container health checks" in lowered:
        keys.append("container_health")
    elif "elb health checks" in lowered or ("health checks" in lowered and task.get("stop_code") == "ServiceSchedulerInitiated"):
        keys.append("health")
    if "cannotstartcontainererror" in lowered:
        keys.append("start")
    if task.get("stop_code") == "EssentialContainerExited" and not keys:
        keys.append("exited")
    return keys


def hints(result):
    keys = []
    for task in result.get("stopped_tasks", []):
        keys.extend(classify_task(task))
    for target in result.get("target_health", []):
        keys.extend({"Target.ResponseCodeMismatch": ["health_code"], "Target.Timeout": ["health_network"],
                     "Target.FailedHealthChecks": ["health_network"],
                     "Target.NotInUse": ["not_in_use"]}.get(target.get("reason"), []))
    if any("exec format error" in line for log in result.get("logs", []) for line in log.get("lines") or []):
        keys = ["architecture"] + [key for key in keys if key != "exited"]
    deployment = result.get("deployment") or {}
    if (not keys and result.get("outcome") == "timeout" and not result.get("stopped_tasks")
            and not deployment.get("running_count") and deployment.get("pending_count")):
        keys.append("pending")
    ordered = list(dict.fromkeys(keys)) or ["generic"]
    return [HINTS[key] for key in ordered]


def _headline(result):
    name = f"ECS service {result['service']} (cluster {result['cluster']})"
    reason = "; ".join(result.get("reasons") or []).rstrip(".")
    when = "at the first poll" if result.get("polls") == 1 else f"after {result.get('elapsed', 0):.0f} s"
    return {
        "completed": f"{name} is steady {when}.",
        "timeout": f"{name} did not reach a steady state within {result.get('timeout')} s "
                   f"({result.get('polls')} polls). Still waiting for: {reason or 'nothing more (it settled at the deadline)'}.",
        "failed": f"{name}: the deployment circuit breaker failed the rollout ({when}): {reason}.",
        "rolled_back": f"{name} was rolled back by the deployment circuit breaker ({when}): {reason}.",
        "superseded": f"{name} stopped deploying the expected task definition ({when}): {reason}.",
        "not_found": reason + ".",
    }[result["outcome"]]


def _task_lines(task, seen):
    """Lines for one task; a task that stopped exactly like one already shown
    (`seen` holds their reasons) gets one line."""
    stopped = task.get("stopped_reason")
    head = f"  - task {short_id(task.get('task_arn'))} ({short_task_definition(task.get('task_definition_arn'))}) "
    if not stopped:
        return [head + f"{task.get('last_status')}"
                + (f", image pull started {task['pull_started_at']}" if task.get("pull_started_at") else "")
                + (f", image pulled {task['pull_stopped_at']}" if task.get("pull_stopped_at") else "")]
    containers = [(c.get("name"), c.get("exit_code"), c.get("reason")) for c in task.get("containers", [])
                  if c.get("exit_code") is not None or c.get("reason")]
    fingerprint = (task.get("stop_code"), stopped, tuple(containers))
    if fingerprint in seen:
        return [head + f"{task.get('stop_code') or 'stopped'}: the same as task {seen[fingerprint]}"]
    seen[fingerprint] = short_id(task.get("task_arn"))
    lines = [head + f"{task.get('stop_code') or 'stopped'}: {stopped}"]
    for name, exit_code, reason in containers:
        lines.append(f"      container {name}: exit code {'-' if exit_code is None else exit_code}"
                     + (f", reason: {reason}" if reason and reason != stopped else ""))
    return lines


def render(result):
    """The one readable message: verdict, rollout, circuit breaker, tasks,
    targets, events, what to check. Pure: built from the returned data."""
    lines = [_headline(result)]
    if result["outcome"] == "not_found":
        return "\n".join(lines)

    lines.append("Deployments:")
    for d in result.get("deployments", []):
        lines.append(f"  - {d['id']} {d['status']} {short_task_definition(d['task_definition'])}: "
                     f"rollout {d.get('rollout_state') or 'not reported'}"
                     + (f" ({d['rollout_state_reason']})" if d.get("rollout_state_reason") else "")
                     + f"; {d.get('running_count')} running, {d.get('pending_count')} pending of {d.get('desired_count')} desired, "
                     f"{d.get('failed_tasks')} failed")
    breaker = result.get("circuit_breaker") or {}
    if breaker:
        lines.append(f"Circuit breaker: {breaker['verdict']}.")

    watched = (result.get("deployment") or {}).get("id", "?")
    stopped = result.get("stopped_tasks", [])
    if result["outcome"] != "completed":
        if stopped:
            lines.append(f"Stopped tasks of deployment {watched} ({len(stopped)}, newest first):")
            seen = {}
            for task in stopped[:SHOWN_TASKS]:
                lines.extend(_task_lines(task, seen))
            if len(stopped) > SHOWN_TASKS:
                lines.append(f"  ... and {len(stopped) - SHOWN_TASKS} more (see stopped_tasks)")
        else:
            lines.append(f"Stopped tasks of deployment {watched}: none.")
        pending = result.get("pending_tasks", [])
        if pending:
            lines.append(f"Tasks of deployment {watched} not yet running ({len(pending)}):")
            for task in pending[:SHOWN_TASKS]:
                lines.extend(_task_lines(task, {}))

    targets = result.get("target_health", [])
    for arn in result.get("target_group_arns", []):
        rows = [t for t in targets if t["target_group_arn"] == arn]
        lines.append(f"Target health ({target_group_name(arn)}):" + ("" if rows else " no registered targets."))
        for t in rows[:SHOWN_TARGETS]:
            lines.append(f"  - {t['target_id']}:{t['port']} {t['state']}"
                         + (f" {t['reason']}" if t.get("reason") else "")
                         + (f" ({t['description']})" if t.get("description") else ""))
    if not result.get("target_group_arns"):
        lines.append("Target health: the service has no target group.")

    for log in result.get("logs", []):
        head = (f"Last log lines of task {short_id(log['task_arn'])}, container {log['container']} "
                f"({log['log_group']} {log['log_stream']})")
        if log.get("error"):
            lines.append(f"{head}: could not be read: {log['error']}")
        elif not log.get("lines"):
            lines.append(f"{head}: none")
        else:
            lines.append(head + ":")
            lines.extend(f"    | {line}" for line in log["lines"])

    events = result.get("events", [])
    if events:
        lines.append(f"Last {len(events)} service events (newest first):")
        lines.extend(f"  - {e['created_at']} {e['message']}" for e in events)
    if result["outcome"] != "completed":
        lines.append("What to check:")
        lines.extend(f"  - {hint}" for hint in result.get("hints") or hints(result))
    return "\n".join(lines)


# ---------------------------------------------------------------- the wait


def read_logs(ecs, logs, task):
    """What the containers of `task` (a summary) logged last, per awslogs stream."""
    found = []
    try:
        definition = describe_task_definition(ecs, task["task_definition_arn"])
    except botocore.exceptions.ClientError as e:
        return [{"task_arn": task["task_arn"], "container": "-", "log_group": "-", "log_stream": "-", "lines": [],
                 "error": f"DescribeTaskDefinition: {e}"}]
    for container, group, stream in awslogs_streams(definition, task["task_arn"]):
        entry = {"task_arn": task["task_arn"], "container": container, "log_group": group, "log_stream": stream,
                 "lines": []}
        try:
            entry["lines"] = last_log_lines(logs, group, stream)
            if entry["lines"] is None:
                entry["lines"], entry["error"] = [], "the stream does not exist (the container never started)"
        except botocore.exceptions.ClientError as e:
            entry["error"] = str(e)
        found.append(entry)
    return found


def empty_result(**values):
    """The result before anything is read (hints come with a verdict)."""
    return {"polls": 0, "elapsed": 0.0, "deployments": [], "deployment": {}, "circuit_breaker": {}, "stopped_tasks": [],
            "pending_tasks": [], "target_group_arns": [], "target_health": [], "events": [], "reasons": [], "logs": [],
            **values}


def wait_for_rollout(ecs, elbv2, params, clock, sleep, logs=None):
    """Poll until the rollout completes, fails, or the timeout passes; then,
    unless it completed, read the watched deployment's tasks, the targets and
    (with a CloudWatch Logs client) the last log lines of the newest task that ran.

    Returns the result dict (see the module's RETURN), with `failed` and `msg`."""
    cluster, name, expected = params["cluster"], params["service"], params.get("task_definition")
    result = empty_result(cluster=cluster, service=name, timeout=params["timeout"])
    start = clock()
    service = None
    health = {}
    try:
        while True:
            result["polls"] += 1
            service = describe_service(ecs, cluster, name)
            groups = params.get("target_group_arns") or service_target_groups(service)
            outcome, reasons = assess(service, expected)
            if outcome == "ecs_steady":
                health = {}
                if service.get("desiredCount", 0) > 0:
                    health = {arn: describe_target_health(elbv2, arn) for arn in groups}
                    reasons = targets_waiting(health, service["desiredCount"])
                outcome = "waiting" if reasons else "completed"
            result["reasons"] = reasons
            if outcome != "waiting":
                break
            elapsed = clock() - start
            if elapsed >= params["timeout"]:
                outcome = "timeout"
                break
            sleep(min(params["poll_interval"], params["timeout"] - elapsed))
    except ServiceNotFound as missing:
        result.update(outcome="not_found", reasons=[str(missing)], elapsed=round(clock() - start, 1))
        result["msg"], result["failed"] = render(result), True
        return result

    result["outcome"] = outcome
    result["target_group_arns"] = groups
    watched = watched_deployment(service, expected)
    result["deployments"] = [summarise_deployment(d) for d in service.get("deployments", [])]
    result["deployment"] = summarise_deployment(watched) if watched else {}
    result["circuit_breaker"] = circuit_breaker(service, watched)
    result["events"] = summarise_events(service, params["last_events"])
    if outcome != "completed":
        arns = list_task_arns(ecs, cluster, name, "STOPPED") + list_task_arns(ecs, cluster, name, "RUNNING")
        ours = deployment_tasks(describe_tasks(ecs, cluster, arns), watched)  # no call for no ARNs
        result["stopped_tasks"] = [summarise_task(t) for t in ours if t.get("lastStatus") == "STOPPED"
                                   or t.get("desiredStatus") == "STOPPED"]
        result["pending_tasks"] = [summarise_task(t) for t in ours if t.get("desiredStatus") == "RUNNING"
                                   and t.get("lastStatus") != "RUNNING"]
        ran = task_that_ran(result["stopped_tasks"] + result["pending_tasks"])
        if logs is not None and ran is not None:
            result["logs"] = read_logs(ecs, logs, ran)
        # Read again: the last poll may predate the end, or not have looked.
        health = {arn: describe_target_health(elbv2, arn) for arn in groups}
        if outcome == "timeout" and service.get("desiredCount", 0) > 0:
            result["reasons"] += [r for r in targets_waiting(health, service["desiredCount"]) if r not in result["reasons"]]
    result["target_health"] = summarise_targets(health)
    result["elapsed"] = round(clock() - start, 1)
    result["hints"] = hints(result) if outcome != "completed" else []
    result["msg"] = render(result)
    result["failed"] = outcome != "completed"
    return result
