# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small wrappers around the ELBv2 calls elb_listener_rule and elb_target_group make.

Each takes a client made with retry_decorator=AWSRetry.jittered_backoff() and
passes aws_retry=True, so throttling is retried the amazon.aws way.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict


def listener_for(client, load_balancer_name, port):
    """(listener, load balancer) for `port` of the named load balancer; the
    listener is None when there is no listener on that port. Raises
    LoadBalancerNotFound when no load balancer has that name."""
    lb = client.describe_load_balancers(Names=[load_balancer_name], aws_retry=True)["LoadBalancers"][0]
    for listener in describe_listeners(client, lb["LoadBalancerArn"]):
        if listener["Port"] == port:
            return listener, lb
    return None, lb


def describe_listeners(client, load_balancer_arn):
    listeners = []
    kwargs = {"LoadBalancerArn": load_balancer_arn}
    while True:
        page = client.describe_listeners(aws_retry=True, **kwargs)
        listeners.extend(page["Listeners"])
        if not page.get("NextMarker"):
            return listeners
        kwargs["Marker"] = page["NextMarker"]


def describe_listener(client, listener_arn):
    """(listener, its load balancer). Raises ListenerNotFound."""
    listener = client.describe_listeners(ListenerArns=[listener_arn], aws_retry=True)["Listeners"][0]
    lbs = client.describe_load_balancers(LoadBalancerArns=[listener["LoadBalancerArn"]], aws_retry=True)
    return listener, lbs["LoadBalancers"][0]


def describe_target_groups(client, arns):
    """{arn: target group} for the given ARNs; an ARN that does not exist (or
    is not a target group ARN) is missing from the result."""
    found = {}
    try:
        for start in range(0, len(arns), 20):
            page = client.describe_target_groups(TargetGroupArns=arns[start:start + 20], aws_retry=True)
            found.update({tg["TargetGroupArn"]: tg for tg in page["TargetGroups"]})
        return found
    except is_boto3_error_code(["TargetGroupNotFound", "ValidationError"]):
        pass
    # One of them does not exist: ask one by one to name which.
    for arn in arns:
        try:
            found[arn] = client.describe_target_groups(TargetGroupArns=[arn], aws_retry=True)["TargetGroups"][0]
        except is_boto3_error_code(["TargetGroupNotFound", "ValidationError"]):
            pass
    return found


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


def describe_target_group(client, name=None, arn=None):
    """One target group by name or ARN, or None when it does not exist."""
    kwargs = {"Names": [name]} if name else {"TargetGroupArns": [arn]}
    try:
        return client.describe_target_groups(aws_retry=True, **kwargs)["TargetGroups"][0]
    except is_boto3_error_code("TargetGroupNotFound"):
        return None


def describe_target_group_attributes(client, arn):
    return client.describe_target_group_attributes(TargetGroupArn=arn, aws_retry=True)["Attributes"]


def create_target_group(client, kwargs):
    return client.create_target_group(aws_retry=True, **kwargs)["TargetGroups"][0]


def modify_target_group(client, arn, kwargs):
    client.modify_target_group(TargetGroupArn=arn, aws_retry=True, **kwargs)


def modify_target_group_attributes(client, arn, attributes):
    client.modify_target_group_attributes(
        TargetGroupArn=arn, Attributes=[{"Key": k, "Value": v} for k, v in sorted(attributes.items())], aws_retry=True
    )


def delete_target_group(client, arn):
    client.delete_target_group(TargetGroupArn=arn, aws_retry=True)
