"""Strict mode through the AWS API (boto3): requests that break their
service model's constraints are refused as AWS refuses them, in each
protocol's error shape and AWS's words, before moto sees them; valid ones
pass; `--strict off` hands everything to moto.

Two emulators without a data plane (no Docker needed): one strict (the
default), one started with $POCSTACK_EMULATOR_STRICT=off.
"""
import json
import os
import socket
import subprocess
import sys
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

LAUNCHER = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "pocstack-emulator"))
# What real ACM answered for this tag value (the pattern as botocore's model writes it).
ACM_TAG_PATTERN = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"
ACM_WILDCARD_TAG = ("1 validation error detected: Value '*.poc.example.com' at 'tags.1.member.value' failed to "
                    f"satisfy constraint: Member must satisfy regular expression pattern: {ACM_TAG_PATTERN}")
SECRET = "pass-Word-7-never-shown"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launcher(*args, env=None):
    return subprocess.run([sys.executable, LAUNCHER, *args], capture_output=True, text=True, timeout=90, env=env)


def started(tmp_path_factory, name, env=None):
    port = free_port()
    state = str(tmp_path_factory.mktemp(name))
    found = launcher("start", "--port", str(port), "--state-dir", state, "--data-plane", "off", env=env)
    assert found.returncode == 0, found.stdout + found.stderr
    return {"port": port, "state": state, "url": f"http://127.0.0.1:{port}", "start": found.stdout}


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if k != "POCSTACK_EMULATOR_STRICT"}  # the default: on
    emulator = started(tmp_path_factory, "strict-on", env)
    yield emulator
    launcher("stop", "--port", str(emulator["port"]), "--state-dir", emulator["state"])


@pytest.fixture(scope="module")
def lenient(tmp_path_factory):
    emulator = started(tmp_path_factory, "strict-off", {**os.environ, "POCSTACK_EMULATOR_STRICT": "off"})
    yield emulator
    launcher("stop", "--port", str(emulator["port"]), "--state-dir", emulator["state"])


def http(emulator, path, method="GET"):
    request = urllib.request.Request(emulator["url"] + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=60) as resp:
        return json.load(resp)


@pytest.fixture
def aws(strict):
    http(strict, "/moto-api/reset", "POST")
    http(strict, "/_pocstack/calls/reset", "POST")
    return lambda name, **config: client(strict, name, **config)


def client(emulator, name, validate_client_side=True):
    # botocore's client checks minimums itself: off, to see what the server says
    config = Config(parameter_validation=validate_client_side, retries={"max_attempts": 1})
    return boto3.client(name, endpoint_url=emulator["url"], region_name="us-east-1", config=config,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def refused(call, **params):
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return response["Error"], response["ResponseMetadata"]


# ------------------------------------------------------------------ JSON protocols
def test_acm_refuses_a_wildcard_tag_value_as_aws_does(aws):
    acm = aws("acm")
    error, meta = refused(acm.request_certificate, DomainName="*.poc.example.com",
                          Tags=[{"Key": "pocstack:certificate-name", "Value": "*.poc.example.com"}])
    assert error == {"Code": "ValidationException", "Message": ACM_WILDCARD_TAG}
    assert meta["HTTPHeaders"]["x-amzn-errortype"] == "ValidationException"
    assert acm.list_certificates()["CertificateSummaryList"] == []  # moto never saw it
    arn = acm.request_certificate(DomainName="*.poc.example.com")["CertificateArn"]
    error, _ = refused(acm.add_tags_to_certificate, CertificateArn=arn,
                       Tags=[{"Key": "pocstack:certificate-name", "Value": "*.poc.example.com"}])
    assert error["Message"] == ACM_WILDCARD_TAG
    assert acm.list_tags_for_certificate(CertificateArn=arn).get("Tags", []) == []


def test_a_valid_request_passes_and_only_refusals_are_counted(aws, strict):
    acm = aws("acm")
    arn = acm.request_certificate(DomainName="*.poc.example.com",
                                  Tags=[{"Key": "pocstack:certificate-name", "Value": "wildcard.poc.example.com"}])
    assert acm.list_tags_for_certificate(CertificateArn=arn["CertificateArn"])["Tags"] == [
        {"Key": "pocstack:certificate-name", "Value": "wildcard.poc.example.com"}]
    refused(acm.add_tags_to_certificate, CertificateArn=arn["CertificateArn"], Tags=[{"Key": "k", "Value": "a*"}])
    assert http(strict, "/_pocstack/strict") == {"enabled": True, "rejected": 1,
                                                 "rejected_calls": {"acm:AddTagsToCertificate": 1},
                                                 "patterns_skipped": []}
    assert http(strict, "/_pocstack/calls")["calls"] == {"acm:ListTagsForCertificate": 1,
                                                         "acm:RequestCertificate": 1}
    status = launcher("status", "--port", str(strict["port"]))
    assert "strict mode on: AWS's parameter validation; 1 request(s) rejected" in status.stdout
    assert "strict mode on" in strict["start"]


def test_ecs_refuses_a_value_outside_its_enum(aws):
    ecs = aws("ecs")
    error, _ = refused(ecs.list_tasks, cluster="default", desiredStatus="SLEEPING")
    assert error == {"Code": "ValidationException", "Message": (
        "1 validation error detected: Value 'SLEEPING' at 'desiredStatus' failed to satisfy constraint: "
        "Member must satisfy enum value set: [RUNNING, PENDING, STOPPED]")}
    container = {"name": "web", "image": "app", "memory": 512,
                 "portMappings": [{"containerPort": 8050, "protocol": "tcp"}, {"containerPort": 53, "protocol": "dns"}]}
    error, _ = refused(ecs.register_task_definition, family="web", networkMode="awsvpc-please",
                       containerDefinitions=[container])
    assert error["Message"] == (  # in the model's order of members
        "2 validation errors detected: "
        "Value 'awsvpc-please' at 'networkMode' failed to satisfy constraint: "
        "Member must satisfy enum value set: [bridge, host, awsvpc, none]; "
        "Value 'dns' at 'containerDefinitions.1.member.portMappings.2.member.protocol' failed to satisfy "
        "constraint: Member must satisfy enum value set: [tcp, udp]")
    assert ecs.list_task_definitions()["taskDefinitionArns"] == []


def test_an_ssm_secure_string_value_is_never_echoed(aws, strict):
    ssm = aws("ssm")
    name = "/poc/plotly/" + "P" * 2040
    with pytest.raises(ClientError) as caught:
        ssm.put_parameter(Name=name, Value=SECRET, Type="SecureStrings", Overwrite=True)
    error = caught.value.response["Error"]
    assert error == {"Code": "ValidationException", "Message": (
        f"2 validation errors detected: Value '{name}' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 2048; Value 'SecureStrings' at 'type' failed to satisfy "
        "constraint: Member must satisfy enum value set: [String, StringList, SecureString]")}
    # a sensitive value that fails itself is not shown either (AWS: "Value at 'secretString'")
    secrets = aws("secretsmanager")
    error, _ = refused(secrets.create_secret, Name="s", SecretString=SECRET * 3000)
    assert error["Message"] == ("1 validation error detected: Value at 'secretString' failed to satisfy constraint: "
                                "Member must have length less than or equal to 65536")
    assert SECRET not in open(os.path.join(strict["state"], f"emulator-{strict['port']}.log")).read()


def test_ecr_and_logs_answer_in_their_own_words(aws):
    error, _ = refused(aws("ecr").create_repository, repositoryName="Pocstack/App")
    assert error["Code"] == "InvalidParameterException"
    assert error["Message"].startswith(
        "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '")
    error, _ = refused(aws("logs").create_log_group, logGroupName="/ecs/plotly web")
    assert error == {"Code": "InvalidParameterException", "Message": (
        "1 validation error detected: Value '/ecs/plotly web' at 'logGroupName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")}


# ------------------------------------------------------------------ query protocol
def test_iam_refuses_a_role_name_over_64_characters(aws):
    name = "pocstack-plotly-execution-role-" + "x" * 34
    error, _ = refused(aws("iam").create_role, RoleName=name, AssumeRolePolicyDocument="{}")
    assert error == {"Type": "Sender", "Code": "ValidationError", "Message": (
        f"1 validation error detected: Value '{name}' at 'roleName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64")}
    assert aws("iam").list_roles()["Roles"] == []


def test_elbv2_refuses_values_outside_their_range_all_in_one_answer(aws):
    elbv2 = aws("elbv2", validate_client_side=False)  # botocore itself refuses the timeout's minimum
    vpc = aws("ec2").create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    error, _ = refused(elbv2.create_target_group, Name="plotly", Protocol="HTTP", Port=8050, VpcId=vpc,
                       TargetType="ip", HealthCheckIntervalSeconds=400, HealthCheckTimeoutSeconds=1,
                       Tags=[{"Key": "service", "Value": "plotly*"}])
    assert error == {"Type": "Sender", "Code": "ValidationError", "Message": (
        "3 validation errors detected: "
        "Value '400' at 'healthCheckIntervalSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 300; "
        "Value '1' at 'healthCheckTimeoutSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 2; "
        "Value 'plotly*' at 'tags.1.member.value' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$")}
    assert elbv2.describe_target_groups()["TargetGroups"] == []
    created = elbv2.create_target_group(Name="plotly", Protocol="HTTP", Port=8050, VpcId=vpc, TargetType="ip",
                                        HealthCheckIntervalSeconds=300, HealthCheckTimeoutSeconds=2)
    assert created["TargetGroups"][0]["HealthCheckIntervalSeconds"] == 300


# ------------------------------------------------------------------ ec2 protocol
def test_ec2_refuses_a_max_results_below_its_range(aws):
    ec2 = aws("ec2", validate_client_side=False)
    error, _ = refused(ec2.describe_vpcs, MaxResults=1)
    assert error == {"Code": "InvalidParameterValue",
                     "Message": "Value ( 1 ) for parameter maxResults is invalid. Expecting a value greater than 5."}
    assert ec2.describe_vpcs(MaxResults=5)["Vpcs"]


# ------------------------------------------------------------------ the switch
def test_strict_off_lets_moto_answer(lenient):
    assert "strict mode off" in lenient["start"]
    acm = client(lenient, "acm")
    arn = acm.request_certificate(DomainName="*.poc.example.com",
                                  Tags=[{"Key": "pocstack:certificate-name", "Value": "*.poc.example.com"}])
    assert acm.list_tags_for_certificate(CertificateArn=arn["CertificateArn"])["Tags"] == [
        {"Key": "pocstack:certificate-name", "Value": "*.poc.example.com"}]
    assert http(lenient, "/_pocstack/strict")["enabled"] is False
    assert "strict mode off" in launcher("status", "--port", str(lenient["port"])).stdout


def test_strict_takes_on_or_off_only(tmp_path):
    found = launcher("status", "--strict", "maybe", "--port", str(free_port()))
    assert found.returncode == 2 and "--strict (or $POCSTACK_EMULATOR_STRICT) must be on or off" in found.stderr
