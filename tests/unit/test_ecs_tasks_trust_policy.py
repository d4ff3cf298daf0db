"""fargate_service's trust policy (templates/ecs-tasks-trust.json.j2) as Ansible
renders it: the execution and task roles may be assumed by ECS only for a task
of the caller's own account and region (confused-deputy protection, as the ECS
guide advises), and the local emulator's Fargate check judges it as AWS does."""
import json
import os
import sys

import pytest

from rendering import ROOT
from rendering import load
from rendering import render as render_text
from rendering import trusted

TEMPLATE = os.path.join(ROOT, "roles", "fargate_service", "templates", "ecs-tasks-trust.json.j2")
sys.path.insert(0, os.path.join(ROOT, "emulator"))

from pocstack_emulator.iam import policy  # noqa: E402

ECS = {"Service": "ecs-tasks.amazonaws.com"}


ROLE_VARS = trusted(load("roles", "fargate_service", "vars", "main.yml"))


def render(account="123456789012", region="us-east-1", partition="aws", cluster_arn="", sts=True):
    """The document as `lookup('ansible.builtin.template', 'ecs-tasks-trust.json.j2')` makes it,
    with the role's vars/main.yml and the cluster's ARN the caller passed (cluster_arn): after
    `amazon.aws.aws_caller_info` (registered as fargate_service__caller) unless `sts` is false,
    as when service_present.yml skips it."""
    variables = dict(ROLE_VARS, aws_region=region, fargate_service_cluster="pocstack", fargate_service_cluster_arn=cluster_arn)
    if sts:
        variables["fargate_service__caller"] = {"account": account, "arn": f"arn:{partition}:iam::{account}:user/deployer",
                                                "user_id": "AIDAEXAMPLE"}
    with open(TEMPLATE) as fh:
        text = fh.read()
    return json.loads(render_text(text, variables))


def test_only_ecs_tasks_of_this_account_and_region():
    [statement] = render()["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {
            "ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"},
            "StringEquals": {"aws:SourceAccount": "123456789012"},
        },
    }


def test_partition_region_and_account_come_from_the_caller():
    [statement] = render(account="000011112222", region="cn-north-1", partition="aws-cn")["Statement"]
    assert statement["Condition"] == {"ArnLike": {"aws:SourceArn": "arn:aws-cn:ecs:cn-north-1:000011112222:*"},
                                      "StringEquals": {"aws:SourceAccount": "000011112222"}}


def test_account_and_partition_from_the_cluster_arn_without_sts():
    """The site playbook passes the cluster's ARN (fargate_service_cluster_arn): no caller
    identity was read, and the policy names the cluster's account and partition."""
    [statement] = render(region="cn-north-1", cluster_arn="arn:aws-cn:ecs:cn-north-1:000011112222:cluster/pocstack",
                         sts=False)["Statement"]
    assert statement["Condition"] == {"ArnLike": {"aws:SourceArn": "arn:aws-cn:ecs:cn-north-1:000011112222:*"},
                                      "StringEquals": {"aws:SourceAccount": "000011112222"}}


@pytest.mark.parametrize("cluster_arn", [
    "arn:aws:ecs:us-east-1:999999999999:cluster/other",   # another cluster
    "arn:aws:ecs:eu-west-1:999999999999:cluster/pocstack",  # another region
    "not-an-arn",
])
def test_another_clusters_arn_is_not_trusted_for_the_account(cluster_arn):
    """An ARN that is not this region's cluster of this name: the caller identity decides."""
    [statement] = render(cluster_arn=cluster_arn)["Statement"]
    assert statement["Condition"] == {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"},
                                      "StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_an_account_id_with_leading_zeros_stays_a_string():
    """aws_caller_info's account could come back as a number after templating;
    StringEquals needs the twelve digits."""
    [statement] = render(account="012345678901")["Statement"]
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "012345678901"


@pytest.mark.parametrize("account, task_arn, expected", [
    ("123456789012", "arn:aws:ecs:us-east-1:123456789012:task/pocstack/0123abcd", policy.ALLOW),
    # ECS acting for a task of another account (the confused deputy).
    ("999999999999", "arn:aws:ecs:us-east-1:999999999999:task/pocstack/0123abcd", policy.IMPLICIT_DENY),
    # A task of this account in another region.
    ("123456789012", "arn:aws:ecs:eu-west-1:123456789012:task/pocstack/0123abcd", policy.IMPLICIT_DENY),
])
def test_the_emulator_judges_the_rendered_trust_as_aws(account, task_arn, expected):
    context = {"aws:SourceAccount": account, "aws:SourceArn": task_arn}
    assert policy.evaluate([render()], "sts:AssumeRole", None, context, principal=ECS)[0] == expected
