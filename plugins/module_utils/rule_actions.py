# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Actions of one ELBv2 listener rule: normalisation, validation, comparison
and the AWS form (no AWS calls).

An action arrives in the friendly flat form ({"type": "redirect",
"status_code": "HTTP_301", "protocol": "HTTPS"}), in the raw AWS form
({"Type": "redirect", "RedirectConfig": {"StatusCode": "HTTP_301"}}), or as
DescribeRules returns it (the AWS form with the defaults AWS filled in, the
OIDC client secret left out, ForwardConfig next to TargetGroupArn). All three
are reduced to one canonical dict per action, with AWS's defaults filled in,
so that what the user asked for and what AWS describes compare equal.

`strict=True` (the user's input) validates everything AWS would reject;
`strict=False` (a described rule) never fails on values, because whatever is
on a rule must be compared, not judged.
"""

import base64
import functools
import hashlib
import hmac
import os

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.module_utils.common.dict_transformations import snake_dict_to_camel_dict


class RuleError(ValueError):
    """Input that AWS would reject, with a message naming the option."""


FORWARD = "forward"
REDIRECT = "redirect"
FIXED_RESPONSE = "fixed-response"
OIDC = "authenticate-oidc"
COGNITO = "authenticate-cognito"
TERMINAL_TYPES = (FIXED_RESPONSE, FORWARD, REDIRECT)
AUTHENTICATE_TYPES = (COGNITO, OIDC)
ACTION_TYPES = tuple(sorted(TERMINAL_TYPES + AUTHENTICATE_TYPES))

ORDER_RANGE = (1, 50000)
MAX_TARGET_GROUPS = 5
WEIGHT_RANGE = (0, 999)
STICKINESS_RANGE = (1, 604800)
SESSION_TIMEOUT_RANGE = (1, 604800)
MAX_MESSAGE_BODY = 1024
MAX_REDIRECT_COMPONENT = 128
CONTENT_TYPES = ("application/javascript", "application/json", "text/css", "text/html", "text/plain")
REDIRECT_STATUS_CODES = ("HTTP_301", "HTTP_302")
UNAUTHENTICATED_CHOICES = ("allow", "authenticate", "deny")

# The value the diff shows instead of the OIDC client secret.
SECRET_HIDDEN = "<hidden>"
SECRET_SENT = "<hidden: new value sent>"

REQUIRED = object()

# type -> (AWS config key, [(friendly key, AWS key, default)]); a default of
# REQUIRED means AWS has none and the option must be given. The defaults are
# what AWS fills in and DescribeRules returns when the option is omitted.
_AUTH_COMMON = [
    ("session_cookie_name", "SessionCookieName", "AWSELBAuthSessionCookie"),
    ("scope", "Scope", "openid"),
    ("session_timeout", "SessionTimeout", 604800),
    ("authentication_request_extra_params", "AuthenticationRequestExtraParams", {}),
    ("on_unauthenticated_request", "OnUnauthenticatedRequest", "authenticate"),
]
CONFIGS = {
    REDIRECT: ("RedirectConfig", [
        ("protocol", "Protocol", "#{protocol}"),
        ("port", "Port", "#{port}"),
        ("host", "Host", "#{host}"),
        ("path", "Path", "/#{path}"),
        ("query", "Query", "#{query}"),
        ("status_code", "StatusCode", REQUIRED),
    ]),
    FIXED_RESPONSE: ("FixedResponseConfig", [
        ("status_code", "StatusCode", REQUIRED),
        # AWS takes ContentType as optional; filled in on both sides so that a
        # rule reads back equal whether or not AWS reports a default.
        ("content_type", "ContentType", "text/plain"),
        ("message_body", "MessageBody", ""),
    ]),
    OIDC: ("AuthenticateOidcConfig", [
        ("issuer", "Issuer", REQUIRED),
        ("authorization_endpoint", "AuthorizationEndpoint", REQUIRED),
        ("token_endpoint", "TokenEndpoint", REQUIRED),
        ("user_info_endpoint", "UserInfoEndpoint", REQUIRED),
        ("client_id", "ClientId", REQUIRED),
    ] + _AUTH_COMMON),
    COGNITO: ("AuthenticateCognitoConfig", [
        ("user_pool_arn", "UserPoolArn", REQUIRED),
        ("user_pool_client_id", "UserPoolClientId", REQUIRED),
        ("user_pool_domain", "UserPoolDomain", REQUIRED),
    ] + _AUTH_COMMON),
}


def _fail(message):
    raise RuleError(f"actions: {message}")


def first_given(*candidates):
    for value in candidates:
        if value is not None:
            return value
    return None


def _int(value, what, bounds, strict):
    low, high = bounds
    try:
        number = int(value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError):
        if strict:
            _fail(f"{what} must be a whole number from {low} to {high}, got {value!r}")
        return value
    if strict and not low <= number <= high:
        _fail(f"{what} must be from {low} to {high}, got {number}")
    return number


def action_type(action):
    return str(first_given(action.get("type"), action.get("Type"), "")).strip().lower()


def _check_keys(action, kind):
    """Options given (not None) that do not belong to this action type (type
    and order belong to every action; the OIDC secret is never part of the
    canonical form, so it is no setting in CONFIGS)."""
    if kind == FORWARD:
        friendly, aws = ("target_group_arn", "target_groups", "stickiness"), ("ForwardConfig", "TargetGroupArn")
    else:
        friendly, aws = tuple(f for f, _a, _d in CONFIGS[kind][1]), (CONFIGS[kind][0],)
        friendly += ("client_secret",) if kind == OIDC else ()
    extra = sorted(k for k, v in action.items() if v is not None and k not in ("type", "Type", "order", "Order") + friendly + aws)
    if extra:
        _fail(
            f"{', '.join(extra)} {'does' if len(extra) == 1 else 'do'} not apply to {kind}; "
            f"allowed for {kind}: {', '.join(sorted(friendly))} (or the AWS form: {', '.join(aws)})"
        )


# ------------------------------------------------------------------- forward
def _group(entry, strict):
    if not isinstance(entry, dict):
        if strict:
            _fail(f"forward target_groups entries must be dicts with target_group_arn and weight, got {entry!r}")
        return (repr(entry), 1)
    arn = first_given(entry.get("target_group_arn"), entry.get("TargetGroupArn"))
    if strict and not arn:
        _fail(f"every forward target_groups entry needs target_group_arn, got {entry!r}")
    weight = first_given(entry.get("weight"), entry.get("Weight"), 1)
    return (arn, _int(weight, f"forward weight of {arn}", WEIGHT_RANGE, strict))


def _forward(action, strict):
    config = action.get("ForwardConfig") or {}
    friendly_groups, aws_groups = action.get("target_groups"), config.get("TargetGroups")
    if strict and friendly_groups is not None and aws_groups is not None:
        _fail("forward takes target_groups or ForwardConfig, not both")
    groups = [_group(g, strict) for g in first_given(friendly_groups, aws_groups) or []]
    arn = first_given(action.get("target_group_arn"), action.get("TargetGroupArn"))
    if arn:
        if not groups:
            groups = [(arn, 1)]
        elif strict and (len(groups) > 1 or groups[0][0] != arn):
            # AWS: with both, ForwardConfig may name only that one target group.
            _fail("forward takes target_group_arn (one target group) or target_groups (weighted), not both")
    arns = [a for a, _w in groups]
    if strict:
        if not groups:
            _fail("a forward action needs target_group_arn, or target_groups with up to "
                  f"{MAX_TARGET_GROUPS} {{target_group_arn, weight}}")
        if len(groups) > MAX_TARGET_GROUPS:
            _fail(f"a forward action goes to at most {MAX_TARGET_GROUPS} target groups, got {len(groups)}")
        if len(set(arns)) != len(arns):
            _fail(f"forward names a target group twice: {', '.join(sorted({a for a in arns if arns.count(a) > 1}))}")
    stickiness = first_given(action.get("stickiness"), config.get("TargetGroupStickinessConfig")) or {}
    if not isinstance(stickiness, dict):
        if strict:
            _fail(f"forward stickiness must be a dict with enabled and duration_seconds, got {stickiness!r}")
        stickiness = {}
    enabled = bool(first_given(stickiness.get("enabled"), stickiness.get("Enabled"), False))
    duration = first_given(stickiness.get("duration_seconds"), stickiness.get("DurationSeconds"))
    if enabled:
        if strict and duration is None:
            _fail(f"forward stickiness needs duration_seconds ({STICKINESS_RANGE[0]}-{STICKINESS_RANGE[1]}) "
                  "when enabled")
        duration = _int(duration, "forward stickiness duration_seconds", STICKINESS_RANGE, strict)
    if len(groups) == 1 and not enabled:
        # One target group takes all traffic whatever its weight (amazon.aws compares it the same way).
        return {"type": FORWARD, "target_group_arn": groups[0][0]}
    if len(groups) == 1:
        groups = [(groups[0][0], 1)]
    return {
        "type": FORWARD,
        "target_groups": [{"target_group_arn": a, "weight": w} for a, w in sorted(groups, key=lambda g: str(g[0]))],
        "stickiness": {"enabled": True, "duration_seconds": duration} if enabled else {"enabled": False},
    }


# --------------------------------------------------------- the other actions
def _redirect_value(key, value, strict):
    value = str(value)
    if key == "protocol" and value.upper() in ("HTTP", "HTTPS"):
        return value.upper()
    if key == "status_code":
        code = value.upper()
        code = f"HTTP_{code}" if code in ("301", "302") else code
        if strict and code not in REDIRECT_STATUS_CODES:
            _fail(f"redirect status_code must be one of {', '.join(REDIRECT_STATUS_CODES)}, got {value!r}")
        return code
    if not strict:
        return value
    if key == "protocol" and value != "#{protocol}":
        _fail(f"redirect protocol must be HTTP, HTTPS or #{{protocol}}, got {value!r}")
    if key == "port" and value != "#{port}":
        _int(value, "redirect port", (1, 65535), strict)
        return str(int(value))
    if key in ("host", "path") and not 1 <= len(value) <= MAX_REDIRECT_COMPONENT:
        _fail(f"redirect {key} must be 1 to {MAX_REDIRECT_COMPONENT} characters, got {len(value)}")
    if key == "path" and not value.startswith("/"):
        _fail(f"redirect path must start with '/', got {value!r}")
    if key == "query" and len(value) > MAX_REDIRECT_COMPONENT:
        _fail(f"redirect query must be at most {MAX_REDIRECT_COMPONENT} characters, got {len(value)}")
    return value


def _fixed_value(key, value, strict):
    if key == "status_code":
        code = str(value)
        if strict and not (len(code) == 3 and code.isdigit() and code[0] in "245"):
            _fail(f"fixed-response status_code must be a 2XX, 4XX or 5XX code, got {value!r}")
        return code
    if key == "content_type":
        content_type = str(value).strip().lower()
        if strict and content_type not in CONTENT_TYPES:
            _fail(f"fixed-response content_type must be one of {', '.join(CONTENT_TYPES)}, got {value!r}")
        return content_type
    body = str(value)
    if strict and len(body) > MAX_MESSAGE_BODY:
        _fail(f"fixed-response message_body must be at most {MAX_MESSAGE_BODY} characters, got {len(body)}")
    return body


def _auth_value(kind, key, value, strict):
    if key == "session_timeout":
        return _int(value, f"{kind} session_timeout", SESSION_TIMEOUT_RANGE, strict)
    if key == "authentication_request_extra_params":
        if not isinstance(value, dict):
            if strict:
                _fail(f"{kind} authentication_request_extra_params must be a dict of strings, got {value!r}")
            return {"": repr(value)}
        return {str(k): str(v) for k, v in sorted(value.items())}
    value = str(value)
    if key == "on_unauthenticated_request":
        value = value.lower()
        if strict and value not in UNAUTHENTICATED_CHOICES:
            _fail(f"{kind} on_unauthenticated_request must be one of {', '.join(UNAUTHENTICATED_CHOICES)}, "
                  f"got {value!r}")
    if strict and key in ("issuer", "authorization_endpoint", "token_endpoint", "user_info_endpoint") \
            and not value.startswith("https://"):
        # AWS: each must be a full URL including the HTTPS protocol.
        _fail(f"{kind} {key} must be an https:// URL, got {value!r}")
    return value


def _configured(action, kind, strict):
    config_key, fields = CONFIGS[kind]
    config = action.get(config_key) or {}
    if not isinstance(config, dict):
        if strict:
            _fail(f"{config_key} must be a dict, got {config!r}")
        config = {}
    if strict:
        given_friendly = sorted(f for f, _a, _d in fields if action.get(f) is not None)
        given_aws = sorted(a for _f, a, _d in fields if config.get(a) is not None)
        if given_friendly and given_aws:
            _fail(f"{kind} takes the friendly options ({', '.join(given_friendly)}) or {config_key}, "
                  "not both")
    checked = {REDIRECT: _redirect_value, FIXED_RESPONSE: _fixed_value}.get(kind) or functools.partial(_auth_value, kind)
    result = {"type": kind}
    for friendly, aws, default in fields:
        value = first_given(action.get(friendly), config.get(aws))
        if value is None:
            if default is REQUIRED:
                if strict:
                    _fail(f"{kind} needs {friendly} ({config_key}.{aws} in the AWS form)")
                result[friendly] = None
                continue
            value = default
        result[friendly] = checked(friendly, value, strict)
    if strict and kind == REDIRECT and all(
        result[k] == d for k, _a, d in fields if k in ("protocol", "host", "port", "path")
    ):
        _fail("a redirect must change at least one of protocol, host, port or path, or it redirects to itself")
    return result


def normalize_action(action, strict=True):
    """One action in any form -> canonical dict (sorted keys when shown)."""
    if not isinstance(action, dict):
        if strict:
            _fail(f"each action must be a dict, got {action!r}")
        return {"type": "unknown", "aws": repr(action)}
    kind = action_type(action)
    if kind not in ACTION_TYPES:
        if strict:
            _fail(f"type {kind!r} is not supported; allowed: {', '.join(ACTION_TYPES)}")
        # an action type added to AWS later: compared as AWS describes it
        return {"type": kind, "aws": {k: action[k] for k in sorted(action) if k not in ("Type", "Order")}}
    if strict:
        _check_keys(action, kind)
    if kind == FORWARD:
        return _forward(action, strict)
    return _configured(action, kind, strict)


def _order_of(action):
    return first_given(action.get("order"), action.get("Order")) if isinstance(action, dict) else None


def validate_sequence(canonical):
    """AWS: exactly one forward, redirect or fixed-response, performed last;
    at most one authenticate-* action, so it comes before that."""
    kinds = [a["type"] for a in canonical]
    terminal = [k for k in kinds if k in TERMINAL_TYPES]
    if not terminal:
        _fail(f"the last action must be one of {', '.join(TERMINAL_TYPES)}; got only {', '.join(kinds)}")
    if len(terminal) > 1:
        _fail(f"a rule has exactly one {', '.join(TERMINAL_TYPES[:-1])} or {TERMINAL_TYPES[-1]} action, "
              f"got {len(terminal)}: {', '.join(terminal)}")
    if kinds[-1] not in TERMINAL_TYPES:
        _fail(f"{terminal[0]} must be the last action, but {', '.join(kinds[kinds.index(terminal[0]) + 1:])} "
              "comes after it; put authenticate-oidc/authenticate-cognito before it")
    auth = [k for k in kinds if k in AUTHENTICATE_TYPES]
    if len(auth) > 1:
        _fail(f"a rule takes at most one authenticate-oidc or authenticate-cognito action, got {', '.join(auth)}")


def normalize_actions(actions):
    """The user's actions -> canonical list, in the order AWS performs them."""
    if not actions:
        _fail("at least one action is required when state=present")
    if not isinstance(actions, list):
        _fail(f"must be a list of actions, got {actions!r}")
    orders = [_order_of(a) for a in actions]
    given = [o for o in orders if o is not None]
    if given:
        if len(given) != len(actions):
            _fail("give order for every action or for none (then the list order is used)")
        given = [_int(o, "order", ORDER_RANGE, True) for o in given]
        if len(set(given)) != len(given):
            _fail(f"every action needs its own order, got {', '.join(str(o) for o in orders)}")
        actions = [a for _o, a in sorted(zip(given, actions), key=lambda pair: pair[0])]
    canonical = [normalize_action(a) for a in actions]
    validate_sequence(canonical)
    return canonical


def current_actions(actions):
    """Actions as DescribeRules returns them -> canonical, never failing."""
    def order(action):
        value = _order_of(action)
        return value if isinstance(value, int) else 0
    return [normalize_action(a, strict=False) for a in sorted(actions or [], key=order)]


# ---------------------------------------------------------------- the secret
def client_secret(actions):
    """(the OIDC client secret the user gave or None, whether they asked to keep the existing one)."""
    for action in actions or []:
        if isinstance(action, dict) and action_type(action) == OIDC:
            config = action.get("AuthenticateOidcConfig") or {}
            secret = first_given(action.get("client_secret"), config.get("ClientSecret"))
            keep = bool(config.get("UseExistingClientSecret"))
            if secret is not None and keep:
                _fail("authenticate-oidc takes ClientSecret or UseExistingClientSecret, not both")
            if secret is not None and not str(secret):
                _fail("authenticate-oidc client_secret must not be empty")
            return (None if secret is None else str(secret)), keep
    return None, False


SECRET_HASH_SCHEME = "pbkdf2-sha256"
SECRET_HASH_ITERATIONS = 600000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
SECRET_HASH_MAX_ITERATIONS = 10000000  # a tampered tag must not stall the run


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def hash_secret(secret, salt=None, iterations=None):
    """A salted, slow hash of the secret, in characters ELB tag values allow
    ("pbkdf2-sha256:<iterations>:<salt>:<digest>", base64)."""
    salt = os.urandom(16) if salt is None else salt
    iterations = iterations or SECRET_HASH_ITERATIONS
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt, iterations)
    return f"{SECRET_HASH_SCHEME}:{iterations}:{_b64(salt)}:{_b64(digest)}"


def secret_matches(secret, stored):
    """Whether `stored` (a tag value from hash_secret) is a hash of `secret`."""
    try:
        scheme, iterations, salt, _digest = str(stored).split(":")
        iterations = int(iterations)
        salt = base64.b64decode(salt, validate=True)
    except (ValueError, TypeError):
        return False
    if scheme != SECRET_HASH_SCHEME or not 1 <= iterations <= SECRET_HASH_MAX_ITERATIONS:
        return False
    return hmac.compare_digest(hash_secret(secret, salt, iterations), str(stored))


# ------------------------------------------------------------------ AWS form
# Settings AWS takes as "none" when left out, not when sent empty.
LEFT_OUT_WHEN_EMPTY = ("message_body", "authentication_request_extra_params")


def to_aws_action(action, order, secret=None):
    """Canonical action -> CreateRule/ModifyRule form. An OIDC action sends
    `secret` when given, else asks AWS to keep the one it has."""
    kind = action["type"]
    settings = {k: v for k, v in action.items() if k != "type" and (v or k not in LEFT_OUT_WHEN_EMPTY)}
    if kind == OIDC:
        settings.update({"use_existing_client_secret": True} if secret is None else {"client_secret": secret})
    if kind == FORWARD and "target_groups" in action:
        settings = {"forward_config": {"target_groups": action["target_groups"],
                                       "target_group_stickiness_config": action["stickiness"]}}
    elif kind != FORWARD:
        settings = {CONFIG_NAMES[kind][1]: settings}
    return camel_actions([{"type": kind, "order": order, **settings}])[0]


def to_aws_actions(actions, secret=None):
    return [to_aws_action(a, index, secret) for index, a in enumerate(actions, start=1)]


def target_group_arns(actions):
    """Every target group the actions forward to."""
    arns = []
    for action in actions:
        if action["type"] == FORWARD:  # the action itself names the one target group of an unweighted forward
            arns += [group["target_group_arn"] for group in action.get("target_groups", [action])]
    return arns


def for_diff(action, secret_marker=None):
    """Canonical action -> plain sorted data; an OIDC action shows
    `secret_marker` in place of its client secret, never the secret."""
    if action["type"] == OIDC and secret_marker:
        action = dict(action, client_secret=secret_marker)
    return dict(sorted(action.items()))


# ------------------------------------------------------ snake_case <-> the API
# type -> (API name, snake_case name) of its settings. Those of the
# authenticate-* types hold the user's own parameter names, which neither
# conversion may touch (camel_dict_to_snake_dict's ignore_list does not reach
# into lists; snake_dict_to_camel_dict has none).
CONFIG_NAMES = {kind: (key, next(iter(camel_dict_to_snake_dict({key: None})))) for kind, (key, _f) in CONFIGS.items()}
EXTRA_PARAMS = ("AuthenticationRequestExtraParams", "authentication_request_extra_params")


def _recased(actions, converted, source, target):
    """`converted` (the actions recased) with each action's extra params as in
    `actions`; source/target: 0 for the API's names, 1 for the snake_cased ones."""
    for action, shown in zip(actions or [], converted):
        for names in CONFIG_NAMES.values():
            extra = (action.get(names[source]) or {}).get(EXTRA_PARAMS[source])
            if extra is not None:
                shown[names[target]][EXTRA_PARAMS[target]] = extra
    return converted


def snake_actions(actions):
    """Actions as the API has them -> snake_cased (the extra params' names kept)."""
    return _recased(actions, [camel_dict_to_snake_dict(a) for a in actions or []], 0, 1)


def camel_actions(actions):
    """snake_cased actions -> as the API has them (the extra params' names kept)."""
    return _recased(actions, [snake_dict_to_camel_dict(a, capitalize_first=True) for a in actions or []], 1, 0)
