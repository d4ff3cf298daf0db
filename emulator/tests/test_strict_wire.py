"""Strict mode without a server: reading query/ec2 parameters back into
botocore's input structure, identifying the operation, and the constraint
sentences (emulator/pocstack_emulator/strict/).

The query/ec2 cases are round trips: botocore's own serializer writes the
flat parameters an SDK sends, the emulator must read the same structure back.
"""
import io
import json
from urllib.parse import urlencode

import botocore.session
import pytest
from botocore.serialize import create_serializer

from pocstack_emulator.strict import StrictValidation
from pocstack_emulator.strict import answers
from pocstack_emulator.strict.constraints import PATTERNS
from pocstack_emulator.strict.constraints import Patterns
from pocstack_emulator.strict.constraints import render
from pocstack_emulator.strict.constraints import validate
from pocstack_emulator.strict.wire import Unreadable
from pocstack_emulator.strict.wire import decode_query
from pocstack_emulator.strict.wire import identify
from pocstack_emulator.strict.wire import nest

SESSION = botocore.session.get_session()
AUTH = "AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0"


def operation(service, name):
    return SESSION.get_service_model(service).operation_model(name)


def sent(service, name, params):
    """The flat parameters botocore sends for `params` (query or ec2 protocol)."""
    op = operation(service, name)
    request = create_serializer(op.metadata["protocol"]).serialize_to_request(params, op)
    return {key: str(value) for key, value in request["body"].items()}


def read_back(service, name, params):
    op = operation(service, name)
    return decode_query(op.input_shape, nest(sent(service, name, params)), op.metadata["protocol"] == "ec2")


ROUND_TRIPS = [
    # query: lists of structures (`Tags.member.1.Key`), nested lists, integers, booleans
    ("elbv2", "CreateTargetGroup", {
        "Name": "web", "Protocol": "HTTP", "Port": 8050, "VpcId": "vpc-1", "HealthCheckIntervalSeconds": 6,
        "HealthCheckEnabled": True, "Matcher": {"HttpCode": "200-399"},
        "Tags": [{"Key": "service", "Value": "plotly"}, {"Key": "collection", "Value": "pocstack.aws"}]}),
    ("elbv2", "CreateRule", {
        "ListenerArn": "arn:l", "Priority": 10,
        "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a/*", "/b/*"]}}],
        "Actions": [
            {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {
                "Issuer": "https://i", "AuthorizationEndpoint": "https://a", "TokenEndpoint": "https://t",
                "UserInfoEndpoint": "https://u", "ClientId": "c",
                # a map: AuthenticationRequestExtraParams.entry.1.key / .value
                "AuthenticationRequestExtraParams": {"prompt": "login", "display": "page"}}},
            {"Type": "forward", "Order": 2, "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": "arn:a", "Weight": 3}, {"TargetGroupArn": "arn:b", "Weight": 1}]}}]}),
    ("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Tags": []}),  # empty list: `Tags=`
    ("sns", "CreateTopic", {"Name": "t", "Attributes": {"DisplayName": "d", "Policy": "{}"}}),  # Attributes.entry.N
    # flattened lists, renamed by their member's locationName: Item.1.Attribute.1.Name
    ("sdb", "BatchPutAttributes", {"DomainName": "d", "Items": [
        {"Name": "i", "Attributes": [{"Name": "a", "Value": "1"}, {"Name": "b", "Value": "2", "Replace": True}]}]}),
    # ec2: every list flattened (`Filter.1.Value.1`), queryName and capitalised locationName
    ("ec2", "DescribeVpcs", {"Filters": [{"Name": "tag:service", "Values": ["plotly", "hello"]}], "MaxResults": 5}),
    ("ec2", "CreateTags", {"Resources": ["vpc-1", "subnet-2"], "Tags": [{"Key": "k", "Value": "v"}]}),
    ("ec2", "AuthorizeSecurityGroupIngress", {"GroupId": "sg-1", "IpPermissions": [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}],
         "UserIdGroupPairs": [{"GroupId": "sg-2"}]}]}),
    ("ec2", "ModifyVpcAttribute", {"VpcId": "vpc-1", "EnableDnsHostnames": {"Value": True}}),
]


@pytest.mark.parametrize("service, name, params", ROUND_TRIPS, ids=[f"{s}:{n}" for s, n, _ in ROUND_TRIPS])
def test_query_parameters_read_back_into_the_input_structure(service, name, params):
    assert read_back(service, name, params) == params


def test_the_flat_names_are_the_ones_sdks_send():
    flat = sent("elbv2", "AddTags", {"ResourceArns": ["arn:x"], "Tags": [{"Key": "k", "Value": "v"}]})
    assert flat == {"Action": "AddTags", "Version": "2015-12-01", "ResourceArns.member.1": "arn:x",
                    "Tags.member.1.Key": "k", "Tags.member.1.Value": "v"}
    assert sent("ec2", "DescribeSubnets", {"SubnetIds": ["subnet-1"]})["SubnetId.1"] == "subnet-1"


def test_members_the_model_does_not_know_are_dropped():
    flat = sent("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}"})
    flat.update({"MotoOnly": "x", "Tags.member.1.Key": "k", "Tags.member.1.Value": "v", "Tags.member.1.Extra": "y"})
    assert decode_query(operation("iam", "CreateRole").input_shape, nest(flat)) == {
        "RoleName": "r", "AssumeRolePolicyDocument": "{}", "Tags": [{"Key": "k", "Value": "v"}]}


def test_a_number_that_is_not_one_is_left_to_moto():
    shape = operation("elbv2", "CreateTargetGroup").input_shape
    params = decode_query(shape, nest({"Name": "web", "HealthCheckIntervalSeconds": "often"}))
    assert isinstance(params["HealthCheckIntervalSeconds"], Unreadable)
    assert validate(shape, params, "query") == []


# ------------------------------------------------------------------ identify
def environ(service, body=b"", target=None, content_type="application/x-www-form-urlencoded; charset=utf-8",
            path="/", query=""):
    found = {"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "POST", "CONTENT_TYPE": content_type,
             "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
             "HTTP_AUTHORIZATION": AUTH.format(service)}
    if target:
        found["HTTP_X_AMZ_TARGET"] = target
    return found


def form(service, name, params):
    return urlencode(sent(service, name, params)).encode()


def test_elasticloadbalancing_is_elbv2_or_elb_by_its_version():
    body = form("elbv2", "DescribeLoadBalancers", {})
    call = identify(environ("elasticloadbalancing", body), body)
    assert (call.service, call.operation.name, call.protocol) == ("elbv2", "DescribeLoadBalancers", "query")
    body = form("elb", "DescribeLoadBalancers", {})
    assert identify(environ("elasticloadbalancing", body), body).service == "elb"


def test_json_calls_are_named_by_their_target_and_scope():
    body = json.dumps({"clusterName": "c"}).encode()
    env = environ("ecs", body, "AmazonEC2ContainerServiceV20141113.CreateCluster", "application/x-amz-json-1.1")
    call = identify(env, body)
    assert (call.name, call.protocol, call.params) == ("ecs:CreateCluster", "json", {"clusterName": "c"})
    body = form("ec2", "DescribeVpcs", {})
    assert identify(environ("ec2", body), body).protocol == "ec2"


@pytest.mark.parametrize("env", [
    environ("ecs", b"{}", "SomethingElse.CreateCluster", "application/x-amz-json-1.1"),  # not ECS's target prefix
    environ("ecs", b"{}", "AmazonEC2ContainerServiceV20141113.Unheard", "application/x-amz-json-1.1"),
    environ("ecs", b"[1]", "AmazonEC2ContainerServiceV20141113.CreateCluster", "application/x-amz-json-1.1"),
    environ("iam", b"Action=ListRoles&Version=1999-01-01"),  # an API version botocore does not have
    environ("iam", b"Action=ListRoles"),
    environ("no-such-service", b"Action=X&Version=2010-05-08"),
    environ("route53", b"", path="/2013-04-01/hostedzone"),  # REST: not validated
    environ("ecr", b"", path="/v2/app/manifests/latest"),  # the Docker registry behind ECR
    environ("ecr", b"", path="/_pocstack/calls"),
    dict(environ("iam", b"Action=ListRoles&Version=2010-05-08"), HTTP_AUTHORIZATION=""),  # unsigned
], ids=["target", "operation", "not-an-object", "version", "no-version", "service", "rest", "registry", "ours",
        "unsigned"])
def test_what_is_not_an_aws_call_it_knows_is_left_alone(env):
    body = env["wsgi.input"].read()
    assert identify(env, body) is None


def test_a_presigned_url_names_its_service_in_the_query_string():
    query = "Action=ListRoles&Version=2010-05-08&X-Amz-Credential=t%2F20260101%2Fus-east-1%2Fiam%2Faws4_request"
    env = dict(environ("iam", query=query), HTTP_AUTHORIZATION="")
    assert identify(env, b"").name == "iam:ListRoles"


def test_the_body_reaches_the_next_app_unchanged():
    body = form("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}"})
    seen = {}

    def app(env, start_response):
        seen["body"] = env["wsgi.input"].read(int(env["CONTENT_LENGTH"]))
        return [b"ok"]

    assert StrictValidation(app)(environ("iam", body), lambda *_: None) == [b"ok"]
    assert seen["body"] == body


# ------------------------------------------------------------------ constraints and sentences
def messages(service, name, params, protocol="json"):
    op = operation(service, name)
    return [v.coral() for v in validate(op.input_shape, params, protocol)]


def test_a_list_of_scalars_fails_as_a_whole_with_every_constraint_listed():
    names = ["poc.example.com", "bad_name!"]
    pattern = SESSION.get_service_model("acm").shape_for("DomainNameString").metadata["pattern"]
    assert messages("acm", "RequestCertificate", {"DomainName": "poc.example.com",
                                                  "SubjectAlternativeNames": names}) == [
        f"Value '[poc.example.com, bad_name!]' at 'subjectAlternativeNames' failed to satisfy constraint: "
        f"Member must satisfy constraint: [Member must have length less than or equal to 253, "
        f"Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: "
        f"{pattern}]"]
    # a list of structures: each item on its own, `.N.member`
    assert messages("ecr", "BatchGetImage", {"repositoryName": "app", "imageIds": [{"imageTag": ""}]}) == [
        "Value '' at 'imageIds.1.member.imageTag' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"]


def test_map_keys_and_values_fail_at_the_map():
    found = messages("ecs", "RegisterTaskDefinition", {
        "family": "f", "containerDefinitions": [], "tags": [{"key": "", "value": "v"}]})
    assert found == ["Value '' at 'tags.1.member.key' failed to satisfy constraint: "
                     "Member must have length greater than or equal to 1"]
    op = operation("elbv2", "CreateRule")
    oidc = {"Issuer": "i", "AuthorizationEndpoint": "a", "TokenEndpoint": "t", "UserInfoEndpoint": "u",
            "ClientId": "c", "AuthenticationRequestExtraParams": {"k": "v"}}
    params = {"ListenerArn": "l", "Priority": 1, "Conditions": [],
              "Actions": [{"Type": "authenticate-oidc", "AuthenticateOidcConfig": oidc}]}
    assert validate(op.input_shape, params, "query") == []  # ELBv2 models no constraint on the map


def test_required_members_are_not_null():
    assert messages("acm", "AddTagsToCertificate", {"CertificateArn": "arn:aws:acm:us-east-1:1:certificate/x",
                                                    "Tags": [{"Value": "v"}]}) == [
        "Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null"]


def test_a_value_failing_pattern_and_length_lists_the_pattern_first():
    found = messages("logs", "DescribeLogGroups", {"logGroupNamePrefix": ""})
    assert found == [
        "Value '' at 'logGroupNamePrefix' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
        "Value '' at 'logGroupNamePrefix' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"]


def test_a_sensitive_value_is_never_shown():
    secret = "do-not-print-" + "x" * 65536
    assert messages("secretsmanager", "CreateSecret", {"Name": "s", "SecretString": secret}) == [
        "Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536"]
    # inside a list or structure that is shown, a sensitive member is ***
    container = operation("ecs", "RegisterTaskDefinition").input_shape.members["containerDefinitions"].member
    assert render(container, {"name": "web", "environment": [{"name": "A", "value": "b"}]}) == "{name: web,environment: ***}"
    put = operation("secretsmanager", "PutSecretValue").input_shape
    assert render(put, {"SecretId": "s", "SecretString": "hush"}) == "{SecretId: s,SecretString: ***}"


def test_ec2_checks_value_ranges_in_its_own_words():
    op = operation("ec2", "DescribeVpcs")
    call = type("Call", (), {"protocol": "ec2", "service": "ec2"})()
    violations = validate(op.input_shape, {"MaxResults": 1001}, "ec2")
    assert answers.message(call, violations) == (
        "Value ( 1001 ) for parameter maxResults is invalid. Expecting a value less than 1000.")
    # EC2's names and lengths are its own business (InvalidLaunchTemplateName.MalformedException, ...)
    op = operation("ec2", "CreateLaunchTemplate")
    assert validate(op.input_shape, {"LaunchTemplateName": "a b", "LaunchTemplateData": {}}, "ec2") == []


def test_java_surrogate_pairs_in_patterns_compile():
    # Application Auto Scaling's XmlString: [\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\r\n\t]*
    pattern = SESSION.get_service_model("application-autoscaling").shape_for("XmlString").metadata["pattern"]
    compiled = PATTERNS.get(pattern)
    assert compiled.fullmatch("service/cluster/web \U0001F600") and not compiled.fullmatch("\x01")
    assert pattern not in PATTERNS.skipped


def test_a_pattern_that_does_not_compile_is_skipped_and_counted():
    patterns = Patterns()
    assert patterns.get("[a-") is None
    assert patterns.skipped == {"[a-"}
    assert patterns.get("\\p{L}+").fullmatch("Ünïcode")
