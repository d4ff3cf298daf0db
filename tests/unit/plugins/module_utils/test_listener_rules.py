"""Normalisation and comparison of listener rules (no AWS)."""
import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/abc"
TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other-80/def"


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "path-pattern", "values": ["/b*", "/a*"]},
        {"field": "path_pattern", "values": ["/a*", "/b*"]},
        {"path_pattern": ["/a*", "/b*"]},
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a*", "/b*"]}},
        {"Field": "path-pattern", "Values": ["/b*", "/a*"]},
        {"Field": "path-pattern", "Values": ["/a*", "/b*"], "PathPatternConfig": {"Values": ["/a*", "/b*"]}},
    ],
)
def test_path_pattern_forms_are_equal(condition):
    assert lr.normalize_condition(condition) == ("path-pattern", "", ("/a*", "/b*"))


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "host-header", "values": ["Plotly.Example.COM"]},
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["plotly.example.com"]}},
        {"host_header": "PLOTLY.example.com"},
    ],
)
def test_host_header_is_case_insensitive(condition):
    assert lr.normalize_condition(condition) == ("host-header", "", ("plotly.example.com",))


def test_path_pattern_keeps_case():
    assert lr.normalize_condition({"field": "path-pattern", "values": ["/Dash*"]}) == ("path-pattern", "", ("/Dash*",))


def test_conditions_order_does_not_matter():
    a = [{"field": "host-header", "values": ["a.example.com"]}, {"field": "path-pattern", "values": ["/x"]}]
    assert lr.normalize_conditions(a) == lr.normalize_conditions(list(reversed(a)))


def test_duplicate_values_collapse():
    assert lr.normalize_conditions([{"field": "path-pattern", "values": ["/x", "/x"]}]) == [("path-pattern", "", ("/x",))]


@pytest.mark.parametrize(
    "action",
    [
        {"type": "forward", "target_group_arn": TG},
        {"Type": "forward", "TargetGroupArn": TG},
        # how DescribeRules returns a single-target forward
        {
            "Type": "forward",
            "TargetGroupArn": TG,
            "Order": 1,
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}],
                "TargetGroupStickinessConfig": {"Enabled": False},
            },
        },
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}]}},
    ],
)
def test_forward_forms_are_equal(action):
    assert lr.normalize_action(action) == {"type": "forward", "target_group_arn": TG}


def described(priority="10", paths=("/*",), tg=TG):
    return {
        "RuleArn": "arn:rule/1",
        "Priority": priority,
        "IsDefault": False,
        "Conditions": [{"Field": "path-pattern", "Values": list(paths), "PathPatternConfig": {"Values": list(paths)}}],
        "Actions": [{"Type": "forward", "TargetGroupArn": tg, "Order": 1}],
    }


def desired(priority=10, paths=("/*",), tg=TG):
    return lr.desired_rule(
        priority,
        [{"field": "path-pattern", "values": list(paths)}],
        [{"type": "forward", "target_group_arn": tg}],
    )


def test_same_rule_has_no_differences():
    assert lr.rule_differences(desired(), lr.current_rule(described())) == []


@pytest.mark.parametrize(
    "want, changed",
    [
        (desired(priority=11), ["priority"]),
        (desired(paths=("/dash*",)), ["conditions"]),
        (desired(tg=TG2), ["actions"]),
        (desired(priority=5, paths=("/a",), tg=TG2), ["actions", "conditions", "priority"]),
    ],
)
def test_differences_are_detected(want, changed):
    assert lr.rule_differences(want, lr.current_rule(described())) == changed


def test_extra_condition_is_a_difference():
    want = lr.desired_rule(
        10,
        [{"field": "path-pattern", "values": ["/*"]}, {"field": "host-header", "values": ["a.example.com"]}],
        [{"type": "forward", "target_group_arn": TG}],
    )
    assert lr.rule_differences(want, lr.current_rule(described())) == ["conditions"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"priority": 0}, "priority: 0 is out of range; allowed: 1-50000"),
        ({"priority": 50001}, "priority: 50001 is out of range; allowed: 1-50000"),
        ({"priority": "high"}, "priority: 'high' is not a number"),
        ({"conditions": [{"field": "source-port", "values": ["1"]}]},
         "field 'source-port' is not supported; allowed: host-header, http-header, http-request-method, path-pattern, query-string, source-ip"),
        ({"conditions": [{"field": "path-pattern", "values": []}]}, "path-pattern needs at least one value"),
        ({"conditions": [{"field": "path-pattern", "values": ["/1", "/2", "/3", "/4", "/5", "/6"]}]}, "6 condition values given; a rule allows at most 5"),
        ({"actions": []}, "at least one action is required"),
        ({"actions": [{"type": "redirect"}]}, "type 'redirect' is not supported; allowed: forward"),
        ({"actions": [{"type": "forward"}]}, "a forward action needs target_group_arn"),
    ],
)
def test_invalid_input_names_the_option(kwargs, message):
    args = {
        "priority": 10,
        "conditions": [{"field": "path-pattern", "values": ["/*"]}],
        "actions": [{"type": "forward", "target_group_arn": TG}],
        **kwargs,
    }
    with pytest.raises(lr.RuleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lr.desired_rule(**args)


def test_aws_form_round_trips():
    want = desired(paths=("/b", "/a"))
    aws = {"Conditions": lr.to_aws_conditions(want["conditions"]), "Actions": lr.to_aws_actions(want["actions"]), "Priority": "10"}
    assert lr.rule_differences(want, lr.current_rule(aws)) == []


def test_find_owned_by_tag_even_after_priority_change():
    rules = [described(priority="99")]
    rule, adopt = lr.find_owned(rules, {"arn:rule/1": {lr.OWNER_TAG: "plotly"}}, "plotly", desired(paths=("/x",))["conditions"])
    assert rule is rules[0] and adopt is False


def test_find_owned_adopts_untagged_rule_with_same_conditions():
    rules = [described()]
    rule, adopt = lr.find_owned(rules, {}, "plotly", desired()["conditions"])
    assert rule is rules[0] and adopt is True


def test_never_takes_a_rule_owned_by_another_name():
    rules = [described()]
    rule, _adopt = lr.find_owned(rules, {"arn:rule/1": {lr.OWNER_TAG: "grafana"}}, "plotly", desired()["conditions"])
    assert rule is None


def test_never_takes_the_default_rule():
    default = {"RuleArn": "arn:rule/default", "Priority": "default", "IsDefault": True, "Conditions": [], "Actions": []}
    rule, _adopt = lr.find_owned([default], {}, "plotly", [])
    assert rule is None


def test_priority_conflict_ignores_the_rule_itself():
    rules = [described(priority="10")]
    assert lr.rule_using_priority(rules, 10, except_arn="arn:rule/1") is None
    assert lr.rule_using_priority(rules, 10) is rules[0]


def test_diff_is_sorted_plain_data():
    out = lr.for_diff({**desired(paths=("/b", "/a")), "tags": {"z": "1", "a": "2"}})
    assert out["conditions"] == [{"field": "path-pattern", "values": ["/a", "/b"]}]
    assert list(out["tags"]) == ["a", "z"]


@pytest.mark.parametrize(
    "friendly, aws",
    [
        ({"field": "http-header", "name": "X-Env", "values": ["canary"]},
         {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "x-env", "Values": ["canary"]}}),
        ({"field": "http_request_method", "values": ["get", "Head"]},
         {"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["HEAD", "GET"]}}),
        ({"field": "query-string", "values": [{"key": "v", "value": "2"}, "beta"]},
         {"Field": "query-string", "QueryStringConfig": {"Values": [{"Value": "beta"}, {"Key": "v", "Value": "2"}]}}),
        ({"field": "source-ip", "values": ["10.0.0.0/8", "192.0.2.0/24"]},
         {"Field": "source-ip", "SourceIpConfig": {"Values": ["192.0.2.0/24", "10.0.0.0/8"]}}),
    ],
    ids=["http-header", "method", "query-string", "source-ip"],
)
def test_more_condition_fields_friendly_equals_aws(friendly, aws):
    assert lr.normalize_condition(friendly) == lr.normalize_condition(aws)
    # and what we send reads back the same
    canonical = lr.normalize_conditions([friendly])
    assert lr.normalize_conditions(lr.to_aws_conditions(canonical)) == canonical


def test_headers_with_different_names_are_different_conditions():
    conditions = lr.normalize_conditions([
        {"field": "http-header", "name": "X-A", "values": ["1"]},
        {"field": "http-header", "name": "x-b", "values": ["1"]},
    ])
    assert [(f, q) for f, q, _values in conditions] == [("http-header", "x-a"), ("http-header", "x-b")]


@pytest.mark.parametrize(
    "condition, message",
    [
        ({"field": "http-header", "values": ["1"]}, "an http-header condition needs name"),
        ({"field": "query-string", "values": [{"key": "a"}]}, "query-string values need a value"),
        ({"field": "query-string", "values": [3]}, "query-string values must be {key, value} dicts or 'key=value' strings"),
        ({"Field": "path-pattern", "Other": 1}, "path-pattern needs at least one value"),
        ("/x", "each condition must be a dict"),
        ({"a": 1, "b": 2}, "cannot read condition"),
    ],
)
def test_condition_errors(condition, message):
    with pytest.raises(lr.RuleError, match=message.replace("{", "\\{").replace("}", "\\}")):
        lr.normalize_conditions([condition])


# --- rules as AWS describes them, whatever is on them -------------------------

AWS_FORWARD = {
    "Type": "forward",
    "TargetGroupArn": TG,
    "Order": 1,
    "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}],
        "TargetGroupStickinessConfig": {"Enabled": False},
    },
}


@pytest.mark.parametrize(
    "action",
    [
        AWS_FORWARD,
        {"Type": "forward", "TargetGroupArn": TG},
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}]}},
        {"Type": "forward", "Order": 7, "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG}]}},
    ],
    ids=["describe-output", "legacy", "forward-config", "order-ignored"],
)
def test_described_single_forward_equals_desired(action):
    want = desired()
    have = lr.current_rule({**described(), "Actions": [action]})
    assert lr.rule_differences(want, have) == []


@pytest.mark.parametrize(
    "action",
    [
        {"Type": "redirect", "Order": 1, "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}},
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}},
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}, {"TargetGroupArn": TG2, "Weight": 1}]}},
        {**AWS_FORWARD, "ForwardConfig": {**AWS_FORWARD["ForwardConfig"], "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 60}}},
    ],
    ids=["redirect", "fixed-response", "weighted", "sticky"],
)
def test_other_actions_on_an_owned_rule_are_differences_not_errors(action):
    have = lr.current_rule({**described(), "Actions": [action]})
    assert lr.rule_differences(desired(), have) == ["actions"]
    assert lr.for_diff(have)["actions"][0]["type"] == action["Type"]


def test_unknown_described_condition_is_a_difference_not_an_error():
    rule = {**described(), "Conditions": [{"Field": "future-field", "FutureConfig": {"Values": ["x"]}}]}
    have = lr.current_rule(rule)
    assert lr.rule_differences(desired(), have) == ["conditions"]


def test_described_legacy_and_config_values_are_one_condition():
    rule = {**described(), "Conditions": [{"Field": "host-header", "Values": ["A.example.com"],
                                           "HostHeaderConfig": {"Values": ["A.example.com"]}}]}
    want = lr.desired_rule(10, [{"field": "host-header", "values": ["a.EXAMPLE.com"]}],
                           [{"type": "forward", "target_group_arn": TG}])
    assert lr.rule_differences(want, lr.current_rule(rule)) == []


def test_default_rule_has_no_priority():
    assert lr.current_rule({"Priority": "default", "Conditions": [], "Actions": []})["priority"] is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"conditions": []}, "conditions: at least one condition is required when state=present; allowed fields: host-header"),
        ({"conditions": None}, "conditions: at least one condition is required"),
        ({"actions": None}, "at least one action is required"),
        ({"actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG}, {"TargetGroupArn": TG2}]}}]},
         "a forward action goes to one target group"),
        ({"actions": [{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG}], "TargetGroupStickinessConfig": {"Enabled": True}}}]},
         "target group stickiness is not supported"),
        ({"actions": [{"type": "forward", "target_group_arn": ""}]}, "a forward action needs target_group_arn"),
        ({"actions": ["forward"]}, "each action must be a dict"),
        ({"priority": None, "conditions": [{"field": "host-header", "values": ["a", "b", "c"]},
                                           {"field": "path-pattern", "values": ["/1", "/2", "/3"]}]},
         "6 condition values given; a rule allows at most 5"),
    ],
    ids=["no-conditions", "conditions-none", "actions-none", "weighted", "sticky", "empty-arn", "not-a-dict",
         "six-values-in-two-conditions"],
)
def test_more_invalid_input(kwargs, message):
    args = {
        "priority": 10,
        "conditions": [{"field": "path-pattern", "values": ["/*"]}],
        "actions": [{"type": "forward", "target_group_arn": TG}],
        **kwargs,
    }
    with pytest.raises(lr.RuleError, match=message):
        lr.desired_rule(**args)


def test_friendly_and_raw_forms_make_the_same_rule():
    friendly = lr.desired_rule(
        10,
        [{"field": "host-header", "values": ["B.example.com", "a.example.com"]}, {"path_pattern": ["/x"]}],
        [{"type": "forward", "target_group_arn": TG}],
    )
    raw = lr.desired_rule(
        10,
        [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/x"]}},
         {"Field": "host-header", "HostHeaderConfig": {"Values": ["a.example.com", "b.example.com"]}}],
        [{"Type": "forward", "TargetGroupArn": TG, "Order": 3}],
    )
    assert friendly == raw


# --- tags ------------------------------------------------------------------------

OWNER = {lr.OWNER_TAG: "plotly"}


@pytest.mark.parametrize(
    "current, tags, purge, to_set, to_unset, after",
    [
        # nothing on the rule yet: owner tag and the user's tags
        ({}, {"team": "data"}, True, {lr.OWNER_TAG: "plotly", "team": "data"}, [], {lr.OWNER_TAG: "plotly", "team": "data"}),
        # already right
        ({**OWNER, "team": "data"}, {"team": "data"}, True, {}, [], {**OWNER, "team": "data"}),
        # changed value
        ({**OWNER, "team": "data"}, {"team": "web"}, True, {"team": "web"}, [], {**OWNER, "team": "web"}),
        # purge removes extras, never the owner tag nor aws:*
        ({**OWNER, "old": "1", "aws:cloudformation:stack-name": "s"}, {}, True, {}, ["old"],
         {**OWNER, "aws:cloudformation:stack-name": "s"}),
        # no purge keeps extras
        ({**OWNER, "old": "1"}, {"new": "2"}, False, {"new": "2"}, [], {**OWNER, "old": "1", "new": "2"}),
        # tags not given: user tags untouched even with purge_tags (amazon.aws semantics)
        ({**OWNER, "old": "1"}, None, True, {}, [], {**OWNER, "old": "1"}),
        # adoption of an untagged rule adds only the owner tag
        ({"old": "1"}, None, True, OWNER, [], {**OWNER, "old": "1"}),
        # values compare as strings
        ({**OWNER, "n": "1"}, {"n": 1}, True, {}, [], {**OWNER, "n": "1"}),
    ],
    ids=["new", "same", "changed", "purge", "no-purge", "tags-none", "adopt", "int-value"],
)
def test_tag_changes(current, tags, purge, to_set, to_unset, after):
    assert lr.tag_changes(current, "plotly", tags, purge) == (to_set, to_unset, after)


def test_owner_tag_cannot_be_set_to_another_name():
    with pytest.raises(lr.RuleError, match="tags: pocstack:rule-name is set by this module from name"):
        lr.wanted_tags("plotly", {lr.OWNER_TAG: "grafana"})
    assert lr.wanted_tags("plotly", {lr.OWNER_TAG: "plotly"}) == OWNER


def test_adoption_ignores_rules_with_other_conditions():
    rules = [described(paths=("/other",))]
    rule, adopt = lr.find_owned(rules, {}, "plotly", desired()["conditions"])
    assert rule is None and adopt is False


def test_owner_tag_wins_over_adoption():
    untagged, owned = described(), {**described(paths=("/x",)), "RuleArn": "arn:rule/2"}
    rule, adopt = lr.find_owned([untagged, owned], {"arn:rule/2": OWNER}, "plotly", desired()["conditions"])
    assert rule is owned and adopt is False
