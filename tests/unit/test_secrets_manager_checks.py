"""Secrets Manager as a second secret source (poc_secrets_manager ->
fargate_service_secrets_manager): the preflight's checks before any write,
ECS's valueFrom as the role composes it, the execution policy's exact grants,
and the network preflight's secretsmanager endpoint."""
import json
import os

import pytest

from ansible_collections.pocstack.aws.plugins.filter.preflight import role_sources
from ansible_collections.pocstack.aws.plugins.module_utils import preflight
from ansible_collections.pocstack.aws.plugins.module_utils import preflight_roles
from ansible_collections.pocstack.aws.plugins.module_utils.preflight_network import check_network
from rendering import ROOT
from rendering import load
from rendering import render
from rendering import trusted

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:plotly/login-AbCdEf"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SHARED = {"pocstack_ssm_prefix": "/pocstack", "aws_region": "us-east-1"}
ROLE_VARS = trusted(load("roles", "fargate_service", "vars", "main.yml"))
POLICY = os.path.join(ROOT, "roles", "fargate_service", "templates", "execution-policy.json.j2")


def errors(entries, **svc):
    return [m for m in preflight.check_service("plotly", {"poc_secrets_manager": entries, **svc}, SHARED, role_sources())
            if "poc_secrets_manager" in m]


def test_a_valid_entry_passes():
    assert errors([{"name": "PLOTLY_PASS", "secret_arn": ARN, "json_key": "password", "kms_key": KEY},
                   {"name": "OLD_PASS", "secret_arn": ARN, "json_key": "password", "version_stage": "AWSPREVIOUS"},
                   {"name": "PINNED", "secret_arn": ARN, "version_id": "a" * 32}]) == []


@pytest.mark.parametrize("entry, message", [
    ({"name": "1PASS", "secret_arn": ARN},
     "poc_secrets_manager[0].name='1PASS' is not an environment variable name; allowed: letters, digits and '_'"),
    ({"name": "P", "secret_arn": ARN[:-7]},
     f"poc_secrets_manager[0].secret_arn={ARN[:-7]!r} is not a Secrets Manager secret ARN; allowed: "
     "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf (the complete ARN, with its 6-character suffix)"),
    ({"name": "P", "secret_arn": ARN.replace("secretsmanager", "ssm")}, "poc_secrets_manager[0].secret_arn="),
    ({"name": "P", "secret_arn": ARN.replace("123456789012", "1234")}, "is not a Secrets Manager secret ARN"),
    ({"name": "P", "secret_arn": ARN.replace("us-east-1", "eu-west-1")},
     "poc_secrets_manager[0].secret_arn is in region eu-west-1; the tasks run in aws_region=us-east-1"),
    ({"name": "P", "secret_arn": ARN, "json_key": "a:b"},
     "poc_secrets_manager[0].json_key='a:b' is not allowed; allowed: 1-1024 characters without ':'"),
    ({"name": "P", "secret_arn": ARN, "version_id": "short"},
     "poc_secrets_manager[0].version_id='short' is not allowed; allowed: 32-64 characters without ':'"),
    ({"name": "P", "secret_arn": ARN, "version_stage": "AWSCURRENT", "version_id": "a" * 32},
     "poc_secrets_manager[0] has version_stage and version_id; ECS allows one of them"),
    ({"name": "P", "secret_arn": ARN, "kms_key": "alias/mine"},
     "poc_secrets_manager[0].kms_key='alias/mine' is not a KMS key ARN"),
    ({"name": "P"}, "poc_secrets_manager[0].secret_arn is required"),
    ({"name": "P", "secret_arn": ARN, "jsonkey": "x"}, "poc_secrets_manager[0]"),
])
def test_each_mistake_names_the_variable_and_what_is_allowed(entry, message):
    found = errors([entry])
    assert found and any(message in m for m in found), found


def test_names_may_not_collide_with_poc_secrets_poc_environment_or_each_other():
    found = errors([{"name": "PLOTLY_USER", "secret_arn": ARN}, {"name": "MODE", "secret_arn": ARN},
                    {"name": "P", "secret_arn": ARN}, {"name": "P", "secret_arn": ARN}],
                   poc_secrets=[{"name": "PLOTLY_USER", "value": "someone-long"}], poc_environment={"MODE": "demo"})
    assert found == [
        "poc_secrets_manager[0].name='PLOTLY_USER' is also in poc_secrets[0]; ECS refuses a task definition with a name "
        "twice among a container's environment and secrets: use another name",
        "poc_secrets_manager[1].name='MODE' is also in poc_environment; ECS refuses a task definition with a name "
        "twice among a container's environment and secrets: use another name",
        "poc_secrets_manager[3].name='P' is also in poc_secrets_manager[2]; ECS refuses a task definition with a name "
        "twice among a container's environment and secrets: use another name",
    ]


def test_the_role_used_alone_checks_its_own_variable():
    specs = {"fargate_service": preflight_roles.merged_options(load("roles", "fargate_service", "meta",
                                                                    "argument_specs.yml")["argument_specs"])}
    found = preflight_roles.check_role_variables(
        {"fargate_service_secrets_manager": [{"name": "MODE", "secret_arn": ARN[:-7]}, {"name": "P", "secret_arn": ARN}],
         "fargate_service_environment": {"MODE": "x"}, "aws_region": "eu-west-1"}, specs)
    assert any(m.startswith("fargate_service_secrets_manager[0].secret_arn=") for m in found)
    assert any(m.startswith("fargate_service_secrets_manager[0].name='MODE' is also in fargate_service_environment")
               for m in found)
    assert "fargate_service_secrets_manager[1].secret_arn is in region us-east-1; the tasks run in aws_region=eu-west-1" \
        in " ".join(found)


def role_vars(entries, region="us-east-1"):
    return dict(ROLE_VARS, fargate_service_secrets_manager=entries, aws_region=region)


@pytest.mark.parametrize("entry, value_from", [
    ({"name": "P", "secret_arn": ARN}, ARN),
    ({"name": "P", "secret_arn": ARN, "json_key": "password"}, ARN + ":password::"),
    ({"name": "P", "secret_arn": ARN, "json_key": None, "version_stage": "AWSPREVIOUS"}, ARN + "::AWSPREVIOUS:"),
    ({"name": "P", "secret_arn": ARN, "json_key": "password", "version_id": "v" * 32}, ARN + ":password::" + "v" * 32),
])
def test_value_from_is_ecs_format(entry, value_from):
    variables = role_vars([entry])
    assert render("{{ fargate_service__secrets_manager_secrets }}", variables) == [{"name": "P", "valueFrom": value_from}]


def policy(entries, ssm=()):
    variables = dict(role_vars(entries), fargate_service__repository_arn="", fargate_service_sidecars=[],
                     fargate_service_secret_arns=list(ssm),
                     fargate_service__kms_key_arn="", fargate_service__log_group_arn="arn:aws:logs:us-east-1:1:log-group:g")
    with open(POLICY) as fh:
        return {s["Sid"]: s for s in json.loads(render(fh.read(), variables))["Statement"]}


def test_policy_grants_exactly_the_secrets_and_the_key_only_when_given():
    other = ARN.replace("login-AbCdEf", "api-XyZ123")
    statements = policy([{"name": "P", "secret_arn": ARN, "json_key": "password"},
                         {"name": "U", "secret_arn": ARN, "json_key": "username"}, {"name": "A", "secret_arn": other}])
    assert statements["ReadSecretsManagerSecrets"] == {"Sid": "ReadSecretsManagerSecrets", "Effect": "Allow",
                                                       "Action": "secretsmanager:GetSecretValue", "Resource": [ARN, other]}
    assert "DecryptSecretsManagerSecrets" not in statements
    statements = policy([{"name": "P", "secret_arn": ARN, "kms_key": KEY}])
    assert statements["DecryptSecretsManagerSecrets"] == {
        "Sid": "DecryptSecretsManagerSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [KEY],
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}}
    assert set(policy([])) == {"WriteOwnLogs"}


def test_tasks_behind_endpoints_need_secretsmanager():
    vpc = "vpc-1"
    tables = [{"route_table_id": "rtb-1", "vpc_id": vpc, "routes": [], "associations": [{"subnet_id": "subnet-1"}]}]
    endpoints = [{"service_name": f"com.amazonaws.us-east-1.{n}", "vpc_id": vpc, "vpc_endpoint_type": "Interface",
                  "private_dns_enabled": True} for n in ("ecr.api", "ecr.dkr", "logs")]
    endpoints.append({"service_name": "com.amazonaws.us-east-1.s3", "vpc_id": vpc, "vpc_endpoint_type": "Gateway",
                      "route_table_ids": ["rtb-1"]})
    shared = {"subnets": [{"subnet_id": "subnet-1", "vpc_id": vpc, "availability_zone": "us-east-1a"}],
              "route_tables": tables, "endpoints": endpoints, "vpc": {"vpc_id": vpc},
              "pocstack_subnet_ids": ["subnet-1"], "aws_region": "us-east-1"}
    assert check_network({"plotly": {"secrets_manager": False}}, shared) == {}
    [message] = check_network({"plotly": {"secrets_manager": True}}, shared)["plotly"]
    assert "no VPC endpoint for secretsmanager:" in message
    assert "the VPC endpoints ecr.api, ecr.dkr, s3, logs, secretsmanager (pocstack_vpc_endpoints" in message
    shared["pocstack_vpc_endpoints"] = ["secretsmanager"]
    assert check_network({"plotly": {"secrets_manager": True}}, shared) == {}
