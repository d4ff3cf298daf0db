"""ecs_service_scaling flows against recorded Application Auto Scaling responses
(botocore Stubber, no network).

Each test queues exactly the calls AWS should see; a call that is not queued
fails the test (the Stubber raises, the module reports a failure), so "no
write" is asserted by the Stubber itself.
"""
import datetime

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.pocstack.aws.plugins.modules import ecs_service_scaling as module
from fake_module import Exited
from fake_module import FakeModule
from fake_module import stubbed_client

RID = "service/pocstack/plotly"
IDS = {"ServiceNamespace": "ecs", "ResourceId": RID, "ScalableDimension": "ecs:service:DesiredCount"}
TARGET_ARN = "arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/0e6a4b9d7f2c4f0c8f1f1c7a5e2b3d4c"
LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pocstack/50dc6c495c0c9188"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/943f017f100becff"
LABEL = "app/pocstack/50dc6c495c0c9188/targetgroup/plotly-8050/943f017f100becff"
WHEN = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
CPU = {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}
REQUESTS = {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": LABEL}


def policy_arn(name):
    return f"arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:6d8972f3-efc8-437c-92d1-6270f29a66e7:resource/ecs/{RID}:policyName/{name}"


def aws_target(low=1, high=4):
    """A scalable target the way DescribeScalableTargets returns it on AWS."""
    return {**IDS, "MinCapacity": low, "MaxCapacity": high, "CreationTime": WHEN, "ScalableTargetARN": TARGET_ARN,
            "RoleARN": "arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
                       "AWSServiceRoleForApplicationAutoScaling_ECSService",
            "SuspendedState": {"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False,
                               "ScheduledScalingSuspended": False}}


def aws_policy(name="plotly-cpu", target=60.0, spec=CPU, **config):
    """A policy the way DescribeScalingPolicies returns it on AWS: cooldowns and
    DisableScaleIn filled in, alarms and creation time next to it."""
    return {**IDS, "PolicyARN": policy_arn(name), "PolicyName": name, "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": target, "PredefinedMetricSpecification": spec,
                "ScaleOutCooldown": 300, "ScaleInCooldown": 300, "DisableScaleIn": False, **config},
            "Alarms": [{"AlarmName": f"TargetTracking-{RID}-AlarmHigh-1", "AlarmARN": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x"}],
            "CreationTime": WHEN}


def params(**overrides):
    base = {
        "cluster": "pocstack", "service": "plotly", "min_capacity": 1, "max_capacity": 4,
        "policies": [{"name": None, "metric": "cpu", "target": 60.0, "scale_in_cooldown": 300, "scale_out_cooldown": 300,
                      "disable_scale_in": False, "load_balancer_arn": None, "target_group_arn": None}],
        "purge_policies": True, "state": "present", "tags": None, "purge_tags": True,
    }
    base.update(overrides)
    return base


def policy(metric="cpu", target=60.0, **kw):
    """One entry of the policies option, as Ansible passes it (defaults filled in)."""
    return {"name": None, "metric": metric, "target": target, "scale_in_cooldown": 300, "scale_out_cooldown": 300,
            "disable_scale_in": False, "load_balancer_arn": None, "target_group_arn": None, **kw}


@pytest.fixture
def aws():
    with stubbed_client("application-autoscaling") as pair:
        yield pair


def run(aws, check_mode=False, diff=True, **overrides):
    client, _stubber = aws
    mgr = module.ScalingManager.__new__(module.ScalingManager)
    mgr.module = FakeModule(params(**overrides), check_mode=check_mode, diff=diff)
    mgr.client = RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff())
    mgr.params = mgr.module.params
    mgr.resource_id = None
    with pytest.raises(Exited):
        mgr.run()
    return mgr.module.result


def reads(stubber, target=None, policies=(), tags=None):
    """Queue the reads every run starts with."""
    stubber.add_response("describe_scalable_targets", {"ScalableTargets": [target] if target else []},
                         {"ServiceNamespace": "ecs", "ResourceIds": [RID], "ScalableDimension": "ecs:service:DesiredCount"})
    stubber.add_response("describe_scaling_policies", {"ScalingPolicies": list(policies)}, dict(IDS))
    if target:
        stubber.add_response("list_tags_for_resource", {"Tags": tags or {}}, {"ResourceARN": TARGET_ARN})


def put(stubber, name, config):
    stubber.add_response("put_scaling_policy", {"PolicyARN": policy_arn(name)},
                         {**IDS, "PolicyName": name, "PolicyType": "TargetTrackingScaling",
                          "TargetTrackingScalingPolicyConfiguration": config})


def config(target=60.0, spec=CPU, scale_in=300, scale_out=300, disable=False):
    return {"TargetValue": target, "PredefinedMetricSpecification": spec, "ScaleInCooldown": scale_in,
            "ScaleOutCooldown": scale_out, "DisableScaleIn": disable}


NO_CHANGES = {"scalable_target": "", "policies_created": [], "policies_updated": [], "policies_deleted": [],
              "tags_set": [], "tags_removed": []}


# ------------------------------------------------------------------- present
def test_create_registers_with_tags_then_puts_every_policy(aws):
    _client, stubber = aws
    reads(stubber)
    stubber.add_response("register_scalable_target", {"ScalableTargetARN": TARGET_ARN},
                         {**IDS, "MinCapacity": 1, "MaxCapacity": 4, "Tags": {"pocstack:service": "plotly"}})
    put(stubber, "plotly-cpu", config())
    put(stubber, "plotly-requests", config(target=500.0, spec=REQUESTS, scale_out=60))
    result = run(aws, tags={"pocstack:service": "plotly"}, policies=[
        policy(), policy("requests_per_target", 500, load_balancer_arn=LB, target_group_arn=TG, scale_out_cooldown=60)])
    assert result["changed"] is True
    assert result["changes"] == dict(NO_CHANGES, scalable_target="created", policies_created=["plotly-cpu", "plotly-requests"],
                                     tags_set=["pocstack:service"])
    assert result["scalable_target"] == {"resource_id": RID, "scalable_target_arn": TARGET_ARN, "min_capacity": 1,
                                         "max_capacity": 4, "tags": {"pocstack:service": "plotly"}}
    assert [p["policy_arn"] for p in result["policies"]] == [policy_arn("plotly-cpu"), policy_arn("plotly-requests")]
    assert result["policies"][1]["resource_label"] == LABEL
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["scalable_target"] == {"max_capacity": 4, "min_capacity": 1, "tags": {"pocstack:service": "plotly"}}


@pytest.mark.parametrize(
    "described",
    [
        aws_policy(),
        aws_policy(target=60),
        {**aws_policy(), "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 60.0, "PredefinedMetricSpecification": CPU}},
    ],
    ids=["aws-filled", "int-target", "defaults-omitted"],
)
def test_same_state_makes_no_write(aws, described):
    _client, stubber = aws
    reads(stubber, aws_target(), [described], {"pocstack:service": "plotly"})
    result = run(aws, tags={"pocstack:service": "plotly"})
    assert result["changed"] is False and result["changes"] == NO_CHANGES
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["policies"] == [{"name": "plotly-cpu", "metric": "cpu", "target": 60.0, "scale_in_cooldown": 300,
                                   "scale_out_cooldown": 300, "disable_scale_in": False, "policy_arn": policy_arn("plotly-cpu")}]


def test_check_mode_create_makes_no_call_after_the_reads(aws):
    _client, stubber = aws
    reads(stubber)
    result = run(aws, check_mode=True, tags={"a": "b"})
    assert result["changed"] is True
    assert result["changes"] == dict(NO_CHANGES, scalable_target="created", policies_created=["plotly-cpu"], tags_set=["a"])
    assert result["scalable_target"] == {} and result["policies"] == []
    assert result["diff"]["after"]["policies"][0]["name"] == "plotly-cpu"


def test_check_mode_change_reports_it_and_writes_nothing(aws):
    _client, stubber = aws
    reads(stubber, aws_target(1, 4), [aws_policy(), aws_policy("old")], {"gone": "x"})
    result = run(aws, check_mode=True, min_capacity=2, tags={"a": "b"}, policies=[policy(target=70)])
    assert result["changed"] is True
    assert result["changes"] == dict(NO_CHANGES, scalable_target="updated", policies_updated=["plotly-cpu"],
                                     policies_deleted=["old"], tags_set=["a"], tags_removed=["gone"])
    # as it is now
    assert result["scalable_target"]["min_capacity"] == 1 and [p["name"] for p in result["policies"]] == ["old", "plotly-cpu"]
    assert result["diff"]["before"]["scalable_target"]["min_capacity"] == 1
    assert result["diff"]["after"]["scalable_target"]["min_capacity"] == 2
    assert [p["target"] for p in result["diff"]["after"]["policies"]] == [70.0]


def test_min_max_change_only_registers(aws):
    _client, stubber = aws
    reads(stubber, aws_target(1, 4), [aws_policy()])
    stubber.add_response("register_scalable_target", {"ScalableTargetARN": TARGET_ARN}, {**IDS, "MinCapacity": 2, "MaxCapacity": 6})
    result = run(aws, min_capacity=2, max_capacity=6)
    assert result["changed"] and result["changes"] == dict(NO_CHANGES, scalable_target="updated")
    assert (result["scalable_target"]["min_capacity"], result["scalable_target"]["max_capacity"]) == (2, 6)


@pytest.mark.parametrize(
    "wanted, sent",
    [
        (policy(target=75), config(target=75.0)),
        (policy(scale_in_cooldown=120), config(scale_in=120)),
        (policy(scale_out_cooldown=30), config(scale_out=30)),
        (policy(disable_scale_in=True), config(disable=True)),
    ],
    ids=["target", "scale-in-cooldown", "scale-out-cooldown", "disable-scale-in"],
)
def test_a_changed_policy_field_puts_that_policy_only(aws, wanted, sent):
    _client, stubber = aws
    reads(stubber, aws_target(), [aws_policy(), aws_policy("plotly-memory", spec={"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"})])
    put(stubber, "plotly-cpu", sent)
    result = run(aws, policies=[wanted, policy("memory")])
    assert result["changes"] == dict(NO_CHANGES, policies_updated=["plotly-cpu"])
    assert [p["name"] for p in result["policies"]] == ["plotly-cpu", "plotly-memory"]


def test_unlisted_policy_is_deleted_when_purging(aws):
    _client, stubber = aws
    reads(stubber, aws_target(), [aws_policy(), aws_policy("by-hand")])
    stubber.add_response("delete_scaling_policy", {}, {**IDS, "PolicyName": "by-hand"})
    result = run(aws)
    assert result["changes"] == dict(NO_CHANGES, policies_deleted=["by-hand"])
    assert [p["name"] for p in result["policies"]] == ["plotly-cpu"]
    assert [p["name"] for p in result["diff"]["before"]["policies"]] == ["by-hand", "plotly-cpu"]


def test_unlisted_policy_stays_without_purge(aws):
    _client, stubber = aws
    reads(stubber, aws_target(), [aws_policy(), aws_policy("by-hand")])
    result = run(aws, purge_policies=False)
    assert result["changed"] is False and [p["name"] for p in result["policies"]] == ["by-hand", "plotly-cpu"]


def test_policies_omitted_leaves_them_alone(aws):
    _client, stubber = aws
    reads(stubber, aws_target(), [aws_policy(target=90.0), aws_policy("by-hand")])
    result = run(aws, policies=None)
    assert result["changed"] is False and len(result["policies"]) == 2


def test_step_scaling_policy_under_the_name_is_replaced(aws):
    _client, stubber = aws
    step = {**IDS, "PolicyARN": policy_arn("plotly-cpu"), "PolicyName": "plotly-cpu", "PolicyType": "StepScaling",
            "StepScalingPolicyConfiguration": {"AdjustmentType": "ChangeInCapacity"}, "CreationTime": WHEN}
    reads(stubber, aws_target(), [step])
    stubber.add_response("delete_scaling_policy", {}, {**IDS, "PolicyName": "plotly-cpu"})
    put(stubber, "plotly-cpu", config())
    result = run(aws)
    assert result["changes"] == dict(NO_CHANGES, policies_updated=["plotly-cpu"])
    assert result["diff"]["before"]["policies"][0]["policy_type"] == "StepScaling"


def test_tags_of_an_existing_target_are_set_and_purged(aws):
    _client, stubber = aws
    reads(stubber, aws_target(), [aws_policy()], {"old": "1", "keep": "x"})
    stubber.add_response("tag_resource", {}, {"ResourceARN": TARGET_ARN, "Tags": {"new": "2"}})
    stubber.add_response("untag_resource", {}, {"ResourceARN": TARGET_ARN, "TagKeys": ["old"]})
    result = run(aws, tags={"keep": "x", "new": "2"})
    assert result["changes"] == dict(NO_CHANGES, tags_set=["new"], tags_removed=["old"])
    assert result["scalable_target"]["tags"] == {"keep": "x", "new": "2"}


def test_missing_ecs_service_is_named(aws):
    _client, stubber = aws
    reads(stubber)
    stubber.add_client_error("register_scalable_target", "ValidationException",
                             "ECS service doesn't exist: service/pocstack/plotly", 400)
    result = run(aws)
    assert result["failed"] and result["msg"] == (
        "service: no ECS service 'plotly' in cluster 'pocstack' (service/pocstack/plotly); create the service first")


def test_other_aws_errors_say_what_failed(aws):
    _client, stubber = aws
    reads(stubber, aws_target(), [])
    stubber.add_client_error("put_scaling_policy", "LimitExceededException", "too many", 400)
    result = run(aws)
    assert result["failed"] and result["msg"] == "Could not update the autoscaling of ECS service service/pocstack/plotly"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"min_capacity": 5, "max_capacity": 4}, "min_capacity: 5 is above max_capacity 4"),
        ({"max_capacity": 9999}, "max_capacity: 9999 is above 5000"),
        ({"policies": [policy(target=0.0)]}, "policies[0].target: 0.0 is out of range for cpu; allowed: 1-100 (percent)"),
        ({"policies": [policy("requests_per_target", 100)]},
         "policies[0]: metric requests_per_target needs load_balancer_arn and target_group_arn"),
        ({"cluster": "a b"}, "cluster: 'a b' is not an ECS cluster name or ARN"),
    ],
    ids=["min-above-max", "max", "target", "requests-arns", "cluster"],
)
def test_bad_input_fails_before_any_call(aws, overrides, message):
    result = run(aws, **overrides)  # nothing queued: any AWS call would fail the Stubber
    assert result["failed"] and result["msg"].startswith(message) and "error" not in result


@pytest.mark.parametrize(
    "options, message",
    [
        ({"min_capacity": None}, "state is present but all of the following are missing: min_capacity"),
        ({"max_capacity": None}, "state is present but all of the following are missing: max_capacity"),
        ({"min_capacity": "one"}, "argument 'min_capacity' is of type str and we were unable to convert to int"),
        ({"max_capacity": 2.5}, "argument 'max_capacity' is of type float and we were unable to convert to int"),
        ({"policies": ["cpu"]}, "dictionary requested"),
        ({"policies": [{"metric": "disk", "target": 1}]},
         "value of metric must be one of: cpu, memory, requests_per_target, got: disk found in policies"),
        ({"policies": [{"metric": "CPU", "target": 1}]}, "value of metric must be one of"),
        ({"policies": [{"metric": "requests-per-target", "target": 1}]}, "value of metric must be one of"),
        ({"policies": [{"target": 1}]}, "missing required arguments: metric found in policies"),
        ({"policies": [{"metric": "cpu"}]}, "missing required arguments: target found in policies"),
        ({"policies": [{"metric": "cpu", "target": "high"}]}, "argument 'target' is of type str found in 'policies'"),
        ({"policies": [{"metric": "cpu", "target": 50, "scale_out_cooldown": "soon"}]},
         "argument 'scale_out_cooldown' is of type str found in 'policies'"),
    ],
    ids=["no-min", "no-max", "min-text", "max-fraction", "policy-not-a-dict", "metric", "metric-case", "metric-dash", "no-metric",
         "no-target", "target-text", "cooldown-text"],
)
def test_the_argument_spec_refuses_wrong_types_and_missing_options(options, message):
    # service_scaling checks ranges only: types, choices and presence are the argument spec's.
    raw = {"cluster": "pocstack", "service": "plotly", "min_capacity": 1, "max_capacity": 4, **options}
    raw = {k: v for k, v in raw.items() if v is not None}
    errors = ArgumentSpecValidator(module.ARGUMENT_SPEC, required_if=module.REQUIRED_IF).validate(raw).error_messages
    assert any(message in error for error in errors), errors


@pytest.mark.parametrize("low, high", [("2", "3"), (2.0, 3.0)])
def test_the_argument_spec_makes_capacities_ints(low, high):
    raw = {"cluster": "pocstack", "service": "plotly", "min_capacity": low, "max_capacity": high}
    validated = ArgumentSpecValidator(module.ARGUMENT_SPEC, required_if=module.REQUIRED_IF).validate(raw)
    assert not validated.error_messages
    assert (validated.validated_parameters["min_capacity"], validated.validated_parameters["max_capacity"]) == (2, 3)


# -------------------------------------------------------------------- absent
def test_absent_deletes_every_policy_then_deregisters(aws):
    _client, stubber = aws
    reads(stubber, aws_target(), [aws_policy(), aws_policy("by-hand")], {"a": "b"})
    stubber.add_response("delete_scaling_policy", {}, {**IDS, "PolicyName": "by-hand"})
    stubber.add_response("delete_scaling_policy", {}, {**IDS, "PolicyName": "plotly-cpu"})
    stubber.add_response("deregister_scalable_target", {}, dict(IDS))
    result = run(aws, state="absent", min_capacity=None, max_capacity=None, policies=None)
    assert result["changed"] is True
    assert result["changes"] == dict(NO_CHANGES, scalable_target="deregistered", policies_deleted=["by-hand", "plotly-cpu"])
    assert result["scalable_target"] == {} and result["policies"] == []
    assert result["diff"]["after"] == {} and result["diff"]["before"]["scalable_target"]["tags"] == {"a": "b"}


def test_absent_tolerates_what_another_run_just_removed(aws):
    _client, stubber = aws
    reads(stubber, aws_target(), [aws_policy()])
    stubber.add_client_error("delete_scaling_policy", "ObjectNotFoundException", "No scaling policy found", 400)
    stubber.add_client_error("deregister_scalable_target", "ObjectNotFoundException", "No scalable target found", 400)
    result = run(aws, state="absent")
    assert result["changed"] is True and not result.get("failed")


def test_absent_when_nothing_is_there_is_no_change(aws):
    _client, stubber = aws
    reads(stubber)
    result = run(aws, state="absent")
    assert result["changed"] is False and result["changes"] == NO_CHANGES
    assert result["diff"] == {"before": {}, "after": {}}


def test_absent_in_check_mode_writes_nothing(aws):
    _client, stubber = aws
    reads(stubber, aws_target(), [aws_policy()])
    result = run(aws, check_mode=True, state="absent")
    assert result["changed"] is True and result["changes"]["scalable_target"] == "deregistered"
    assert result["scalable_target"]["min_capacity"] == 1  # as it is now


def test_no_diff_key_without_diff_mode(aws):
    _client, stubber = aws
    reads(stubber)
    assert "diff" not in run(aws, check_mode=True, diff=False)


def test_policies_of_another_service_in_the_answer_are_ignored(aws):
    _client, stubber = aws
    stranger = {**aws_policy("other-cpu"), "ResourceId": "service/pocstack/plotly-api"}
    reads(stubber, aws_target(), [aws_policy(), stranger])
    result = run(aws)
    assert result["changed"] is False and [p["name"] for p in result["policies"]] == ["plotly-cpu"]


def test_policies_are_read_from_every_page(aws):
    # DescribeScalingPolicies pages (NextToken); the botocore paginator reads them all.
    _client, stubber = aws
    stubber.add_response("describe_scalable_targets", {"ScalableTargets": [aws_target()]},
                         {"ServiceNamespace": "ecs", "ResourceIds": [RID], "ScalableDimension": "ecs:service:DesiredCount"})
    stubber.add_response("describe_scaling_policies", {"ScalingPolicies": [aws_policy()], "NextToken": "page-2"}, dict(IDS))
    stubber.add_response("describe_scaling_policies", {"ScalingPolicies": [aws_policy("by-hand")]},
                         {**IDS, "NextToken": "page-2"})
    stubber.add_response("list_tags_for_resource", {"Tags": {}}, {"ResourceARN": TARGET_ARN})
    result = run(aws, purge_policies=False)
    assert result["changed"] is False and [p["name"] for p in result["policies"]] == ["by-hand", "plotly-cpu"]
