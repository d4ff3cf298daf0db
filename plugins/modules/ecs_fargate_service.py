#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_fargate_service
short_description: Create, update in place, or scale down and delete one ECS Fargate service
version_added: 0.2.0
description:
  - Manages one ECS service on Fargate (launch type V(FARGATE) or the V(FARGATE)/V(FARGATE_SPOT) capacity
    providers). Every field the module manages is compared after normalisation (AWS defaults filled in,
    lists sorted), and C(UpdateService) is sent only the fields that differ; tags change through
    C(TagResource)/C(UntagResource).
  - An option that is not given keeps what the service has (AWS's default when the service is created).
  - "O(desired_count) is applied when the service is created, and afterwards only when the value given
    differs from the value given on the previous run, which the module records in the service tag
    C(pocstack:desired-count). A count changed since by an autoscaling policy (or by hand) is therefore kept
    by a re-run with the same value. O(force_desired_count=true) applies the value on every run."
  - What AWS cannot change in place fails with a message naming the option, before any change (a switch
    between O(launch_type) and O(capacity_provider_strategy), another launch type). The service name is its
    identity; another O(name) is another service.
  - With O(state=absent) the service is scaled to 0, its running tasks are awaited (up to O(wait_timeout)),
    and it is deleted (with C(force) only when a count above 0 came back in the meantime); with O(wait=true)
    the module then waits until it is C(INACTIVE). A missing or C(INACTIVE) service is not a change.
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  name:
    description: Name of the service (1-255 letters, digits, C(-) and C(_)).
    type: str
    required: true
    aliases: [service]
  task_definition:
    description:
      - Task definition revision to run, as C(family:revision) or an ARN. Required to create the service.
    type: str
  desired_count:
    description:
      - Number of tasks. Required to create the service. See the description for when a later value is applied.
    type: int
  force_desired_count:
    description: Apply O(desired_count) on every run, even when it equals the value given on the previous run.
    type: bool
    default: false
  launch_type:
    description:
      - Launch type; only V(FARGATE). The default when O(capacity_provider_strategy) is not given.
      - Mutually exclusive with O(capacity_provider_strategy).
    type: str
    choices: [FARGATE]
  capacity_provider_strategy:
    description: Fargate capacity providers and their shares, instead of O(launch_type).
    type: list
    elements: dict
    suboptions:
      capacity_provider:
        description: Capacity provider; it must be associated with the cluster.
        type: str
        required: true
        choices: [FARGATE, FARGATE_SPOT]
        aliases: [capacityProvider]
      weight:
        description: Relative share of the tasks (0-1000).
        type: int
        default: 0
      base:
        description: Tasks placed on this provider first (0-100000); at most one provider may have one.
        type: int
        default: 0
  platform_version:
    description: Fargate platform version. AWS's default is V(LATEST).
    type: str
  subnets:
    description: Subnets of the tasks (awsvpc). Required to create the service.
    type: list
    elements: str
  security_groups:
    description: Security groups of the tasks. Without them AWS uses the VPC's default security group.
    type: list
    elements: str
  assign_public_ip:
    description: Whether tasks get a public IP (needed in public subnets without a NAT gateway to pull images).
    type: bool
  load_balancers:
    description: Target groups the tasks are registered in. V([]) removes every one.
    type: list
    elements: dict
    suboptions:
      target_group_arn:
        description: ARN of the target group.
        type: str
        required: true
        aliases: [targetGroupArn]
      container_name:
        description: Container that receives the traffic.
        type: str
        required: true
        aliases: [containerName]
      container_port:
        description: Port of that container.
        type: int
        required: true
        aliases: [containerPort]
  deployment_maximum_percent:
    description: Upper limit of running and pending tasks during a deployment, in percent of the desired count (AWS's default 200).
    type: int
  deployment_minimum_healthy_percent:
    description: Lower limit of healthy tasks during a deployment, in percent of the desired count, 0-100 (AWS's default 100).
    type: int
  deployment_circuit_breaker_enable:
    description: Whether a deployment whose tasks keep failing is stopped (AWS's default false).
    type: bool
  deployment_circuit_breaker_rollback:
    description: Whether a deployment stopped by the circuit breaker rolls back to the last completed one.
    type: bool
  health_check_grace_period_seconds:
    description: Seconds the scheduler ignores load balancer health checks of a new task.
    type: int
  enable_execute_command:
    description: Whether ECS Exec is enabled (the task role needs the SSM messages permissions).
    type: bool
  propagate_tags:
    description: Whether tasks get the tags of the service or of the task definition.
    type: str
    choices: [SERVICE, TASK_DEFINITION, NONE]
  state:
    description: Whether the service should exist.
    type: str
    choices: [present, absent]
    default: present
  retry_failed_deployment:
    description:
      - When the service's C(PRIMARY) deployment has rollout state C(FAILED) (the deployment circuit breaker stopped
        it, with nothing to roll back to) and nothing else starts a new deployment, force one, so that a re-run after
        fixing the cause (an IAM permission, a secret, the network) deploys again; ECS itself never retries a failed
        deployment. Reported as the change C(failed_deployment).
    type: bool
    default: true
  wait:
    description: With O(state=absent), wait until the service is C(INACTIVE) after deleting it (up to O(wait_timeout)).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the tasks to stop after scaling to 0, and for O(wait). When the tasks are still running
        then, the service is deleted all the same (ECS stops them) and a warning says so.
      - With O(state=present), a service still C(DRAINING) from a delete is awaited this long before it is created again.
    type: int
    default: 300
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Written because M(community.aws.ecs_service) (community.aws 10.0.0) compares only the task definition, load
    balancers, health check grace period, propagated tags, tags, ECS Exec and desired count with the service, not the
    deployment configuration, the network configuration (subnets, security groups, public IP) or the capacity provider
    strategy, so a change of those alone is not applied; it fails on a change of an existing service's tags; it sends
    its C(desired_count) whenever the service's count differs, undoing what an autoscaling policy set; it returns no
    diff; and its C(state=absent) calls C(DeleteService) without scaling the service to 0 and waiting for its tasks.
  - A change of O(capacity_provider_strategy) or O(enable_execute_command) also forces a new deployment, since
    running tasks do not pick it up otherwise.
  - The tag C(pocstack:desired-count) belongs to the module; O(tags) must not contain it and O(purge_tags) never
    removes it.
  - "IAM actions used: C(ecs:DescribeServices), C(ecs:CreateService), C(ecs:UpdateService), C(ecs:DeleteService),
    C(ecs:TagResource), C(ecs:UntagResource), and C(iam:PassRole) where ECS needs it."
seealso:
  - module: community.aws.ecs_service
  - module: community.aws.ecs_service_info
  - module: pocstack.aws.ecs_task_definition_revision
  - module: pocstack.aws.ecs_service_scaling
  - module: pocstack.aws.ecs_service_wait
  - module: pocstack.aws.alb_target_group
attributes:
  check_mode:
    support: full
    description: No mutating call, and no wait (neither for a C(DRAINING) service nor for tasks to stop). C(changed),
      C(created), C(deleted) and C(changes) are what a real run would report; C(service) is the service as it is now.
      A missing cluster is not an error in check mode, since an earlier task of the same run may create it; the
      service is then reported as created.
  diff_mode:
    support: full
    description: Sorted before/after of every compared field and of the tags; with O(state=absent), the service before
      and nothing after.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Fargate service behind a target group, circuit breaker with rollback
  pocstack.aws.ecs_fargate_service:
    cluster: pocstack
    name: plotly
    task_definition: "plotly:{{ task_definition.revision }}"
    desired_count: 2
    subnets: "{{ subnet_ids }}"
    security_groups: ["{{ task_sg.group_id }}"]
    assign_public_ip: true
    load_balancers:
      - target_group_arn: "{{ target_group.target_group_arn }}"
        container_name: plotly
        container_port: 8050
    deployment_maximum_percent: 200
    deployment_minimum_healthy_percent: 75
    deployment_circuit_breaker_enable: true
    deployment_circuit_breaker_rollback: true
    health_check_grace_period_seconds: 60
    propagate_tags: SERVICE
    tags:
      pocstack:service: plotly

- name: Half the tasks on Fargate Spot, one always on Fargate
  pocstack.aws.ecs_fargate_service:
    cluster: pocstack
    name: worker
    task_definition: worker:4
    desired_count: 4
    subnets: "{{ private_subnet_ids }}"
    capacity_provider_strategy:
      - capacity_provider: FARGATE
        weight: 1
        base: 1
      - capacity_provider: FARGATE_SPOT
        weight: 1

- name: Scale to 0, delete, and wait until the service is gone
  pocstack.aws.ecs_fargate_service:
    cluster: pocstack
    name: plotly
    state: absent
    wait: true
"""

RETURN = r"""
created:
  description: Whether the service was (or, in check mode, would be) created.
  returned: always
  type: bool
  sample: false
deleted:
  description: Whether the service was (or would be) scaled to 0 and deleted.
  returned: always
  type: bool
  sample: false
changes:
  description:
    - Names of the fields changed (or that would be) on an existing service, sorted; C(desired_count) when the count
      is set, C(tags) when tags change (the recorded desired count included), C(failed_deployment) when a failed
      deployment is retried (O(retry_failed_deployment)).
  returned: always
  type: list
  elements: str
  sample: ["deployment_minimum_healthy_percent", "security_groups"]
service:
  description:
    - The service as DescribeServices returns it, snake_cased, without its C(events), with C(tags) as a dict; empty
      when it does not exist or was deleted (or would be created, in check mode).
    - In check mode, the service as it is before the reported change.
  returned: always
  type: dict
  sample:
    service_name: plotly
    service_arn: arn:aws:ecs:us-east-1:123456789012:service/pocstack/plotly
    status: ACTIVE
    desired_count: 2
    running_count: 2
    launch_type: FARGATE
    task_definition: arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:7
    tags: {"pocstack:desired-count": "2", "pocstack:service": "plotly"}
"""

import time

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import ecs
from ansible_collections.pocstack.aws.plugins.module_utils import ecs_services as es

ARGUMENT_SPEC = dict(
    cluster=dict(type="str", required=True),
    name=dict(type="str", required=True, aliases=["service"]),
    task_definition=dict(type="str"),
    desired_count=dict(type="int"),
    force_desired_count=dict(type="bool", default=False),
    launch_type=dict(type="str", choices=["FARGATE"]),
    capacity_provider_strategy=dict(
        type="list",
        elements="dict",
        options=dict(
            capacity_provider=dict(type="str", required=True, choices=["FARGATE", "FARGATE_SPOT"],
                                   aliases=["capacityProvider"]),
            weight=dict(type="int", default=0),
            base=dict(type="int", default=0),
        ),
    ),
    platform_version=dict(type="str"),
    subnets=dict(type="list", elements="str"),
    security_groups=dict(type="list", elements="str"),
    assign_public_ip=dict(type="bool"),
    load_balancers=dict(
        type="list",
        elements="dict",
        options=dict(
            target_group_arn=dict(type="str", required=True, aliases=["targetGroupArn"]),
            container_name=dict(type="str", required=True, aliases=["containerName"]),
            container_port=dict(type="int", required=True, aliases=["containerPort"]),
        ),
    ),
    deployment_maximum_percent=dict(type="int"),
    deployment_minimum_healthy_percent=dict(type="int"),
    deployment_circuit_breaker_enable=dict(type="bool"),
    deployment_circuit_breaker_rollback=dict(type="bool"),
    health_check_grace_period_seconds=dict(type="int"),
    enable_execute_command=dict(type="bool"),
    propagate_tags=dict(type="str", choices=["SERVICE", "TASK_DEFINITION", "NONE"]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    retry_failed_deployment=dict(type="bool", default=True),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=300),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
)
MUTUALLY_EXCLUSIVE = [["launch_type", "capacity_provider_strategy"]]

# Seconds between two DescribeServices while waiting.
POLL = 5


def inactive(service):
    return not service or service.get("status") == "INACTIVE"


class ServiceManager:
    def __init__(self, module):
        self.module = module
        self.client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
        self.params = module.params
        self.cluster = module.params["cluster"]
        self.name = module.params["name"]

    def run(self):
        try:
            self.apply(es.validate(self.params))
        except es.ServiceError as e:  # raised before any change
            self.module.fail_json(msg=str(e))

    def apply(self, given):
        service, cluster_found = self.describe()
        if self.params["state"] == "absent":
            return self.absent(service)
        if not cluster_found and not self.module.check_mode:
            self.module.fail_json(msg=f"cluster: no ECS cluster {self.cluster!r}; create it first or fix the name")
        if service and service.get("status") == "DRAINING" and not self.module.check_mode:
            service = self.wait_until("was still DRAINING", inactive)
        if not service or service.get("status") in ("INACTIVE", "DRAINING"):
            return self.create(given)
        return self.update(given, service)

    def describe(self):
        """(service or None, whether the cluster exists)."""
        try:
            return ecs.describe_service(self.client, self.cluster, self.name), True
        except is_boto3_error_code("ClusterNotFoundException"):
            return None, False
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Could not describe the service {self.name!r} in cluster {self.cluster!r}")

    def write(self, what, fn, *args, **kwargs):
        try:
            return fn(self.client, *args, **kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not {what} the service {self.name!r} in cluster {self.cluster!r}")

    def create(self, given):
        count = self.params["desired_count"]
        tags = dict(self.params["tags"] or {})
        if count is not None:
            tags[es.DESIRED_COUNT_TAG] = str(count)
        request = es.create_request(self.cluster, self.name, given, count, tags)
        after = dict(es.created_fields(given, count), tags=dict(sorted(tags.items())))
        result = dict(changed=True, created=True, deleted=False, changes=[])
        diff = {"before": {}, "after": compare.sorted_data(after)}
        if self.module.check_mode:
            return self.exit(result, None, diff)
        self.write("create", ecs.create_service, **request)
        return self.exit(result, self.describe()[0], diff)

    def update(self, given, service):
        current = es.current_service(service)
        tags = es.service_tags(service)
        after, changes = es.plan_update(given, current)
        count, record = es.desired_count_plan(
            self.params["desired_count"], current["desired_count"], tags.get(es.DESIRED_COUNT_TAG),
            self.params["force_desired_count"],
        )
        request = es.update_request(after, changes)
        if self.params["retry_failed_deployment"] and es.primary_deployment_failed(service) \
                and not request.get("forceNewDeployment") and "taskDefinition" not in request:
            request["forceNewDeployment"] = True
            changes = sorted(changes + ["failed_deployment"])
        if count is not None:
            request["desiredCount"] = after["desired_count"] = count
            changes = sorted(changes + ["desired_count"])
        recorded = tags.get(es.DESIRED_COUNT_TAG) if record is None else record  # never purged
        owned = {es.DESIRED_COUNT_TAG: recorded} if recorded is not None else {}
        to_set, to_unset, after_tags = compare.tag_changes(tags, self.params["tags"], self.params["purge_tags"], owned)
        if to_set or to_unset:
            changes = sorted(changes + ["tags"])
        diff = {
            "before": compare.sorted_data(dict(current, tags=tags)),
            "after": compare.sorted_data(dict(after, tags=after_tags)),
        }
        result = dict(changed=bool(changes), created=False, deleted=False, changes=changes)
        if not changes or self.module.check_mode:
            return self.exit(result, service, diff)
        arn = service["serviceArn"]
        if request:
            self.write("update", ecs.update_service, self.cluster, self.name, **request)
        if to_set:
            self.write("tag", ecs.tag_resource, arn, to_set)
        if to_unset:
            self.write("untag", ecs.untag_resource, arn, to_unset)
        return self.exit(result, self.describe()[0], diff)

    def wait_until(self, late, done):
        """Describe until done(service) (the service may be None), at most
        wait_timeout seconds, else warn that it `late`; returns the service."""
        deadline = time.monotonic() + self.params["wait_timeout"]
        while True:
            service = self.describe()[0]
            if done(service):
                return service
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.module.warn(
                    f"The service {self.name!r} in cluster {self.cluster!r} {late} "
                    f"after {self.params['wait_timeout']} s (wait_timeout)"
                )
                return service
            time.sleep(min(POLL, remaining))

    def absent(self, service):
        result = dict(changed=False, created=False, deleted=False, changes=[])
        if not service or service.get("status") == "INACTIVE":
            return self.exit(result, None, {"before": {}, "after": {}})
        before = compare.sorted_data(dict(es.current_service(service), tags=es.service_tags(service)))
        diff = {"before": before, "after": {}}
        if service.get("status") != "DRAINING":  # else deleted already, by someone else
            result.update(changed=True, deleted=True)
            if self.module.check_mode:
                return self.exit(result, service, diff)
            self.delete(service)
        if self.params["wait"]:
            self.wait_until("was not INACTIVE yet", inactive)
        return self.exit(result, None, diff)

    def delete(self, service):
        if service.get("desiredCount", 0) > 0:
            self.write("scale to 0", ecs.update_service, self.cluster, self.name, desiredCount=0)
        self.wait_until("still had running tasks (deleted all the same)", lambda s: not s or not (s.get("runningCount") or s.get("pendingCount")))
        try:
            ecs.delete_service(self.client, self.cluster, self.name)
        except is_boto3_error_code("InvalidParameterException"):
            # scaled above 0 again in the meantime (an autoscaling policy): ECS stops the tasks itself
            self.write("delete", ecs.delete_service, self.cluster, self.name, force=True)
        except is_boto3_error_code("ServiceNotFoundException"):
            pass
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Could not delete the service {self.name!r} in cluster {self.cluster!r}")

    def exit(self, result, service, diff):
        result["service"] = {}
        if service:
            described = camel_dict_to_snake_dict({k: v for k, v in service.items() if k not in ("events", "tags")})
            result["service"] = dict(described, tags=es.service_tags(service))
        if self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, mutually_exclusive=MUTUALLY_EXCLUSIVE, supports_check_mode=True)
    ServiceManager(module).run()


if __name__ == "__main__":
    main()
