"""Validation, normalisation and comparison of target groups (no AWS)."""
import copy

import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import compare as tags_compare
from ansible_collections.pocstack.aws.plugins.module_utils import target_groups as tgs
from aws_target_groups import ARN
from aws_target_groups import aws_attributes
from aws_target_groups import aws_group
from aws_target_groups import module_params

OTHER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other-80/0000000000000001"


params = module_params


def sticky(**values):
    return {"enabled": True, "type": "lb_cookie", "duration": None, "cookie_name": None, **values}


def compare(desired_params, group=None, attributes=None):
    desired = tgs.desired_group(desired_params)
    current = tgs.current_group(group or aws_group(), attributes if attributes is not None else aws_attributes())
    tgs.check_against(desired, current)
    return tgs.differences(desired, current)


NOTHING = {"fixed": [], "health_check": {}, "attributes": {}}


# ------------------------------------------------------------------ names
@pytest.mark.parametrize("name", ["a", "A-1", "plotly-8050", "x" * 32, "a-b-c-9"])
def test_valid_names(name):
    assert tgs.validate_name(name) == name


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("", "1-32 letters, digits and hyphens"),
        (None, "1-32 letters, digits and hyphens"),
        ("x" * 33, "has 33 characters; at most 32"),
        ("-plotly", "not starting or ending with a hyphen"),
        ("plotly-", "not starting or ending with a hyphen"),
        ("a--b", "no two hyphens in a row"),
        ("a_b", "allowed: letters, digits and hyphens"),
        ("a.b", "allowed: letters, digits and hyphens"),
        ("plötly", "allowed: letters, digits and hyphens"),
    ],
)
def test_invalid_names_are_named(name, fragment):
    with pytest.raises(tgs.TargetGroupError) as caught:
        tgs.validate_name(name)
    assert str(caught.value).startswith("name: ") and fragment in str(caught.value)


@pytest.mark.parametrize("arn", ["plotly-8050", "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/x/y", None])
def test_invalid_arn(arn):
    with pytest.raises(tgs.TargetGroupError, match="target_group_arn: .* is not a target group ARN"):
        tgs.validate_arn(arn)


# ------------------------------------------------------------- validation
# Types, choices and presence are the argument spec's (tests/unit/plugins/modules/test_alb_target_group.py).
BAD = [
    ({"port": 0}, "port: 0 is out of range; allowed: 1-65535"),
    ({"port": 65536}, "port: 65536 is out of range; allowed: 1-65535"),
    ({"health_check": {"port": "0"}}, "health_check.port: 0 is out of range; allowed: 1-65535 or traffic-port"),
    ({"health_check": {"port": "65536"}}, "health_check.port: 65536 is out of range"),
    ({"health_check": {"port": "traffic_port"}}, "health_check.port: 'traffic_port' is not a number; allowed: 1-65535 or traffic-port"),
    ({"health_check": {"path": "health"}}, "health_check.path: 'health' must start with '/'"),
    ({"health_check": {"path": "/" + "a" * 1024}}, "at most 1024 characters"),
    ({"health_check": {"interval": 4}}, "health_check.interval: 4 is out of range; allowed: 5-300 seconds"),
    ({"health_check": {"interval": 301}}, "health_check.interval: 301 is out of range; allowed: 5-300 seconds"),
    ({"health_check": {"timeout": 1}}, "health_check.timeout: 1 is out of range; allowed: 2-120 seconds"),
    ({"health_check": {"timeout": 121, "interval": 300}}, "health_check.timeout: 121 is out of range; allowed: 2-120"),
    ({"health_check": {"healthy_threshold": 1}}, "health_check.healthy_threshold: 1 is out of range; allowed: 2-10"),
    ({"health_check": {"healthy_threshold": 11}}, "health_check.healthy_threshold: 11 is out of range; allowed: 2-10"),
    ({"health_check": {"unhealthy_threshold": 1}}, "health_check.unhealthy_threshold: 1 is out of range; allowed: 2-10"),
    ({"health_check": {"unhealthy_threshold": 11}}, "health_check.unhealthy_threshold: 11 is out of range"),
    ({"health_check": {"enabled": False}}, "health_check.enabled: AWS keeps health checks on for target type ip"),
    ({"target_type": "instance", "health_check": {"enabled": False}}, "health_check.enabled: AWS keeps health checks on"),
    ({"deregistration_delay": -1}, "deregistration_delay: -1 is out of range; allowed: 0-3600 seconds"),
    ({"deregistration_delay": 3601}, "deregistration_delay: 3601 is out of range; allowed: 0-3600 seconds"),
    ({"slow_start": -1}, "slow_start: -1 is out of range"),
    ({"slow_start": 29}, "slow_start: 29 is out of range; allowed: 0 (off) or 30-900 seconds"),
    ({"slow_start": 901}, "slow_start: 901 is out of range"),
    ({"stickiness": sticky(duration=0)}, "stickiness.duration: 0 is out of range; allowed: 1-604800 seconds"),
    ({"stickiness": sticky(duration=604801)}, "stickiness.duration: 604801 is out of range"),
    ({"stickiness": sticky(cookie_name="session")}, "stickiness.cookie_name: only with stickiness.type=app_cookie"),
    ({"stickiness": sticky(type="app_cookie")}, "stickiness.cookie_name: required with stickiness.type=app_cookie"),
    ({"stickiness": sticky(type="app_cookie", cookie_name="my session")}, "stickiness.cookie_name: 'my session' is not a cookie name"),
    ({"stickiness": sticky(type="app_cookie", cookie_name="a;b")}, "is not a cookie name"),
    ({"stickiness": sticky(type="app_cookie", cookie_name="AWSALBAPP-0")}, "starts with a name the load balancer reserves"),
    ({"stickiness": sticky(type="app_cookie", cookie_name="AWSALB")}, "starts with a name the load balancer reserves"),
]


@pytest.mark.parametrize("overrides, message", BAD, ids=[m.split(":")[0] + f"-{i}" for i, (_o, m) in enumerate(BAD)])
def test_bad_input_is_named_with_what_is_allowed(overrides, message):
    with pytest.raises(tgs.TargetGroupError) as caught:
        tgs.desired_group(params(**overrides))
    assert message in str(caught.value)


GOOD_EDGES = [
    {"port": 1}, {"port": 65535},
    {"health_check": {"port": "1"}}, {"health_check": {"port": 65535}}, {"health_check": {"port": "traffic-port"}},
    {"health_check": {"path": "/"}}, {"health_check": {"path": "/" + "a" * 1023}},
    {"health_check": {"interval": 300, "timeout": 120}}, {"health_check": {"interval": 5, "timeout": 2}},
    {"health_check": {"healthy_threshold": 10, "unhealthy_threshold": 10}},
    {"health_check": {"healthy_threshold": 2, "unhealthy_threshold": 2}},
    {"health_check": {"enabled": True}},
    {"deregistration_delay": 0}, {"deregistration_delay": 3600},
    {"slow_start": 0}, {"slow_start": 30}, {"slow_start": 900},
    {"stickiness": sticky(duration=1)}, {"stickiness": sticky(duration=604800)},
    {"stickiness": sticky(enabled=False)},
    {"stickiness": sticky(type="app_cookie", cookie_name="grafana_session")},
    {"stickiness": sticky(type="app_cookie", cookie_name="awsalb")},  # the reserved prefixes are upper case
]


@pytest.mark.parametrize("overrides", GOOD_EDGES)
def test_good_values_at_the_edges_pass(overrides):
    desired = tgs.desired_group(params(**overrides))
    tgs.check_against(desired, None)


@pytest.mark.parametrize(
    "matcher, grpc, message",
    [
        ("", False, "health_check.matcher: '' is empty"),
        ("abc", False, "'abc' is not a code list"),
        ("200-", False, "is not a code list"),
        ("200-300-400", False, "is not a code list"),
        ("200,,302", False, "is not a code list"),
        ("199", False, "'199' in '199' is out of range; allowed: HTTP codes 200-499"),
        ("500", False, "out of range; allowed: HTTP codes 200-499"),
        ("200-500", False, "out of range"),
        ("300-200", False, "out of range"),
        ("12", False, "out of range; allowed: HTTP codes 200-499"),
        ("100", True, "out of range; allowed: gRPC codes 0-99"),
        ("200", True, "allowed: gRPC codes 0-99"),
    ],
)
def test_bad_matchers(matcher, grpc, message):
    with pytest.raises(tgs.TargetGroupError) as caught:
        tgs.normalize_matcher(matcher, grpc=grpc)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "matcher, grpc, canonical",
    [("200", False, "200"), ("200-299", False, "200-299"), ("200,302", False, "200,302"),
     (" 200, 302 ", False, "200,302"), ("200-299,404", False, "200-299,404"), ("499", False, "499"),
     ("12", True, "12"), ("0-99", True, "0-99"), ("0,12", True, "0,12")],
)
def test_good_matchers(matcher, grpc, canonical):
    assert tgs.normalize_matcher(matcher, grpc=grpc) == canonical


@pytest.mark.parametrize(
    "given, current, message",
    [
        ({"interval": 5, "timeout": 5}, None, "health_check.timeout: 5 must be smaller than health_check.interval (5)"),
        ({"interval": 6, "timeout": 10}, None, "health_check.timeout: 10 must be smaller than health_check.interval (6)"),
        # only the interval given: AWS's default timeout (5) for a new group
        ({"interval": 5, "timeout": None}, None, "health_check.timeout: 5 must be smaller"),
        # only the timeout given: the group's current interval (6)
        ({"interval": None, "timeout": 6}, aws_group(), "health_check.timeout: 6 must be smaller than health_check.interval (6)"),
        ({"interval": 5, "timeout": None}, aws_group(HealthCheckTimeoutSeconds=5), "timeout: 5 must be smaller"),
    ],
)
def test_timeout_must_be_below_interval(given, current, message):
    desired = tgs.desired_group(params(health_check=given))
    with pytest.raises(tgs.TargetGroupError) as caught:
        tgs.check_against(desired, tgs.current_group(current, aws_attributes()) if current else None)
    assert message in str(caught.value)


def test_grpc_group_takes_grpc_codes_from_its_current_protocol_version():
    current = tgs.current_group(aws_group(ProtocolVersion="GRPC", Matcher={"GrpcCode": "12"}), aws_attributes())
    desired = tgs.desired_group(params(health_check={"matcher": "0-5"}))
    assert tgs.differences(tgs.check_against(desired, current), current)["health_check"] == {"matcher": "0-5"}
    with pytest.raises(tgs.TargetGroupError, match="gRPC codes 0-99"):
        tgs.check_against(tgs.desired_group(params(health_check={"matcher": "200"})), current)


# ------------------------------------------------ AWS defaults do not count
SAME_AS_AWS = [
    {},
    {"protocol_version": "HTTP1", "ip_address_type": "ipv4", "target_type": "ip"},
    {"health_check": {"enabled": True, "protocol": "HTTP", "port": "traffic-port"}},
    {"health_check": {"matcher": " 200 "}},
    {"deregistration_delay": 300},
    {"slow_start": 0},
    {"load_balancing_algorithm": "round_robin"},
    {"stickiness": sticky(enabled=False)},
    {"stickiness": sticky(enabled=False, duration=86400)},
    {"health_check": {"path": None, "interval": None, "timeout": None, "healthy_threshold": None,
                      "unhealthy_threshold": None, "matcher": None}},
    {"health_check": None},
    {"vpc_id": None, "protocol": None, "port": None},
]


@pytest.mark.parametrize("overrides", SAME_AS_AWS)
def test_what_aws_reports_by_default_is_no_difference(overrides):
    assert compare(params(**overrides)) == NOTHING


def test_numbers_given_as_strings_and_ports_as_numbers_compare_equal():
    group = aws_group(HealthCheckPort="8080")
    assert compare(params(port="8050", health_check={"port": 8080, "interval": "6"}), group=group) == NOTHING


def test_grpc_matcher_reported_as_grpc_code_is_no_difference():
    group = aws_group(ProtocolVersion="GRPC", Matcher={"GrpcCode": "12"})
    assert compare(params(protocol_version="GRPC", health_check={"matcher": "12"}), group=group) == NOTHING


def test_attributes_this_module_does_not_manage_never_count():
    attributes = aws_attributes(**{"waf.fail_open.enabled": "true", "load_balancing.cross_zone.enabled": "false"})
    assert compare(params(deregistration_delay=300), attributes=attributes) == NOTHING
    assert "waf.fail_open.enabled" not in tgs.current_group(aws_group(), attributes)["attributes"]


# -------------------------------------------------- each field that can differ
DIFFERENT = [
    ({"vpc_id": "vpc-2"}, {"fixed": ["vpc_id"]}),
    ({"protocol": "HTTPS"}, {"fixed": ["protocol"]}),
    ({"protocol_version": "HTTP2"}, {"fixed": ["protocol_version"]}),
    ({"port": 8051}, {"fixed": ["port"]}),
    ({"target_type": "instance"}, {"fixed": ["target_type"]}),
    ({"ip_address_type": "ipv6"}, {"fixed": ["ip_address_type"]}),
    ({"health_check": {"protocol": "HTTPS"}}, {"health_check": {"protocol": "HTTPS"}}),
    ({"health_check": {"port": "8080"}}, {"health_check": {"port": "8080"}}),
    ({"health_check": {"port": 8050}}, {"health_check": {"port": "8050"}}),  # the traffic port, but not "traffic-port"
    ({"health_check": {"path": "/ready"}}, {"health_check": {"path": "/ready"}}),
    ({"health_check": {"interval": 10}}, {"health_check": {"interval": 10}}),
    ({"health_check": {"timeout": 4}}, {"health_check": {"timeout": 4}}),
    ({"health_check": {"healthy_threshold": 3}}, {"health_check": {"healthy_threshold": 3}}),
    ({"health_check": {"unhealthy_threshold": 4}}, {"health_check": {"unhealthy_threshold": 4}}),
    ({"health_check": {"matcher": "200-299"}}, {"health_check": {"matcher": "200-299"}}),
    ({"deregistration_delay": 30}, {"attributes": {"deregistration_delay.timeout_seconds": "30"}}),
    ({"slow_start": 60}, {"attributes": {"slow_start.duration_seconds": "60"}}),
    ({"load_balancing_algorithm": "least_outstanding_requests"},
     {"attributes": {"load_balancing.algorithm.type": "least_outstanding_requests"}}),
    ({"stickiness": sticky()}, {"attributes": {"stickiness.enabled": "true"}}),
    ({"stickiness": sticky(duration=3600)},
     {"attributes": {"stickiness.enabled": "true", "stickiness.lb_cookie.duration_seconds": "3600"}}),
    ({"stickiness": sticky(enabled=False, duration=60)}, {"attributes": {"stickiness.lb_cookie.duration_seconds": "60"}}),
    ({"stickiness": sticky(type="app_cookie", cookie_name="sid", duration=60)},
     {"attributes": {"stickiness.enabled": "true", "stickiness.type": "app_cookie",
                     "stickiness.app_cookie.cookie_name": "sid", "stickiness.app_cookie.duration_seconds": "60"}}),
]


@pytest.mark.parametrize("overrides, expected", DIFFERENT, ids=[str(o) for o, _e in DIFFERENT])
def test_each_field_that_differs_is_found_alone(overrides, expected):
    assert compare(params(**overrides)) == {**NOTHING, **expected}


def test_sticky_group_set_back_to_off():
    attributes = aws_attributes(**{"stickiness.enabled": "true", "stickiness.type": "app_cookie",
                                   "stickiness.app_cookie.cookie_name": "sid"})
    diffs = compare(params(stickiness=sticky(enabled=False)), attributes=attributes)
    assert diffs["attributes"] == {"stickiness.enabled": "false", "stickiness.type": "lb_cookie"}


def test_attribute_missing_from_the_description_counts_as_different():
    attributes = [a for a in aws_attributes() if a["Key"] != "stickiness.lb_cookie.duration_seconds"]
    assert compare(params(stickiness=sticky(enabled=False, duration=86400)), attributes=attributes)["attributes"] == {
        "stickiness.lb_cookie.duration_seconds": "86400"}


def test_changed_fields_names_everything_dotted_and_sorted():
    diffs = compare(params(port=1, health_check={"path": "/x"}, deregistration_delay=1))
    assert tgs.changed_fields(diffs, {"b": "1"}, ["a"]) == [
        "attributes.deregistration_delay.timeout_seconds", "health_check.path", "port", "tags.a", "tags.b"]


# ----------------------------------------------------------------------- tags
@pytest.mark.parametrize(
    "current, tags, purge, to_set, to_unset, after",
    [
        ({"a": "1"}, None, True, {}, [], {"a": "1"}),
        ({"a": "1"}, {"a": "1"}, True, {}, [], {"a": "1"}),
        ({"a": "1"}, {"a": 1}, True, {}, [], {"a": "1"}),  # compared as strings
        ({"a": "1"}, {"a": "2"}, True, {"a": "2"}, [], {"a": "2"}),
        ({"a": "1", "b": "2"}, {"a": "1"}, True, {}, ["b"], {"a": "1"}),
        ({"a": "1", "b": "2"}, {"a": "1"}, False, {}, [], {"a": "1", "b": "2"}),
        ({"a": "1", "aws:x": "y"}, {}, True, {}, ["a"], {"aws:x": "y"}),
        ({}, {"c": "3"}, True, {"c": "3"}, [], {"c": "3"}),
    ],
)
def test_tag_changes_follow_amazon_aws(current, tags, purge, to_set, to_unset, after):
    # alb_target_group diffs its tags with compare.tag_changes (amazon.aws compare_aws_tags)
    assert tags_compare.tag_changes(current, tags, purge) == (to_set, to_unset, after)


# ----------------------------------------------------------------- diff shape
def test_diff_is_sorted_plain_data_and_after_overlays_the_change():
    current = tgs.current_group(aws_group(), aws_attributes())
    desired = tgs.desired_group(params(health_check={"path": "/ready"}, deregistration_delay=30))
    before, after = tgs.for_diff(current, {"z": "1", "a": "2"}), tgs.for_diff(tgs.after(desired, current), {"a": "2"})
    for shown in (before, after):
        assert list(shown) == sorted(shown)
        assert list(shown["health_check"]) == sorted(shown["health_check"])
        assert list(shown["attributes"]) == sorted(shown["attributes"])
        assert set(shown["attributes"]) == set(tgs.MANAGED_ATTRIBUTES)
    assert list(before["tags"]) == ["a", "z"]
    assert before["health_check"]["path"] == "/health" and after["health_check"]["path"] == "/ready"
    assert before["attributes"]["deregistration_delay.timeout_seconds"] == "300"
    assert after["attributes"]["deregistration_delay.timeout_seconds"] == "30"
    assert {k: v for k, v in before.items() if k not in ("health_check", "attributes", "tags")} == {
        k: v for k, v in after.items() if k not in ("health_check", "attributes", "tags")}


def test_no_group_shows_as_empty():
    assert tgs.for_diff(None) == {} and tgs.for_diff({}) == {}


# --------------------------------------------------------------- AWS requests
def test_modify_kwargs_holds_only_the_changes_in_aws_form():
    assert tgs.modify_kwargs({"path": "/x", "matcher": "200-299", "interval": 10}, "HTTP1") == {
        "HealthCheckPath": "/x", "Matcher": {"HttpCode": "200-299"}, "HealthCheckIntervalSeconds": 10}
    assert tgs.modify_kwargs({"matcher": "0"}, "GRPC") == {"Matcher": {"GrpcCode": "0"}}
    assert tgs.modify_kwargs({}, None) == {}


def test_create_kwargs():
    desired = tgs.check_against(tgs.desired_group(params()), None)
    assert tgs.create_kwargs("plotly-8050", desired, {"pocstack:service": "plotly"}) == {
        "Name": "plotly-8050", "VpcId": "vpc-1", "Protocol": "HTTP", "Port": 8050, "TargetType": "ip",
        "HealthCheckPath": "/health", "HealthCheckIntervalSeconds": 6, "HealthCheckTimeoutSeconds": 5,
        "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2, "Matcher": {"HttpCode": "200"},
        "Tags": [{"Key": "pocstack:service", "Value": "plotly"}],
    }
    assert "Tags" not in tgs.create_kwargs("x", desired, {})  # CreateTargetGroup wants at least one tag or none


@pytest.mark.parametrize(
    "overrides, missing",
    [({}, []), ({"vpc_id": None}, ["vpc_id"]), ({"vpc_id": None, "protocol": None, "port": None}, ["vpc_id", "protocol", "port"])],
)
def test_missing_to_create(overrides, missing):
    assert tgs.missing_to_create(tgs.desired_group(params(**overrides))) == missing


# --------------------------------------------------------------------- users
def forward(arn):
    return {"Type": "forward", "TargetGroupArn": arn, "Order": 1,
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": arn, "Weight": 1}]}}


def weighted(*arns):
    return {"Type": "forward", "Order": 1,
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": a, "Weight": 1} for a in arns]}}


@pytest.mark.parametrize(
    "actions, used",
    [([forward(ARN)], True), ([weighted(OTHER, ARN)], True), ([forward(OTHER)], False), ([weighted(OTHER)], False),
     ([{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}], False), ([], False), (None, False)],
)
def test_forwards_to(actions, used):
    assert tgs.forwards_to(actions, ARN) is used


def test_describe_users_names_default_actions_and_rules_with_their_owner():
    l443 = {"ListenerArn": "L443", "Port": 443, "DefaultActions": [{"Type": "fixed-response"}]}
    l8080 = {"ListenerArn": "L8080", "Port": 8080, "DefaultActions": [forward(ARN)]}
    rules = {
        "L443": [
            {"RuleArn": "R1", "Priority": "10", "IsDefault": False, "Actions": [forward(ARN)]},
            {"RuleArn": "R2", "Priority": "20", "IsDefault": False, "Actions": [forward(OTHER)]},
            {"RuleArn": "R3", "Priority": "30", "IsDefault": False, "Actions": [weighted(OTHER, ARN)]},
        ],
        # the default rule repeats the listener's default action: named once, as the listener
        "L8080": [{"RuleArn": "RD", "Priority": "default", "IsDefault": True, "Actions": [forward(ARN)]}],
    }
    users = tgs.describe_users([l443, l8080], rules, {"R1": {"pocstack:rule-name": "plotly"}}, ARN)
    assert users == [
        "rule R1 (listener port 443, priority 10, pocstack:rule-name plotly)",
        "rule R3 (listener port 443, priority 30)",
        "listener L8080 (port 8080, default action)",
    ]


def test_canonical_forms_are_not_shared_with_the_input():
    given = params(health_check={"path": "/x"})
    kept = copy.deepcopy(given)
    tgs.desired_group(given)
    assert given == kept
