"""alb_target_group flows against recorded ELBv2 responses (botocore Stubber, no network).

Each test queues exactly the calls AWS should see, in order; any other call
(a mutating one in check mode, a second ModifyTargetGroup, ...) fails the
test, so "no write" and "only this write" are asserted by the Stubber itself.
"""
import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.pocstack.aws.plugins.modules import alb_target_group as module
from aws_target_groups import ARN
from aws_target_groups import aws_attributes
from aws_target_groups import aws_group
from aws_target_groups import module_params
from fake_module import Exited
from fake_module import count_calls
from fake_module import manager

NEW_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/0000000000000002"
LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pocstack/50dc6c495c0c9188"
L443 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/pocstack/50dc6c495c0c9188/f2f7dc8efc522ab2"
L80 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/pocstack/50dc6c495c0c9188/0000000000000080"
RULE = L443.replace(":listener/", ":listener-rule/") + "/9683b2d02a6cabee"
TAGS = {"pocstack:service": "plotly", "pocstack:managed-by": "pocstack.aws"}


def attributes(**changes):
    """The group's attributes as alb_tls sets them (deregistration delay 30 s)."""
    return aws_attributes(**{"deregistration_delay.timeout_seconds": "30", **changes})


def params(**overrides):
    """The parameters alb_tls gives, with overrides."""
    return module_params(**{"deregistration_delay": 30, "tags": dict(TAGS), **overrides})


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def run(aws, check_mode=False, diff=True, **overrides):
    mgr = manager(module.TargetGroupManager, aws[0], params(**overrides), check_mode, diff, changed=False)
    with pytest.raises(Exited):
        mgr.run()
    return {**mgr.module.result, "warned": mgr.module.warnings}


def not_found(stubber, by_name=True):
    stubber.add_client_error("describe_target_groups", "TargetGroupNotFound", "One or more target groups not found",
                             400, expected_params={"Names": ["plotly-8050"]} if by_name else {"TargetGroupArns": [ARN]})


def found(stubber, group, attributes, tags, by_name=True):
    """The reads every run on an existing group starts with."""
    stubber.add_response("describe_target_groups", {"TargetGroups": [group]},
                         {"Names": [group["TargetGroupName"]]} if by_name else {"TargetGroupArns": [group["TargetGroupArn"]]})
    stubber.add_response("describe_target_group_attributes", {"Attributes": attributes},
                         {"TargetGroupArn": group["TargetGroupArn"]})
    tags_of(stubber, group["TargetGroupArn"], tags)


def tags_of(stubber, arn, tags):
    stubber.add_response("describe_tags", {"TagDescriptions": [{"ResourceArn": arn, **({"Tags": tag_list(tags)} if tags else {})}]},
                         {"ResourceArns": [arn]})


def described_at_exit(stubber, group, attributes, tags):
    stubber.add_response("describe_target_groups", {"TargetGroups": [group]}, {"TargetGroupArns": [group["TargetGroupArn"]]})
    stubber.add_response("describe_target_group_attributes", {"Attributes": attributes},
                         {"TargetGroupArn": group["TargetGroupArn"]})
    tags_of(stubber, group["TargetGroupArn"], tags)


# ------------------------------------------------------------------- create
def test_create_sends_settings_and_tags_then_only_the_attributes_that_differ(aws):
    _client, stubber = aws
    not_found(stubber)
    created = aws_group(LoadBalancerArns=None)
    del created["LoadBalancerArns"]
    stubber.add_response("create_target_group", {"TargetGroups": [created]}, {
        "Name": "plotly-8050", "VpcId": "vpc-1", "Protocol": "HTTP", "Port": 8050, "TargetType": "ip",
        "HealthCheckPath": "/health", "HealthCheckIntervalSeconds": 6, "HealthCheckTimeoutSeconds": 5,
        "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2, "Matcher": {"HttpCode": "200"},
        "Tags": tag_list(dict(sorted(TAGS.items()))),
    })
    defaults = attributes(**{"deregistration_delay.timeout_seconds": "300"})
    stubber.add_response("describe_target_group_attributes", {"Attributes": defaults}, {"TargetGroupArn": ARN})
    stubber.add_response("modify_target_group_attributes", {"Attributes": []}, {
        "TargetGroupArn": ARN, "Attributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]})
    described_at_exit(stubber, aws_group(), attributes(), TAGS)
    result = run(aws)
    assert result["changed"] and result["operation"] == "created" and result["changes"] == []
    assert result["target_group_arn"] == ARN
    assert result["target_group"]["attributes"]["deregistration_delay.timeout_seconds"] == "30"
    assert result["target_group"]["tags"] == TAGS
    assert result["target_group"]["health_check_path"] == "/health"
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["port"] == 8050 and result["diff"]["after"]["tags"] == dict(sorted(TAGS.items()))
    # the name, the group's identity, is on the side that exists
    assert result["diff"]["after"]["name"] == params()["name"]


def test_create_with_default_attributes_makes_one_write(aws):
    _client, stubber = aws
    not_found(stubber)
    stubber.add_response("create_target_group", {"TargetGroups": [aws_group()]}, None)
    stubber.add_response("describe_target_group_attributes", {"Attributes": attributes()}, {"TargetGroupArn": ARN})
    described_at_exit(stubber, aws_group(), attributes(), {})
    result = run(aws, tags=None)
    assert result["changed"] and result["operation"] == "created"


def test_check_mode_on_an_empty_account_reports_the_creation_and_writes_nothing(aws):
    _client, stubber = aws
    not_found(stubber)  # the one read; nothing else may be called
    result = run(aws, check_mode=True)
    assert result["changed"] is True and result["operation"] == "created"
    assert result["target_group_arn"] == "" and result["target_group"] == {}
    after = result["diff"]["after"]
    assert after["health_check"] == {"healthy_threshold": 2, "interval": 6, "matcher": "200", "path": "/health",
                                     "timeout": 5, "unhealthy_threshold": 2}
    assert after["attributes"] == {"deregistration_delay.timeout_seconds": "30"}
    assert list(after) == sorted(after)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"vpc_id": None}, "vpc_id: required to create the target group 'plotly-8050'"),
        ({"vpc_id": None, "protocol": None, "port": None}, "vpc_id, protocol, port: required to create"),
        ({"health_check": {"interval": 5, "timeout": None}}, "health_check.timeout: 5 must be smaller than health_check.interval (5)"),
        ({"health_check": {"matcher": "600"}}, "health_check.matcher: '600' in '600' is out of range"),
    ],
)
def test_what_a_new_group_needs_fails_before_any_write(aws, overrides, message):
    _client, stubber = aws
    not_found(stubber)
    result = run(aws, **overrides)
    assert result["failed"] and message in result["msg"]


def test_a_group_given_by_arn_is_never_created(aws):
    _client, stubber = aws
    not_found(stubber, by_name=False)
    result = run(aws, name=None, target_group_arn=ARN)
    assert result["failed"] and "target_group_arn: no target group" in result["msg"] and "give name" in result["msg"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": "plotly_8050"}, "name: 'plotly_8050' is not a target group name"),
        ({"name": "a" * 33}, "name: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' has 33 characters; at most 32"),
        ({"name": None, "target_group_arn": "plotly-8050"}, "target_group_arn: 'plotly-8050' is not a target group ARN"),
        ({"wait_timeout": 0}, "wait_timeout: 0 is out of range; allowed: 1-3600 seconds"),
        ({"deregistration_delay": 4000}, "deregistration_delay: 4000 is out of range; allowed: 0-3600 seconds"),
    ],
)
def test_bad_input_fails_before_any_call(aws, overrides, message):
    result = run(aws, **overrides)  # nothing queued: any AWS call would fail the test
    assert result["failed"] and message in result["msg"]


# ------------------------------------------------------------------- update
def test_unchanged_group_makes_no_write_and_diff_sides_are_equal(aws):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS)
    result = run(aws)
    assert result["changed"] is False and result["operation"] == "none" and result["changes"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["target_group_arn"] == ARN


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check-mode"])
def test_a_no_op_run_reads_the_group_its_attributes_and_its_tags_once_each(aws, check_mode):
    client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS)
    calls = count_calls(client)
    result = run(aws, check_mode=check_mode)
    assert result["changed"] is False
    assert calls == {"DescribeTargetGroups": 1, "DescribeTargetGroupAttributes": 1, "DescribeTags": 1}
    # the result is the group as read: what a second read would have shown
    described = result["target_group"]
    assert described["target_group_arn"] == ARN and described["target_group_name"] == "plotly-8050"
    assert described["health_check_path"] == "/health" and described["matcher"] == {"http_code": "200"}
    assert described["load_balancer_arns"] == [] and described["port"] == 8050
    assert described["attributes"] == {a["Key"]: a["Value"] for a in attributes()}
    assert described["tags"] == TAGS


def test_an_update_reads_the_group_again_after_writing(aws):
    client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS)
    stubber.add_response(MODIFY, {"TargetGroups": [aws_group()]}, {"TargetGroupArn": ARN, "HealthCheckPath": "/ready"})
    described_at_exit(stubber, aws_group(HealthCheckPath="/ready"), attributes(), TAGS)
    calls = count_calls(client)
    result = run(aws, health_check={"path": "/ready"})
    assert calls["DescribeTargetGroups"] == 2 and calls["DescribeTargetGroupAttributes"] == 2 and calls["DescribeTags"] == 2
    assert result["target_group"]["health_check_path"] == "/ready"  # as AWS has it after the write


MODIFY = "modify_target_group"
ATTRS = "modify_target_group_attributes"


@pytest.mark.parametrize(
    "overrides, call, expected, changes",
    [
        ({"health_check": {"path": "/ready"}}, MODIFY, {"HealthCheckPath": "/ready"}, ["health_check.path"]),
        ({"health_check": {"matcher": "200-299"}}, MODIFY, {"Matcher": {"HttpCode": "200-299"}}, ["health_check.matcher"]),
        ({"health_check": {"interval": 30, "timeout": 10}}, MODIFY,
         {"HealthCheckIntervalSeconds": 30, "HealthCheckTimeoutSeconds": 10}, ["health_check.interval", "health_check.timeout"]),
        ({"health_check": {"port": "9000", "protocol": "HTTPS"}}, MODIFY,
         {"HealthCheckPort": "9000", "HealthCheckProtocol": "HTTPS"}, ["health_check.port", "health_check.protocol"]),
        ({"health_check": {"healthy_threshold": 5, "unhealthy_threshold": 3}}, MODIFY,
         {"HealthyThresholdCount": 5, "UnhealthyThresholdCount": 3},
         ["health_check.healthy_threshold", "health_check.unhealthy_threshold"]),
        ({"deregistration_delay": 0}, ATTRS, [{"Key": "deregistration_delay.timeout_seconds", "Value": "0"}],
         ["attributes.deregistration_delay.timeout_seconds"]),
        ({"slow_start": 30, "load_balancing_algorithm": "least_outstanding_requests"}, ATTRS,
         [{"Key": "load_balancing.algorithm.type", "Value": "least_outstanding_requests"},
          {"Key": "slow_start.duration_seconds", "Value": "30"}],
         ["attributes.load_balancing.algorithm.type", "attributes.slow_start.duration_seconds"]),
        ({"stickiness": {"enabled": True, "type": "lb_cookie", "duration": 600, "cookie_name": None}}, ATTRS,
         [{"Key": "stickiness.enabled", "Value": "true"}, {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "600"}],
         ["attributes.stickiness.enabled", "attributes.stickiness.lb_cookie.duration_seconds"]),
        ({"tags": {**TAGS, "owner": "data"}}, "add_tags", {"Tags": [{"Key": "owner", "Value": "data"}]}, ["tags.owner"]),
        ({"tags": {"pocstack:service": "plotly"}}, "remove_tags", {"TagKeys": ["pocstack:managed-by"]},
         ["tags.pocstack:managed-by"]),
    ],
    ids=["path", "matcher", "interval-timeout", "port-protocol", "thresholds", "deregistration", "algorithm-slow-start",
         "stickiness", "tag-added", "tag-purged"],
)
def test_each_difference_calls_only_its_api_with_only_the_changes(aws, overrides, call, expected, changes):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS)
    key = {"add_tags": "ResourceArns", "remove_tags": "ResourceArns"}.get(call, "TargetGroupArn")
    arn = [ARN] if key == "ResourceArns" else ARN
    body = {"Attributes": expected} if call == ATTRS else expected
    stubber.add_response(call, {"TargetGroups": [aws_group()]} if call == MODIFY else {}, {key: arn, **body})
    described_at_exit(stubber, aws_group(), attributes(), TAGS)
    result = run(aws, **overrides)
    assert result["changed"] and result["operation"] == "updated" and result["changes"] == changes


def test_health_check_attributes_and_tags_together_make_one_call_each(aws):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), {**TAGS, "old": "x"})
    stubber.add_response(MODIFY, {"TargetGroups": [aws_group()]}, {"TargetGroupArn": ARN, "HealthCheckPath": "/ready"})
    stubber.add_response(ATTRS, {}, {"TargetGroupArn": ARN, "Attributes": [
        {"Key": "deregistration_delay.timeout_seconds", "Value": "60"}]})
    stubber.add_response("add_tags", {}, {"ResourceArns": [ARN], "Tags": [{"Key": "new", "Value": "y"}]})
    stubber.add_response("remove_tags", {}, {"ResourceArns": [ARN], "TagKeys": ["old"]})
    described_at_exit(stubber, aws_group(), attributes(), TAGS)
    result = run(aws, health_check={"path": "/ready"}, deregistration_delay=60, tags={**TAGS, "new": "y"})
    assert result["changes"] == ["attributes.deregistration_delay.timeout_seconds", "health_check.path", "tags.new", "tags.old"]


def test_tags_omitted_are_left_alone(aws):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), {"someone": "else"})
    result = run(aws, tags=None)
    assert result["changed"] is False


def test_grpc_group_matcher_is_sent_as_grpc_code(aws):
    _client, stubber = aws
    group = aws_group(ProtocolVersion="GRPC", Matcher={"GrpcCode": "12"})
    found(stubber, group, attributes(), TAGS)
    stubber.add_response(MODIFY, {"TargetGroups": [group]}, {"TargetGroupArn": ARN, "Matcher": {"GrpcCode": "0-5"}})
    described_at_exit(stubber, group, attributes(), TAGS)
    result = run(aws, health_check={"matcher": "0-5"})
    assert result["changes"] == ["health_check.matcher"]


def test_check_mode_update_reports_the_change_and_writes_nothing(aws):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS)
    result = run(aws, check_mode=True, health_check={"path": "/ready"}, deregistration_delay=45, tags={"a": "b"})
    assert result["changed"] and result["operation"] == "updated"
    assert result["changes"] == ["attributes.deregistration_delay.timeout_seconds", "health_check.path", "tags.a",
                                 "tags.pocstack:managed-by", "tags.pocstack:service"]
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["health_check"]["path"] == "/health" and after["health_check"]["path"] == "/ready"
    assert before["attributes"]["deregistration_delay.timeout_seconds"] == "30"
    assert after["attributes"]["deregistration_delay.timeout_seconds"] == "45"
    assert before["tags"] == dict(sorted(TAGS.items())) and after["tags"] == {"a": "b"}
    assert result["target_group"]["health_check_path"] == "/health"  # as it is now
    for side in (before, after):
        assert list(side) == sorted(side) and list(side["health_check"]) == sorted(side["health_check"])


def test_without_diff_mode_there_is_no_diff(aws):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS)
    assert "diff" not in run(aws, diff=False)


# ---------------------------------------------------------- fixed settings
@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"port": 8051}, "port 8050 -> 8051"),
        ({"vpc_id": "vpc-2"}, "vpc_id 'vpc-1' -> 'vpc-2'"),
        ({"protocol": "HTTPS"}, "protocol 'HTTP' -> 'HTTPS'"),
        ({"protocol_version": "HTTP2"}, "protocol_version 'HTTP1' -> 'HTTP2'"),
        ({"target_type": "instance"}, "target_type 'ip' -> 'instance'"),
        ({"ip_address_type": "ipv6"}, "ip_address_type 'ipv4' -> 'ipv6'"),
    ],
)
def test_a_setting_aws_cannot_change_fails_naming_it_with_no_write(aws, overrides, named):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS)
    result = run(aws, **overrides)
    assert result["failed"]
    assert named in result["msg"] and "must be replaced" in result["msg"]
    assert "new name" in result["msg"] and "replace=true" in result["msg"]


def test_replace_deletes_and_creates_keeping_what_was_not_given(aws):
    _client, stubber = aws
    group = aws_group(HealthCheckPath="/custom")
    slow = attributes(**{"slow_start.duration_seconds": "60"})
    found(stubber, group, slow, TAGS)
    stubber.add_response("delete_target_group", {}, {"TargetGroupArn": ARN})
    new = aws_group(arn=NEW_ARN, Port=8051, HealthCheckPath="/custom")
    stubber.add_response("create_target_group", {"TargetGroups": [new]}, {
        "Name": "plotly-8050", "VpcId": "vpc-1", "Protocol": "HTTP", "ProtocolVersion": "HTTP1", "Port": 8051,
        "TargetType": "ip", "IpAddressType": "ipv4", "HealthCheckEnabled": True, "HealthCheckProtocol": "HTTP",
        "HealthCheckPort": "traffic-port", "HealthCheckPath": "/custom", "HealthCheckIntervalSeconds": 6,
        "HealthCheckTimeoutSeconds": 5, "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2,
        "Matcher": {"HttpCode": "200"}, "Tags": tag_list(dict(sorted(TAGS.items()))),
    })
    stubber.add_response("describe_target_group_attributes", {"Attributes": attributes(
        **{"deregistration_delay.timeout_seconds": "300"})}, {"TargetGroupArn": NEW_ARN})
    stubber.add_response(ATTRS, {}, {"TargetGroupArn": NEW_ARN, "Attributes": [
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}, {"Key": "slow_start.duration_seconds", "Value": "60"}]})
    described_at_exit(stubber, new, slow, TAGS)
    result = run(aws, port=8051, replace=True, tags=None, health_check=None)
    assert result["changed"] and result["operation"] == "replaced" and result["changes"] == ["port"]
    assert result["target_group_arn"] == NEW_ARN
    assert result["diff"]["before"]["port"] == 8050 and result["diff"]["after"]["port"] == 8051
    assert result["diff"]["after"]["health_check"]["path"] == "/custom"


def test_replace_in_check_mode_writes_nothing_and_warns_about_users(aws):
    _client, stubber = aws
    found(stubber, aws_group(LoadBalancerArns=[LB]), attributes(), TAGS)
    users_are(stubber)
    result = run(aws, check_mode=True, port=8051, replace=True)
    assert result["changed"] and result["operation"] == "replaced" and result["target_group_arn"] == ""
    assert len(result["warned"]) == 1 and RULE in result["warned"][0] and "replace=true fails" in result["warned"][0]


# ------------------------------------------------------------------- absent
def users_are(stubber, lb=LB):
    """The reads that name who forwards to the group: its load balancer's listeners and their rules."""
    stubber.add_response("describe_listeners", {"Listeners": [
        {"ListenerArn": L443, "Port": 443, "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]},
        {"ListenerArn": L80, "Port": 80, "DefaultActions": [{"Type": "forward", "TargetGroupArn": ARN}]},
    ]}, {"LoadBalancerArn": lb})
    stubber.add_response("describe_rules", {"Rules": [
        {"RuleArn": RULE, "Priority": "10", "IsDefault": False, "Conditions": [],
         "Actions": [{"Type": "forward", "TargetGroupArn": ARN}]},
        {"RuleArn": L443 + "/default", "Priority": "default", "IsDefault": True, "Conditions": [],
         "Actions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]},
    ]}, {"ListenerArn": L443})
    stubber.add_response("describe_rules", {"Rules": [
        {"RuleArn": L80 + "/default", "Priority": "default", "IsDefault": True, "Conditions": [],
         "Actions": [{"Type": "forward", "TargetGroupArn": ARN}]},
    ]}, {"ListenerArn": L80})
    tags_of(stubber, RULE, {"pocstack:rule-name": "plotly"})


def test_absent_deletes_and_shows_what_goes(aws):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS)
    stubber.add_response("delete_target_group", {}, {"TargetGroupArn": ARN})
    result = run(aws, state="absent")
    assert result["changed"] and result["operation"] == "deleted" and result["target_group_arn"] == ""
    assert result["diff"]["before"]["tags"] == dict(sorted(TAGS.items())) and result["diff"]["after"] == {}
    assert result["diff"]["before"]["name"] == params()["name"]


def test_absent_by_arn(aws):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS, by_name=False)
    stubber.add_response("delete_target_group", {}, {"TargetGroupArn": ARN})
    assert run(aws, state="absent", name=None, target_group_arn=ARN)["changed"]


def test_absent_when_missing_is_unchanged(aws):
    _client, stubber = aws
    not_found(stubber)
    result = run(aws, state="absent")
    assert result["changed"] is False and result["operation"] == "none" and result["diff"] == {"before": {}, "after": {}}


def test_absent_check_mode_writes_nothing(aws):
    _client, stubber = aws
    found(stubber, aws_group(), attributes(), TAGS)
    result = run(aws, state="absent", check_mode=True)
    assert result["changed"] and result["operation"] == "deleted" and result["warned"] == []


def test_absent_while_in_use_fails_naming_the_rule_and_the_listener(aws):
    _client, stubber = aws
    found(stubber, aws_group(LoadBalancerArns=[LB]), attributes(), TAGS)
    stubber.add_client_error("delete_target_group", "ResourceInUse", "Target group is currently in use by a listener or a rule",
                             400, expected_params={"TargetGroupArn": ARN})
    stubber.add_response("describe_target_groups", {"TargetGroups": [aws_group(LoadBalancerArns=[LB, LB])]},
                         {"TargetGroupArns": [ARN]})
    users_are(stubber)
    result = run(aws, state="absent")
    assert result["failed"]
    assert f"rule {RULE} (listener port 443, priority 10, pocstack:rule-name plotly)" in result["msg"]
    assert f"listener {L80} (port 80, default action)" in result["msg"]
    assert "wait_for_unused" in result["msg"]


@pytest.fixture
def clock(monkeypatch):
    """time.monotonic/time.sleep of the module on a fake clock: sleeping advances it."""
    now = [1000.0]
    slept = []
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(module.time, "sleep", sleep)
    return slept


def test_wait_for_unused_tries_again_until_the_rule_is_gone(aws, clock):
    _client, stubber = aws
    found(stubber, aws_group(LoadBalancerArns=[LB]), attributes(), TAGS)
    for _ in range(2):
        stubber.add_client_error("delete_target_group", "ResourceInUse", "in use", 400, expected_params={"TargetGroupArn": ARN})
    stubber.add_response("delete_target_group", {}, {"TargetGroupArn": ARN})
    result = run(aws, state="absent", wait_for_unused=True, wait_timeout=30)
    assert result["changed"] and result["operation"] == "deleted"
    assert clock == [2.0, 3.0]


def test_wait_for_unused_is_bounded(aws, clock):
    _client, stubber = aws
    found(stubber, aws_group(LoadBalancerArns=[LB]), attributes(), TAGS)
    for _ in range(5):  # at 0, 2, 5, 9.5, 16.25 s; the fifth answer comes after the 15 s allowed
        stubber.add_client_error("delete_target_group", "ResourceInUse", "in use", 400, expected_params={"TargetGroupArn": ARN})
    stubber.add_response("describe_target_groups", {"TargetGroups": [aws_group(LoadBalancerArns=[LB])]}, {"TargetGroupArns": [ARN]})
    users_are(stubber)
    result = run(aws, state="absent", wait_for_unused=True, wait_timeout=15)
    assert result["failed"] and "still in use after waiting 15 seconds" in result["msg"] and RULE in result["msg"]
    assert sum(clock) == 15


def test_check_mode_absent_while_in_use_warns_and_writes_nothing(aws):
    _client, stubber = aws
    found(stubber, aws_group(LoadBalancerArns=[LB]), attributes(), TAGS)
    users_are(stubber)
    result = run(aws, state="absent", check_mode=True)
    assert result["changed"] and result["operation"] == "deleted"
    assert len(result["warned"]) == 1
    assert RULE in result["warned"][0] and "a real run fails unless an earlier task removes them" in result["warned"][0]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"stickiness": {"type": "lb_cookie"}}, "missing required arguments: enabled found in stickiness"),
        ({"stickiness": {"enabled": True, "type": "source_ip"}},
         "value of type must be one of: lb_cookie, app_cookie, got: source_ip found in stickiness"),
        ({"health_check": {"protocol": "http"}}, "value of protocol must be one of: HTTP, HTTPS, got: http found in health_check"),
        ({"health_check": {"enabled": "maybe"}}, "argument 'enabled' is of type str found in 'health_check'"),
    ],
    ids=["no-enabled", "stickiness-type", "health-check-protocol", "health-check-enabled"],
)
def test_the_argument_spec_refuses_wrong_types_choices_and_missing_options(options, message):
    # target_groups checks ranges and AWS's rules only: types, choices and presence are the argument spec's.
    errors = ArgumentSpecValidator(module.ARGUMENT_SPEC).validate({"name": "plotly-8050", **options}).error_messages
    assert any(message in error for error in errors), errors


def test_the_argument_spec_gives_stickiness_its_default_type():
    validated = ArgumentSpecValidator(module.ARGUMENT_SPEC).validate({"name": "plotly-8050", "stickiness": {"enabled": True}})
    assert not validated.error_messages and validated.validated_parameters["stickiness"]["type"] == "lb_cookie"
