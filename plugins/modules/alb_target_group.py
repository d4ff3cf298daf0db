#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: alb_target_group
short_description: Manage an Application Load Balancer target group, with check and diff mode
version_added: 0.2.0
description:
  - Creates, updates or deletes one ELBv2 target group of an Application Load Balancer (protocol HTTP or
    HTTPS, target type C(ip) or C(instance)), for example the group an ECS service registers its tasks in.
  - The group is found by O(name) (or O(target_group_arn)). Every setting given is normalised and compared
    with what AWS reports, AWS's own defaults included (C(traffic-port), matcher C(200), attributes as
    strings); AWS is only called for what differs. Settings not given are left as they are.
  - Settings AWS cannot change on an existing group (O(vpc_id), O(protocol), O(protocol_version), O(port),
    O(target_type), O(ip_address_type)) are never changed silently. A difference fails with a message naming
    the option, unless O(replace=true).
  - A group in use (a listener's default action or a listener rule forwards to it) cannot be deleted; the
    module then names the listeners and rules that use it, or waits for them to go with O(wait_for_unused).
options:
  name:
    description:
      - Name of the target group, 1-32 letters, digits and hyphens, not starting or ending with a hyphen.
      - Required to create a group. Mutually exclusive with O(target_group_arn).
    type: str
  target_group_arn:
    description:
      - ARN of an existing target group, to update or delete it without knowing its name.
      - A group given by ARN is never created.
    type: str
  state:
    description: Whether the target group should exist.
    type: str
    choices: [present, absent]
    default: present
  vpc_id:
    description: VPC of the targets. Required to create; cannot be changed afterwards.
    type: str
  protocol:
    description: Protocol from the load balancer to the targets. Required to create; cannot be changed afterwards.
    type: str
    choices: [HTTP, HTTPS]
  protocol_version:
    description:
      - C(HTTP1) (AWS's default), C(HTTP2) or C(GRPC). Cannot be changed afterwards.
      - With C(GRPC), O(health_check.matcher) holds gRPC codes (0-99) instead of HTTP codes.
    type: str
    choices: [HTTP1, HTTP2, GRPC]
  port:
    description: Port the targets receive traffic on, 1-65535. Required to create; cannot be changed afterwards.
    type: int
  target_type:
    description:
      - C(ip) for ECS tasks in C(awsvpc) network mode (Fargate), C(instance) for EC2 instances. Cannot be
        changed afterwards.
      - The default is C(ip), not AWS's C(instance), because this collection deploys Fargate services.
      - Lambda and ALB targets are not supported (they have no VPC, port or HTTP health check of their own).
    type: str
    choices: [ip, instance]
    default: ip
  ip_address_type:
    description: C(ipv4) (AWS's default) or C(ipv6) targets. Cannot be changed afterwards.
    type: str
    choices: [ipv4, ipv6]
  health_check:
    description:
      - How the load balancer checks each target. Sub-options not given keep their current value (AWS's
        default on a new group).
    type: dict
    suboptions:
      enabled:
        description:
          - Whether health checks are on. AWS keeps them on for target types C(ip) and C(instance), so only
            V(true) is accepted.
        type: bool
      protocol:
        description: Protocol of the health check. AWS's default is the group's O(protocol).
        type: str
        choices: [HTTP, HTTPS]
      port:
        description: C(traffic-port) (AWS's default, the port each target receives traffic on) or a port 1-65535.
        type: str
      path:
        description: Path of the health check request, starting with C(/), at most 1024 characters. AWS's default is C(/).
        type: str
      interval:
        description: Seconds between checks of one target, 5-300 (AWS's default 30).
        type: int
      timeout:
        description: Seconds without an answer that fail a check, 2-120, smaller than O(health_check.interval) (AWS's default 5).
        type: int
      healthy_threshold:
        description: Consecutive successful checks that make a target healthy, 2-10 (AWS's default 5).
        type: int
      unhealthy_threshold:
        description: Consecutive failed checks that make a target unhealthy, 2-10 (AWS's default 2).
        type: int
      matcher:
        description:
          - Answers that count as healthy, one code (C("200")), a range (C("200-299")) or a list (C("200,302")).
          - HTTP codes 200-499 (AWS's default C(200)); gRPC codes 0-99 when O(protocol_version=GRPC) (AWS's default C(12)).
        type: str
  deregistration_delay:
    description: Seconds a deregistering target keeps draining, 0-3600 (AWS's default 300).
    type: int
  slow_start:
    description: Seconds a new target takes to ramp up to its full share of requests, 30-900, or 0 for off (AWS's default).
    type: int
  load_balancing_algorithm:
    description: How the load balancer picks a target (AWS's default C(round_robin)).
    type: str
    choices: [round_robin, least_outstanding_requests, weighted_random]
  stickiness:
    description: Sticky sessions. When omitted, stickiness is left as it is (off on a new group).
    type: dict
    suboptions:
      enabled:
        description: Whether requests of one client go to the same target.
        type: bool
        required: true
      type:
        description: C(lb_cookie), a cookie the load balancer makes, or C(app_cookie), the application's own cookie.
        type: str
        choices: [lb_cookie, app_cookie]
        default: lb_cookie
      duration:
        description: Seconds a client stays with its target, 1-604800 (AWS's default 86400).
        type: int
      cookie_name:
        description:
          - Name of the application's cookie; required with O(stickiness.type=app_cookie), not allowed otherwise.
          - Names starting with C(AWSALB), C(AWSALBAPP) or C(AWSALBTG) are reserved by the load balancer.
        type: str
  replace:
    description:
      - When a setting AWS cannot change differs (O(vpc_id), O(protocol), O(protocol_version), O(port),
        O(target_type), O(ip_address_type)), delete the group and create it again under the same name.
      - Only possible while nothing forwards to the group; otherwise the module fails and names the listeners
        and rules that use it. To replace a group in use without downtime, create a group under a new name,
        switch the rule to it, then delete the old one with O(state=absent).
    type: bool
    default: false
  wait_for_unused:
    description:
      - With O(state=absent) (or O(replace=true)), when the group is still in use, try again until nothing
        uses it any more or O(wait_timeout) seconds have passed, instead of failing at once.
    type: bool
    default: false
  wait_timeout:
    description: Seconds O(wait_for_unused) waits at most, 1-3600.
    type: int
    default: 60
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - "Written because M(community.aws.elb_target_group) (community.aws 10.0.0) has neither check mode nor diff mode: a
    C(--check) run skips it, so a deploy on an empty account cannot be previewed past it, and a changed health check
    cannot be previewed. It also cannot say, when a group is still in use, which rule forwards to it."
  - In check mode, O(state=absent) on a group that is still in use reports C(changed) with a warning naming
    its users, because an earlier task of the same run (deleting the rule) may free it.
  - Targets are not managed; ECS registers and deregisters its tasks itself.
  - "IAM actions used: C(elasticloadbalancing:DescribeTargetGroups), C(DescribeTargetGroupAttributes),
    C(DescribeTags), C(DescribeListeners), C(DescribeRules), C(CreateTargetGroup), C(ModifyTargetGroup),
    C(ModifyTargetGroupAttributes), C(DeleteTargetGroup), C(AddTags), C(RemoveTags)."
seealso:
  - module: community.aws.elb_target_group
  - module: community.aws.elb_target_group_info
  - module: pocstack.aws.elb_listener_rule
  - module: pocstack.aws.ecs_fargate_service
attributes:
  check_mode:
    support: full
    description: No mutating call. C(changed), C(operation) and C(changes) are what a real run would report;
      C(target_group) is the group as it is now (empty when it would be created). Deleting or replacing a group that
      is still in use is reported as a change, with a warning naming its users.
  diff_mode:
    support: full
    description: Sorted before/after of every compared setting, the attributes this module manages, and the tags; each
      side names the group.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Target group of the plotly service, health-checked on /health
  pocstack.aws.alb_target_group:
    name: plotly-8050
    vpc_id: "{{ vpc_id }}"
    protocol: HTTP
    port: 8050
    target_type: ip
    health_check:
      path: /health
      interval: 6
      timeout: 5
      healthy_threshold: 2
      unhealthy_threshold: 2
      matcher: "200"
    deregistration_delay: 30
    tags:
      pocstack:service: plotly
  register: target_group

- name: Sticky sessions on the application's own cookie, least outstanding requests
  pocstack.aws.alb_target_group:
    name: grafana-3000
    vpc_id: "{{ vpc_id }}"
    protocol: HTTP
    port: 3000
    load_balancing_algorithm: least_outstanding_requests
    stickiness:
      enabled: true
      type: app_cookie
      cookie_name: grafana_session
      duration: 3600

- name: Change only the health check path; everything else stays as it is
  pocstack.aws.alb_target_group:
    name: plotly-8050
    health_check:
      path: /ready

- name: Delete a group once the rule that forwarded to it is gone (waits up to 2 minutes)
  pocstack.aws.alb_target_group:
    name: plotly-8050
    state: absent
    wait_for_unused: true
    wait_timeout: 120

- name: Delete by ARN
  pocstack.aws.alb_target_group:
    target_group_arn: "{{ old_target_group_arn }}"
    state: absent
"""

RETURN = r"""
target_group_arn:
  description: ARN of the group; empty when it does not exist (or would be created in check mode).
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/4aa612a2336e5b66
operation:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  choices: [none, created, updated, replaced, deleted]
  sample: updated
changes:
  description:
    - Dotted names of the settings that differ(ed), as in the diff (C(health_check.path),
      C(attributes.deregistration_delay.timeout_seconds), C(tags.KEY), or a setting AWS cannot change when the
      group is replaced); empty when nothing differs or the group is created or deleted.
  returned: always
  type: list
  elements: str
  sample: ["attributes.deregistration_delay.timeout_seconds", "health_check.path"]
target_group:
  description:
    - The group as AWS describes it, snake_cased, with its attributes and tags; empty when absent or deleted, or
      not yet created (check mode).
    - In check mode, the group as it is before the reported change.
  returned: always
  type: dict
  contains:
    target_group_arn:
      description: ARN of the group.
      type: str
    target_group_name:
      description: Name of the group.
      type: str
      sample: plotly-8050
    protocol:
      description: Protocol to the targets.
      type: str
      sample: HTTP
    protocol_version:
      description: Protocol version.
      type: str
      sample: HTTP1
    port:
      description: Port of the targets.
      type: int
      sample: 8050
    vpc_id:
      description: VPC of the targets.
      type: str
      sample: vpc-0123456789abcdef0
    target_type:
      description: Target type.
      type: str
      sample: ip
    ip_address_type:
      description: IP address type of the targets.
      type: str
      sample: ipv4
    health_check_enabled:
      description: Whether health checks are on.
      type: bool
      sample: true
    health_check_protocol:
      description: Protocol of the health check.
      type: str
      sample: HTTP
    health_check_port:
      description: Port of the health check.
      type: str
      sample: traffic-port
    health_check_path:
      description: Path of the health check.
      type: str
      sample: /health
    health_check_interval_seconds:
      description: Seconds between checks.
      type: int
      sample: 6
    health_check_timeout_seconds:
      description: Seconds before a check fails.
      type: int
      sample: 5
    healthy_threshold_count:
      description: Successful checks that make a target healthy.
      type: int
      sample: 2
    unhealthy_threshold_count:
      description: Failed checks that make a target unhealthy.
      type: int
      sample: 2
    matcher:
      description: Codes that count as healthy.
      type: dict
      sample: {"http_code": "200"}
    load_balancer_arns:
      description: Load balancers whose listeners forward to the group.
      type: list
      elements: str
    attributes:
      description: Every attribute AWS reports, with its AWS key and string value.
      type: dict
      sample: {"deregistration_delay.timeout_seconds": "30", "stickiness.enabled": "false"}
    tags:
      description: Tags of the group.
      type: dict
      sample: {"pocstack:service": "plotly"}
"""

import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils import elb_utils
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import elbv2
from ansible_collections.pocstack.aws.plugins.module_utils import target_groups as tgs

# Pause between delete attempts while waiting for a group to be unused: first, growth, longest.
UNUSED_POLL = (2.0, 1.5, 10.0)

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    target_group_arn=dict(type="str"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    vpc_id=dict(type="str"),
    protocol=dict(type="str", choices=["HTTP", "HTTPS"]),
    protocol_version=dict(type="str", choices=["HTTP1", "HTTP2", "GRPC"]),
    port=dict(type="int"),
    target_type=dict(type="str", choices=["ip", "instance"], default="ip"),
    ip_address_type=dict(type="str", choices=["ipv4", "ipv6"]),
    health_check=dict(
        type="dict",
        options=dict(
            enabled=dict(type="bool"),
            protocol=dict(type="str", choices=["HTTP", "HTTPS"]),
            port=dict(type="str"),
            path=dict(type="str"),
            interval=dict(type="int"),
            timeout=dict(type="int"),
            healthy_threshold=dict(type="int"),
            unhealthy_threshold=dict(type="int"),
            matcher=dict(type="str"),
        ),
    ),
    deregistration_delay=dict(type="int"),
    slow_start=dict(type="int"),
    load_balancing_algorithm=dict(type="str", choices=["round_robin", "least_outstanding_requests", "weighted_random"]),
    stickiness=dict(
        type="dict",
        options=dict(
            enabled=dict(type="bool", required=True),
            type=dict(type="str", choices=["lb_cookie", "app_cookie"], default="lb_cookie"),
            duration=dict(type="int"),
            cookie_name=dict(type="str"),
        ),
    ),
    replace=dict(type="bool", default=False),
    wait_for_unused=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=60),
    tags=dict(type="dict", aliases=["resource_tags"]),
    purge_tags=dict(type="bool", default=True),
)


class TargetGroupManager:
    def __init__(self, module):
        self.module = module
        self.client = module.client("elbv2", retry_decorator=AWSRetry.jittered_backoff())
        self.params = module.params
        self.changed = False
        self.group_name = module.params["name"]

    def run(self):
        """Fails naming the option for any input AWS would reject (TargetGroupError),
        before a write, or before the create that follows a replace's delete."""
        try:
            self.dispatch()
        except tgs.TargetGroupError as e:
            self.module.fail_json(msg=str(e))

    def dispatch(self):
        params = self.params
        if params["name"] is not None:
            tgs.validate_name(params["name"])
        else:
            tgs.validate_arn(params["target_group_arn"])
        tgs.whole_number("wait_timeout", params["wait_timeout"], 1, 3600, " seconds")
        desired = tgs.desired_group(params) if params["state"] == "present" else None
        try:
            group = elbv2.describe_target_group(self.client, **(
                {"Names": [params["name"]]} if params["name"] else {"TargetGroupArns": [params["target_group_arn"]]}))
        except AnsibleAWSError as e:
            self.module.fail_json_aws(
                e.exception, msg=f"Could not read the target group {params['name'] or params['target_group_arn']}")
        self.group_name = params["name"] or (group or {}).get("TargetGroupName")
        if params["state"] == "absent":
            return self.absent(group)
        if group is None:
            return self.create(desired, compare.tag_changes({}, params["tags"], False)[2], "created", {}, [])
        return self.present(group, desired)

    # ------------------------------------------------------------------ reads
    def read_state(self, group):
        """(canonical group, tags, attributes as AWS lists them) of an existing group."""
        arn = group["TargetGroupArn"]
        try:
            attributes = elbv2.describe_target_group_attributes(self.client, arn)
            tags = elbv2.tags_by_arn(self.client, [arn]).get(arn, {})
        except AnsibleAWSError as e:
            self.module.fail_json_aws(e.exception, msg=f"Could not read the attributes and tags of target group {arn}")
        return tgs.current_group(group, attributes), tags, attributes

    def users(self, group):
        """Listeners and rules that forward to the group, one line each (reads only)."""
        arn = group["TargetGroupArn"]
        listeners, rules = [], {}
        try:
            for lb_arn in sorted(set(group.get("LoadBalancerArns") or [])):
                for listener in elb_utils.describe_listeners(self.client, lb_arn):
                    listeners.append(listener)
                    rules[listener["ListenerArn"]] = elbv2.get_listener_rules(self.client, listener["ListenerArn"])
            using = [r["RuleArn"] for found in rules.values() for r in found
                     if not r.get("IsDefault") and tgs.forwards_to(r.get("Actions"), arn)]
            tags = elbv2.tags_by_arn(self.client, using)
        except AnsibleAWSError:
            return []  # the in-use message without names is still right
        return tgs.describe_users(listeners, rules, tags, arn)

    def warn_if_used(self, group, consequence):
        """Check mode: name who still forwards to a group a real run would delete."""
        users = self.users(group)  # no reads for a group no load balancer uses
        if users:
            self.module.warn(f"{self.in_use(group, users)}; {consequence}")

    @staticmethod
    def in_use(group, users, waited=None):
        named = "; ".join(users) if users else "a listener or rule that could not be read"
        after = f" after waiting {waited} seconds" if waited is not None else ""
        return f"target group {group['TargetGroupArn']} is still in use{after} by: {named}"

    # ---------------------------------------------------------------- present
    def present(self, group, desired):
        params = self.params
        current, tags, attributes = self.read_state(group)
        tgs.check_against(desired, current)
        diffs = tgs.differences(desired, current)
        to_set, to_unset, after_tags = compare.tag_changes(tags, params["tags"], params["purge_tags"])
        changes = tgs.changed_fields(diffs, to_set, to_unset)
        before = tgs.for_diff(current, tags)
        if diffs["fixed"]:
            if not params["replace"]:
                self.module.fail_json(msg=self.fixed_message(group, desired, current, diffs["fixed"]))
            return self.replace(group, tgs.after(desired, current), after_tags, before, changes)

        diff = {"before": before, "after": tgs.for_diff(tgs.after(desired, current), after_tags)}
        arn = group["TargetGroupArn"]
        self.changed = bool(changes)
        if self.module.check_mode or not self.changed:
            # Nothing written: the group is as just read.
            return self.exit(arn, "updated" if self.changed else "none", changes, diff, (group, attributes, tags))
        try:
            if diffs["health_check"]:
                kwargs = tgs.modify_kwargs(diffs["health_check"], current.get("protocol_version"))
                elbv2.modify_target_group(self.client, arn, **kwargs)
            if diffs["attributes"]:
                elbv2.modify_target_group_attributes(self.client, arn, diffs["attributes"])
            if to_set:
                elb_utils.add_tags(self.client, [arn], ansible_dict_to_boto3_tag_list(to_set))
            if to_unset:
                elb_utils.remove_tags(self.client, [arn], to_unset)
        except AnsibleAWSError as e:
            self.module.fail_json_aws(e.exception, msg=f"Could not update the target group {arn}")
        return self.exit(arn, "updated", changes, diff)

    @staticmethod
    def fixed_message(group, desired, current, fields):
        differ = ", ".join(f"{key} {current.get(key)!r} -> {desired[key]!r}" for key in fields)
        return (
            f"target group {group['TargetGroupName']} ({group['TargetGroupArn']}): AWS cannot change {differ} "
            "on an existing target group; it must be replaced. Give the new settings a new name (create the new "
            "group, switch the rule to it, then delete the old one with state=absent), or set replace=true to "
            "delete and re-create it under the same name while nothing forwards to it."
        )

    def create(self, desired, tags, action, before, changes):
        """Create the group with its tags, then set the attributes that differ
        from the new group's defaults."""
        params = self.params
        if params["name"] is None:
            self.module.fail_json(
                msg=f"target_group_arn: no target group {params['target_group_arn']}; give name to create one"
            )
        missing = tgs.missing_to_create(desired)
        if missing:
            self.module.fail_json(msg=f"{', '.join(missing)}: required to create the target group {params['name']!r}")
        tgs.check_against(desired, None)
        diff = {"before": before, "after": tgs.for_diff(desired, tags)}
        self.changed = True
        if self.module.check_mode:
            return self.exit(None, action, changes, diff)
        try:
            group = elbv2.create_target_group(self.client, **tgs.create_kwargs(params["name"], desired, tags))
        except AnsibleAWSError as e:
            self.module.fail_json_aws(e.exception, msg=f"Could not create the target group {params['name']!r}")
        arn = group["TargetGroupArn"]
        try:
            current = tgs.current_group(group, elbv2.describe_target_group_attributes(self.client, arn))
            attributes = tgs.differences(desired, current)["attributes"]
            if attributes:
                elbv2.modify_target_group_attributes(self.client, arn, attributes)
        except AnsibleAWSError as e:
            self.module.fail_json_aws(e.exception, msg=f"Created the target group {arn}, but could not set its attributes; run again")
        return self.exit(arn, action, changes, diff)

    def replace(self, group, wanted, tags, before, changes):
        """Delete and create again under the same name: `wanted` is the whole
        group (what was given over what it has), so nothing not given is lost."""
        if self.module.check_mode:
            self.warn_if_used(group, "replace=true fails unless an earlier task switches them to another group")
        else:
            self.delete(group)
        return self.create(wanted, tags, "replaced", before, changes)

    # ----------------------------------------------------------------- absent
    def absent(self, group):
        if group is None:
            return self.exit(None, "none", [], {"before": {}, "after": {}})
        current, tags, _attributes = self.read_state(group)
        diff = {"before": tgs.for_diff(current, tags), "after": {}}
        self.changed = True
        if self.module.check_mode:
            self.warn_if_used(group, "a real run fails unless an earlier task removes them")
        else:
            self.delete(group)
        return self.exit(None, "deleted", [], diff)

    def delete(self, group):
        """DeleteTargetGroup; while it is in use, fail naming its users, or with
        wait_for_unused try again until wait_timeout."""
        arn = group["TargetGroupArn"]
        wait = self.params["wait_for_unused"]
        deadline = time.monotonic() + self.params["wait_timeout"]
        pause, growth, longest = UNUSED_POLL
        while True:
            try:
                elbv2.delete_target_group(self.client, arn)  # or gone meanwhile
                return
            except is_ansible_aws_error_code("ResourceInUse") as e:
                left = deadline - time.monotonic()
                if not wait or left <= 0:
                    self.module.fail_json_aws(
                        e.exception, msg=self.in_use_failure(group, self.params["wait_timeout"] if wait else None))
                time.sleep(min(pause, left))
                pause = min(pause * growth, longest)
            except AnsibleAWSError as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e.exception, msg=f"Could not delete the target group {arn}")

    def in_use_failure(self, group, waited):
        try:
            group = elbv2.describe_target_group(self.client, TargetGroupArns=[group["TargetGroupArn"]]) or group
        except AnsibleAWSError:
            pass  # name the users the first read found
        return (
            f"{self.in_use(group, self.users(group), waited)}. Remove those rules or switch them to another "
            "target group first, or set wait_for_unused to wait for that"
        )

    # ------------------------------------------------------------------- exit
    def exit(self, arn, action, changes, diff, read=None):
        """read: (group, attributes, tags) as this run read them, when it wrote
        nothing since; otherwise the group is read again after the writes."""
        # In check mode this is the group as it is now, before the reported change.
        described = {}
        if arn and read:
            described = self.described(*read)
        elif arn:
            try:
                group = elbv2.describe_target_group(self.client, TargetGroupArns=[arn])
                if group:
                    described = self.described(group, elbv2.describe_target_group_attributes(self.client, arn),
                                               elbv2.tags_by_arn(self.client, [arn]).get(arn, {}))
            except AnsibleAWSError as e:
                self.module.fail_json_aws(e.exception, msg=f"Could not describe the target group {arn}")
        result = dict(changed=self.changed, target_group_arn=arn or "", operation=action, changes=changes,
                      target_group=described)
        if self.module._diff:
            # The name is the group's identity (it never changes): each side shows it.
            result["diff"] = {side: dict(sorted({**state, "name": self.group_name}.items())) if state else {}
                              for side, state in diff.items()}
        self.module.exit_json(**result)

    @staticmethod
    def described(group, attributes, tags):
        """The target_group result: the group snake_cased, with its attributes and tags."""
        described = camel_dict_to_snake_dict(group)
        described["attributes"] = {a["Key"]: str(a.get("Value", "")) for a in attributes}
        described["tags"] = tags
        return described


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[["name", "target_group_arn"]],
        required_one_of=[["name", "target_group_arn"]],
        supports_check_mode=True,
    )
    TargetGroupManager(module).run()


if __name__ == "__main__":
    main()
