#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: elb_listener_rules_info
short_description: Read the rules of one ELBv2 listener with their tags, and the load balancer's listeners
version_added: 0.3.0
description:
  - Describes the rules of one listener of an Application Load Balancer, each with its tags, in the form
    M(pocstack.aws.elb_listener_rule) returns its C(rule).
  - Also returns the load balancer's listeners (protocol, port, SSL policy, certificates, default actions), which
    the site playbook compares before its first write and after a failed one (P(pocstack.aws.failure_report#filter)).
  - Returns no rules (and C(listener_arn) empty) when the load balancer or the listener does not exist yet,
    so that a preflight on an empty account passes.
  - The site playbook reads the HTTPS listener with it before anything is written, and the
    P(pocstack.aws.preflight_listener_rules#filter) filter judges every selected service's rule against the
    deployed ones with the same functions M(pocstack.aws.elb_listener_rule) decides with.
options:
  load_balancer_name:
    description: Name of the load balancer. Give this (with O(listener_port)) or O(listener_arn).
    type: str
  listener_port:
    description: Port of the listener on O(load_balancer_name).
    type: int
    default: 443
  listener_arn:
    description: ARN of the listener.
    type: str
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - "Written because M(amazon.aws.elb_application_lb_info) returns a listener's rules without their tags, and the
    tags name each rule's owner (C(pocstack:rule-name)), which a preflight needs to tell a service's own rule from
    another's; and because M(amazon.aws.elb_application_lb_info) (amazon.aws 10.1.2) fails with a TypeError when
    no load balancer has the name asked for, which is the case until the first deploy."
  - "IAM actions used: C(elasticloadbalancing:DescribeLoadBalancers), C(elasticloadbalancing:DescribeListeners),
    C(elasticloadbalancing:DescribeRules), C(elasticloadbalancing:DescribeTags)."
seealso:
  - module: amazon.aws.elb_application_lb_info
  - module: pocstack.aws.elb_listener_rule
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Reads only; there is nothing to show.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Rules of the HTTPS listener of the pocstack load balancer
  pocstack.aws.elb_listener_rules_info:
    load_balancer_name: pocstack
    listener_port: 443
  register: https_rules
"""

RETURN = r"""
listener_arn:
  description: ARN of the listener; empty when the load balancer or the listener does not exist.
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/pocstack/50dc6c495c0c9188/f2f7dc8efc522ab2
load_balancer:
  description: Name and ARN of the load balancer; empty when it does not exist.
  returned: always
  type: dict
  sample:
    load_balancer_name: pocstack
    load_balancer_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pocstack/50dc6c495c0c9188
listeners:
  description: Every listener of the load balancer, snake_cased as DescribeListeners returns them (never an OIDC client secret).
  returned: always
  type: list
  elements: dict
  sample:
    - listener_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/pocstack/50dc6c495c0c9188/f2f7dc8efc522ab2
      port: 443
      protocol: HTTPS
      ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06
      certificates: [{"certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0b5b3b36-5d6c-4c4c-9b5c-d5a5b1b0e0c1"}]
      default_actions: [{"type": "fixed-response", "fixed_response_config": {"status_code": "404"}}]
rules:
  description:
    - The listener's rules, its default rule included (C(is_default)), sorted by priority, as
      M(pocstack.aws.elb_listener_rule) returns C(rule) (snake_cased, with C(tags); never an OIDC client secret).
  returned: always
  type: list
  elements: dict
  sample:
    - rule_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/pocstack/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
      priority: "100"
      is_default: false
      conditions: [{"field": "path-pattern", "path_pattern_config": {"values": ["*"]}, "values": ["*"]}]
      actions:
        - type: forward
          order: 1
          target_group_arn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/6d0ecf831eec9f09
      tags: {"pocstack:rule-name": "plotly", "pocstack:service": "plotly"}
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils import elb_utils
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import elbv2
from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr


def _order(rule):
    priority = str(rule.get("Priority", ""))
    return (0, int(priority)) if priority.isdigit() else (1, 0)  # the default rule last, as ALB evaluates it


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            load_balancer_name=dict(type="str"),
            listener_port=dict(type="int", default=443),
            listener_arn=dict(type="str"),
        ),
        required_one_of=[("load_balancer_name", "listener_arn")],
        mutually_exclusive=[("load_balancer_name", "listener_arn")],
        supports_check_mode=True,
    )
    client = module.client("elbv2", retry_decorator=AWSRetry.jittered_backoff())
    name, arn = module.params["load_balancer_name"], module.params["listener_arn"]
    lb, listeners, rules, tags = {}, [], [], {}
    try:
        by = {"load_balancer_arns": [elb_utils.describe_listeners(client, listener_arns=[arn])[0]["LoadBalancerArn"]]} \
            if arn else {"names": [name]}
        lb = (elb_utils.describe_load_balancers(client, **by) or [{}])[0]  # None when it does not exist
        listeners = elb_utils.describe_listeners(client, lb["LoadBalancerArn"]) if lb else []
        if not arn:
            arn = next((li["ListenerArn"] for li in listeners if li["Port"] == module.params["listener_port"]), None)
        rules = elbv2.get_listener_rules(client, arn) if arn else []
        tags = elbv2.tags_by_arn(client, [r["RuleArn"] for r in rules if not r.get("IsDefault")])
    except is_ansible_aws_error_code("ListenerNotFound"):
        arn, rules, tags = None, [], {}
    except AnsibleAWSError as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e.exception, msg=f"Could not read the rules of listener {arn or name!r}")
    for listener in listeners:
        for action in listener.get("DefaultActions") or []:
            (action.get("AuthenticateOidcConfig") or {}).pop("ClientSecret", None)
    module.exit_json(
        changed=False,
        load_balancer={"load_balancer_name": lb["LoadBalancerName"], "load_balancer_arn": lb["LoadBalancerArn"]}
        if lb else {},
        listeners=[camel_dict_to_snake_dict(listener) for listener in sorted(listeners, key=lambda li: li["Port"])],
        listener_arn=arn or "",
        rules=[lr.described_rule(rule, tags.get(rule["RuleArn"], {})) for rule in sorted(rules, key=_order)],
    )


if __name__ == "__main__":
    main()
