#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Written here because amazon.aws and community.aws manage listener rules only
# as a listener's whole rule list (elb_application_lb), which makes every
# service restate every other service's rules on a shared ALB.

DOCUMENTATION = r"""
module: elb_listener_rule
short_description: Manage one rule of an ELBv2 (ALB) listener
version_added: 0.1.0
description:
  - Creates, updates, moves or deletes exactly one rule of an Application Load Balancer listener.
  - The rule is identified by O(name), kept in the tag C(pocstack:rule-name) that this module owns, so
    the identity survives a priority change. A rule without that tag and with identical conditions is
    adopted. Rules owned by another name, and the default rule, are never changed.
  - Conditions and actions are normalised (order, case of host names, friendly and AWS forms) before they
    are compared; AWS is only called when something differs.
  - A changed priority moves the rule with C(SetRulePriorities) instead of re-creating it.
options:
  name:
    description: Identity of the rule on its listener, stored in the tag C(pocstack:rule-name).
    type: str
    required: true
  listener_arn:
    description: ARN of the listener. Mutually exclusive with O(load_balancer_name).
    type: str
  load_balancer_name:
    description: Name of the load balancer whose listener on O(listener_port) holds the rule.
    type: str
  listener_port:
    description: Port of the listener, with O(load_balancer_name).
    type: int
  priority:
    description:
      - Priority of the rule, 1-50000, unique on the listener.
      - When omitted, a new rule gets the lowest free priority in O(priority_range), and an existing
        rule keeps its priority. Several hosts may do this on the same listener at the same moment;
        a lost race (C(PriorityInUse)) re-reads the listener and picks again.
    type: int
  priority_range:
    description: First and last priority the automatic choice may use.
    type: list
    elements: int
    default: [1, 50000]
  conditions:
    description:
      - Conditions of the rule, in the friendly form (C(field), C(values), and C(name) for the header
        of an C(http-header) condition) or the AWS form (C(Field) and C(PathPatternConfig),
        C(HostHeaderConfig), C(HttpHeaderConfig), C(HttpRequestMethodConfig), C(QueryStringConfig),
        C(SourceIpConfig)).
      - Fields are C(path-pattern), C(host-header), C(http-header), C(http-request-method),
        C(query-string) (values as C({key, value}) dicts or C(key=value) strings) and C(source-ip).
      - Values are compared the way AWS does (host names and header names without case, methods in
        upper case, order ignored). At most 5 values in all.
      - At least one condition is required when O(state=present).
    type: list
    elements: dict
  actions:
    description:
      - Actions of the rule. Supported is C(forward) to one target group, in the friendly form
        (C(type), C(target_group_arn)) or the AWS form (C(Type), C(TargetGroupArn), or C(ForwardConfig)
        with one target group and no stickiness).
      - Required when O(state=present).
      - When the rule found carries any other action (changed by hand, for instance), it is replaced.
    type: list
    elements: dict
  state:
    description: Whether the rule should exist.
    type: str
    choices: [present, absent]
    default: present
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Supports check mode (no mutating call) and diff mode (sorted before/after).
  - The tag C(pocstack:rule-name) is always set to O(name) and never purged; O(tags) must not give it
    another value.
  - "IAM actions used: C(elasticloadbalancing:DescribeLoadBalancers), C(DescribeListeners), C(DescribeRules),
    C(DescribeTags), C(CreateRule), C(ModifyRule), C(SetRulePriorities), C(DeleteRule), C(AddTags), C(RemoveTags)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Route every path to the plotly service
  pocstack.aws.elb_listener_rule:
    name: plotly
    load_balancer_name: pocstack
    listener_port: 443
    priority: 100
    conditions:
      - field: path-pattern
        values: ["*"]
    actions:
      - type: forward
        target_group_arn: "{{ target_group.target_group_arn }}"

- name: Route a host name, AWS form
  pocstack.aws.elb_listener_rule:
    name: grafana
    listener_arn: "{{ https_listener_arn }}"
    priority: 20
    conditions:
      - Field: host-header
        HostHeaderConfig:
          Values: [grafana.poc.example.com]
    actions:
      - Type: forward
        TargetGroupArn: "{{ grafana_tg_arn }}"
    tags:
      pocstack:service: grafana

- name: Send requests with the header X-Canary true, from the office network, to the canary
  pocstack.aws.elb_listener_rule:
    name: plotly-canary
    load_balancer_name: pocstack
    listener_port: 443
    priority: 90
    conditions:
      - field: http-header
        name: X-Canary
        values: ["true"]
      - field: source-ip
        values: [203.0.113.0/24]
      - field: http-request-method
        values: [GET, HEAD]
    actions:
      - type: forward
        target_group_arn: "{{ canary_tg_arn }}"

- name: Route /grafana* with the lowest free priority between 100 and 199
  pocstack.aws.elb_listener_rule:
    name: grafana
    load_balancer_name: pocstack
    listener_port: 443
    priority_range: [100, 199]
    conditions:
      - field: path-pattern
        values: ["/grafana*"]
    actions:
      - type: forward
        target_group_arn: "{{ grafana_tg_arn }}"

- name: Remove the plotly rule (only the one this module owns by that name)
  pocstack.aws.elb_listener_rule:
    name: plotly
    load_balancer_name: pocstack
    listener_port: 443
    state: absent
"""

RETURN = r"""
rule_arn:
  description: ARN of the rule; empty when it does not exist (or would be created in check mode).
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/pocstack/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
priority:
  description: Priority of the rule; null when absent.
  returned: always
  type: int
  sample: 100
moved:
  description: Whether the priority was changed with SetRulePriorities.
  returned: always
  type: bool
  sample: false
rule:
  description:
    - The rule as AWS describes it, snake_cased, with its tags; empty when absent, deleted, or not yet created (check mode).
    - In check mode, the rule as it is before the reported change.
  returned: always
  type: dict
  contains:
    rule_arn:
      description: ARN of the rule.
      type: str
    is_default:
      description: Whether this is the listener's default rule (never for a rule of this module).
      type: bool
      sample: false
    priority:
      description: Priority, as a string (AWS form).
      type: str
      sample: "100"
    conditions:
      description: Conditions, AWS form, snake_cased.
      type: list
      elements: dict
    actions:
      description: Actions, AWS form, snake_cased.
      type: list
      elements: dict
    tags:
      description: Tags of the rule.
      type: dict
      sample: {"pocstack:rule-name": "plotly"}
"""

import random
import time

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import elbv2
from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr


# A lost race re-reads the listener and picks again; this many tries in all.
MAX_PRIORITY_ATTEMPTS = 10


class RuleManager:
    def __init__(self, module):
        self.module = module
        self.client = module.client("elbv2", retry_decorator=AWSRetry.jittered_backoff())
        self.params = module.params
        self.changed = False
        self.moved = False

    def fail(self, error, msg):
        self.module.fail_json_aws(error, msg=msg)

    def listener_arn(self):
        if self.params["listener_arn"]:
            return self.params["listener_arn"]
        name, port = self.params["load_balancer_name"], self.params["listener_port"]
        try:
            arn = elbv2.listener_arn_for(self.client, name, port)
        except is_boto3_error_code("LoadBalancerNotFound") as e:
            self.fail(e, f"load_balancer_name: no load balancer named {name!r}; create it first or fix the name")
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.fail(e, f"Could not read the listeners of load balancer {name!r}")
        if not arn:
            self.module.fail_json(msg=f"listener_port: load balancer {name!r} has no listener on port {port}")
        return arn

    def run(self):
        params = self.params
        try:
            desired = (
                lr.desired_rule(params["priority"], params["conditions"], params["actions"])
                if params["state"] == "present"
                else {"conditions": lr.normalize_conditions(params["conditions"])}
            )
            lr.validate_range(params["priority_range"])
            lr.wanted_tags(params["name"], params["tags"])
        except lr.RuleError as e:
            self.module.fail_json(msg=str(e))
        listener_arn = self.listener_arn()
        try:
            rules, tags = self.read_listener(listener_arn)
        except is_boto3_error_code("ListenerNotFound") as e:
            self.fail(e, f"listener_arn: no listener {listener_arn}; create it first or fix the ARN")
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.fail(e, f"Could not read the rules of listener {listener_arn}")
        rule, adopt = lr.find_owned(rules, tags, params["name"], desired["conditions"])
        if params["state"] == "absent":
            return self.absent(rule if not adopt else None, tags)
        return self.present(listener_arn, rules, tags, rule, desired)

    def read_listener(self, listener_arn):
        """The listener's rules and {rule ARN: tags} of its non-default rules."""
        rules = elbv2.describe_rules(self.client, listener_arn)
        return rules, elbv2.describe_tags(self.client, [r["RuleArn"] for r in rules if not r.get("IsDefault")])

    def wanted_tags(self):
        return lr.wanted_tags(self.params["name"], self.params["tags"])

    def priority_taken(self, error, listener_arn, priority):
        """Another writer took `priority` between our read and our write: name
        the rule that holds it now, so the user knows what to change."""
        holder = "another rule"
        try:
            rules, tags = self.read_listener(listener_arn)
            conflict = lr.rule_using_priority(rules, priority)
            if conflict:
                owner = tags.get(conflict["RuleArn"], {}).get(lr.OWNER_TAG, "not managed by this module")
                holder = f"rule {conflict['RuleArn']} (owner: {owner})"
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            pass  # the message without the holder is still right
        self.fail(error, f"priority: {priority} is already used by {holder} on listener {listener_arn}; choose another priority")

    def present(self, listener_arn, rules, tags, rule, desired):
        name = self.params["name"]
        before = None
        if rule:
            before = lr.current_rule(rule)
            before["tags"] = tags.get(rule["RuleArn"], {})
        if desired["priority"] is None:
            if rule is None:
                return self.create_automatic(listener_arn, rules, desired)
            desired = dict(desired, priority=before["priority"])
        to_set, to_unset, after_tags = lr.tag_changes(
            (before or {}).get("tags", {}), name, self.params["tags"], self.params["purge_tags"]
        )
        after = dict(desired, tags=after_tags)
        diff = {"before": lr.for_diff(before), "after": lr.for_diff(after)}

        conflict = lr.rule_using_priority(rules, desired["priority"], except_arn=rule["RuleArn"] if rule else None)
        if conflict:
            owner = tags.get(conflict["RuleArn"], {}).get(lr.OWNER_TAG, "not managed by this module")
            self.module.fail_json(
                msg=f"priority: {desired['priority']} is already used by rule {conflict['RuleArn']} "
                f"(owner: {owner}) on listener {listener_arn}; choose another priority"
            )

        if rule is None:
            self.changed = True
            if self.module.check_mode:
                return self.exit(None, desired["priority"], diff)
            try:
                rule = elbv2.create_rule(
                    self.client, listener_arn, desired["priority"], lr.to_aws_conditions(desired["conditions"]),
                    lr.to_aws_actions(desired["actions"]), self.wanted_tags(),
                )
            except is_boto3_error_code("PriorityInUse") as e:
                self.priority_taken(e, listener_arn, desired["priority"])
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                self.fail(e, f"Could not create the rule {name!r} on listener {listener_arn}")
            return self.exit(rule["RuleArn"], desired["priority"], diff)

        arn = rule["RuleArn"]
        changes = lr.rule_differences(desired, before)
        if changes or to_set or to_unset:
            self.changed = True
        if self.module.check_mode or not self.changed:
            self.moved = "priority" in changes
            return self.exit(arn, desired["priority"], diff)
        try:
            if "conditions" in changes or "actions" in changes:
                elbv2.modify_rule(
                    self.client, arn, lr.to_aws_conditions(desired["conditions"]), lr.to_aws_actions(desired["actions"])
                )
            if "priority" in changes:
                elbv2.set_priority(self.client, arn, desired["priority"])
                self.moved = True
            if to_set:
                elbv2.add_tags(self.client, arn, to_set)
            if to_unset:
                elbv2.remove_tags(self.client, arn, to_unset)
        except is_boto3_error_code("PriorityInUse") as e:
            self.priority_taken(e, listener_arn, desired["priority"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.fail(e, f"Could not update the rule {name!r} ({arn})")
        return self.exit(arn, desired["priority"], diff)

    def create_automatic(self, listener_arn, rules, desired):
        """Create with the lowest free priority; when another writer takes it
        first (PriorityInUse), re-read the listener and pick again."""
        first_last = lr.validate_range(self.params["priority_range"])
        lost = set()
        for _attempt in range(MAX_PRIORITY_ATTEMPTS):
            priority = lr.free_priority(rules, first_last, lost)
            if priority is None:
                self.module.fail_json(
                    msg=f"priority_range: no free priority in {list(first_last)} on listener {listener_arn}; "
                    "widen priority_range or give an explicit priority"
                )
            wanted = dict(desired, priority=priority, tags=self.wanted_tags())
            diff = {"before": {}, "after": lr.for_diff(wanted)}
            self.changed = True
            if self.module.check_mode:
                return self.exit(None, priority, diff)
            try:
                rule = elbv2.create_rule(
                    self.client, listener_arn, priority, lr.to_aws_conditions(desired["conditions"]),
                    lr.to_aws_actions(desired["actions"]), self.wanted_tags(),
                )
                return self.exit(rule["RuleArn"], priority, diff)
            except is_boto3_error_code("PriorityInUse"):
                lost.add(priority)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                self.fail(e, f"Could not create the rule {self.params['name']!r} on listener {listener_arn}")
            time.sleep(random.uniform(0.05, 0.3))
            try:
                rules = elbv2.describe_rules(self.client, listener_arn)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.fail(e, f"Could not read the rules of listener {listener_arn}")
        self.module.fail_json(
            msg=f"priority: lost the race for a free priority {MAX_PRIORITY_ATTEMPTS} times on listener {listener_arn}; "
            "run again, or give an explicit priority"
        )

    def absent(self, rule, tags):
        if rule is None:
            return self.exit(None, None, {"before": {}, "after": {}})
        before = lr.current_rule(rule)
        before["tags"] = tags.get(rule["RuleArn"], {})
        self.changed = True
        if not self.module.check_mode:
            try:
                elbv2.delete_rule(self.client, rule["RuleArn"])
            except is_boto3_error_code("RuleNotFound"):
                pass
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                self.fail(e, f"Could not delete the rule {rule['RuleArn']}")
        return self.exit(None, None, {"before": lr.for_diff(before), "after": {}})

    def exit(self, arn, priority, diff):
        # In check mode this is the rule as it is now, before the reported change.
        described = {}
        if arn:
            try:
                found = elbv2.describe_rule(self.client, arn)
                if found:
                    described = camel_dict_to_snake_dict(found)
                    described["tags"] = elbv2.describe_tags(self.client, [arn]).get(arn, {})
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.fail(e, f"Could not describe the rule {arn}")
        result = dict(changed=self.changed, rule_arn=arn or "", priority=priority, moved=self.moved, rule=described)
        if self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            listener_arn=dict(type="str"),
            load_balancer_name=dict(type="str"),
            listener_port=dict(type="int"),
            priority=dict(type="int"),
            priority_range=dict(type="list", elements="int", default=[1, 50000]),
            conditions=dict(type="list", elements="dict"),
            actions=dict(type="list", elements="dict"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        mutually_exclusive=[["listener_arn", "load_balancer_name"]],
        required_one_of=[["listener_arn", "load_balancer_name"]],
        required_together=[["load_balancer_name", "listener_port"]],
        required_if=[["state", "present", ["conditions", "actions"]]],
        supports_check_mode=True,
    )
    RuleManager(module).run()


if __name__ == "__main__":
    main()
