"""Fargate's start-up read of Secrets Manager secrets (ecs/fargate.py,
Checks.secrets), on moto's state made with boto3: what reaches the container
(the whole SecretString or one JSON key, a version by stage or ID) and each
failure's stoppedReason, as the agent writes it."""
import json
from types import SimpleNamespace

import boto3
import pytest

from pocstack_emulator.dataplane import DataPlane
from pocstack_emulator.ecs.fargate import Checks
from pocstack_emulator.ecs.fargate import TaskFailed
from test_network_reach import vpc  # noqa: F401  (the fixture: a VPC with a public and a private subnet)

REGION = "us-east-1"
ACCOUNT = "123456789012"
EXEC_ROLE = "exec"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
ASM = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
       "unable to retrieve secret from asm: service call has been retried")


@pytest.fixture
def aws(vpc):  # noqa: F811  (the imported fixture)
    """The public subnet of test_network_reach's VPC (internet gateway; a
    public IP or none), an execution role without grants, a JSON secret;
    `grant(arn, key=None)` gives the role GetSecretValue (and kms:Decrypt via
    Secrets Manager on `key`)."""
    subnet, group = vpc["public"], {"GroupId": vpc["group"]}
    iam = boto3.client("iam", region_name=REGION)
    role_arn = iam.create_role(RoleName=EXEC_ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    sm = boto3.client("secretsmanager", region_name=REGION)
    secret = sm.create_secret(Name="plotly/login", SecretString=json.dumps({"username": "ada", "password": "pw-1"}))

    def grant(arn, key=None):
        statements = [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}]
        if key:
            statements.append({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key, "Condition": {
                "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}})
        iam.put_role_policy(RoleName=EXEC_ROLE, PolicyName="exec",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))

    def read(value_from, public_ip="198.51.100.9"):
        td = SimpleNamespace(execution_role_arn=role_arn)
        net = {"subnet": subnet, "public_ip": public_ip, "security_groups": [group["GroupId"]]}
        checks = Checks(DataPlane.backends_for(ACCOUNT, REGION), ACCOUNT, REGION, "0123abcd", td, net, "10.7.0.20")
        return checks.secrets([{"name": "app", "secrets": [{"name": "PASS", "valueFrom": value_from}]}])["app"]["PASS"]

    yield SimpleNamespace(arn=secret["ARN"], version=secret["VersionId"], sm=sm, grant=grant, read=read,
                          kms=boto3.client("kms", region_name=REGION))


def failure(aws, value_from, **kwargs):
    with pytest.raises(TaskFailed) as caught:
        aws.read(value_from, **kwargs)
    assert caught.value.stop_code == "TaskFailedToStart"
    return caught.value.reason


def test_granted_secret_reaches_the_container_whole_or_by_json_key(aws):
    aws.grant(aws.arn)
    assert json.loads(aws.read(aws.arn)) == {"username": "ada", "password": "pw-1"}
    assert aws.read(f"{aws.arn}:password::") == "pw-1"
    assert aws.read(f"{aws.arn}:username:AWSCURRENT:") == "ada"
    assert aws.read(f"{aws.arn}:password::{aws.version}") == "pw-1"


def test_a_version_by_its_stage(aws):
    aws.grant(aws.arn)
    aws.sm.put_secret_value(SecretId=aws.arn, SecretString=json.dumps({"password": "pw-2"}))
    assert aws.read(f"{aws.arn}:password::") == "pw-2"
    assert aws.read(f"{aws.arn}:password:AWSPREVIOUS:") == "pw-1"
    reason = failure(aws, f"{aws.arn}:password:NOSUCHSTAGE:")
    assert "can't find the specified secret value for staging label: NOSUCHSTAGE" in reason


def test_without_a_grant_the_task_stops_with_access_denied(aws):
    aws.grant(aws.arn.replace("plotly/login", "other"))
    reason = failure(aws, f"{aws.arn}:password::")
    assert reason.startswith(f"{ASM} 1 time(s): failed to fetch secret {aws.arn} from secrets manager: "
                             f"AccessDeniedException: User: arn:aws:sts::{ACCOUNT}:assumed-role/{EXEC_ROLE}/0123abcd "
                             f"is not authorized to perform: secretsmanager:GetSecretValue on resource: {aws.arn}")
    assert "pw-1" not in reason


def test_a_missing_json_key(aws):
    aws.grant(aws.arn)
    assert failure(aws, f"{aws.arn}:token::") == (
        f"{ASM} 1 time(s): retrieved secret from Secrets Manager did not contain json key token")


def test_a_missing_secret(aws):
    gone = aws.arn[:-6] + "ZZZZZZ"
    aws.grant(gone)
    assert "ResourceNotFoundException: Secrets Manager can't find the specified secret." in failure(aws, gone)


def test_no_way_to_secretsmanager(aws):
    aws.grant(aws.arn)
    reason = failure(aws, aws.arn, public_ip=None)
    assert reason == (f"{ASM} 5 time(s): failed to fetch secret {aws.arn} from secrets manager: RequestCanceled: "
                      "request context canceled caused by: context deadline exceeded. Please check your task network "
                      "configuration.")


def test_customer_managed_key_needs_kms_decrypt_via_secrets_manager(aws):
    key = aws.kms.create_key()["KeyMetadata"]["Arn"]
    arn = aws.sm.create_secret(Name="cmk", SecretString="s3cr3t-value", KmsKeyId=key)["ARN"]
    aws.grant(arn)
    reason = failure(aws, arn)
    assert "failed to fetch secret" in reason and "AccessDeniedException: Access to KMS is not allowed" in reason
    aws.grant(arn, key)
    assert aws.read(arn) == "s3cr3t-value"
