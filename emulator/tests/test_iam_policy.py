"""The IAM policy evaluator behind Fargate's start-up checks: AWS's evaluation
logic on the statements the collection's roles (and their mistakes) use."""
import json

import pytest

from pocstack_emulator.iam import policy

REPO = "arn:aws:ecr:us-east-1:123456789012:repository/pocstack/plotly"
PARAM = "arn:aws:ssm:us-east-1:123456789012:parameter/pocstack/plotly/PLOTLY_PASS"
STREAM = "arn:aws:logs:us-east-1:123456789012:log-group:/pocstack/plotly:log-stream:ecs/plotly/abc"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize("statements, action, resource, expected", [
    # actions: case-insensitive, * and ?
    ([allow("ecr:BatchGetImage", REPO)], "ecr:BatchGetImage", REPO, policy.ALLOW),
    ([allow("ECR:batchgetimage", REPO)], "ecr:BatchGetImage", REPO, policy.ALLOW),
    ([allow("ecr:*", REPO)], "ecr:GetDownloadUrlForLayer", REPO, policy.ALLOW),
    ([allow("ecr:BatchGet?mage", REPO)], "ecr:BatchGetImage", REPO, policy.ALLOW),
    ([allow("ecr:Batch*", REPO)], "ecr:GetDownloadUrlForLayer", REPO, policy.IMPLICIT_DENY),
    ([allow(["ssm:GetParameter", "ssm:GetParameters"], PARAM)], "ssm:GetParameters", PARAM, policy.ALLOW),
    ([allow("ssm:GetParameter", PARAM)], "ssm:GetParameters", PARAM, policy.IMPLICIT_DENY),
    # resources: case-sensitive, wildcards cross : and /
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:*:*:repository/pocstack/*")], "ecr:BatchGetImage", REPO, policy.ALLOW),
    ([allow("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/other")],
     "ecr:BatchGetImage", REPO, policy.IMPLICIT_DENY),
    ([allow("ecr:BatchGetImage", REPO.upper())], "ecr:BatchGetImage", REPO, policy.IMPLICIT_DENY),
    ([allow("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/pocstack/plotly:log-stream:*")],
     "logs:PutLogEvents", STREAM, policy.ALLOW),
    ([allow("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:/pocstack/other:log-stream:*")],
     "logs:PutLogEvents", STREAM, policy.IMPLICIT_DENY),
    # deny wins over allow, in any order
    ([allow("ecr:*"), deny("ecr:BatchGetImage", REPO)], "ecr:BatchGetImage", REPO, policy.EXPLICIT_DENY),
    ([deny("ecr:BatchGetImage", REPO), allow("*")], "ecr:BatchGetImage", REPO, policy.EXPLICIT_DENY),
    ([allow("*"), deny("ecr:BatchGetImage", "arn:aws:ecr:*:*:repository/other")], "ecr:BatchGetImage", REPO,
     policy.ALLOW),
    # NotAction / NotResource
    ([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}], "ssm:GetParameters", PARAM, policy.ALLOW),
    ([{"Effect": "Allow", "NotAction": "ssm:*", "Resource": "*"}], "ssm:GetParameters", PARAM, policy.IMPLICIT_DENY),
    ([allow("*"), {"Effect": "Deny", "Action": "ssm:*", "NotResource": PARAM}], "ssm:GetParameters", PARAM,
     policy.ALLOW),
    ([allow("*"), {"Effect": "Deny", "Action": "ssm:*", "NotResource": REPO}], "ssm:GetParameters", PARAM,
     policy.EXPLICIT_DENY),
    # no statement at all
    ([], "ecr:GetAuthorizationToken", "*", policy.IMPLICIT_DENY),
])
def test_evaluate(statements, action, resource, expected):
    decision, _ = policy.evaluate([doc(*statements)], action, resource)
    assert decision == expected


VIA_SSM = {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize("condition, context, expected", [
    (VIA_SSM, {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}, policy.ALLOW),
    (VIA_SSM, {"KMS:viaservice": "ssm.us-east-1.amazonaws.com"}, policy.ALLOW),  # keys ignore case
    (VIA_SSM, {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}, policy.IMPLICIT_DENY),
    (VIA_SSM, {}, policy.IMPLICIT_DENY),
    ({"StringEqualsIfExists": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}, {}, policy.ALLOW),
    ({"StringLike": {"kms:ViaService": "ssm.*.amazonaws.com"}}, {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"},
     policy.ALLOW),
    ({"StringNotEquals": {"aws:SourceAccount": ["1", "2"]}}, {"aws:SourceAccount": "3"}, policy.ALLOW),
    ({"StringNotEquals": {"aws:SourceAccount": ["1", "2"]}}, {"aws:SourceAccount": "2"}, policy.IMPLICIT_DENY),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"}},
     {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:task/pocstack/abc"}, policy.ALLOW),
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, policy.IMPLICIT_DENY),
    ({"Null": {"aws:SourceVpce": "true"}}, {}, policy.ALLOW),
    ({"NumericLessThan": {"s3:max-keys": "10"}}, {"s3:max-keys": "5"}, policy.ALLOW),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a"]}, policy.ALLOW),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a", "c"]}, policy.IMPLICIT_DENY),
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {"aws:TagKeys": ["c", "a"]}, policy.ALLOW),
    # Two operators: both must hold.
    ({**VIA_SSM, "StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com", "aws:SourceAccount": "1"}},
     {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}, policy.IMPLICIT_DENY),
    # An operator we do not know never grants.
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.1.2.3"}, policy.IMPLICIT_DENY),
])
def test_conditions_of_an_allow(condition, context, expected):
    """An Allow whose condition does not hold is not an explicit deny: it just does not allow."""
    decision, _ = policy.evaluate([doc(allow("kms:Decrypt", KEY, Condition=condition))], "kms:Decrypt", KEY, context)
    assert decision == expected


def test_a_deny_whose_condition_does_not_hold_does_not_deny():
    statements = [allow("kms:Decrypt", KEY), deny("kms:Decrypt", KEY, Condition={"Bool": {"aws:ViaAWSService": "false"}})]
    assert policy.evaluate([doc(*statements)], "kms:Decrypt", KEY, {"aws:ViaAWSService": "true"})[0] == policy.ALLOW
    assert policy.evaluate([doc(*statements)], "kms:Decrypt", KEY, {"aws:ViaAWSService": "false"})[0] == \
        policy.EXPLICIT_DENY


TRUST = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
ECS = {"Service": "ecs-tasks.amazonaws.com"}


@pytest.mark.parametrize("statement, expected", [
    (TRUST, policy.ALLOW),
    ({**TRUST, "Principal": {"Service": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]}}, policy.ALLOW),
    ({**TRUST, "Principal": {"Service": "ec2.amazonaws.com"}}, policy.IMPLICIT_DENY),
    ({**TRUST, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}, policy.IMPLICIT_DENY),
    ({**TRUST, "Principal": "*"}, policy.ALLOW),
    ({**TRUST, "Action": "sts:TagSession"}, policy.IMPLICIT_DENY),
    ({**TRUST, "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}, policy.ALLOW),
    ({**TRUST, "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}}}, policy.IMPLICIT_DENY),
    ({**TRUST, "Effect": "Deny"}, policy.EXPLICIT_DENY),
])
def test_trust_policy(statement, expected):
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    decision, _ = policy.evaluate([trust], "sts:AssumeRole", None, {"aws:SourceAccount": "123456789012"}, principal=ECS)
    assert decision == expected


def test_url_quoted_documents_are_read():
    """IAM returns policy documents URL-quoted; the evaluator reads them as they are stored."""
    from urllib.parse import quote

    assert policy.evaluate([quote(doc(allow("ecr:*")))], "ecr:BatchGetImage", REPO)[0] == policy.ALLOW


@pytest.mark.parametrize("identity, boundary, allowed, why", [
    ([doc(allow("ssm:GetParameters", PARAM))], None, True, ""),
    ([doc(allow("ssm:GetParameter", PARAM))], None, False, "because no identity-based policy allows the ssm:GetParameters action"),
    ([doc(allow("ssm:*"), deny("ssm:GetParameters"))], None, False, "with an explicit deny in an identity-based policy"),
    ([doc(allow("ssm:GetParameters", PARAM))], doc(allow("ecr:*")), False,
     "because no permissions boundary allows the ssm:GetParameters action"),
    ([doc(allow("ssm:GetParameters", PARAM))], doc(allow("*")), True, ""),
    ([doc(allow("ssm:GetParameters", PARAM))], doc(allow("*"), deny("ssm:*")), False,
     "with an explicit deny in a permissions boundary"),
])
def test_is_allowed_with_a_boundary(identity, boundary, allowed, why):
    assert policy.is_allowed(identity, boundary, "ssm:GetParameters", PARAM) == (allowed, why)


# The trust policy fargate_service renders (roles/fargate_service/templates/ecs-tasks-trust.json.j2):
# confused-deputy protection as the ECS guide gives it, judged on the context of
# ECS's AssumeRole for a task (fargate.assume_role_context).
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/pocstack/0123456789abcdef0123456789abcdef"


def guarded_trust(account="123456789012", source_arn="arn:aws:ecs:us-east-1:123456789012:*"):
    return {**TRUST, "Condition": {"ArnLike": {"aws:SourceArn": source_arn},
                                   "StringEquals": {"aws:SourceAccount": account}}}


@pytest.mark.parametrize("statement, context, expected", [
    (guarded_trust(), {"aws:SourceAccount": "123456789012", "aws:SourceArn": TASK_ARN}, policy.ALLOW),
    # A task of another account (the confused deputy): neither key holds.
    (guarded_trust(), {"aws:SourceAccount": "999999999999",
                       "aws:SourceArn": TASK_ARN.replace("123456789012", "999999999999")}, policy.IMPLICIT_DENY),
    # The trust names another account, or another region.
    (guarded_trust(account="999999999999"), {"aws:SourceAccount": "123456789012", "aws:SourceArn": TASK_ARN},
     policy.IMPLICIT_DENY),
    (guarded_trust(source_arn="arn:aws:ecs:eu-west-1:123456789012:*"),
     {"aws:SourceAccount": "123456789012", "aws:SourceArn": TASK_ARN}, policy.IMPLICIT_DENY),
    # Narrower patterns on the task's ARN hold for the task's own ARN.
    (guarded_trust(source_arn="arn:aws:ecs:*:123456789012:task/*"),
     {"aws:SourceAccount": "123456789012", "aws:SourceArn": TASK_ARN}, policy.ALLOW),
    (guarded_trust(source_arn="arn:aws:ecs:us-east-1:123456789012:task/pocstack/*"),
     {"aws:SourceAccount": "123456789012", "aws:SourceArn": TASK_ARN}, policy.ALLOW),
    (guarded_trust(source_arn="arn:aws:ecs:us-east-1:123456789012:task/other/*"),
     {"aws:SourceAccount": "123456789012", "aws:SourceArn": TASK_ARN}, policy.IMPLICIT_DENY),
    # A caller that sends no source (not ECS for a task): the conditions fail.
    (guarded_trust(), {}, policy.IMPLICIT_DENY),
])
def test_confused_deputy_conditions_of_a_trust_policy(statement, context, expected):
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    assert policy.evaluate([trust], "sts:AssumeRole", None, context, principal=ECS)[0] == expected


@pytest.fixture
def iam():
    """moto's IAM backend of the default account, emptied afterwards."""
    import boto3
    from moto import mock_aws
    from moto.iam.models import iam_backends

    with mock_aws():
        client = boto3.client("iam", region_name="us-east-1")

        def role(name, statement):
            document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
            return client.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["Arn"]

        yield {"backend": iam_backends["123456789012"]["global"], "role": role}


@pytest.mark.parametrize("statement, assumed", [
    (guarded_trust(), True),
    (guarded_trust(account="999999999999"), False),
    (guarded_trust(source_arn="arn:aws:ecs:us-east-1:999999999999:*"), False),
    (guarded_trust(source_arn="arn:aws:ecs:us-east-1:123456789012:task/pocstack/*"), True),
    (guarded_trust(source_arn="arn:aws:ecs:us-east-1:123456789012:task/other/*"), False),
    ({**TRUST, "Principal": {"Service": "ec2.amazonaws.com"}}, False),
])
def test_ecs_assumes_a_role_for_its_task(iam, statement, assumed):
    """What the data plane asks before a task starts (tasks.py): a role whose trust
    does not hold for this task stops the task with assume_role_error's words."""
    from pocstack_emulator.ecs import fargate

    arn = iam["role"]("exec", statement)
    assert fargate.can_assume(iam["backend"], arn, "123456789012", "us-east-1", source_arn=TASK_ARN) is assumed


def test_without_the_task_arn_a_task_of_the_account_and_region_stands_in(iam):
    from pocstack_emulator.ecs import fargate

    assert fargate.can_assume(iam["backend"], iam["role"]("a", guarded_trust()), "123456789012", "us-east-1")
    assert not fargate.can_assume(iam["backend"], iam["role"]("b", guarded_trust()), "123456789012", "eu-west-1")
    assert not fargate.can_assume(iam["backend"], "arn:aws:iam::123456789012:role/missing", "123456789012",
                                  "us-east-1")
