#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service_wait
short_description: Wait for an ECS service rollout to finish, and explain why when it does not
version_added: 0.2.0
description:
  - Polls one ECS service until its rollout is complete, it fails, or O(timeout) seconds pass.
  - "Complete means: one deployment left, its rollout state C(COMPLETED) (where ECS reports one),
    C(runningCount) equal to C(desiredCount), and, when the desired count is above zero, every
    registered target of the service's target groups C(healthy) (draining targets are ignored) with
    at least the desired count of them."
  - Stops at once, without waiting for the timeout, when the deployment circuit breaker has given its
    verdict, that is when a deployment's rollout state is C(FAILED), or when the service was rolled back
    to another task definition than O(task_definition).
  - When the rollout does not complete, fails with one readable message holding the stopped tasks of the
    deployment (stop code, stopped reason, each container's exit code and reason), its tasks that are not
    running yet, the target health states and reason codes, the last O(last_events) service events, the
    circuit breaker's verdict, and hints on what to check. The same data is returned structured.
  - Read-only. In check mode it returns at once without calling AWS.
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  service:
    description: Name or ARN of the ECS service.
    type: str
    required: true
    aliases: [name]
  task_definition:
    description:
      - The task definition the rollout deploys, as an ARN or as C(family:revision).
      - With it, the wait watches the deployment of that task definition, and a PRIMARY deployment of
        another task definition (a rollback) ends the wait with a failure at once.
      - Without it, the wait watches the PRIMARY deployment, and a rollback is only seen while the failed
        deployment is still listed.
    type: str
  target_group_arns:
    description:
      - Target groups whose targets must all be healthy.
      - Defaults to the target groups in the service's C(loadBalancers).
    type: list
    elements: str
    aliases: [target_group_arn]
  timeout:
    description: Seconds to wait at most, 1-86400.
    type: int
    default: 600
  poll_interval:
    description: Seconds between two polls, 1-300. The last sleep ends at the timeout, whatever the interval.
    type: int
    default: 10
  last_events:
    description: How many of the newest service events to report, 0-100.
    type: int
    default: 5
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - "Written because nothing in amazon.aws or community.aws waits for an ECS rollout: the C(wait) of
    M(community.aws.ecs_service) only waits, after a delete, for the service to become C(INACTIVE). boto3's
    C(services_stable) waiter only answers stable or not: it neither stops when the deployment circuit breaker has
    failed or rolled back the rollout, nor says which task stopped and why, or why the targets are unhealthy."
  - Each poll is one C(ecs:DescribeServices) call, plus one C(elasticloadbalancing:DescribeTargetHealth) per
    target group once ECS reports the rollout done. A diagnosis adds C(ecs:ListTasks) (paginated, the newest
    100 tasks at most), C(ecs:DescribeTasks), and for the log lines C(ecs:DescribeTaskDefinition) and one
    C(logs:GetLogEvents) per container.
  - "IAM actions used: C(ecs:DescribeServices), C(ecs:ListTasks), C(ecs:DescribeTasks),
    C(ecs:DescribeTaskDefinition), C(logs:GetLogEvents), C(elasticloadbalancing:DescribeTargetHealth)."
seealso:
  - module: community.aws.ecs_service
  - module: community.aws.ecs_service_info
  - module: pocstack.aws.ecs_fargate_service
  - module: pocstack.aws.ecs_task_definition_revision
attributes:
  check_mode:
    support: partial
    description: Runs in check mode, but returns at once without calling AWS.
    details: C(outcome) is V(skipped), C(reasons) says why, and the other results are empty or zero; the rollout is
      neither waited for nor judged.
  diff_mode:
    support: none
    description: Reads only; there is nothing to show.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait for the plotly service to roll out its new task definition
  pocstack.aws.ecs_service_wait:
    cluster: pocstack
    service: plotly
    task_definition: "{{ task_definition.taskdefinition.taskDefinitionArn }}"
    timeout: 600

- name: Wait at most two minutes, checking one given target group, polling every 5 seconds
  pocstack.aws.ecs_service_wait:
    cluster: pocstack
    service: plotly
    target_group_arns:
      - arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/6d0ecf831eec9f09
    timeout: 120
    poll_interval: 5
  register: rollout

- name: Show how long the rollout took
  ansible.builtin.debug:
    msg: "Steady after {{ rollout.elapsed }} s and {{ rollout.polls }} polls"
"""

RETURN = r"""
outcome:
  description:
    - C(completed); C(timeout); C(failed) (the circuit breaker failed the deployment, rollback off);
      C(rolled_back) (the circuit breaker failed it and rolled back); C(superseded) (the PRIMARY deployment
      runs another task definition than O(task_definition) and no failed deployment explains it);
      C(not_found) (no such cluster or service); C(skipped) (check mode).
  returned: always
  type: str
  sample: rolled_back
reasons:
  description: Why the wait failed, or what it was still waiting for at the timeout.
  returned: always
  type: list
  elements: str
  sample: ["1 running task(s) of plotly:8 (0 running, 1 pending)"]
elapsed:
  description: Seconds the wait took.
  returned: always
  type: float
  sample: 74.2
polls:
  description: DescribeServices polls made.
  returned: always
  type: int
  sample: 8
deployments:
  description: The service's deployments at the end of the wait.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Deployment ID (the C(startedBy) of its tasks).
      type: str
      sample: ecs-svc/7349011417468390817
    status:
      description: C(PRIMARY), C(ACTIVE) or C(INACTIVE).
      type: str
      sample: PRIMARY
    task_definition:
      description: ARN of the deployment's task definition.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:8
    desired_count:
      description: Tasks the deployment wants.
      type: int
      sample: 1
    running_count:
      description: Tasks running.
      type: int
      sample: 0
    pending_count:
      description: Tasks pending.
      type: int
      sample: 1
    failed_tasks:
      description: Tasks that failed to start or were stopped unhealthy.
      type: int
      sample: 3
    rollout_state:
      description: C(IN_PROGRESS), C(COMPLETED) or C(FAILED); null where ECS does not report one.
      type: str
      sample: FAILED
    rollout_state_reason:
      description: Why the rollout is in that state.
      type: str
      sample: "ECS deployment circuit breaker: tasks failed to start."
    created_at:
      description: When the deployment was created.
      type: str
      sample: "2026-05-04T10:02:11.512000+00:00"
    updated_at:
      description: When the deployment last changed.
      type: str
      sample: "2026-05-04T10:05:40.120000+00:00"
deployment:
  description: The deployment the wait watched (same keys as an item of RV(deployments)); empty when not found.
  returned: always
  type: dict
  sample: {"id": "ecs-svc/7349011417468390817", "status": "ACTIVE", "rollout_state": "FAILED"}
circuit_breaker:
  description: The deployment circuit breaker's settings and verdict on the watched deployment; empty when not found.
  returned: always
  type: dict
  contains:
    enabled:
      description: Whether the circuit breaker is on.
      type: bool
      sample: true
    rollback:
      description: Whether it rolls back a failed deployment.
      type: bool
      sample: true
    failed_tasks:
      description: Failed tasks of the watched deployment.
      type: int
      sample: 3
    threshold:
      description: Failed tasks at which it fails the deployment (50 % of the desired count, at least 3, at most 200, unless configured).
      type: int
      sample: 3
    verdict:
      description: The verdict in words.
      type: str
      sample: "triggered after 3 failed task(s): ECS deployment circuit breaker: tasks failed to start.; rollback on"
stopped_tasks:
  description: Stopped tasks of the watched deployment, newest first (at most 100); empty when the rollout completed.
  returned: always
  type: list
  elements: dict
  contains:
    task_arn:
      description: ARN of the task.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task/pocstack/0d5f6c3b7e6a4c7e9c1f2a3b4c5d6e7f
    task_definition_arn:
      description: ARN of its task definition.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:8
    started_by:
      description: The deployment that started it.
      type: str
      sample: ecs-svc/7349011417468390817
    last_status:
      description: Last known status.
      type: str
      sample: STOPPED
    desired_status:
      description: Desired status.
      type: str
      sample: STOPPED
    health_status:
      description: Container health of the task.
      type: str
      sample: UNKNOWN
    stop_code:
      description: C(TaskFailedToStart), C(EssentialContainerExited), C(ServiceSchedulerInitiated), ...
      type: str
      sample: TaskFailedToStart
    stopped_reason:
      description: Why ECS stopped it.
      type: str
      sample: "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ...: not found"
    created_at:
      description: When it was created.
      type: str
      sample: "2026-05-04T10:02:15.201000+00:00"
    pull_started_at:
      description: When its image pull started.
      type: str
      sample: "2026-05-04T10:02:31.007000+00:00"
    pull_stopped_at:
      description: When its image pull finished.
      type: str
      sample: null
    started_at:
      description: When it started running.
      type: str
      sample: null
    stopped_at:
      description: When it stopped.
      type: str
      sample: "2026-05-04T10:03:02.911000+00:00"
    containers:
      description: Its containers with C(name), C(image), C(last_status), C(exit_code), C(reason) and C(health_status).
      type: list
      elements: dict
      sample: [{"name": "plotly", "exit_code": null, "reason": "CannotPullContainerError: ...", "last_status": "STOPPED"}]
pending_tasks:
  description: Tasks of the watched deployment that should run but do not yet (same keys as RV(stopped_tasks)).
  returned: always
  type: list
  elements: dict
  sample: []
target_group_arns:
  description: The target groups checked.
  returned: always
  type: list
  elements: str
  sample: [arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/6d0ecf831eec9f09]
target_health:
  description: Every registered target of those groups at the end of the wait.
  returned: always
  type: list
  elements: dict
  contains:
    target_group_arn:
      description: The target group.
      type: str
      sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/6d0ecf831eec9f09
    target_id:
      description: IP address of the task.
      type: str
      sample: 10.0.1.23
    port:
      description: Port of the target.
      type: int
      sample: 8050
    state:
      description: C(initial), C(healthy), C(unhealthy), C(unused), C(draining) or C(unavailable).
      type: str
      sample: unhealthy
    reason:
      description: Reason code, such as C(Target.ResponseCodeMismatch), C(Target.Timeout), C(Target.FailedHealthChecks).
      type: str
      sample: Target.ResponseCodeMismatch
    description:
      description: The reason in words.
      type: str
      sample: "Health checks failed with these codes: [401]"
events:
  description: The newest service events, newest first, each with C(created_at) and C(message).
  returned: always
  type: list
  elements: dict
  sample: [{"created_at": "2026-05-04T10:05:40+00:00", "message": "(service plotly) rolling back to deployment ecs-svc/1."}]
logs:
  description:
    - The last lines (at most 15) of each awslogs stream (with a stream prefix) of the newest task of the watched
      deployment that started; empty when the rollout completed or no task started.
  returned: always
  type: list
  elements: dict
  contains:
    task_arn:
      description: The task.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task/pocstack/0d5f6c3b7e6a4c7e9c1f2a3b4c5d6e7f
    container:
      description: The container.
      type: str
      sample: plotly
    log_group:
      description: Its log group.
      type: str
      sample: /pocstack/plotly
    log_stream:
      description: Its log stream.
      type: str
      sample: ecs/plotly/0d5f6c3b7e6a4c7e9c1f2a3b4c5d6e7f
    lines:
      description: The lines, oldest first.
      type: list
      elements: str
      sample: ["PORT must be a whole number, got 'oops'"]
    error:
      description: Why the lines could not be read, when they could not.
      type: str
      returned: when reading failed
      sample: the stream does not exist (the container never started)
hints:
  description: What to check, derived from the stopped reasons and target reason codes; empty when the rollout completed.
  returned: always
  type: list
  elements: str
  sample: ["Image: check that the image exists in its repository under that tag or digest, ..."]
"""

import time

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import ecs_rollout


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster=dict(type="str", required=True),
            service=dict(type="str", required=True, aliases=["name"]),
            task_definition=dict(type="str"),
            target_group_arns=dict(type="list", elements="str", aliases=["target_group_arn"]),
            timeout=dict(type="int", default=600),
            poll_interval=dict(type="int", default=10),
            last_events=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    errors = ecs_rollout.validate(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors))
    if module.check_mode:
        module.exit_json(changed=False, **ecs_rollout.empty_result(
            outcome="skipped", reasons=["check mode: the rollout was not waited for"], hints=[]))

    retry = AWSRetry.jittered_backoff()
    ecs = module.client("ecs", retry_decorator=retry)
    elbv2 = module.client("elbv2", retry_decorator=retry)
    logs = module.client("logs", retry_decorator=retry)
    try:
        result = ecs_rollout.wait_for_rollout(ecs, elbv2, module.params, clock=time.monotonic, sleep=time.sleep,
                                              logs=logs)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Could not read the rollout of ECS service {module.params['service']} "
                                    f"in cluster {module.params['cluster']}")
    failed, msg = result.pop("failed"), result.pop("msg")
    for key in ("cluster", "service", "timeout"):
        result.pop(key)  # the module's own options, not results
    if failed:
        module.fail_json(msg=msg, **result)
    module.exit_json(changed=False, msg=msg, **result)


if __name__ == "__main__":
    main()
