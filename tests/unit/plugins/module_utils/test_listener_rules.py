"""Normalisation and comparison of listener rules (no AWS)."""
import re

import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr
from ansible_collections.pocstack.aws.plugins.module_utils import rule_actions as ra

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


# how DescribeRules returns a single-target forward
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
        {"type": "forward", "target_group_arn": TG},
        {"Type": "forward", "TargetGroupArn": TG},
        AWS_FORWARD,  # how DescribeRules returns a single-target forward
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}]}},
    ],
)
def test_forward_forms_are_equal(action):
    assert ra.normalize_action(action) == {"type": "forward", "target_group_arn": TG}


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
        ({"actions": [{"type": "rewrite"}]}, "type 'rewrite' is not supported; allowed: authenticate-cognito, "
                                             "authenticate-oidc, fixed-response, forward, redirect"),
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
    aws = {"Conditions": lr.to_aws_conditions(want["conditions"]), "Actions": ra.to_aws_actions(want["actions"]), "Priority": "10"}
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
    assert lr.holder(rules, {}, 10, except_arn="arn:rule/1") is None
    assert lr.holder(rules, {}, 10) == "rule arn:rule/1 (owner: not managed by this module)"


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
        ({"actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG}, {"TargetGroupArn": TG}]}}]},
         "forward names a target group twice"),
        ({"actions": [{"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG}], "TargetGroupStickinessConfig": {"Enabled": True}}}]},
         "forward stickiness needs duration_seconds"),
        ({"actions": [{"type": "forward", "target_group_arn": ""}]}, "a forward action needs target_group_arn"),
        ({"actions": ["forward"]}, "each action must be a dict"),
        ({"priority": None, "conditions": [{"field": "host-header", "values": ["a", "b", "c"]},
                                           {"field": "path-pattern", "values": ["/1", "/2", "/3"]}]},
         "6 condition values given; a rule allows at most 5"),
    ],
    ids=["no-conditions", "conditions-none", "actions-none", "same-group-twice", "sticky-no-duration", "empty-arn", "not-a-dict",
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


# --- what AWS rejects in conditions, refused before any call ----------------------

def _desired_with(condition):
    return lr.desired_rule(10, [condition], [{"type": "forward", "target_group_arn": TG}])


@pytest.mark.parametrize(
    "condition, message",
    [
        ({"field": "path-pattern", "values": ["/" + "a" * 128]},
         "conditions: path-pattern value '/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'... is 129 characters long; "
         "AWS allows at most 128"),
        ({"field": "path-pattern", "values": ["/api/[a-z]*"]},
         "conditions: path-pattern value '/api/[a-z]*' has characters AWS rejects ('[' ']'); allowed: "
         "A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & and the wildcards * and ?"),
        ({"field": "path-pattern", "values": ["/my docs"]}, "has characters AWS rejects (' ')"),
        ({"field": "path-pattern", "values": ["/a%20b"]}, "has characters AWS rejects ('%')"),
        ({"field": "path-pattern", "values": ["/a{1,2}"]}, "has characters AWS rejects (',' '{' '}')"),
        ({"field": "host-header", "values": ["h" * 126 + ".com"]}, "conditions: host-header value"),
        ({"field": "host-header", "values": ["app_1.example.com/x"]},
         "conditions: host-header value 'app_1.example.com/x' has characters AWS rejects ('/'); allowed: "
         "A-Z a-z 0-9 - _ . and the wildcards * and ?"),
        ({"field": "host-header", "values": ["localhost"]},
         "conditions: host-header value 'localhost' must contain a '.' and end in letters"),
        ({"field": "host-header", "values": ["example."]}, "host-header value 'example.' must contain a '.'"),
        ({"field": "host-header", "values": ["example.c-m"]}, "host-header value 'example.c-m' must contain a '.'"),
        ({"field": "http-header", "name": "X Env", "values": ["1"]},
         "conditions: http-header name 'x env' has characters AWS rejects (' ')"),
        ({"field": "http-header", "name": "X-" + "a" * 39, "values": ["1"]},
         "is 41 characters long; AWS allows at most 40"),
        ({"field": "http-header", "name": "X-Env", "values": ["caf\u00e9"]},
         "conditions: http-header value 'caf\u00e9' has characters AWS rejects ('\u00e9'); allowed: printable ASCII"),
        ({"field": "http-header", "name": "X-Env", "values": ["v" * 129]}, "AWS allows at most 128"),
        ({"field": "http-request-method", "values": ["GET/POST"]},
         "conditions: http-request-method value 'GET/POST' has characters AWS rejects ('/'); allowed: A-Z _ -"),
        ({"field": "http-request-method", "values": ["A" * 41]}, "is 41 characters long; AWS allows at most 40"),
        ({"field": "query-string", "values": [{"key": "a b", "value": "1"}]},
         "conditions: query-string key 'a b' has characters AWS rejects (' ')"),
        ({"field": "query-string", "values": [{"key": "a", "value": "<x>"}]},
         "conditions: query-string value '<x>' has characters AWS rejects ('<' '>')"),
        ({"field": "query-string", "values": ["v=" + "1" * 129]}, "query-string value"),
        ({"field": "source-ip", "values": ["10.0.0.1"]},
         "conditions: source-ip value '10.0.0.1' is not a CIDR block; allowed: an IPv4 or IPv6 CIDR"),
        ({"field": "source-ip", "values": ["10.0.0.0/33"]}, "source-ip value '10.0.0.0/33' is not a CIDR block"),
        ({"field": "source-ip", "values": ["office"]}, "source-ip value 'office' is not a CIDR block"),
    ],
    ids=["path-long", "path-brackets", "path-space", "path-percent", "path-braces", "host-long", "host-slash",
         "host-no-dot", "host-trailing-dot", "host-tld-dash", "header-name-space", "header-name-long",
         "header-value-non-ascii", "header-value-long", "method-slash", "method-long", "query-key", "query-value",
         "query-long", "ip-no-mask", "ip-bad-mask", "ip-name"],
)
def test_condition_values_aws_rejects(condition, message):
    with pytest.raises(lr.RuleError, match=re.escape(message)):
        _desired_with(condition)


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "path-pattern", "values": ["/api/v?/*", "/~user/$x", "/a-b_c.d", "/@me:+&\"'"]},
        {"field": "path-pattern", "values": ["*"]},
        {"field": "path-pattern", "values": ["/" + "a" * 127]},
        {"field": "host-header", "values": ["*.example.com", "app-1.example.co?"]},
        {"field": "http-header", "name": "X-Forwarded-For!#$%&'+.^_`|~*?", "values": ["a b (c) [d] {e} <f>"]},
        {"field": "http-request-method", "values": ["get", "PATCH", "MY_VERB-2"[:8]]},
        {"field": "query-string", "values": [{"key": "q", "value": "(a),b;c=d!"}, "*beta*"]},
        {"field": "source-ip", "values": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1/32"]},
    ],
    ids=["path", "path-star", "path-128", "host", "header", "method", "query", "source-ip"],
)
def test_condition_values_aws_accepts(condition):
    assert _desired_with(condition)["conditions"]


SECRET = {lr.SECRET_TAG: "pbkdf2-sha256:1000:c2FsdA==:aGFzaA=="}


@pytest.mark.parametrize(
    "current, tags, secret_hash, to_set, to_unset, after",
    [
        # kept as it is
        ({**OWNER, **SECRET}, None, lr.KEEP_SECRET_TAG, {}, [], {**OWNER, **SECRET}),
        # purge_tags never removes it
        ({**OWNER, **SECRET, "old": "1"}, {}, lr.KEEP_SECRET_TAG, {}, ["old"], {**OWNER, **SECRET}),
        # a new hash replaces it
        ({**OWNER, **SECRET}, None, "new", {lr.SECRET_TAG: "new"}, [], {**OWNER, lr.SECRET_TAG: "new"}),
        # set on a rule without one
        (OWNER, {}, "new", {lr.SECRET_TAG: "new"}, [], {**OWNER, lr.SECRET_TAG: "new"}),
        # removed (no OIDC action any more, or client_secret_update is not on_change)
        ({**OWNER, **SECRET}, None, None, {}, [lr.SECRET_TAG], OWNER),
        ({**OWNER, **SECRET}, {"team": "a"}, None, {"team": "a"}, [lr.SECRET_TAG], {**OWNER, "team": "a"}),
        # nothing to remove
        (OWNER, None, None, {}, [], OWNER),
    ],
    ids=["keep", "purge-keeps-it", "replace", "set", "remove", "remove-and-tag", "absent"],
)
def test_secret_hash_tag_changes(current, tags, secret_hash, to_set, to_unset, after):
    assert lr.tag_changes(current, "plotly", tags, True, secret_hash) == (to_set, to_unset, after)


def test_secret_hash_tag_cannot_be_set_by_the_user():
    with pytest.raises(lr.RuleError, match="tags: pocstack:client-secret-hash is kept by this module"):
        lr.wanted_tags("plotly", {lr.SECRET_TAG: "x"})


def test_shown_tags_hide_the_secret_hash_and_are_sorted():
    shown = lr.shown_tags({"z": "1", **SECRET, **OWNER})
    assert shown == {lr.OWNER_TAG: "plotly", lr.SECRET_TAG: "<salted hash of client_secret>", "z": "1"}
    assert list(shown) == sorted(shown)


def test_rule_diff_masks_the_secret_and_its_hash():
    want = lr.desired_rule(10, [{"field": "path-pattern", "values": ["/*"]}], [
        {"type": "authenticate-oidc", "issuer": "https://i.example.com", "authorization_endpoint": "https://i.example.com/a",
         "token_endpoint": "https://i.example.com/t", "user_info_endpoint": "https://i.example.com/u",
         "client_id": "c", "client_secret": "s3cr3t"},
        {"type": "forward", "target_group_arn": TG},
    ])
    shown = lr.for_diff({**want, "tags": {**OWNER, **SECRET}}, ra.SECRET_SENT)
    assert "s3cr3t" not in repr(shown) and SECRET[lr.SECRET_TAG] not in repr(shown)
    assert shown["actions"][0]["client_secret"] == ra.SECRET_SENT
    assert list(shown) == ["priority", "conditions", "actions", "tags"]
    assert all(list(a) == sorted(a) for a in shown["actions"])


# --- when the OIDC client secret is sent -----------------------------------------

OIDC_ACTION = {"type": "authenticate-oidc", "issuer": "https://i.example.com", "authorization_endpoint": "https://i.example.com/a",
               "token_endpoint": "https://i.example.com/t", "user_info_endpoint": "https://i.example.com/u",
               "client_id": "c"}
FORWARD_ACTION = {"type": "forward", "target_group_arn": TG}


@pytest.fixture
def fast_hash(monkeypatch):
    monkeypatch.setattr(ra, "SECRET_HASH_ITERATIONS", 1000)


def _want(secret="s3cr3t", oidc=True):
    actions = ([{**OIDC_ACTION, "client_secret": secret}] if oidc else []) + [FORWARD_ACTION]
    return lr.desired_rule(10, [{"field": "path-pattern", "values": ["/*"]}], actions)


def _have(oidc=True):
    return {"actions": ra.normalize_actions(([OIDC_ACTION] if oidc else []) + [FORWARD_ACTION])}


KEEP, SENT, HIDDEN = lr.KEEP_SECRET_TAG, ra.SECRET_SENT, ra.SECRET_HIDDEN


@pytest.mark.parametrize(
    "mode, want, have, stored, send, tag, shown",
    [
        # creating the rule, or adding the action: always sent
        ("on_change", "s3cr3t", None, None, True, "hash", (None, SENT)),
        ("always", "s3cr3t", None, None, True, None, (None, SENT)),
        ("on_create", "s3cr3t", None, None, True, None, (None, SENT)),
        ("on_change", "s3cr3t", "forward", None, True, "hash", (None, SENT)),
        ("on_create", "s3cr3t", "forward", None, True, None, (None, SENT)),
        # the rule has the action
        ("on_change", "s3cr3t", "oidc", "same", False, KEEP, (HIDDEN, HIDDEN)),
        ("on_change", "s3cr3t", "oidc", "other", True, "hash", (HIDDEN, SENT)),
        ("on_change", "s3cr3t", "oidc", None, True, "hash", (HIDDEN, SENT)),
        ("always", "s3cr3t", "oidc", "same", True, None, (HIDDEN, SENT)),
        ("on_create", "s3cr3t", "oidc", "other", False, None, (HIDDEN, HIDDEN)),
        # no secret given: AWS keeps its own, the hash stays as it is
        ("on_change", None, "oidc", "same", False, KEEP, (HIDDEN, HIDDEN)),
        ("always", None, "oidc", None, False, KEEP, (HIDDEN, HIDDEN)),
        # no OIDC action wanted: no secret, no hash
        ("on_change", "-", "oidc", "same", False, None, (HIDDEN, None)),
        ("on_change", "-", None, None, False, None, (None, None)),
    ],
)
def test_secret_plan(fast_hash, mode, want, have, stored, send, tag, shown):
    desired = _want(oidc=False) if want == "-" else _want(secret=want)
    before = None if have is None else _have(oidc=have == "oidc")
    tags = {} if stored is None else {lr.SECRET_TAG: ra.hash_secret("s3cr3t" if stored == "same" else "old")}
    plan = lr.secret_plan(mode, desired, before, tags)
    assert plan.send == ("s3cr3t" if send else None)
    if tag == "hash":
        assert ra.secret_matches("s3cr3t", plan.tag) and plan.tag != tags.get(lr.SECRET_TAG)
    else:
        assert plan.tag is tag
    assert (plan.before, plan.after) == shown


@pytest.mark.parametrize("have", [None, "forward"])
def test_secret_plan_needs_the_secret_to_create_the_action(have):
    before = None if have is None else _have(oidc=False)
    with pytest.raises(lr.RuleError, match=r"actions: authenticate-oidc needs client_secret \(AuthenticateOidcConfig.ClientSecret\)"):
        lr.secret_plan("on_change", _want(secret=None), before, {})


# --- what AWS rejects given the listener -----------------------------------------

LISTENER = {"ListenerArn": "arn:listener/1", "Protocol": "HTTPS"}
LB = {"LoadBalancerName": "pocstack", "VpcId": "vpc-a"}


@pytest.mark.parametrize(
    "protocol, action, errors",
    [
        ("HTTPS", OIDC_ACTION, []),
        ("HTTP", OIDC_ACTION, ["actions: authenticate-oidc works only on HTTPS listeners; listener arn:listener/1 is HTTP"]),
        ("HTTP", {"type": "authenticate-cognito", "user_pool_arn": "arn:pool", "user_pool_client_id": "c",
                  "user_pool_domain": "d"},
         ["actions: authenticate-cognito works only on HTTPS listeners; listener arn:listener/1 is HTTP"]),
        ("HTTPS", {"type": "redirect", "protocol": "HTTP", "host": "x.example.com", "status_code": 301},
         ["actions: a redirect on an HTTPS listener cannot go to HTTP; use protocol HTTPS or #{protocol}"]),
        ("HTTP", {"type": "redirect", "protocol": "HTTPS", "status_code": 301}, []),
        ("HTTPS", {"type": "redirect", "host": "x.example.com", "status_code": 301}, []),
    ],
    ids=["oidc-https", "oidc-http", "cognito-http", "https-to-http", "http-to-https", "keep-protocol"],
)
def test_protocol_problems(protocol, action, errors):
    terminal = [] if action["type"] == "redirect" else [FORWARD_ACTION]
    actions = ra.normalize_actions([action] + terminal)
    assert lr.protocol_problems({**LISTENER, "Protocol": protocol}, actions) == errors


@pytest.mark.parametrize(
    "groups, errors, missing",
    [
        ({TG: {"TargetGroupName": "plotly", "VpcId": "vpc-a"}, TG2: {"TargetGroupName": "other", "VpcId": "vpc-a"}}, [], []),
        ({TG: {"TargetGroupName": "plotly", "VpcId": "vpc-a"}, TG2: {"TargetGroupName": "other", "VpcId": "vpc-b"}},
         [f"actions: target group other ({TG2}) is in vpc-b, but load balancer pocstack is in vpc-a; "
          "forward to a target group of vpc-a"], []),
        ({TG: {"TargetGroupName": "plotly", "VpcId": "vpc-a"}}, [],
         [f"actions: target group {TG2} does not exist; create it first or fix the target group ARN"]),
        ({TG: {"TargetGroupName": "plotly", "VpcId": "vpc-a"}, TG2: {"TargetGroupName": "fn", "TargetType": "lambda"}}, [], []),
    ],
    ids=["same-vpc", "other-vpc", "missing", "lambda"],
)
def test_target_group_problems(groups, errors, missing):
    actions = ra.normalize_actions([{"type": "forward", "target_groups": [{"target_group_arn": TG, "weight": 9},
                                                                          {"target_group_arn": TG2, "weight": 1}]}])
    assert lr.target_group_problems(LB, actions, groups) == (errors, missing)


def test_target_groups_known_to_the_listener_are_not_checked():
    actions = ra.normalize_actions([{"type": "forward", "target_groups": [{"target_group_arn": TG, "weight": 9},
                                                                          {"target_group_arn": TG2, "weight": 1}]}])
    other_vpc = {TG2: {"TargetGroupName": "other", "VpcId": "vpc-b"}}
    assert lr.target_group_problems(LB, actions, other_vpc, known={TG}) == (
        [f"actions: target group other ({TG2}) is in vpc-b, but load balancer pocstack is in vpc-a; "
         "forward to a target group of vpc-a"], [])
    assert lr.target_group_problems(LB, actions, {}, known={TG, TG2}) == ([], [])


def test_forwarded_to_names_plain_and_weighted_targets_of_every_rule():
    tg3 = TG2.replace("other-80", "third-80")
    rules = [
        {"RuleArn": "r1", "IsDefault": False, "Actions": [
            {"Type": "authenticate-oidc", "AuthenticateOidcConfig": {"Issuer": "https://idp.example.com"}},
            {"Type": "forward", "TargetGroupArn": TG,
             "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}]}}]},
        {"RuleArn": "r2", "IsDefault": False, "Actions": [
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG2, "Weight": 0}]}}]},
        {"RuleArn": "r3", "IsDefault": False, "Actions": [
            {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}]},
        {"RuleArn": "default", "IsDefault": True, "Actions": [{"Type": "forward", "TargetGroupArn": tg3}]},
    ]
    assert lr.forwarded_to(rules) == {TG, TG2, tg3}
    assert lr.forwarded_to([]) == set()
