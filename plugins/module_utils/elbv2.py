# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ELBv2 calls elb_listener_rule, elb_listener_rules_info and
alb_target_group need that amazon.aws elb_utils lacks, in its style: retried
with AWSRetry.jittered_backoff, errors raised as AnsibleELBv2Error. The
modules call elb_utils directly for everything else.
"""

from ansible_collections.amazon.aws.plugins.module_utils import elb_utils
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.elb_utils import ELBv2ListenerErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.elb_utils import ELBv2TargetGroupErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict


def describe_rules(client, listener_arn):
    """Every rule of the listener (raising botocore's errors; callers use
    get_listener_rules, which raises AnsibleELBv2Error as elb_utils does)."""
    return paginated_query_with_retries(client, "describe_rules", ListenerArn=listener_arn)["Rules"]


# elb_utils.describe_rules (and get_elb_listener_rules) read the first page only.
get_listener_rules = ELBv2ListenerErrorHandler.common_error_handler("describe rules")(describe_rules)


def tags_by_arn(client, arns):
    """{arn: {key: value}}: elb_utils.describe_tags takes at most 20 ARNs (the
    API limit) and returns boto3 tag lists."""
    found = {}
    for start in range(0, len(arns), 20):
        for description in elb_utils.describe_tags(client, arns[start:start + 20]):
            found[description["ResourceArn"]] = boto3_tag_list_to_ansible_dict(description.get("Tags", []))
    return found


def describe_target_group(client, **params):
    """One target group (Names=[...] or TargetGroupArns=[...]) or None:
    elb_utils.describe_target_groups raises when it does not exist."""
    try:
        return elb_utils.describe_target_groups(client, **params)[0]
    except is_ansible_aws_error_code("TargetGroupNotFound"):
        return None


def target_groups_by_arn(client, arns):
    """{arn: target group} of the ARNs that exist: elb_utils.describe_target_groups
    fails on the first that does not (or is no target group ARN) without naming it."""
    missing = ["TargetGroupNotFound", "ValidationError"]
    try:
        return {tg["TargetGroupArn"]: tg for tg in elb_utils.describe_target_groups(client, TargetGroupArns=arns)}
    except is_ansible_aws_error_code(missing):
        pass
    found = {}
    for arn in arns:  # ask one by one to name which
        try:
            found[arn] = elb_utils.describe_target_groups(client, TargetGroupArns=[arn])[0]
        except is_ansible_aws_error_code(missing):
            pass
    return found


# elb_utils has no target group writes and no target group attributes.
@ELBv2TargetGroupErrorHandler.common_error_handler("describe target group attributes")
@AWSRetry.jittered_backoff()
def describe_target_group_attributes(client, arn):
    return client.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]


@ELBv2TargetGroupErrorHandler.common_error_handler("create target group")
@AWSRetry.jittered_backoff()
def create_target_group(client, **params):
    return client.create_target_group(**params)["TargetGroups"][0]


@ELBv2TargetGroupErrorHandler.common_error_handler("modify target group")
@AWSRetry.jittered_backoff()
def modify_target_group(client, arn, **params):
    client.modify_target_group(TargetGroupArn=arn, **params)


@ELBv2TargetGroupErrorHandler.common_error_handler("modify target group attributes")
@AWSRetry.jittered_backoff()
def modify_target_group_attributes(client, arn, attributes):
    client.modify_target_group_attributes(
        TargetGroupArn=arn, Attributes=[{"Key": k, "Value": v} for k, v in sorted(attributes.items())]
    )


@ELBv2TargetGroupErrorHandler.deletion_error_handler("delete target group")
@AWSRetry.jittered_backoff()
def delete_target_group(client, arn):
    """False when the group was gone already."""
    client.delete_target_group(TargetGroupArn=arn)
    return True
