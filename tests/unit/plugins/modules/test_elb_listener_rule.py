"""elb_listener_rule flows against recorded ELBv2 responses (botocore Stubber, no network).

Each test queues exactly the calls AWS should see; a mutating call that is not
queued fails the test, so "no write" is asserted by the Stubber itself.
"""
import pytest
from botocore.stub import ANY

from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr
from ansible_collections.pocstack.aws.plugins.module_utils import rule_actions as ra
from ansible_collections.pocstack.aws.plugins.modules import elb_listener_rule as module
from fake_module import Exited
from fake_module import count_calls
from fake_module import manager

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/pocstack/50dc6c495c0c9188/f2f7dc8efc522ab2"
RULE = LISTENER.replace(":listener/", ":listener-rule/") + "/9683b2d02a6cabee"
OTHER = LISTENER.replace(":listener/", ":listener-rule/") + "/0000000000000001"
DEFAULT = LISTENER.replace(":listener/", ":listener-rule/") + "/default"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/abc"
TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other-80/def"
LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pocstack/50dc6c495c0c9188"
VPC = "vpc-0a1b2c3d"


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
        "priority": 10, "priority_range": [1, 50000], "allow_shadowing": False,
        "conditions": [{"field": "path-pattern", "values": ["/*"]}],
        "actions": [{"type": "forward", "target_group_arn": TG}],
        "state": "present", "tags": None, "purge_tags": True, "client_secret_update": "on_change",
    }
    base.update(overrides)
    return base


def run(aws, check_mode=False, diff=True, **overrides):
    mgr = manager(module.RuleManager, aws[0], params(**overrides), check_mode, diff, changed=False, moved=False)
    with pytest.raises(Exited):
        mgr.run()
    if mgr.module.warnings:
        return {**mgr.module.result, "warnings": mgr.module.warnings}
    return mgr.module.result


def listener_is(stubber, protocol="HTTPS"):
    """Queue what a present run reads first: the listener and its load balancer."""
    stubber.add_response("describe_listeners", {"Listeners": [
        {"ListenerArn": LISTENER, "LoadBalancerArn": LB, "Port": 443, "Protocol": protocol}]},
        {"ListenerArns": [LISTENER]})
    stubber.add_response("describe_load_balancers", {"LoadBalancers": [
        {"LoadBalancerArn": LB, "LoadBalancerName": "pocstack", "VpcId": VPC}]}, {"LoadBalancerArns": [LB]})


def groups_are(stubber, groups, vpcs=None):
    """Queue the read of the target groups `groups` (in `vpcs`, default the LB's VPC)."""
    vpcs = vpcs or {}
    stubber.add_response("describe_target_groups", {"TargetGroups": [
        {"TargetGroupArn": arn, "TargetGroupName": arn.split("/")[-2], "VpcId": vpcs.get(arn, VPC)}
        for arn in sorted(groups)]}, {"TargetGroupArns": sorted(groups)})


def forwarded(rules):
    """The target groups the rules forward to already (AWS keeps them valid: not read again)."""
    return {target["TargetGroupArn"] for rule in rules for action in rule["Actions"] if action["Type"] == "forward"
            for target in [action, *action.get("ForwardConfig", {}).get("TargetGroups", [])] if "TargetGroupArn" in target}


def listener_has(stubber, rules, tags, present=True, protocol="HTTPS", groups=(TG,), vpcs=None):
    """Queue the reads every run starts with: for a present run the listener,
    then its rules and their tags, then the target groups the actions forward
    to that no rule of the listener forwards to yet."""
    if present:
        listener_is(stubber, protocol)
    stubber.add_response("describe_rules", {"Rules": rules}, {"ListenerArn": LISTENER})
    arns = [r["RuleArn"] for r in rules if not r["IsDefault"]]
    if arns:
        stubber.add_response(
            "describe_tags",
            # an untagged resource comes without Tags (the model wants at least one)
            {"TagDescriptions": [{"ResourceArn": a, **({"Tags": tag_list(tags[a])} if tags.get(a) else {})} for a in arns]},
            {"ResourceArns": arns},
        )
    unknown = set(groups) - forwarded(rules)
    if present and unknown:
        groups_are(stubber, unknown, vpcs)


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
        # sorted by key, as compare.tag_changes returns them
        "Tags": [{"Key": lr.OWNER_TAG, "Value": "plotly"}, {"Key": "pocstack:service", "Value": "plotly"}],
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
    result = run(aws, **overrides)
    assert result["changed"] is False and result["moved"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


LISTENER_READS = {"DescribeListeners": 1, "DescribeLoadBalancers": 1, "DescribeRules": 1, "DescribeTags": 1}


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check-mode"])
def test_a_no_op_run_reads_the_rules_and_their_tags_once_and_no_target_group(aws, check_mode):
    """The target group the rule forwards to already is not read: AWS keeps it
    (it refuses to delete a target group a rule uses), in the LB's VPC."""
    client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule(), aws_rule(arn=OTHER, priority="20", paths=("/other*",), tg=TG2)],
                 {RULE: {**OWNED, "team": "data"}, OTHER: {lr.OWNER_TAG: "grafana"}})
    calls = count_calls(client)
    result = run(aws, check_mode=check_mode, tags={"team": "data"})
    assert result["changed"] is False and calls == LISTENER_READS
    # the rule as read: what a second read would have shown
    assert result["rule_arn"] == RULE and result["rule"]["rule_arn"] == RULE and result["rule"]["priority"] == "10"
    assert result["rule"]["tags"] == {**OWNED, "team": "data"}
    assert result["rule"]["conditions"][0]["path_pattern_config"] == {"values": ["/*"]}
    assert result["rule"]["actions"][0]["target_group_arn"] == TG


def test_a_target_group_another_rule_of_the_listener_forwards_to_is_not_read(aws):
    client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule(), aws_rule(arn=OTHER, priority="20", paths=("/other*",), tg=TG2)],
                 {RULE: OWNED, OTHER: {lr.OWNER_TAG: "grafana"}}, groups=[TG2])
    stubber.add_response("modify_rule", {"Rules": [aws_rule(tg=TG2)]}, {"RuleArn": RULE, "Conditions": ANY, "Actions": ANY})
    described_at_exit(stubber, aws_rule(tg=TG2), OWNED)
    calls = count_calls(client)
    result = run(aws, actions=[{"type": "forward", "target_group_arn": TG2}])
    assert result["changed"] and "DescribeTargetGroups" not in calls


def test_a_new_target_group_is_read_once_and_the_rule_again_after_the_write(aws):
    client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED}, groups=[TG2])
    stubber.add_response("modify_rule", {"Rules": [aws_rule(tg=TG2)]}, {"RuleArn": RULE, "Conditions": ANY, "Actions": ANY})
    described_at_exit(stubber, aws_rule(tg=TG2), OWNED)
    calls = count_calls(client)
    result = run(aws, actions=[{"type": "forward", "target_group_arn": TG2}])
    assert result["changed"] and result["rule"]["actions"][0]["target_group_arn"] == TG2
    assert calls == {**LISTENER_READS, "DescribeTargetGroups": 1, "ModifyRule": 1, "DescribeRules": 2, "DescribeTags": 2}


def test_a_target_group_problem_is_named_before_a_failed_read_of_the_rules(aws):
    _client, stubber = aws
    listener_is(stubber)
    stubber.add_client_error("describe_rules", "AccessDenied", "not allowed", 403, expected_params={"ListenerArn": LISTENER})
    groups_are(stubber, [TG2], {TG2: "vpc-other"})
    result = run(aws, actions=[{"type": "forward", "target_group_arn": TG2}])
    assert result["failed"] and result["msg"].startswith(f"actions: target group other-80 ({TG2}) is in vpc-other")


def test_check_mode_reports_the_change_and_writes_nothing(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED})
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
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED}, groups=ra.target_group_arns(
        ra.normalize_actions(overrides.get("actions", [{"type": "forward", "target_group_arn": TG}]))))
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
    listener_has(stubber, [default_rule(), redirect], {RULE: OWNED}, present=False)
    stubber.add_response("delete_rule", {}, {"RuleArn": RULE})
    result = run(aws, state="absent", conditions=None, actions=None, priority=None)
    assert result["changed"] and result["rule_arn"] == "" and result["diff"]["after"] == {}


def test_absent_never_deletes_a_rule_it_does_not_own(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: {lr.OWNER_TAG: "grafana"}}, present=False)
    result = run(aws, state="absent")
    assert result["changed"] is False


def test_absent_does_not_adopt_an_untagged_rule_to_delete_it(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {}, present=False)
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
    listener_has(stubber, [default_rule(), aws_rule(arn=OTHER)], {OTHER: {lr.OWNER_TAG: "grafana"}}, present=False)
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


@pytest.mark.parametrize("state", ["present", "absent"])
def test_listener_not_found_names_the_option(aws, state):
    _client, stubber = aws
    call = "describe_listeners" if state == "present" else "describe_rules"
    stubber.add_client_error(call, "ListenerNotFound", "The specified listener does not exist.", 400)
    result = run(aws, state=state)
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


# --- every action type: create, re-run, update --------------------------------------

IDP = "https://idp.example.com"
POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abcdef"
SECRET = "s3cr3t-v1"
OIDC = {"type": "authenticate-oidc", "issuer": IDP, "authorization_endpoint": f"{IDP}/auth",
        "token_endpoint": f"{IDP}/token", "user_info_endpoint": f"{IDP}/userinfo", "client_id": "pocstack",
        "client_secret": SECRET}
COGNITO = {"type": "authenticate-cognito", "user_pool_arn": POOL, "user_pool_client_id": "client",
           "user_pool_domain": "pocstack"}
FORWARD = {"type": "forward", "target_group_arn": TG}
AUTH_DESCRIBED = {"SessionCookieName": "AWSELBAuthSessionCookie", "Scope": "openid", "SessionTimeout": 604800,
                  "OnUnauthenticatedRequest": "authenticate"}
OIDC_DESCRIBED = {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {
    "Issuer": IDP, "AuthorizationEndpoint": f"{IDP}/auth", "TokenEndpoint": f"{IDP}/token",
    "UserInfoEndpoint": f"{IDP}/userinfo", "ClientId": "pocstack", **AUTH_DESCRIBED}}
FORWARD_DESCRIBED = {"Type": "forward", "Order": 2, "TargetGroupArn": TG, "ForwardConfig": {
    "TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}}

# name -> (actions given, Actions CreateRule/ModifyRule must get, Actions as DescribeRules returns them)
ACTIONS = {
    "weighted-canary": (
        [{"type": "forward", "target_groups": [{"target_group_arn": TG, "weight": 90},
                                               {"target_group_arn": TG2, "weight": 10}],
          "stickiness": {"enabled": True, "duration_seconds": 3600}}],
        [{"Type": "forward", "Order": 1, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG2, "Weight": 10}, {"TargetGroupArn": TG, "Weight": 90}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600}}}],
        [{"Type": "forward", "Order": 1, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG, "Weight": 90}, {"TargetGroupArn": TG2, "Weight": 10}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600}}}],
    ),
    "redirect": (
        [{"type": "redirect", "host": "new.example.com", "status_code": "HTTP_302"}],
        [{"Type": "redirect", "Order": 1, "RedirectConfig": {
            "Protocol": "#{protocol}", "Port": "#{port}", "Host": "new.example.com", "Path": "/#{path}",
            "Query": "#{query}", "StatusCode": "HTTP_302"}}],
        [{"Type": "redirect", "Order": 1, "RedirectConfig": {
            "Protocol": "#{protocol}", "Port": "#{port}", "Host": "new.example.com", "Path": "/#{path}",
            "Query": "#{query}", "StatusCode": "HTTP_302"}}],
    ),
    "maintenance-page": (
        [{"type": "fixed-response", "status_code": 503, "content_type": "text/html",
          "message_body": "<h1>Back soon</h1>"}],
        [{"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {
            "StatusCode": "503", "ContentType": "text/html", "MessageBody": "<h1>Back soon</h1>"}}],
        [{"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {
            "StatusCode": "503", "ContentType": "text/html", "MessageBody": "<h1>Back soon</h1>"}}],
    ),
    "cognito-then-fixed": (
        [COGNITO, {"type": "fixed-response", "status_code": 200}],
        [{"Type": "authenticate-cognito", "Order": 1, "AuthenticateCognitoConfig": {
            "UserPoolArn": POOL, "UserPoolClientId": "client", "UserPoolDomain": "pocstack", **AUTH_DESCRIBED}},
         {"Type": "fixed-response", "Order": 2, "FixedResponseConfig": {"StatusCode": "200",
                                                                        "ContentType": "text/plain"}}],
        [{"Type": "authenticate-cognito", "Order": 1, "AuthenticateCognitoConfig": {
            "UserPoolArn": POOL, "UserPoolClientId": "client", "UserPoolDomain": "pocstack", **AUTH_DESCRIBED}},
         {"Type": "fixed-response", "Order": 2, "FixedResponseConfig": {"StatusCode": "200",
                                                                        "ContentType": "text/plain"}}],
    ),
}


def groups_of(actions):
    return ra.target_group_arns(ra.normalize_actions(actions))


@pytest.fixture(autouse=True)
def fast_hash(monkeypatch):
    """The hash stays PBKDF2; fewer rounds keep the tests quick."""
    monkeypatch.setattr(ra, "SECRET_HASH_ITERATIONS", 1000)


class HashOf:
    """Matches a tag value that is a salted hash of `secret` (Stubber compares with ==)."""

    def __init__(self, secret):
        self.secret = secret

    def __eq__(self, other):
        return ra.secret_matches(self.secret, other)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "HashOf(<secret>)"


def secret_absent(result):
    assert SECRET not in repr(result) and "s3cr3t" not in repr(result)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_create_each_action_type(aws, name):
    given, sent, described = ACTIONS[name]
    _client, stubber = aws
    listener_has(stubber, [default_rule()], {}, groups=groups_of(given))
    created = aws_rule(actions=described)
    stubber.add_response("create_rule", {"Rules": [created]}, {
        "ListenerArn": LISTENER, "Priority": 10, "Conditions": ANY, "Actions": sent, "Tags": tag_list(OWNED)})
    described_at_exit(stubber, created, OWNED)
    result = run(aws, actions=given)
    assert result["changed"] and result["rule_arn"] == RULE
    assert result["diff"]["before"] == {}
    assert [a["type"] for a in result["diff"]["after"]["actions"]] == [a["Type"] for a in sent]


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_each_action_type_as_described_is_no_change(aws, name):
    given, _sent, described = ACTIONS[name]
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule(actions=described)], {RULE: OWNED}, groups=groups_of(given))
    result = run(aws, actions=given)
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_plain_forward_becomes_each_action_type_in_place(aws, name):
    given, sent, described = ACTIONS[name]
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED}, groups=groups_of(given))
    stubber.add_response("modify_rule", {"Rules": [aws_rule(actions=described)]},
                         {"RuleArn": RULE, "Conditions": ANY, "Actions": sent})
    described_at_exit(stubber, aws_rule(actions=described), OWNED)
    result = run(aws, actions=given)
    assert result["changed"] and not result["moved"] and result["rule_arn"] == RULE
    assert result["diff"]["before"]["actions"] == [{"target_group_arn": TG, "type": "forward"}]


@pytest.mark.parametrize(
    "name, change",
    [
        ("weighted-canary", {"target_groups": [{"target_group_arn": TG, "weight": 50},
                                               {"target_group_arn": TG2, "weight": 50}]}),
        ("weighted-canary", {"stickiness": {"enabled": False}}),
        ("weighted-canary", {"stickiness": {"enabled": True, "duration_seconds": 60}}),
        ("redirect", {"status_code": "HTTP_301"}),
        ("redirect", {"path": "/v2/#{path}"}),
        ("maintenance-page", {"message_body": "<h1>Back at 10:00</h1>"}),
        ("maintenance-page", {"status_code": "500"}),
    ],
    ids=["weights", "stickiness-off", "stickiness-duration", "redirect-code", "redirect-path", "body", "status"],
)
def test_one_setting_changed_modifies_the_rule(aws, name, change):
    given, _sent, described = ACTIONS[name]
    wanted = [{**given[0], **change}]
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule(actions=described)], {RULE: OWNED}, groups=groups_of(wanted))
    stubber.add_response("modify_rule", {"Rules": [aws_rule()]},
                         {"RuleArn": RULE, "Conditions": ANY, "Actions": ra.to_aws_actions(ra.normalize_actions(wanted))})
    described_at_exit(stubber, aws_rule(), OWNED)
    result = run(aws, actions=wanted)
    assert result["changed"] and result["diff"]["before"] != result["diff"]["after"]


def test_check_mode_update_of_an_action_writes_nothing(aws):
    given, _sent, described = ACTIONS["weighted-canary"]
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED}, groups=groups_of(given))
    result = run(aws, check_mode=True, actions=given)
    assert result["changed"] and result["diff"]["after"]["actions"][0]["target_groups"][0]["weight"] == 10


def test_diff_is_sorted_plain_data(aws):
    given = [OIDC, {"type": "forward", "target_groups": [{"target_group_arn": TG2, "weight": 1},
                                                         {"target_group_arn": TG, "weight": 1}]}]
    _client, stubber = aws
    listener_has(stubber, [default_rule()], {}, groups=[TG, TG2])
    result = run(aws, check_mode=True, actions=given, tags={"z": "1", "a": "2"})
    after = result["diff"]["after"]
    assert list(after) == ["priority", "conditions", "actions", "tags"]
    assert list(after["tags"]) == sorted(after["tags"])
    assert all(list(action) == sorted(action) for action in after["actions"])
    assert [g["target_group_arn"] for g in after["actions"][1]["target_groups"]] == sorted([TG, TG2])
    assert after["actions"][0]["client_secret"] == ra.SECRET_SENT
    assert after["tags"][lr.SECRET_TAG] == lr.SECRET_TAG_SHOWN
    secret_absent(result)


# --- checks against the listener, before any write ------------------------------------

def test_target_group_in_another_vpc_is_refused(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule()], {}, groups=[TG2], vpcs={TG2: "vpc-other"})
    result = run(aws, actions=[{"type": "forward", "target_group_arn": TG2}])
    assert result["failed"]
    assert result["msg"] == (f"actions: target group other-80 ({TG2}) is in vpc-other, but load balancer pocstack is "
                             f"in {VPC}; forward to a target group of {VPC}")


def test_one_weighted_target_group_in_another_vpc_is_refused(aws):
    _client, stubber = aws
    given = ACTIONS["weighted-canary"][0]
    listener_has(stubber, [default_rule()], {}, groups=[TG, TG2], vpcs={TG2: "vpc-other"})
    result = run(aws, actions=given)
    assert result["failed"] and f"({TG2}) is in vpc-other" in result["msg"]


@pytest.mark.parametrize("check_mode", [False, True])
def test_missing_target_group_fails_or_warns_in_check_mode(aws, check_mode):
    _client, stubber = aws
    listener_is(stubber)
    listener_has(stubber, [default_rule()], {}, present=False)
    stubber.add_client_error("describe_target_groups", "TargetGroupNotFound", "One or more target groups not found",
                             400, expected_params={"TargetGroupArns": [TG]})
    stubber.add_client_error("describe_target_groups", "TargetGroupNotFound", "not found", 400,
                             expected_params={"TargetGroupArns": [TG]})
    message = f"actions: target group {TG} does not exist; create it first or fix the target group ARN"
    result = run(aws, check_mode=check_mode)
    if check_mode:
        # an earlier task of the same check run may create it
        assert result["changed"] and not result.get("failed")
        assert result["warnings"] == [message]
    else:
        assert result["failed"] and result["msg"] == message


@pytest.mark.parametrize("kind", ["authenticate-oidc", "authenticate-cognito"])
def test_authentication_on_an_http_listener_is_refused(aws, kind):
    _client, stubber = aws
    listener_is(stubber, protocol="HTTP")
    result = run(aws, actions=[OIDC if kind == "authenticate-oidc" else COGNITO, FORWARD])
    assert result["failed"]
    assert result["msg"] == f"actions: {kind} works only on HTTPS listeners; listener {LISTENER} is HTTP"
    secret_absent(result)


def test_redirect_from_https_to_http_is_refused(aws):
    _client, stubber = aws
    listener_is(stubber)
    result = run(aws, actions=[{"type": "redirect", "protocol": "HTTP", "status_code": 301}])
    assert result["failed"]
    assert result["msg"] == "actions: a redirect on an HTTPS listener cannot go to HTTP; use protocol HTTPS or #{protocol}"


@pytest.mark.parametrize(
    "actions, message",
    [
        ([FORWARD, OIDC], "actions: forward must be the last action, but authenticate-oidc comes after it"),
        ([FORWARD, {"type": "fixed-response", "status_code": 404}], "actions: a rule has exactly one"),
        ([{"type": "forward", "target_groups": [{"target_group_arn": TG, "weight": 1000}]}],
         "actions: forward weight of " + TG + " must be from 0 to 999, got 1000"),
        ([{"type": "fixed-response", "status_code": 301}], "actions: fixed-response status_code must be a 2XX"),
        ([{"type": "redirect", "protocol": "HTTPS", "status_code": 307}], "actions: redirect status_code must be one of"),
        ([{**OIDC, "client_secret": ""}, FORWARD], "actions: authenticate-oidc client_secret must not be empty"),
    ],
    ids=["forward-first", "two-terminal", "weight", "fixed-status", "redirect-status", "empty-secret"],
)
def test_invalid_actions_fail_before_any_call(aws, actions, message):
    result = run(aws, actions=actions)  # no response queued: any AWS call fails the test
    assert result["failed"] and result["msg"].startswith(message)
    secret_absent(result)


# --- the OIDC client secret: never shown, sent only when needed ------------------------

def oidc_rule(described=None):
    return aws_rule(actions=[described or OIDC_DESCRIBED, FORWARD_DESCRIBED])


def sent_oidc(secret=None, **config):
    """The Actions ModifyRule/CreateRule must get: the secret, or UseExistingClientSecret."""
    oidc = {"Issuer": IDP, "AuthorizationEndpoint": f"{IDP}/auth", "TokenEndpoint": f"{IDP}/token",
            "UserInfoEndpoint": f"{IDP}/userinfo", "ClientId": "pocstack", **AUTH_DESCRIBED, **config}
    oidc.update({"ClientSecret": secret} if secret else {"UseExistingClientSecret": True})
    return [{"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": oidc},
            {"Type": "forward", "Order": 2, "TargetGroupArn": TG}]


def hashed(secret=SECRET):
    return {**OWNED, lr.SECRET_TAG: ra.hash_secret(secret)}


# Automatic: the rule's path /* matches every request, so it goes last in the range.
@pytest.mark.parametrize("priority, chosen", [(10, 10), (None, 50000)], ids=["explicit", "automatic"])
def test_create_with_oidc_sends_the_secret_and_keeps_its_hash(aws, priority, chosen):
    _client, stubber = aws
    listener_has(stubber, [default_rule()], {})
    stubber.add_response("create_rule", {"Rules": [oidc_rule()]}, {
        "ListenerArn": LISTENER, "Priority": chosen, "Conditions": ANY, "Actions": sent_oidc(SECRET),
        "Tags": [{"Key": lr.SECRET_TAG, "Value": HashOf(SECRET)}, {"Key": lr.OWNER_TAG, "Value": "plotly"}]})
    described_at_exit(stubber, oidc_rule(), hashed())
    result = run(aws, priority=priority, actions=[OIDC, FORWARD])
    assert result["changed"] and result["priority"] == chosen
    assert result["diff"]["after"]["actions"][0]["client_secret"] == ra.SECRET_SENT
    assert result["rule"]["tags"][lr.SECRET_TAG] == lr.SECRET_TAG_SHOWN
    secret_absent(result)


def test_same_secret_same_settings_is_no_change(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule()], {RULE: hashed()})
    result = run(aws, actions=[OIDC, FORWARD])
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["diff"]["after"]["actions"][0]["client_secret"] == ra.SECRET_HIDDEN
    secret_absent(result)


def test_same_secret_other_setting_keeps_the_secret_in_aws(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule()], {RULE: hashed()})
    stubber.add_response("modify_rule", {"Rules": [oidc_rule()]},
                         {"RuleArn": RULE, "Conditions": ANY, "Actions": sent_oidc(Scope="openid email")})
    described_at_exit(stubber, oidc_rule(), hashed())
    result = run(aws, actions=[{**OIDC, "scope": "openid email"}, FORWARD])
    assert result["changed"]
    assert result["diff"]["after"]["actions"][0]["client_secret"] == ra.SECRET_HIDDEN
    secret_absent(result)


@pytest.mark.parametrize("start", ["rotated", "oidc-without-hash", "forward"])
def test_secret_is_sent_and_its_hash_replaced(aws, start):
    """A rotated secret (the hash is of another one), an OIDC rule adopted or
    made by hand (no hash to compare with), a forward rule that gets OIDC."""
    _client, stubber = aws
    rule = aws_rule() if start == "forward" else oidc_rule()
    listener_has(stubber, [default_rule(), rule], {RULE: hashed("old-secret") if start == "rotated" else OWNED})
    stubber.add_response("modify_rule", {"Rules": [oidc_rule()]},
                         {"RuleArn": RULE, "Conditions": ANY, "Actions": sent_oidc(SECRET)})
    stubber.add_response("add_tags", {}, {"ResourceArns": [RULE],
                                          "Tags": [{"Key": lr.SECRET_TAG, "Value": HashOf(SECRET)}]})
    described_at_exit(stubber, oidc_rule(), hashed())
    result = run(aws, actions=[OIDC, FORWARD])
    assert result["changed"] and not result["moved"]
    before = result["diff"]["before"]["actions"][0]
    assert before.get("client_secret") == (None if start == "forward" else ra.SECRET_HIDDEN)
    assert result["diff"]["after"]["actions"][0]["client_secret"] == ra.SECRET_SENT
    secret_absent(result)
    assert "old-secret" not in repr(result)


def test_rotated_secret_in_check_mode_writes_nothing(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule()], {RULE: hashed("old-secret")})
    result = run(aws, check_mode=True, actions=[OIDC, FORWARD])
    assert result["changed"]
    assert result["diff"]["after"]["actions"][0]["client_secret"] == ra.SECRET_SENT
    secret_absent(result)


def test_always_sends_the_secret_every_run(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule()], {RULE: OWNED})
    stubber.add_response("modify_rule", {"Rules": [oidc_rule()]},
                         {"RuleArn": RULE, "Conditions": ANY, "Actions": sent_oidc(SECRET)})
    described_at_exit(stubber, oidc_rule(), OWNED)
    result = run(aws, actions=[OIDC, FORWARD], client_secret_update="always")
    assert result["changed"]
    assert result["diff"]["after"]["actions"][0]["client_secret"] == ra.SECRET_SENT
    secret_absent(result)


@pytest.mark.parametrize("mode", ["always", "on_create"])
def test_modes_other_than_on_change_keep_no_hash(aws, mode):
    _client, stubber = aws
    listener_has(stubber, [default_rule()], {})
    stubber.add_response("create_rule", {"Rules": [oidc_rule()]}, {
        "ListenerArn": LISTENER, "Priority": 10, "Conditions": ANY, "Actions": sent_oidc(SECRET),
        "Tags": tag_list(OWNED)})
    described_at_exit(stubber, oidc_rule(), OWNED)
    result = run(aws, actions=[OIDC, FORWARD], client_secret_update=mode)
    assert result["changed"] and lr.SECRET_TAG not in result["diff"]["after"]["tags"]


def test_on_create_never_sends_the_secret_to_an_existing_oidc_rule(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule()], {RULE: OWNED})
    result = run(aws, actions=[{**OIDC, "client_secret": "anything"}, FORWARD], client_secret_update="on_create")
    assert result["changed"] is False


def test_on_create_removes_a_hash_left_by_on_change(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule()], {RULE: hashed()})
    stubber.add_response("remove_tags", {}, {"ResourceArns": [RULE], "TagKeys": [lr.SECRET_TAG]})
    described_at_exit(stubber, oidc_rule(), OWNED)
    result = run(aws, actions=[OIDC, FORWARD], client_secret_update="on_create")
    assert result["changed"]


@pytest.mark.parametrize(
    "oidc",
    [
        {k: v for k, v in OIDC.items() if k != "client_secret"},
        {"Type": "authenticate-oidc", "AuthenticateOidcConfig": {
            **sent_oidc()[0]["AuthenticateOidcConfig"]}},
    ],
    ids=["omitted", "use-existing"],
)
def test_secret_not_given_keeps_the_one_aws_has(aws, oidc):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule()], {RULE: hashed()})
    result = run(aws, actions=[oidc, FORWARD])
    assert result["changed"] is False


def test_secret_not_given_and_not_on_the_rule_fails_before_any_write(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), aws_rule()], {RULE: OWNED})
    result = run(aws, actions=[{k: v for k, v in OIDC.items() if k != "client_secret"}, FORWARD])
    assert result["failed"]
    assert result["msg"].startswith("actions: authenticate-oidc needs client_secret "
                                    "(AuthenticateOidcConfig.ClientSecret) to create the rule or to add this action")


def test_removing_oidc_removes_the_hash(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule()], {RULE: hashed()})
    stubber.add_response("modify_rule", {"Rules": [aws_rule()]}, {
        "RuleArn": RULE, "Conditions": ANY, "Actions": [{"Type": "forward", "TargetGroupArn": TG, "Order": 1}]})
    stubber.add_response("remove_tags", {}, {"ResourceArns": [RULE], "TagKeys": [lr.SECRET_TAG]})
    described_at_exit(stubber, aws_rule(), OWNED)
    result = run(aws, actions=[FORWARD])
    assert result["changed"]
    assert result["diff"]["before"]["actions"][0]["client_secret"] == ra.SECRET_HIDDEN
    assert lr.SECRET_TAG not in result["diff"]["after"]["tags"]


def test_a_secret_described_back_is_never_returned(aws):
    """AWS never returns ClientSecret; were it ever to, the result still leaves it out."""
    leaky = {**OIDC_DESCRIBED, "AuthenticateOidcConfig": {**OIDC_DESCRIBED["AuthenticateOidcConfig"],
                                                          "ClientSecret": SECRET}}
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule(leaky)], {RULE: hashed()})
    result = run(aws, actions=[OIDC, FORWARD])
    assert result["changed"] is False
    assert result["rule"]["actions"][0]["authenticate_oidc_config"]["client_id"] == "pocstack"
    secret_absent(result)


def test_extra_params_names_are_returned_as_given(aws):
    params_given = {"prompt": "login", "AcrValues": "mfa"}
    described = {**OIDC_DESCRIBED, "AuthenticateOidcConfig": {**OIDC_DESCRIBED["AuthenticateOidcConfig"],
                                                              "AuthenticationRequestExtraParams": params_given}}
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule(described)], {RULE: hashed()})
    result = run(aws, actions=[{**OIDC, "authentication_request_extra_params": params_given}, FORWARD])
    assert result["changed"] is False
    extra = result["rule"]["actions"][0]["authenticate_oidc_config"]["authentication_request_extra_params"]
    assert extra == params_given


def test_delete_of_an_oidc_rule_shows_no_secret(aws):
    _client, stubber = aws
    listener_has(stubber, [default_rule(), oidc_rule()], {RULE: hashed()}, present=False)
    stubber.add_response("delete_rule", {}, {"RuleArn": RULE})
    result = run(aws, state="absent", conditions=None, actions=None, priority=None)
    assert result["changed"]
    assert result["diff"]["before"]["actions"][0]["client_secret"] == ra.SECRET_HIDDEN
    assert result["diff"]["before"]["tags"][lr.SECRET_TAG] == lr.SECRET_TAG_SHOWN
