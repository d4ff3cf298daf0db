"""elb_listener_rule flows against recorded ELBv2 responses (botocore Stubber, no network).

Each test queues exactly the calls AWS should see; a mutating call that is not
queued fails the test, so "no write" is asserted by the Stubber itself.
"""
import boto3
import pytest

from fake_module import Exited, FakeModule
from botocore.stub import ANY
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr
from ansible_collections.pocstack.aws.plugins.modules import elb_listener_rule as module

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/pocstack/50dc6c495c0c9188/f2f7dc8efc522ab2"
RULE = LISTENER.replace(":listener/", ":listener-rule/") + "/9683b2d02a6cabee"
OTHER = LISTENER.replace(":listener/", ":listener-rule/") + "/0000000000000001"
DEFAULT = LISTENER.replace(":listener/", ":listener-rule/") + "/default"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/abc"
TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other-80/def"





def default_rule():
    return {"RuleArn": DEFAULT, "Priority": "default", "IsDefault": True, "Conditions": [],
            "Actions": [{"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {"StatusCode": "404"}}]}


def aws_rule(arn=RULE, priority="10", paths=("/*",), tg=TG, actions=None):
    """A rule the way DescribeRules returns it on AWS: legacy Values next to the
    *Config, and ForwardConfig next to TargetGroupArn."""
    return {
        "RuleArn": arn,
        "Priority": priority,
        "IsDefault": False,
        "Conditions": [{"Field": "path-pattern", "Values": list(paths), "PathPatternConfig": {"Values": list(paths)}}],
        "Actions": actions or [{
            "Type": "forward", "TargetGroupArn": tg, "Order": 1,
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg, "Weight": 1}],
                              "TargetGroupStickinessConfig": {"Enabled": False}},
        }],
    }


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def params(**overrides):
    base = {
        "name": "plotly", "listener_arn": LISTENER, "load_balancer_name": None, "listener_port": None,
        "priority": 10, "priority_range": [1, 50000],
        "conditions": [{"field": "path-pattern", "values": ["/*"]}],
        "actions": [{"type": "forward", "target_group_arn": TG}],
        "state": "present", "tags": None, "purge_tags": True,
    }
    base.update(overrides)
    return base


@pytest.fixture
def aws():
    client = boto3.client("elbv2", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def run(aws, check_mode=False, diff=True, **overrides):
    client, _stubber = aws
    mgr = module.RuleManager.__new__(module.RuleManager)
    mgr.module = FakeModule(params(**overrides), check_mode=check_mode, diff=diff)
    mgr.client = RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff())
    mgr.params = mgr.module.params
    mgr.changed = mgr.moved = False
    with pytest.raises(Exited):
        mgr.run()
    return mgr.module.result


def listener_has(stubber, rules, tags):
    """Queue the reads every run starts with."""
    stubber.add_response("describe_rules", {"Rules": rules}, {"ListenerArn": LISTENER})
    arns = [r["RuleArn"] for r in rules if not r["IsDefault"]]
    if arns:
        stubber.add_response(
            "describe_tags",
            # an untagged resource comes without Tags (the model wants at least one)
            {"TagDescriptions": [{"ResourceArn": a, **({"Tags": tag_list(tags[a])} if tags.get(a) else {})} for a in arns]},
            {"ResourceArns": arns},
        )


def described_at_exit(stubber, rule, tags):
    stubber.add_response("describe_rules", {"Rules": [rule]}, {"RuleArns": [rule["RuleArn"]]})
    stubber.add_response("describe_tags", {"TagDescriptions": [{"ResourceArn": rule["RuleArn"], "Tags": tag_list(tags)}]},
                         {"ResourceArns": [rule["RuleArn"]]})


OWNED = {lr.OWNER_TAG: "plotly"}


def test_create_sends_priority_conditions_actions_and_tags(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule()], {})
    stubber.add_response("create_rule", {"Rules": [aws_rule()]}, {
        "ListenerArn": LISTENER, "Priority": 10,
        "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
        "Actions": [{"Type": "forward", "TargetGroupArn": TG, "Order": 1}],
        "Tags": [{"Key": "pocstack:service", "Value": "plotly"}, {"Key": lr.OWNER_TAG, "Value": "plotly"}],
    })
    described_at_exit(stubber, aws_rule(), {**OWNED, "pocstack:service": "plotly"})
    result = run(aws, tags={"pocstack:service": "plotly"})
    assert result["changed"] and not result["moved"]
    assert result["rule_arn"] == RULE and result["priority"] == 10
    assert result["rule"]["tags"] == {**OWNED, "pocstack:service": "plotly"}
    assert result["rule"]["priority"] == "10"
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["conditions"] == [{"field": "path-pattern", "values": ["/*"]}]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
         "actions": [{"Type": "forward", "TargetGroupArn": TG}]},
        {"conditions": [{"path_pattern": ["/*"]}]},
    ],
    ids=["friendly", "raw", "shorthand"],
)
def test_aws_describe_output_equals_desired_no_write(aws, overrides):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED})
    described_at_exit(stubber, aws_rule(), OWNED)
    result = run(aws, **overrides)
    assert result["changed"] is False and result["moved"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_check_mode_reports_the_change_and_writes_nothing(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED})
    described_at_exit(stubber, aws_rule(), OWNED)  # reads are allowed; no modify_rule queued
    result = run(aws, check_mode=True, conditions=[{"field": "path-pattern", "values": ["/dash*"]}], priority=20)
    assert result["changed"] and result["moved"]
    assert result["diff"]["before"]["conditions"][0]["values"] == ["/*"]
    assert result["diff"]["after"]["conditions"][0]["values"] == ["/dash*"]
    assert result["rule"]["priority"] == "10"  # as it is now


def test_check_mode_create_makes_no_call_after_the_reads(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule()], {})
    result = run(aws, check_mode=True)
    assert result["changed"] and result["rule_arn"] == "" and result["rule"] == {}


def test_priority_only_moves_the_rule(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED})
    stubber.add_response("set_rule_priorities", {"Rules": [aws_rule(priority="20")]},
                         {"RulePriorities": [{"RuleArn": RULE, "Priority": 20}]})
    described_at_exit(stubber, aws_rule(priority="20"), OWNED)
    result = run(aws, priority=20)
    assert result["changed"] and result["moved"] and result["priority"] == 20
    assert result["diff"]["before"]["priority"] == 10 and result["diff"]["after"]["priority"] == 20


@pytest.mark.parametrize(
    "overrides",
    [
        {"conditions": [{"field": "path-pattern", "values": ["/dash*"]}]},
        {"actions": [{"type": "forward", "target_group_arn": TG2}]},
        {"conditions": [{"field": "path-pattern", "values": ["/*"]}, {"field": "host-header", "values": ["a.example.com"]}]},
    ],
    ids=["path", "target-group", "extra-condition"],
)
def test_condition_or_action_change_modifies_in_place(aws, overrides):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED})
    stubber.add_response("modify_rule", {"Rules": [aws_rule()]}, {"RuleArn": RULE, "Conditions": ANY, "Actions": ANY})
    described_at_exit(stubber, aws_rule(), OWNED)
    result = run(aws, **overrides)
    assert result["changed"] and not result["moved"] and result["rule_arn"] == RULE


def test_hand_made_redirect_on_an_owned_rule_is_replaced(aws):
    _client, stubber = aws
    redirect = aws_rule(actions=[{"Type": "redirect", "Order": 1,
                                  "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    listener_has(stubber, [default_rule(), redirect], {RULE: OWNED})
    stubber.add_response("modify_rule", {"Rules": [aws_rule()]}, {
        "RuleArn": RULE, "Conditions": ANY, "Actions": [{"Type": "forward", "TargetGroupArn": TG, "Order": 1}]})
    described_at_exit(stubber, aws_rule(), OWNED)
    result = run(aws)
    assert result["changed"]
    assert result["diff"]["before"]["actions"][0]["type"] == "redirect"


def test_absent_deletes_an_owned_rule_whatever_its_actions(aws):
    _client, stubber = aws
    redirect = aws_rule(actions=[{"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {"StatusCode": "503"}}])
    listener_has(stubber, [default_rule(), redirect], {RULE: OWNED})
    stubber.add_response("delete_rule", {}, {"RuleArn": RULE})
    result = run(aws, state="absent", conditions=None, actions=None, priority=None)
    assert result["changed"] and result["rule_arn"] == "" and result["diff"]["after"] == {}


def test_absent_never_deletes_a_rule_it_does_not_own(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: {lr.OWNER_TAG: "grafana"}})
    result = run(aws, state="absent")
    assert result["changed"] is False


def test_absent_does_not_adopt_an_untagged_rule_to_delete_it(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {})
    result = run(aws, state="absent")
    assert result["changed"] is False


def test_untagged_rule_with_same_conditions_is_adopted(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: {"team": "data"}})
    stubber.add_response("add_tags", {}, {"ResourceArns": [RULE], "Tags": tag_list(OWNED)})
    described_at_exit(stubber, aws_rule(), {**OWNED, "team": "data"})
    result = run(aws)  # tags not given: the user's tags stay
    assert result["changed"] and result["rule_arn"] == RULE


def test_rule_of_another_name_is_left_alone_and_its_priority_refused(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: {lr.OWNER_TAG: "grafana"}})
    result = run(aws)
    assert result["failed"]
    assert result["msg"] == (f"priority: 10 is already used by rule {RULE} (owner: grafana) on listener {LISTENER}; "
                             "choose another priority")


def test_priority_taken_by_a_concurrent_writer_names_the_holder(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule()], {})
    stubber.add_client_error("create_rule", "PriorityInUse", "The specified priority is in use.", 400)
    listener_has(stubber, [default_rule(), aws_rule(arn=OTHER)], {OTHER: {lr.OWNER_TAG: "grafana"}})
    result = run(aws)
    assert result["failed"]
    assert result["msg"].startswith(f"priority: 10 is already used by rule {OTHER} (owner: grafana) on listener {LISTENER}")


def test_purge_removes_extra_tags_but_never_the_owner_tag(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: {**OWNED, "old": "1"}})
    stubber.add_response("add_tags", {}, {"ResourceArns": [RULE], "Tags": [{"Key": "team", "Value": "data"}]})
    stubber.add_response("remove_tags", {}, {"ResourceArns": [RULE], "TagKeys": ["old"]})
    described_at_exit(stubber, aws_rule(), {**OWNED, "team": "data"})
    result = run(aws, tags={"team": "data"})
    assert result["changed"] and not result["moved"]
    assert result["diff"]["after"]["tags"] == {**OWNED, "team": "data"}


def test_listener_not_found_names_the_option(aws):
    _client, stubber = aws
    stubber.add_client_error("describe_rules", "ListenerNotFound", "The specified listener does not exist.", 400)
    result = run(aws)
    assert result["failed"] and result["msg"].startswith(f"listener_arn: no listener {LISTENER}")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"priority": 0}, "priority: 0 is out of range; allowed: 1-50000"),
        ({"conditions": [{"field": "cookie", "values": ["x"]}]}, "conditions: field 'cookie' is not supported"),
        ({"actions": [{"type": "forward"}]}, "actions: a forward action needs target_group_arn"),
        ({"tags": {lr.OWNER_TAG: "grafana"}}, "tags: pocstack:rule-name is set by this module"),
    ],
)
def test_invalid_input_fails_before_any_call(aws, overrides, message):
    result = run(aws, **overrides)
    assert result["failed"] and result["msg"].startswith(message)
