"""Listener rule actions: every type in the friendly form, the AWS form and as
DescribeRules returns it (defaults filled in, secret left out) compares equal;
every validation names the option and what is allowed (no AWS)."""
import re

import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import rule_actions as ra
from ansible_collections.pocstack.aws.plugins.module_utils.rule_actions import RuleError

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/abc"
TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/canary-8050/def"
TG3 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/third-8050/123"
POOL = "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abcdef"
IDP = "https://idp.example.com"

OIDC_FRIENDLY = {
    "type": "authenticate-oidc", "issuer": IDP, "authorization_endpoint": f"{IDP}/auth",
    "token_endpoint": f"{IDP}/token", "user_info_endpoint": f"{IDP}/userinfo", "client_id": "pocstack",
    "client_secret": "s3cr3t",
}
OIDC_AWS = {"Type": "authenticate-oidc", "AuthenticateOidcConfig": {
    "Issuer": IDP, "AuthorizationEndpoint": f"{IDP}/auth", "TokenEndpoint": f"{IDP}/token",
    "UserInfoEndpoint": f"{IDP}/userinfo", "ClientId": "pocstack", "ClientSecret": "s3cr3t"}}
# What DescribeRules returns for it: AWS's defaults, no secret.
OIDC_DESCRIBED = {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {
    "Issuer": IDP, "AuthorizationEndpoint": f"{IDP}/auth", "TokenEndpoint": f"{IDP}/token",
    "UserInfoEndpoint": f"{IDP}/userinfo", "ClientId": "pocstack", "SessionCookieName": "AWSELBAuthSessionCookie",
    "Scope": "openid", "SessionTimeout": 604800, "OnUnauthenticatedRequest": "authenticate"}}
COGNITO_FRIENDLY = {"type": "authenticate-cognito", "user_pool_arn": POOL, "user_pool_client_id": "client",
                    "user_pool_domain": "pocstack"}
COGNITO_AWS = {"Type": "authenticate-cognito", "AuthenticateCognitoConfig": {
    "UserPoolArn": POOL, "UserPoolClientId": "client", "UserPoolDomain": "pocstack"}}
COGNITO_DESCRIBED = {"Type": "authenticate-cognito", "Order": 1, "AuthenticateCognitoConfig": {
    "UserPoolArn": POOL, "UserPoolClientId": "client", "UserPoolDomain": "pocstack",
    "SessionCookieName": "AWSELBAuthSessionCookie", "Scope": "openid", "SessionTimeout": 604800,
    "OnUnauthenticatedRequest": "authenticate", "AuthenticationRequestExtraParams": {}}}

AUTH_DEFAULTS = {"session_cookie_name": "AWSELBAuthSessionCookie", "scope": "openid", "session_timeout": 604800,
                 "authentication_request_extra_params": {}, "on_unauthenticated_request": "authenticate"}

# (friendly, AWS form, as described, canonical) per action shape
SHAPES = {
    "forward": (
        {"type": "forward", "target_group_arn": TG},
        {"Type": "forward", "TargetGroupArn": TG},
        {"Type": "forward", "TargetGroupArn": TG, "Order": 1, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}], "TargetGroupStickinessConfig": {"Enabled": False}}},
        {"type": "forward", "target_group_arn": TG},
    ),
    "weighted": (
        {"type": "forward", "target_groups": [{"target_group_arn": TG, "weight": 90},
                                              {"target_group_arn": TG2, "weight": 10}]},
        {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG2, "Weight": 10},
                                                               {"TargetGroupArn": TG, "Weight": 90}]}},
        {"Type": "forward", "Order": 1, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG, "Weight": 90}, {"TargetGroupArn": TG2, "Weight": 10}],
            "TargetGroupStickinessConfig": {"Enabled": False}}},
        {"type": "forward", "stickiness": {"enabled": False}, "target_groups": [
            {"target_group_arn": TG2, "weight": 10}, {"target_group_arn": TG, "weight": 90}]},
    ),
    "sticky": (
        {"type": "forward", "target_groups": [{"target_group_arn": TG}, {"target_group_arn": TG2}],
         "stickiness": {"enabled": True, "duration_seconds": 3600}},
        {"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG}, {"TargetGroupArn": TG2}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600}}},
        {"Type": "forward", "Order": 1, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG2, "Weight": 1}, {"TargetGroupArn": TG, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600}}},
        {"type": "forward", "stickiness": {"enabled": True, "duration_seconds": 3600}, "target_groups": [
            {"target_group_arn": TG2, "weight": 1}, {"target_group_arn": TG, "weight": 1}]},
    ),
    "redirect": (
        {"type": "redirect", "protocol": "https", "port": 443, "status_code": 301},
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}},
        {"Type": "redirect", "Order": 1, "RedirectConfig": {
            "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
            "StatusCode": "HTTP_301"}},
        {"type": "redirect", "protocol": "HTTPS", "port": "443", "host": "#{host}", "path": "/#{path}",
         "query": "#{query}", "status_code": "HTTP_301"},
    ),
    "fixed-response": (
        {"type": "fixed-response", "status_code": 503, "content_type": "text/html", "message_body": "<h1>Later</h1>"},
        {"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "503", "ContentType": "text/html", "MessageBody": "<h1>Later</h1>"}},
        {"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {
            "StatusCode": "503", "ContentType": "text/html", "MessageBody": "<h1>Later</h1>"}},
        {"type": "fixed-response", "status_code": "503", "content_type": "text/html", "message_body": "<h1>Later</h1>"},
    ),
    "fixed-response-minimal": (
        {"type": "fixed-response", "status_code": "404"},
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}},
        {"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"}},
        {"type": "fixed-response", "status_code": "404", "content_type": "text/plain", "message_body": ""},
    ),
    "authenticate-oidc": (
        OIDC_FRIENDLY, OIDC_AWS, OIDC_DESCRIBED,
        {"type": "authenticate-oidc", "issuer": IDP, "authorization_endpoint": f"{IDP}/auth",
         "token_endpoint": f"{IDP}/token", "user_info_endpoint": f"{IDP}/userinfo", "client_id": "pocstack",
         **AUTH_DEFAULTS},
    ),
    "authenticate-cognito": (
        COGNITO_FRIENDLY, COGNITO_AWS, COGNITO_DESCRIBED,
        {"type": "authenticate-cognito", "user_pool_arn": POOL, "user_pool_client_id": "client",
         "user_pool_domain": "pocstack", **AUTH_DEFAULTS},
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("form", ["friendly", "aws"])
def test_given_form_normalises_to_canonical(shape, form):
    given = SHAPES[shape][0 if form == "friendly" else 1]
    assert ra.normalize_action(given) == SHAPES[shape][3]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_described_form_equals_what_was_asked(shape):
    friendly, _aws, described, _canonical = SHAPES[shape]
    assert ra.normalize_action(described, strict=False) == ra.normalize_action(friendly)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_what_is_sent_reads_back_equal(shape):
    """The AWS form this module sends, described back as is, compares equal."""
    canonical = ra.normalize_action(SHAPES[shape][0])
    sent = ra.to_aws_action(canonical, 1, secret="s3cr3t")
    sent.get("AuthenticateOidcConfig", {}).pop("ClientSecret", None)  # AWS never returns it
    assert ra.normalize_action(sent, strict=False) == canonical


@pytest.mark.parametrize(
    "shape, sent",
    [
        ("forward", {"Type": "forward", "Order": 1, "TargetGroupArn": TG}),
        ("weighted", {"Type": "forward", "Order": 1, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG2, "Weight": 10}, {"TargetGroupArn": TG, "Weight": 90}],
            "TargetGroupStickinessConfig": {"Enabled": False}}}),
        ("sticky", {"Type": "forward", "Order": 1, "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG2, "Weight": 1}, {"TargetGroupArn": TG, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 3600}}}),
        ("redirect", {"Type": "redirect", "Order": 1, "RedirectConfig": {
            "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
            "StatusCode": "HTTP_301"}}),
        ("fixed-response", {"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {
            "StatusCode": "503", "ContentType": "text/html", "MessageBody": "<h1>Later</h1>"}}),
        ("fixed-response-minimal", {"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {
            "StatusCode": "404", "ContentType": "text/plain"}}),
        ("authenticate-cognito", {"Type": "authenticate-cognito", "Order": 1, "AuthenticateCognitoConfig": {
            "UserPoolArn": POOL, "UserPoolClientId": "client", "UserPoolDomain": "pocstack",
            "SessionCookieName": "AWSELBAuthSessionCookie", "Scope": "openid", "SessionTimeout": 604800,
            "OnUnauthenticatedRequest": "authenticate"}}),
    ],
)
def test_aws_form_sent_is_explicit(shape, sent):
    """Every default is sent explicitly, so AWS stores exactly what was compared."""
    assert ra.to_aws_action(ra.normalize_action(SHAPES[shape][0]), 1) == sent


def test_oidc_sends_the_secret_or_asks_aws_to_keep_it():
    canonical = ra.normalize_action(OIDC_FRIENDLY)
    with_secret = ra.to_aws_action(canonical, 1, secret="s3cr3t")["AuthenticateOidcConfig"]
    kept = ra.to_aws_action(canonical, 1)["AuthenticateOidcConfig"]
    assert with_secret["ClientSecret"] == "s3cr3t" and "UseExistingClientSecret" not in with_secret
    assert kept["UseExistingClientSecret"] is True and "ClientSecret" not in kept


def test_canonical_oidc_action_never_holds_the_secret():
    for form in (OIDC_FRIENDLY, OIDC_AWS):
        assert "s3cr3t" not in repr(ra.normalize_action(form))
    assert "s3cr3t" not in repr(ra.normalize_action({**OIDC_DESCRIBED, "AuthenticateOidcConfig": {
        **OIDC_DESCRIBED["AuthenticateOidcConfig"], "ClientSecret": "s3cr3t"}}, strict=False))


SETTING_CHANGES = [
    ("authenticate-oidc", change) for change in (
        {"scope": "openid email"}, {"session_timeout": 3600}, {"session_cookie_name": "poc"},
        {"on_unauthenticated_request": "deny"}, {"authentication_request_extra_params": {"prompt": "login"}},
        {"client_id": "other"}, {"issuer": "https://other.example.com"}, {"user_info_endpoint": f"{IDP}/me"},
    )
] + [
    ("authenticate-cognito", change) for change in (
        {"user_pool_domain": "other"}, {"user_pool_client_id": "other"}, {"user_pool_arn": POOL + "2"},
        {"scope": "openid profile"}, {"on_unauthenticated_request": "allow"},
    )
] + [
    ("redirect", change) for change in (
        {"protocol": "HTTP"}, {"port": "8443"}, {"host": "new.example.com"}, {"path": "/new"}, {"query": ""},
        {"status_code": "HTTP_302"},
    )
] + [
    ("fixed-response", change) for change in (
        {"status_code": "500"}, {"content_type": "text/plain"}, {"message_body": "other"},
    )
] + [
    ("weighted", change) for change in (
        {"target_groups": [{"target_group_arn": TG, "weight": 80}, {"target_group_arn": TG2, "weight": 20}]},
        {"target_groups": [{"target_group_arn": TG, "weight": 90}, {"target_group_arn": TG3, "weight": 10}]},
        {"target_groups": [{"target_group_arn": TG, "weight": 90}, {"target_group_arn": TG2, "weight": 10},
                           {"target_group_arn": TG3, "weight": 0}]},
        {"stickiness": {"enabled": True, "duration_seconds": 60}},
    )
]


@pytest.mark.parametrize(
    "shape, change", SETTING_CHANGES,
    ids=[f"{shape}-{next(iter(change))}-{i}" for i, (shape, change) in enumerate(SETTING_CHANGES)],
)
def test_every_setting_is_compared(shape, change):
    friendly, _aws, described, _canonical = SHAPES[shape]
    assert ra.normalize_action({**friendly, **change}) != ra.normalize_action(described, strict=False)


def test_stickiness_duration_is_compared_only_when_enabled():
    sticky = SHAPES["sticky"][0]
    longer = {**sticky, "stickiness": {"enabled": True, "duration_seconds": 7200}}
    assert ra.normalize_action(longer) != ra.normalize_action(sticky)
    off = {**sticky, "stickiness": {"enabled": False, "duration_seconds": 7200}}
    assert ra.normalize_action(off) == ra.normalize_action({**sticky, "stickiness": {"enabled": False}})


@pytest.mark.parametrize("weight", [1, 5, 999])
def test_one_target_group_is_a_plain_forward_whatever_its_weight(weight):
    action = {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG, "Weight": weight}]}}
    assert ra.normalize_action(action) == {"type": "forward", "target_group_arn": TG}


@pytest.mark.parametrize(
    "given, expected",
    [
        ({"protocol": "http", "host": "x.example.com"}, {"protocol": "HTTP"}),
        ({"protocol": "#{protocol}", "port": "8443"}, {"port": "8443"}),
        ({"status_code": "302", "protocol": "HTTPS"}, {"status_code": "HTTP_302"}),
        ({"status_code": "http_301", "protocol": "HTTPS"}, {"status_code": "HTTP_301"}),
    ],
)
def test_redirect_values_are_normalised(given, expected):
    action = ra.normalize_action({"type": "redirect", "status_code": "HTTP_301", **given})
    assert {k: action[k] for k in expected} == expected


def test_fixed_response_content_type_is_case_insensitive():
    action = ra.normalize_action({"type": "fixed-response", "status_code": 200, "content_type": "Text/HTML"})
    assert action["content_type"] == "text/html"


# --- sequences ---------------------------------------------------------------

FORWARD = {"type": "forward", "target_group_arn": TG}
REDIRECT = {"type": "redirect", "protocol": "HTTPS", "status_code": "HTTP_301"}
FIXED = {"type": "fixed-response", "status_code": "503"}


@pytest.mark.parametrize(
    "actions, types",
    [
        ([OIDC_FRIENDLY, FORWARD], ["authenticate-oidc", "forward"]),
        ([COGNITO_FRIENDLY, FIXED], ["authenticate-cognito", "fixed-response"]),
        ([OIDC_FRIENDLY, REDIRECT], ["authenticate-oidc", "redirect"]),
        ([{**FORWARD, "order": 20}, {**OIDC_FRIENDLY, "order": 10}], ["authenticate-oidc", "forward"]),
        ([{**FORWARD, "Order": 2}, {**COGNITO_AWS, "Order": 1}], ["authenticate-cognito", "forward"]),
        ([FIXED], ["fixed-response"]),
    ],
    ids=["oidc-forward", "cognito-fixed", "oidc-redirect", "order-sorts", "aws-order-sorts", "single"],
)
def test_valid_sequences_keep_the_order_aws_performs(actions, types):
    assert [a["type"] for a in ra.normalize_actions(actions)] == types


def test_described_actions_are_sorted_by_order():
    described = [{**SHAPES["forward"][2], "Order": 2}, {**OIDC_DESCRIBED, "Order": 1}]
    assert [a["type"] for a in ra.current_actions(described)] == ["authenticate-oidc", "forward"]


def test_order_values_do_not_matter_only_their_sequence():
    low = ra.normalize_actions([{**OIDC_FRIENDLY, "order": 1}, {**FORWARD, "order": 2}])
    high = ra.normalize_actions([{**OIDC_FRIENDLY, "order": 100}, {**FORWARD, "order": 500}])
    assert low == high == ra.normalize_actions([OIDC_FRIENDLY, FORWARD])


def test_an_action_type_aws_adds_later_is_kept_as_described():
    jwt = {"Type": "jwt-validation", "Order": 1, "JwtValidationConfig": {"JwksEndpoint": "https://x", "Issuer": "y"}}
    assert ra.current_actions([jwt]) == [{"type": "jwt-validation", "aws": {"JwtValidationConfig": jwt["JwtValidationConfig"]}}]


def _message(text):
    return re.escape(text)


@pytest.mark.parametrize(
    "actions, message",
    [
        ([], "actions: at least one action is required when state=present"),
        ("forward", "actions: must be a list of actions"),
        (["forward"], "actions: each action must be a dict"),
        ([{"type": "jwt-validation"}], "actions: type 'jwt-validation' is not supported; allowed: authenticate-cognito, "
                                       "authenticate-oidc, fixed-response, forward, redirect"),
        ([{"Type": "lambda"}], "actions: type 'lambda' is not supported"),
        # sequences AWS rejects
        ([FORWARD, OIDC_FRIENDLY], "actions: forward must be the last action, but authenticate-oidc comes after it"),
        ([FIXED, COGNITO_FRIENDLY], "actions: fixed-response must be the last action, but authenticate-cognito comes"),
        ([FORWARD, REDIRECT], "actions: a rule has exactly one fixed-response, forward or redirect action, got 2: "
                              "forward, redirect"),
        ([FIXED, FIXED], "actions: a rule has exactly one fixed-response, forward or redirect action, got 2"),
        ([OIDC_FRIENDLY], "actions: the last action must be one of fixed-response, forward, redirect; got only "
                          "authenticate-oidc"),
        ([OIDC_FRIENDLY, COGNITO_FRIENDLY, FORWARD], "actions: a rule takes at most one authenticate-oidc or "
                                                     "authenticate-cognito action, got authenticate-oidc, "
                                                     "authenticate-cognito"),
        ([{**OIDC_FRIENDLY, "order": 1}, FORWARD], "actions: give order for every action or for none"),
        ([{**OIDC_FRIENDLY, "order": 1}, {**FORWARD, "order": 1}], "actions: every action needs its own order, got 1, 1"),
        ([{**FORWARD, "order": 0}], "actions: order must be from 1 to 50000, got 0"),
        ([{**FORWARD, "order": 50001}], "actions: order must be from 1 to 50000, got 50001"),
        ([{**FORWARD, "order": "first"}], "actions: order must be a whole number from 1 to 50000, got 'first'"),
    ],
    ids=["empty", "not-a-list", "not-a-dict", "jwt", "unknown", "forward-not-last", "fixed-not-last",
         "two-terminal", "two-fixed", "no-terminal", "two-authenticate", "order-partial", "order-duplicate",
         "order-low", "order-high", "order-text"],
)
def test_invalid_action_lists(actions, message):
    with pytest.raises(RuleError, match=_message(message)):
        ra.normalize_actions(actions)


def _weighted(n, weight=1):
    return {"type": "forward", "target_groups": [{"target_group_arn": f"{TG}{i}", "weight": weight} for i in range(n)]}


@pytest.mark.parametrize(
    "action, message",
    [
        # forward
        ({"type": "forward"}, "actions: a forward action needs target_group_arn, or target_groups with up to 5"),
        ({"type": "forward", "target_group_arn": ""}, "actions: a forward action needs target_group_arn"),
        (_weighted(6), "actions: a forward action goes to at most 5 target groups, got 6"),
        (_weighted(2, 1000), "actions: forward weight of " + TG + "0 must be from 0 to 999, got 1000"),
        (_weighted(2, -1), "must be from 0 to 999, got -1"),
        (_weighted(2, "heavy"), "must be a whole number from 0 to 999, got 'heavy'"),
        ({"type": "forward", "target_groups": [{"target_group_arn": TG}, {"target_group_arn": TG}]},
         "actions: forward names a target group twice: " + TG),
        ({"type": "forward", "target_groups": [{"weight": 1}]}, "actions: every forward target_groups entry needs "
                                                                "target_group_arn"),
        ({"type": "forward", "target_groups": ["x"]}, "actions: forward target_groups entries must be dicts"),
        ({"type": "forward", "target_group_arn": TG, "target_groups": [{"target_group_arn": TG2}]},
         "actions: forward takes target_group_arn (one target group) or target_groups (weighted), not both"),
        ({"type": "forward", "target_groups": [{"target_group_arn": TG}],
          "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": TG}]}},
         "actions: forward takes target_groups or ForwardConfig, not both"),
        ({**_weighted(2), "stickiness": {"enabled": True}},
         "actions: forward stickiness needs duration_seconds (1-604800) when enabled"),
        ({**_weighted(2), "stickiness": {"enabled": True, "duration_seconds": 0}},
         "actions: forward stickiness duration_seconds must be from 1 to 604800, got 0"),
        ({**_weighted(2), "stickiness": {"enabled": True, "duration_seconds": 604801}},
         "actions: forward stickiness duration_seconds must be from 1 to 604800, got 604801"),
        ({**_weighted(2), "stickiness": True}, "actions: forward stickiness must be a dict"),
        ({"type": "forward", "target_group_arn": TG, "status_code": "503"},
         "actions: status_code does not apply to forward; allowed for forward: stickiness, "
         "target_group_arn, target_groups (or the AWS form: ForwardConfig, TargetGroupArn)"),
        # redirect
        ({"type": "redirect", "protocol": "HTTPS"}, "actions: redirect needs status_code "
                                                    "(RedirectConfig.StatusCode in the AWS form)"),
        ({"type": "redirect", "protocol": "HTTPS", "status_code": "HTTP_307"},
         "actions: redirect status_code must be one of HTTP_301, HTTP_302, got 'HTTP_307'"),
        ({"type": "redirect", "protocol": "HTTPS", "status_code": 200},
         "actions: redirect status_code must be one of HTTP_301, HTTP_302, got '200'"),
        ({"type": "redirect", "protocol": "ftp", "status_code": 301},
         "actions: redirect protocol must be HTTP, HTTPS or #{protocol}, got 'ftp'"),
        ({"type": "redirect", "port": "0", "status_code": 301}, "actions: redirect port must be from 1 to 65535, got 0"),
        ({"type": "redirect", "port": "https", "status_code": 301},
         "actions: redirect port must be a whole number from 1 to 65535, got 'https'"),
        ({"type": "redirect", "path": "new", "status_code": 301}, "actions: redirect path must start with '/', got 'new'"),
        ({"type": "redirect", "path": "/" + "p" * 128, "status_code": 301},
         "actions: redirect path must be 1 to 128 characters, got 129"),
        ({"type": "redirect", "host": "h" * 129, "status_code": 301},
         "actions: redirect host must be 1 to 128 characters, got 129"),
        ({"type": "redirect", "protocol": "HTTPS", "query": "q" * 129, "status_code": 301},
         "actions: redirect query must be at most 128 characters, got 129"),
        ({"type": "redirect", "status_code": 301}, "actions: a redirect must change at least one of protocol, host, "
                                                   "port or path, or it redirects to itself"),
        ({"type": "redirect", "status_code": 301, "query": "a=1"}, "or it redirects to itself"),
        ({"type": "redirect", "status_code": 301, "message_body": "x"}, "actions: message_body does not apply to "
                                                                        "redirect"),
        ({"type": "redirect", "status_code": 301, "RedirectConfig": {"Protocol": "HTTPS"}},
         "actions: redirect takes the friendly options (status_code) or RedirectConfig, not both"),
        ({"type": "redirect", "RedirectConfig": "HTTPS"}, "actions: RedirectConfig must be a dict"),
        # fixed-response
        ({"type": "fixed-response"}, "actions: fixed-response needs status_code"),
        ({"type": "fixed-response", "status_code": "302"},
         "actions: fixed-response status_code must be a 2XX, 4XX or 5XX code, got '302'"),
        ({"type": "fixed-response", "status_code": "5000"}, "must be a 2XX, 4XX or 5XX code, got '5000'"),
        ({"type": "fixed-response", "status_code": "abc"}, "must be a 2XX, 4XX or 5XX code, got 'abc'"),
        ({"type": "fixed-response", "status_code": "503", "content_type": "image/png"},
         "actions: fixed-response content_type must be one of application/javascript, application/json, "
         "text/css, text/html, text/plain, got 'image/png'"),
        ({"type": "fixed-response", "status_code": "503", "message_body": "x" * 1025},
         "actions: fixed-response message_body must be at most 1024 characters, got 1025"),
        ({"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503", "ContentType": "text/xml"}},
         "fixed-response content_type must be one of"),
        # authenticate-*
        ({**OIDC_FRIENDLY, "issuer": None}, "actions: authenticate-oidc needs issuer "
                                            "(AuthenticateOidcConfig.Issuer in the AWS form)"),
        ({**OIDC_FRIENDLY, "client_id": None}, "actions: authenticate-oidc needs client_id"),
        ({**OIDC_FRIENDLY, "token_endpoint": "http://idp.example.com/token"},
         "actions: authenticate-oidc token_endpoint must be an https:// URL, got 'http://idp.example.com/token'"),
        ({**OIDC_FRIENDLY, "session_timeout": 0}, "actions: authenticate-oidc session_timeout must be from 1 to "
                                                  "604800, got 0"),
        ({**OIDC_FRIENDLY, "session_timeout": 604801}, "session_timeout must be from 1 to 604800, got 604801"),
        ({**OIDC_FRIENDLY, "on_unauthenticated_request": "redirect"},
         "actions: authenticate-oidc on_unauthenticated_request must be one of allow, authenticate, deny, "
         "got 'redirect'"),
        ({**OIDC_FRIENDLY, "authentication_request_extra_params": ["prompt=login"]},
         "actions: authenticate-oidc authentication_request_extra_params must be a dict of strings"),
        ({**OIDC_FRIENDLY, "target_group_arn": TG}, "actions: target_group_arn does not apply to "
                                                    "authenticate-oidc;"),
        ({**COGNITO_FRIENDLY, "user_pool_domain": None}, "actions: authenticate-cognito needs user_pool_domain"),
        ({**COGNITO_FRIENDLY, "client_secret": "x"}, "actions: client_secret does not apply to "
                                                     "authenticate-cognito;"),
        ({**COGNITO_FRIENDLY, "session_timeout": "long"},
         "actions: authenticate-cognito session_timeout must be a whole number from 1 to 604800, got 'long'"),
    ],
    ids=lambda v: None,
)
def test_invalid_actions(action, message):
    actions = [action] if action["type" if "type" in action else "Type"] in ("forward", "redirect", "fixed-response") \
        else [action, FORWARD]
    with pytest.raises(RuleError, match=_message(message)):
        ra.normalize_actions(actions)


@pytest.mark.parametrize(
    "actions, secret, keep",
    [
        ([OIDC_FRIENDLY, FORWARD], "s3cr3t", False),
        ([OIDC_AWS, FORWARD], "s3cr3t", False),
        ([{**OIDC_FRIENDLY, "client_secret": None}, FORWARD], None, False),
        ([{"Type": "authenticate-oidc", "AuthenticateOidcConfig": {**OIDC_AWS["AuthenticateOidcConfig"],
                                                                   "ClientSecret": None,
                                                                   "UseExistingClientSecret": True}}, FORWARD],
         None, True),
        ([COGNITO_FRIENDLY, FORWARD], None, False),
        ([FORWARD], None, False),
    ],
    ids=["friendly", "aws", "omitted", "use-existing", "cognito", "none"],
)
def test_client_secret_is_read_from_either_form(actions, secret, keep):
    assert ra.client_secret(actions) == (secret, keep)


@pytest.mark.parametrize(
    "oidc, message",
    [
        ({"Type": "authenticate-oidc", "AuthenticateOidcConfig": {**OIDC_AWS["AuthenticateOidcConfig"],
                                                                  "UseExistingClientSecret": True}},
         "actions: authenticate-oidc takes ClientSecret or UseExistingClientSecret, not both"),
        ({**OIDC_FRIENDLY, "client_secret": ""}, "actions: authenticate-oidc client_secret must not be empty"),
    ],
)
def test_client_secret_errors_never_show_the_secret(oidc, message):
    with pytest.raises(RuleError, match=_message(message)) as error:
        ra.client_secret([oidc, FORWARD])
    assert "s3cr3t" not in str(error.value)


# --- the secret's hash -----------------------------------------------------------

@pytest.fixture
def fast_hash(monkeypatch):
    monkeypatch.setattr(ra, "SECRET_HASH_ITERATIONS", 1000)


def test_secret_hash_matches_only_its_secret(fast_hash):
    stored = ra.hash_secret("s3cr3t")
    assert ra.secret_matches("s3cr3t", stored)
    assert not ra.secret_matches("s3cr3T", stored)
    assert "s3cr3t" not in stored


def test_secret_hash_is_salted(fast_hash):
    assert ra.hash_secret("s3cr3t") != ra.hash_secret("s3cr3t")


def test_secret_hash_fits_an_elb_tag_value(fast_hash):
    stored = ra.hash_secret("x" * 500)
    # ELB tag values: up to 256 of letters, digits, spaces and + - = . _ : / @
    assert len(stored) <= 256 and re.fullmatch(r"[A-Za-z0-9 +\-=._:/@]+", stored)


def test_default_hash_is_slow_pbkdf2():
    assert ra.SECRET_HASH_ITERATIONS >= 600000
    assert ra.hash_secret("s", b"salt" * 4, 1).startswith("pbkdf2-sha256:1:")


@pytest.mark.parametrize(
    "stored",
    [None, "", "garbage", "md5:1:AAAA:BBBB", "pbkdf2-sha256:x:AAAA:BBBB", "pbkdf2-sha256:0:AAAA:BBBB",
     "pbkdf2-sha256:99999999999:AAAA:BBBB", "pbkdf2-sha256:1000:not base64!:BBBB"],
)
def test_a_missing_or_tampered_hash_never_matches(stored):
    assert ra.secret_matches("s3cr3t", stored) is False


# --- diff ------------------------------------------------------------------------

def test_diff_shows_a_marker_in_place_of_the_secret():
    shown = ra.for_diff(ra.normalize_action(OIDC_FRIENDLY), ra.SECRET_SENT)
    assert shown["client_secret"] == "<hidden: new value sent>"
    assert list(shown) == sorted(shown)
    assert "s3cr3t" not in repr(shown)


def test_diff_of_other_actions_has_no_secret_key():
    assert "client_secret" not in ra.for_diff(ra.normalize_action(FORWARD), ra.SECRET_HIDDEN)


def test_target_group_arns_of_every_forward():
    actions = ra.normalize_actions([OIDC_FRIENDLY, SHAPES["weighted"][0]])
    assert sorted(ra.target_group_arns(actions)) == sorted([TG, TG2])


@pytest.mark.parametrize("config", ["AuthenticateOidcConfig", "AuthenticateCognitoConfig"])
def test_snake_and_camel_actions_keep_the_extra_params_names(config):
    api = [{"Type": "authenticate", "Order": 1, config: {"SessionTimeout": 60, "AuthenticationRequestExtraParams": {
        "display_name": "x", "PromptMode": "login"}}}, {"Type": "forward", "Order": 2, "TargetGroupArn": "arn:tg"}]
    snake = ra.snake_actions(api)
    assert snake[0][dict(ra.CONFIG_NAMES.values())[config]] == {
        "session_timeout": 60, "authentication_request_extra_params": {"display_name": "x", "PromptMode": "login"}}
    assert snake[1] == {"type": "forward", "order": 2, "target_group_arn": "arn:tg"}
    assert ra.camel_actions(snake) == api
