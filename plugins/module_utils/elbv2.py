# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small wrappers around the ELBv2 calls elb_listener_rule makes.

Each takes a client made with retry_decorator=AWSRetry.jittered_backoff() and
passes aws_retry=True, so throttling is retried the amazon.aws way.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict


def listener_arn_for(client, load_balancer_name, port):
    """ARN of the listener on `port` of the named load balancer, or None.
    Raises LoadBalancerNotFound when no load balancer has that name."""
    lbs = client.describe_load_balancers(Names=[load_balancer_name], aws_retry=True)["LoadBalancers"]
    kwargs = {"LoadBalancerArn": lbs[0]["LoadBalancerArn"]}
    while True:
        page = client.describe_listeners(aws_retry=True, **kwargs)
        for listener in page["Listeners"]:
            if listener["Port"] == port:
                return listener["ListenerArn"]
        if not page.get("NextMarker"):
            return None
        kwargs["Marker"] = page["NextMarker"]


def describe_rules(client, listener_arn):
    rules = []
    kwargs = {"ListenerArn": listener_arn}
    while True:
        page = client.describe_rules(aws_retry=True, **kwargs)
        rules.extend(page["Rules"])
        if not page.get("NextMarker"):
            return rules
        kwargs["Marker"] = page["NextMarker"]


def describe_rule(client, rule_arn):
    """One rule by ARN, or None when it no longer exists."""
    try:
        return client.describe_rules(RuleArns=[rule_arn], aws_retry=True)["Rules"][0]
    except is_boto3_error_code("RuleNotFound"):
        return None


def describe_tags(client, arns):
    """{arn: {key: value}} for the given resource ARNs (20 per call, the API limit)."""
    tags = {}
    for start in range(0, len(arns), 20):
        page = client.describe_tags(ResourceArns=arns[start:start + 20], aws_retry=True)
        for description in page["TagDescriptions"]:
            tags[description["ResourceArn"]] = boto3_tag_list_to_ansible_dict(description.get("Tags", []))
    return tags


def create_rule(client, listener_arn, priority, conditions, actions, tags):
    return client.create_rule(
        ListenerArn=listener_arn,
        Priority=priority,
        Conditions=conditions,
        Actions=actions,
        Tags=ansible_dict_to_boto3_tag_list(tags),
        aws_retry=True,
    )["Rules"][0]


def modify_rule(client, rule_arn, conditions, actions):
    return client.modify_rule(RuleArn=rule_arn, Conditions=conditions, Actions=actions, aws_retry=True)["Rules"][0]


def set_priority(client, rule_arn, priority):
    return client.set_rule_priorities(
        RulePriorities=[{"RuleArn": rule_arn, "Priority": priority}], aws_retry=True
    )["Rules"][0]


def delete_rule(client, rule_arn):
    client.delete_rule(RuleArn=rule_arn, aws_retry=True)


def add_tags(client, arn, tags):
    client.add_tags(ResourceArns=[arn], Tags=ansible_dict_to_boto3_tag_list(tags), aws_retry=True)


def remove_tags(client, arn, keys):
    client.remove_tags(ResourceArns=[arn], TagKeys=list(keys), aws_retry=True)
