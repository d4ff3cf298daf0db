"""Validation, normalisation and comparison of ECS service autoscaling (no AWS)."""
import re

import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import service_scaling as ss

LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pocstack/50dc6c495c0c9188"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/943f017f100becff"
TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other-80/0123456789abcdef"
LABEL = "app/pocstack/50dc6c495c0c9188/targetgroup/plotly-8050/943f017f100becff"


def raises(message):
    return pytest.raises(ss.ScalingError, match=re.escape(message))


# ------------------------------------------------------------------ identity
@pytest.mark.parametrize(
    "cluster, service",
    [
        ("pocstack", "plotly"),
        ("arn:aws:ecs:us-east-1:123456789012:cluster/pocstack", "plotly"),
        ("pocstack", "arn:aws:ecs:us-east-1:123456789012:service/pocstack/plotly"),  # long ARN
        ("pocstack", "arn:aws:ecs:us-east-1:123456789012:service/plotly"),  # old short ARN
        (" pocstack ", "plotly "),
    ],
    ids=["names", "cluster-arn", "service-arn", "short-service-arn", "spaces"],
)
def test_resource_id_from_names_and_arns(cluster, service):
    assert ss.resource_id(cluster, service) == "service/pocstack/plotly"


@pytest.mark.parametrize(
    "cluster, service, message",
    [
        ("", "plotly", "cluster: '' is not an ECS cluster name or ARN; a name has 1-255 letters, digits, hyphens and underscores"),
        ("a/b", "plotly", "cluster: 'a/b' is not an ECS cluster name or ARN"),
        ("pocstack", "my service", "service: 'my service' is not an ECS service name or ARN"),
        ("pocstack", "x" * 256, "service: '" + "x" * 256 + "' is not an ECS service name or ARN"),
        ("pocstack", "arn:aws:ecs:us-east-1:123456789012:service/other/plotly",
         "service: the ARN 'arn:aws:ecs:us-east-1:123456789012:service/other/plotly' belongs to cluster 'other', not to cluster 'pocstack'"),
        ("arn:aws:ecs:us-east-1:123456789012:service/pocstack/plotly", "plotly", "cluster: 'arn:aws:ecs"),
    ],
    ids=["empty-cluster", "slash", "space", "too-long", "other-cluster", "service-arn-as-cluster"],
)
def test_bad_identity_names_the_option(cluster, service, message):
    with raises(message):
        ss.resource_id(cluster, service)


def test_resource_label_from_the_two_arns():
    assert ss.resource_label(LB, TG) == LABEL


def test_resource_label_in_another_partition():
    lb = LB.replace("arn:aws:", "arn:aws-us-gov:").replace("us-east-1", "us-gov-west-1")
    tg = TG.replace("arn:aws:", "arn:aws-us-gov:").replace("us-east-1", "us-gov-west-1")
    assert ss.resource_label(lb, tg) == LABEL


@pytest.mark.parametrize(
    "lb, tg, message",
    [
        ("pocstack", TG, "policies: load_balancer_arn 'pocstack' is not a load balancer ARN"),
        (TG, TG, "is not a load balancer ARN"),
        (LB.replace("/app/", "/net/"), TG, "is not an Application Load Balancer; requests_per_target (ALBRequestCountPerTarget) needs one"),
        (LB, LB, "policies: target_group_arn '" + LB + "' is not a target group ARN"),
        (LB, "plotly-8050", "target_group_arn 'plotly-8050' is not a target group ARN"),
        (LB, TG.replace("us-east-1", "eu-west-1"), "are in different regions (us-east-1 and eu-west-1)"),
        (LB, TG.replace("123456789012", "210987654321"), "are in different accounts (123456789012 and 210987654321)"),
        (LB, TG.replace("arn:aws:", "arn:aws-cn:"), "are in different partitions (aws and aws-cn)"),
    ],
    ids=["lb-name", "tg-as-lb", "nlb", "lb-as-tg", "tg-name", "region", "account", "partition"],
)
def test_bad_arns_for_the_resource_label(lb, tg, message):
    with raises(message):
        ss.resource_label(lb, tg)


# ------------------------------------------------------------------ capacity
# Types and presence are the argument spec's (tests/unit/plugins/modules/test_ecs_service_scaling.py).
@pytest.mark.parametrize("low, high", [(0, 0), (1, 1), (1, 4), (0, 5000)])
def test_capacity_in_range(low, high):
    assert ss.validate_capacity(low, high) == (low, high)


@pytest.mark.parametrize(
    "low, high, message",
    [
        (-1, 4, "min_capacity: -1 is below 0; allowed: 0-5000"),
        (1, 5001, "max_capacity: 5001 is above 5000, ECS's limit of tasks per service; allowed: 0-5000"),
        (5, 4, "min_capacity: 5 is above max_capacity 4; allowed: 0 <= min_capacity <= max_capacity <= 5000"),
        (True, 4, "min_capacity: True is not a whole number"),
    ],
)
def test_bad_capacity_names_the_option(low, high, message):
    with raises(message):
        ss.validate_capacity(low, high)


# ------------------------------------------------------------------ policies
def test_policy_defaults():
    assert ss.desired_policy({"metric": "cpu", "target": 60}, "plotly") == {
        "name": "plotly-cpu", "metric": "cpu", "target": 60.0,
        "scale_in_cooldown": 300, "scale_out_cooldown": 300, "disable_scale_in": False,
    }


@pytest.mark.parametrize(
    "metric, name",
    [("cpu", "plotly-cpu"), ("memory", "plotly-memory"), ("requests_per_target", "plotly-requests")],
)
def test_default_names_per_metric(metric, name):
    arns = {"load_balancer_arn": LB, "target_group_arn": TG} if "requests" in metric else {}
    assert ss.desired_policy({"metric": metric, "target": 50, **arns}, "plotly")["name"] == name


def test_requests_policy_carries_the_resource_label():
    policy = ss.desired_policy({"metric": "requests_per_target", "target": 500, "load_balancer_arn": LB,
                                "target_group_arn": TG, "name": "rps", "scale_out_cooldown": 60,
                                "scale_in_cooldown": 0, "disable_scale_in": True}, "plotly")
    assert policy == {"name": "rps", "metric": "requests_per_target", "target": 500.0, "scale_in_cooldown": 0,
                      "scale_out_cooldown": 60, "disable_scale_in": True, "resource_label": LABEL}


@pytest.mark.parametrize(
    "policy, message",
    [
        ({"metric": "cpu", "target": 0}, "policies[0].target: 0 is out of range for cpu; allowed: 1-100 (percent)"),
        ({"metric": "cpu", "target": 101}, "policies[0].target: 101 is out of range for cpu; allowed: 1-100 (percent)"),
        ({"metric": "memory", "target": 100.5}, "policies[0].target: 100.5 is out of range for memory; allowed: 1-100 (percent)"),
        ({"metric": "requests_per_target", "target": 0, "load_balancer_arn": LB, "target_group_arn": TG},
         "policies[0].target: 0 must be above 0 (requests per target per minute)"),
        ({"metric": "requests_per_target", "target": -5, "load_balancer_arn": LB, "target_group_arn": TG},
         "policies[0].target: -5 must be above 0"),
        ({"metric": "cpu", "target": 50, "scale_in_cooldown": -1},
         "policies[0].scale_in_cooldown: -1 is out of range; allowed: 0-3600 seconds"),
        ({"metric": "cpu", "target": 50, "scale_out_cooldown": 3601},
         "policies[0].scale_out_cooldown: 3601 is out of range; allowed: 0-3600 seconds"),
        ({"metric": "requests_per_target", "target": 100, "target_group_arn": TG},
         "policies[0]: metric requests_per_target needs load_balancer_arn and target_group_arn"),
        ({"metric": "requests_per_target", "target": 100, "load_balancer_arn": LB},
         "policies[0]: metric requests_per_target needs load_balancer_arn and target_group_arn"),
        ({"metric": "cpu", "target": 50, "target_group_arn": TG},
         "policies[0]: load_balancer_arn and target_group_arn only apply to metric requests_per_target, not cpu"),
        ({"metric": "requests_per_target", "target": 100, "load_balancer_arn": "x", "target_group_arn": TG},
         "policies[0]: load_balancer_arn 'x' is not a load balancer ARN"),
        ({"metric": "cpu", "target": 50, "name": "n" * 257}, "policies[0].name: '" + "n" * 257 + "' must be 1-256 printable characters"),
        ({"metric": "cpu", "target": 50, "name": "a\nb"}, "policies[0].name: 'a\\nb' must be 1-256 printable characters"),
    ],
    ids=["cpu-0", "cpu-101", "memory-100.5",
         "requests-0", "requests-negative", "scale-in-negative", "scale-out-3601", "no-lb",
         "no-tg", "arn-on-cpu", "bad-lb", "long-name", "newline-name"],
)
def test_bad_policy_names_the_option(policy, message):
    with raises(message):
        ss.desired_policies([policy], "plotly")


def test_the_failing_policy_is_named_by_its_index():
    with raises("policies[1].target: 0 is out of range for memory"):
        ss.desired_policies([{"metric": "cpu", "target": 50}, {"metric": "memory", "target": 0}], "plotly")


def test_two_policies_with_one_name_are_refused():
    with raises("policies[1].name: 'plotly-cpu' is used twice; give each policy its own name "
                "(the default is <service>-<cpu|memory|requests>)"):
        ss.desired_policies([{"metric": "cpu", "target": 50}, {"metric": "cpu", "target": 70}], "plotly")


def test_at_most_50_policies():
    policies = [{"metric": "cpu", "target": 50, "name": f"p{i}"} for i in range(51)]
    with raises("policies: 51 given; a scalable target has at most 50"):
        ss.desired_policies(policies, "plotly")
    assert len(ss.desired_policies(policies[:50], "plotly")) == 50


def test_no_policies_option_means_leave_them_alone():
    assert ss.desired_policies(None, "plotly") is None
    assert ss.desired_policies([], "plotly") == {}


# ------------------------------------------------- what AWS describes vs wanted
def aws_policy(name="plotly-cpu", metric="ECSServiceAverageCPUUtilization", config=None, label=None, kind="TargetTrackingScaling"):
    """A policy the way DescribeScalingPolicies returns it on AWS."""
    spec = {"PredefinedMetricType": metric, **({"ResourceLabel": label} if label else {})}
    return {
        "PolicyARN": f"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:6d8972f3:resource/ecs/service/pocstack/plotly:policyName/{name}",
        "PolicyName": name,
        "ServiceNamespace": "ecs",
        "ResourceId": "service/pocstack/plotly",
        "ScalableDimension": "ecs:service:DesiredCount",
        "PolicyType": kind,
        "TargetTrackingScalingPolicyConfiguration": config if config is not None else {
            "TargetValue": 60.0, "PredefinedMetricSpecification": spec,
            "ScaleOutCooldown": 300, "ScaleInCooldown": 300, "DisableScaleIn": False,
        },
        "Alarms": [{"AlarmName": "TargetTracking-service/pocstack/plotly-AlarmHigh-1", "AlarmARN": "arn:aws:cloudwatch:alarm:1"}],
        "CreationTime": "2026-01-01T00:00:00Z",
    }


CPU60 = {"metric": "cpu", "target": 60}
SPEC_CPU = {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}


@pytest.mark.parametrize(
    "config",
    [
        {"TargetValue": 60.0, "PredefinedMetricSpecification": SPEC_CPU, "ScaleOutCooldown": 300, "ScaleInCooldown": 300, "DisableScaleIn": False},
        {"TargetValue": 60, "PredefinedMetricSpecification": SPEC_CPU, "ScaleOutCooldown": 300, "ScaleInCooldown": 300, "DisableScaleIn": False},
        {"TargetValue": 60.0, "PredefinedMetricSpecification": SPEC_CPU, "ScaleOutCooldown": 300, "ScaleInCooldown": 300},
        {"TargetValue": 60.0, "PredefinedMetricSpecification": SPEC_CPU},
        {"TargetValue": 60.0, "PredefinedMetricSpecification": {**SPEC_CPU, "ResourceLabel": ""}},
    ],
    ids=["all-fields", "int-target", "no-disable-scale-in", "no-cooldowns", "empty-label"],
)
def test_what_aws_fills_in_is_not_a_change(config):
    current = ss.current_policy(aws_policy(config=config))
    assert current == ss.desired_policy(CPU60, "plotly")
    steps = ss.plan({"min_capacity": 1, "max_capacity": 2}, {"min_capacity": 1, "max_capacity": 2},
                    ss.desired_policies([CPU60], "plotly"), {"plotly-cpu": current}, True)
    assert steps == {"scalable_target": None, "create": [], "update": [], "delete": []}


@pytest.mark.parametrize(
    "wanted",
    [
        {**CPU60, "target": 61},
        {**CPU60, "target": 60.5},
        {**CPU60, "scale_in_cooldown": 60},
        {**CPU60, "scale_out_cooldown": 60},
        {**CPU60, "scale_out_cooldown": 0},
        {**CPU60, "disable_scale_in": True},
        {**CPU60, "metric": "memory", "name": "plotly-cpu"},
        {"metric": "requests_per_target", "target": 60, "name": "plotly-cpu", "load_balancer_arn": LB, "target_group_arn": TG},
    ],
    ids=["target", "target-fraction", "scale-in-cooldown", "scale-out-cooldown", "zero-cooldown", "disable-scale-in",
         "metric", "metric-and-label"],
)
def test_each_field_that_differs_is_an_update(wanted):
    current = {"plotly-cpu": ss.current_policy(aws_policy())}
    steps = ss.plan({"min_capacity": 1, "max_capacity": 2}, {"min_capacity": 1, "max_capacity": 2},
                    ss.desired_policies([wanted], "plotly"), current, True)
    assert steps == {"scalable_target": None, "create": [], "update": ["plotly-cpu"], "delete": []}


def test_another_target_group_is_an_update():
    wanted = {"metric": "requests_per_target", "target": 500, "load_balancer_arn": LB, "target_group_arn": TG2}
    described = aws_policy(name="plotly-requests", metric="ALBRequestCountPerTarget", label=LABEL, config=None)
    described["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] = 500.0
    current = ss.current_policy(described)
    assert current == ss.desired_policy({**wanted, "target_group_arn": TG}, "plotly")
    assert current != ss.desired_policy(wanted, "plotly")


@pytest.mark.parametrize(
    "described",
    [
        aws_policy(kind="StepScaling", config={}),
        aws_policy(config={"TargetValue": 60.0, "CustomizedMetricSpecification": {
            "MetricName": "CPUUtilization", "Namespace": "AWS/ECS", "Statistic": "Average"}}),
        aws_policy(metric="ECSServiceAverageCPUUtilizationHighResolution"),
    ],
    ids=["step-scaling", "customized-metric", "other-predefined-metric"],
)
def test_a_policy_this_module_does_not_write_differs_and_never_fails(described):
    current = ss.current_policy(described)
    assert current["name"] == "plotly-cpu"
    assert current != ss.desired_policy(CPU60, "plotly")


def test_a_policy_of_another_type_is_deleted_then_put():
    step = {"PolicyName": "plotly-cpu", "PolicyType": "StepScaling",
            "StepScalingPolicyConfiguration": {"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [{"ScalingAdjustment": 1}]}}
    current = ss.current_policy(step)
    assert current == {"name": "plotly-cpu", "policy_type": "StepScaling",
                       "aws": {"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [{"ScalingAdjustment": 1}]}}
    steps = ss.plan({"min_capacity": 1, "max_capacity": 2}, {"min_capacity": 1, "max_capacity": 2},
                    ss.desired_policies([CPU60], "plotly"), {"plotly-cpu": current}, False)
    assert steps["update"] == ["plotly-cpu"] and steps["delete"] == ["plotly-cpu"]


@pytest.mark.parametrize(
    "policy",
    [
        CPU60,
        {"metric": "memory", "target": 75.5, "scale_in_cooldown": 0, "scale_out_cooldown": 3600, "disable_scale_in": True},
        {"metric": "requests_per_target", "target": 1000, "load_balancer_arn": LB, "target_group_arn": TG},
    ],
    ids=["cpu", "memory", "requests"],
)
def test_what_is_written_reads_back_equal(policy):
    wanted = ss.desired_policy(policy, "plotly")
    described = {"PolicyName": wanted["name"], "PolicyType": "TargetTrackingScaling",
                 "TargetTrackingScalingPolicyConfiguration": ss.to_aws_config(wanted)}
    assert ss.current_policy(described) == wanted


def test_to_aws_config_sends_every_field():
    wanted = ss.desired_policy({"metric": "requests_per_target", "target": 500, "load_balancer_arn": LB, "target_group_arn": TG}, "plotly")
    assert ss.to_aws_config(wanted) == {
        "TargetValue": 500.0,
        "PredefinedMetricSpecification": {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": LABEL},
        "ScaleInCooldown": 300, "ScaleOutCooldown": 300, "DisableScaleIn": False,
    }


# ------------------------------------------------------------------ the plan
def current_target(low, high):
    return ss.current_target({"MinCapacity": low, "MaxCapacity": high, "ResourceId": "service/pocstack/plotly",
                              "CreationTime": "2026-01-01T00:00:00Z", "RoleARN": "arn:aws:iam::123456789012:role/x"})


@pytest.mark.parametrize(
    "have, expected",
    [
        (None, "created"),
        (current_target(1, 4), None),
        (current_target(2, 4), "updated"),
        (current_target(1, 5), "updated"),
    ],
    ids=["missing", "same", "min", "max"],
)
def test_scalable_target_registered_only_when_missing_or_different(have, expected):
    assert ss.plan({"min_capacity": 1, "max_capacity": 4}, have, None, {}, True)["scalable_target"] == expected


def test_current_target_of_none():
    assert ss.current_target(None) is None


def policies(*names):
    return {name: ss.desired_policy({"metric": "cpu", "target": 50, "name": name}, "plotly") for name in names}


@pytest.mark.parametrize(
    "wanted, have, purge, expected",
    [
        (policies("a", "b"), {}, True, {"create": ["a", "b"], "update": [], "delete": []}),
        (policies("a"), policies("a", "b"), True, {"create": [], "update": [], "delete": ["b"]}),
        (policies("a"), policies("a", "b"), False, {"create": [], "update": [], "delete": []}),
        ({}, policies("a", "b"), True, {"create": [], "update": [], "delete": ["a", "b"]}),
        (None, policies("a", "b"), True, {"create": [], "update": [], "delete": []}),
        (policies("c", "a"), policies("b", "a"), True, {"create": ["c"], "update": [], "delete": ["b"]}),
    ],
    ids=["create", "purge", "no-purge", "empty-list-purges-all", "none-leaves-alone", "mixed"],
)
def test_policy_plan(wanted, have, purge, expected):
    steps = ss.plan({"min_capacity": 1, "max_capacity": 2}, {"min_capacity": 1, "max_capacity": 2}, wanted, have, purge)
    assert {k: steps[k] for k in ("create", "update", "delete")} == expected


# ---------------------------------------------------------------------- tags
@pytest.mark.parametrize(
    "current, tags, purge, expected",
    [
        ({"a": "1"}, None, True, ({}, [], {"a": "1"})),
        ({"a": "1"}, {"a": "1"}, True, ({}, [], {"a": "1"})),
        ({"a": "1"}, {"a": "2"}, True, ({"a": "2"}, [], {"a": "2"})),
        ({"a": "1", "b": "2"}, {"a": "1"}, True, ({}, ["b"], {"a": "1"})),
        ({"a": "1", "b": "2"}, {"a": "1"}, False, ({}, [], {"a": "1", "b": "2"})),
        ({"aws:cloudformation:stack-name": "x"}, {}, True, ({}, [], {"aws:cloudformation:stack-name": "x"})),
        ({}, {"n": 1}, True, ({"n": "1"}, [], {"n": "1"})),
    ],
    ids=["none", "same", "value", "purge", "no-purge", "aws-reserved-kept", "stringified"],
)
def test_tag_changes(current, tags, purge, expected):
    # ecs_service_scaling diffs the scalable target's tags with compare.tag_changes
    assert compare.tag_changes(current, tags, purge) == expected


# ---------------------------------------------------------------------- diff
def test_diff_is_sorted_plain_data():
    state = ss.for_diff({"min_capacity": 1, "max_capacity": 4}, policies("b", "a"), {"z": "1", "a": "2"})
    assert list(state) == ["policies", "scalable_target"]
    assert [p["name"] for p in state["policies"]] == ["a", "b"]
    assert list(state["policies"][0]) == sorted(state["policies"][0])
    assert list(state["scalable_target"]) == ["max_capacity", "min_capacity", "tags"]
    assert list(state["scalable_target"]["tags"]) == ["a", "z"]


def test_diff_of_nothing_is_empty():
    assert ss.for_diff(None, {}, {}) == {}


def test_policy_list_carries_arns_sorted_by_name():
    listed = ss.policy_list(policies("b", "a"), {"a": "arn:a"})
    assert [(p["name"], p["policy_arn"]) for p in listed] == [("a", "arn:a"), ("b", "")]
