#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_service_scaling
short_description: Autoscale the desired count of an ECS service with target tracking policies
version_added: 0.2.0
description:
  - Manages the Application Auto Scaling scalable target of one ECS service (its C(ecs:service:DesiredCount),
    resource ID C(service/<cluster>/<service>)) and the target tracking scaling policies on it, as one unit.
  - The scalable target is registered only when it is missing or its O(min_capacity) / O(max_capacity) differ.
    A policy is put only when it is missing or differs from what AWS describes, once both are normalised
    (metric names, C(TargetValue) as a number, AWS's default cooldowns of 300 seconds, C(DisableScaleIn) false
    when not described). Policies on the target that O(policies) does not list are deleted when
    O(purge_policies=true).
  - With O(state=absent), every scaling policy of the scalable target is deleted and the target is deregistered.
  - "Registering the scalable target changes the service's desired count only when it lies outside
    [O(min_capacity), O(max_capacity)]: AWS then moves it to the nearest bound. Otherwise the desired count is
    left to the policies, so whatever deploys the service should set the desired count on creation only."
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  service:
    description: Name or ARN of the ECS service. The service must exist before O(state=present).
    type: str
    required: true
    aliases: [name]
  min_capacity:
    description:
      - Fewest tasks the policies may scale in to, 0 or more.
      - Required when O(state=present).
    type: int
  max_capacity:
    description:
      - Most tasks the policies may scale out to, at least O(min_capacity) and at most 5000 (ECS's limit of tasks
        per service).
      - Required when O(state=present).
    type: int
  policies:
    description:
      - The target tracking policies of the service.
      - When omitted, the policies on the scalable target are left as they are.
      - At most 50 (Application Auto Scaling's limit per scalable target), each with its own O(policies[].name).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Name of the policy, unique on the scalable target.
          - Defaults to V(<service>-cpu), V(<service>-memory) or V(<service>-requests) after O(policies[].metric).
        type: str
      metric:
        description:
          - V(cpu) tracks C(ECSServiceAverageCPUUtilization), V(memory) C(ECSServiceAverageMemoryUtilization)
            (both the service's average, in percent), V(requests_per_target) C(ALBRequestCountPerTarget) (requests
            per minute to each task through one target group of an Application Load Balancer).
        type: str
        required: true
        choices: [cpu, memory, requests_per_target]
      target:
        description:
          - The value the policy keeps the metric at.
          - 1-100 (percent) for V(cpu) and V(memory); above 0 for V(requests_per_target).
        type: float
        required: true
      scale_in_cooldown:
        description: Seconds after a scale-in before another scale-in may start, 0-3600.
        type: int
        default: 300
      scale_out_cooldown:
        description: Seconds after a scale-out before another scale-out may start, 0-3600.
        type: int
        default: 300
      disable_scale_in:
        description: Whether the policy only scales out (another policy or a person scales in).
        type: bool
        default: false
      load_balancer_arn:
        description:
          - ARN of the Application Load Balancer in front of the service.
          - Required for, and only allowed with, O(policies[].metric=requests_per_target).
        type: str
      target_group_arn:
        description:
          - ARN of the service's target group on O(policies[].load_balancer_arn).
          - Required for, and only allowed with, O(policies[].metric=requests_per_target). With the load balancer ARN
            it makes the policy's C(ResourceLabel), C(app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>).
        type: str
  purge_policies:
    description: Whether policies on the scalable target that O(policies) does not list are deleted.
    type: bool
    default: true
  state:
    description: Whether the service is autoscaled.
    type: str
    choices: [present, absent]
    default: present
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - "Written because M(community.aws.application_autoscaling_policy) (community.aws 10.0.0) falls short: it declares
    check mode but registers the scalable target and puts the policy in check mode all the same; it compares the
    policy configuration as given with what AWS describes, where AWS has filled in fields, so a re-run can report a
    change; it changes an existing target's capacities only with C(override_task_capacity=true); it never deregisters
    the scalable target with C(state=absent); it sets no tags and returns no diff; and it manages one policy per task,
    so a policy dropped from the inventory stays."
  - Tags are set on the scalable target when it is registered and with C(TagResource)/C(UntagResource) later.
  - The scaling policies create and delete their CloudWatch alarms themselves.
  - "IAM actions used: C(application-autoscaling:DescribeScalableTargets), C(DescribeScalingPolicies),
    C(ListTagsForResource), C(RegisterScalableTarget), C(PutScalingPolicy), C(DeleteScalingPolicy),
    C(DeregisterScalableTarget), C(TagResource), C(UntagResource); the first registration also needs
    C(iam:CreateServiceLinkedRole) for C(AWSServiceRoleForApplicationAutoScaling_ECSService) unless the role
    exists already."
seealso:
  - module: community.aws.application_autoscaling_policy
  - module: pocstack.aws.ecs_fargate_service
attributes:
  check_mode:
    support: full
    description: No mutating call. C(changed) and C(changes) are what a real run would report; C(scalable_target) and
      C(policies) are as they are now.
  diff_mode:
    support: full
    description: Sorted before/after of the scalable target's capacities, the policies (normalised as they are
      compared) and the tags.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Keep the plotly service between 1 and 4 tasks at 60 % CPU
  pocstack.aws.ecs_service_scaling:
    cluster: pocstack
    service: plotly
    min_capacity: 1
    max_capacity: 4
    policies:
      - metric: cpu
        target: 60
    tags:
      pocstack:service: plotly

- name: Scale on CPU and on requests per task, faster out than in
  pocstack.aws.ecs_service_scaling:
    cluster: pocstack
    service: plotly
    min_capacity: 1
    max_capacity: 10
    policies:
      - metric: cpu
        target: 70
        scale_out_cooldown: 60
        scale_in_cooldown: 300
      - name: plotly-requests
        metric: requests_per_target
        target: 500
        load_balancer_arn: "{{ alb_tls_load_balancer_arn }}"
        target_group_arn: "{{ alb_tls_target_group_arn }}"
        scale_out_cooldown: 60

- name: Change the bounds only, leaving the policies as they are
  pocstack.aws.ecs_service_scaling:
    cluster: pocstack
    service: plotly
    min_capacity: 2
    max_capacity: 6

- name: Stop autoscaling the service (policies deleted, target deregistered)
  pocstack.aws.ecs_service_scaling:
    cluster: pocstack
    service: plotly
    state: absent
"""

RETURN = r"""
scalable_target:
  description:
    - The service's scalable target; empty when there is none (absent, deregistered, or not yet registered in
      check mode).
    - In check mode, the target as it is before the reported change.
  returned: always
  type: dict
  contains:
    resource_id:
      description: Resource ID of the scalable target.
      type: str
      sample: service/pocstack/plotly
    scalable_target_arn:
      description: ARN of the scalable target.
      type: str
      sample: arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/0e6a4b9d7f2c4f0c8f1f1c7a5e2b3d4c
    min_capacity:
      description: Fewest tasks.
      type: int
      sample: 1
    max_capacity:
      description: Most tasks.
      type: int
      sample: 4
    tags:
      description: Tags of the scalable target.
      type: dict
      sample: {"pocstack:service": "plotly"}
policies:
  description:
    - The scaling policies on the scalable target, normalised, sorted by name; empty when there are none.
    - In check mode, the policies as they are before the reported change.
    - A policy this module does not write (step scaling, a customized metric) has only C(name), C(policy_type),
      C(aws) (its configuration as AWS describes it) and C(policy_arn).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the policy.
      type: str
      sample: plotly-cpu
    policy_arn:
      description: ARN of the policy.
      type: str
      sample: >-
        arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:6d8972f3-efc8-437c-92d1-6270f29a66e7:resource/ecs/service/pocstack/plotly:policyName/plotly-cpu
    metric:
      description: V(cpu), V(memory) or V(requests_per_target) (the AWS metric type for any other predefined metric).
      type: str
      sample: cpu
    target:
      description: Target value of the metric.
      type: float
      sample: 60.0
    scale_in_cooldown:
      description: Scale-in cooldown in seconds.
      type: int
      sample: 300
    scale_out_cooldown:
      description: Scale-out cooldown in seconds.
      type: int
      sample: 300
    disable_scale_in:
      description: Whether the policy only scales out.
      type: bool
      sample: false
    resource_label:
      description: The ALB and target group the requests are counted on; only for V(requests_per_target).
      type: str
      sample: app/pocstack/50dc6c495c0c9188/targetgroup/plotly-8050/943f017f100becff
changes:
  description: What was changed (in check mode, what would be).
  returned: always
  type: dict
  contains:
    scalable_target:
      description: V(created), V(updated) (minimum or maximum), V(deregistered), or empty when unchanged.
      type: str
      sample: created
    policies_created:
      description: Names of the policies created.
      type: list
      elements: str
      sample: [plotly-cpu]
    policies_updated:
      description: Names of the policies changed (a policy of another type under that name is replaced).
      type: list
      elements: str
      sample: []
    policies_deleted:
      description: Names of the policies deleted.
      type: list
      elements: str
      sample: []
    tags_set:
      description: Keys of the tags added or changed.
      type: list
      elements: str
      sample: ["pocstack:service"]
    tags_removed:
      description: Keys of the tags removed.
      type: list
      elements: str
      sample: []
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import app_autoscaling as aa
from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import service_scaling as ss

ARGUMENT_SPEC = dict(
    cluster=dict(type="str", required=True),
    service=dict(type="str", required=True, aliases=["name"]),
    min_capacity=dict(type="int"),
    max_capacity=dict(type="int"),
    policies=dict(
        type="list",
        elements="dict",
        options=dict(
            name=dict(type="str"),
            metric=dict(type="str", required=True, choices=list(ss.METRICS)),
            target=dict(type="float", required=True),
            scale_in_cooldown=dict(type="int", default=ss.DEFAULT_COOLDOWN),
            scale_out_cooldown=dict(type="int", default=ss.DEFAULT_COOLDOWN),
            disable_scale_in=dict(type="bool", default=False),
            load_balancer_arn=dict(type="str"),
            target_group_arn=dict(type="str"),
        ),
    ),
    purge_policies=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
)
REQUIRED_IF = [["state", "present", ["min_capacity", "max_capacity"]]]


def no_changes():
    return {"scalable_target": "", "policies_created": [], "policies_updated": [], "policies_deleted": [],
            "tags_set": [], "tags_removed": []}


class ScalingManager:
    def __init__(self, module):
        self.module = module
        self.client = module.client(
            "application-autoscaling", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=aa.RETRY_CODES)
        )
        self.params = module.params
        self.resource_id = None

    def run(self):
        params = self.params
        want_target = want_policies = None
        try:
            resource_id = self.resource_id = ss.resource_id(params["cluster"], params["service"])
            service = resource_id.rsplit("/", 1)[1]
            if params["state"] == "present":
                low, high = ss.validate_capacity(params["min_capacity"], params["max_capacity"])
                want_target = {"min_capacity": low, "max_capacity": high}
                want_policies = ss.desired_policies(params["policies"], service)
        except ss.ScalingError as e:
            self.module.fail_json(msg=str(e))
        try:
            target = aa.describe_scalable_target(self.client, resource_id)
            policies = aa.describe_scaling_policies(self.client, resource_id)
            tags = aa.list_tags(self.client, target["ScalableTargetARN"]) if target and target.get("ScalableTargetARN") else {}
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not read the autoscaling of ECS service {resource_id}")
        current = {
            "resource_id": resource_id,
            "arn": (target or {}).get("ScalableTargetARN", ""),
            "target": ss.current_target(target),
            "policies": {p["PolicyName"]: ss.current_policy(p) for p in policies},
            "arns": {p["PolicyName"]: p.get("PolicyARN", "") for p in policies},
            "tags": tags,
        }
        if params["state"] == "absent":
            return self.absent(current)
        return self.present(current, want_target, want_policies)

    def present(self, current, want_target, want_policies):
        params = self.params
        resource_id = current["resource_id"]
        have_policies, arns = current["policies"], dict(current["arns"])
        steps = ss.plan(want_target, current["target"], want_policies, have_policies, params["purge_policies"])
        to_set, to_unset, after_tags = compare.tag_changes(current["tags"], params["tags"], params["purge_tags"])
        after_policies = {name: c for name, c in have_policies.items() if name not in steps["delete"]}
        after_policies.update(want_policies or {})
        diff = {
            "before": ss.for_diff(current["target"], have_policies, current["tags"]),
            "after": ss.for_diff(want_target, after_policies, after_tags),
        }
        changes = dict(
            scalable_target=steps["scalable_target"] or "",
            policies_created=steps["create"],
            policies_updated=steps["update"],
            policies_deleted=[name for name in steps["delete"] if name not in steps["update"]],
            tags_set=sorted(to_set),
            tags_removed=to_unset,
        )
        if self.module.check_mode or not any(changes.values()):
            return self.exit(current["arn"], current["target"], have_policies, arns, current["tags"], changes, diff)

        arn = current["arn"]
        try:
            if steps["scalable_target"]:
                arn = self.register(resource_id, want_target, to_set if steps["scalable_target"] == "created" else None) or arn
            for name in steps["delete"]:
                aa.delete_scaling_policy(self.client, resource_id, name)
                arns.pop(name, None)
            for name in steps["create"] + steps["update"]:
                arns[name] = aa.put_target_tracking_policy(self.client, resource_id, name, ss.to_aws_config(want_policies[name]))
            if steps["scalable_target"] != "created":
                if to_set:
                    aa.tag_resource(self.client, arn, to_set)
                if to_unset:
                    aa.untag_resource(self.client, arn, to_unset)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not update the autoscaling of ECS service {resource_id}")
        return self.exit(arn, want_target, after_policies, arns, after_tags, changes, diff)

    def register(self, resource_id, want_target, tags):
        """RegisterScalableTarget, with a clear message when the ECS service is missing."""
        try:
            return aa.register_scalable_target(
                self.client, resource_id, want_target["min_capacity"], want_target["max_capacity"], tags
            )
        except is_boto3_error_code("ValidationException") as e:
            if "exist" not in str(e):
                raise
            _kind, cluster, service = resource_id.split("/")
            self.module.fail_json_aws(e, msg=f"service: no ECS service {service!r} in cluster {cluster!r} ({resource_id}); create the service first")

    def absent(self, current):
        resource_id = current["resource_id"]
        have_policies, arns = current["policies"], dict(current["arns"])
        if current["target"] is None and not have_policies:
            return self.exit("", None, {}, {}, {}, no_changes(), {"before": {}, "after": {}})
        changes = dict(
            no_changes(),
            scalable_target="deregistered" if current["target"] is not None else "",
            policies_deleted=sorted(have_policies),
        )
        diff = {"before": ss.for_diff(current["target"], have_policies, current["tags"]), "after": {}}
        if self.module.check_mode:
            return self.exit(current["arn"], current["target"], have_policies, arns, current["tags"], changes, diff)
        try:
            # Deregistering deletes the policies too on AWS; deleting them one
            # by one first makes the teardown explicit and safe to resume.
            for name in sorted(have_policies):
                aa.delete_scaling_policy(self.client, resource_id, name)
            if current["target"] is not None:
                aa.deregister_scalable_target(self.client, resource_id)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not remove the autoscaling of ECS service {resource_id}")
        return self.exit("", None, {}, {}, {}, changes, diff)

    def exit(self, arn, target, policies, arns, tags, changes, diff):
        scalable_target = {}
        if target is not None:
            scalable_target = dict(target, resource_id=self.resource_id, scalable_target_arn=arn or "", tags=dict(tags))
        result = dict(changed=any(changes.values()), scalable_target=scalable_target,
                      policies=ss.policy_list(policies, arns), changes=changes)
        if self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=True)
    ScalingManager(module).run()


if __name__ == "__main__":
    main()
