# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation, normalisation and comparison of one ELBv2 target group (no AWS calls).

Everything is reduced to one canonical form before comparing:

    {"vpc_id": ..., "protocol": "HTTP", "protocol_version": "HTTP1", "port": 8050,
     "target_type": "ip", "ip_address_type": "ipv4",
     "health_check": {"enabled": True, "protocol": "HTTP", "port": "traffic-port", "path": "/health",
                      "interval": 6, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 2,
                      "matcher": "200"},
     "attributes": {"deregistration_delay.timeout_seconds": "30", ...}}

A desired group holds only what the user gave (what is not given is left as
AWS has it); a current group holds what AWS describes. Attributes keep their
AWS keys and string values, the way DescribeTargetGroupAttributes returns them.
"""

import re

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.module_utils.common.dict_transformations import snake_dict_to_camel_dict
from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters

from ansible_collections.pocstack.aws.plugins.module_utils.compare import sorted_data

NAME_MAX = 32
# Letters, digits and single hyphens inside; AWS answers ValidationError for
# "a--b" too (its own pattern: (?!.*--)(?!^-)(?!.*-$)^[A-Za-z0-9-]+$).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")

# The options AWS cannot change on an existing group; DescribeTargetGroups and
# CreateTargetGroup name them in CamelCase (VpcId).
FIXED_FIELDS = ("ip_address_type", "port", "protocol", "protocol_version", "target_type", "vpc_id")
# health_check sub-options -> the field of DescribeTargetGroups / CreateTargetGroup / ModifyTargetGroup.
HEALTH_CHECK_FIELDS = {
    "enabled": "HealthCheckEnabled",
    "healthy_threshold": "HealthyThresholdCount",
    "interval": "HealthCheckIntervalSeconds",
    "matcher": "Matcher",
    "path": "HealthCheckPath",
    "port": "HealthCheckPort",
    "protocol": "HealthCheckProtocol",
    "timeout": "HealthCheckTimeoutSeconds",
    "unhealthy_threshold": "UnhealthyThresholdCount",
}
# What AWS gives a new HTTP/HTTPS target group of target type ip or instance
# for health check settings not given (used to validate timeout < interval
# before creating).
CREATE_DEFAULTS = {"interval": 30, "timeout": 5}
# health_check sub-options that are whole numbers -> (lowest, highest, unit).
HEALTH_CHECK_RANGES = {
    "interval": (5, 300, " seconds"),
    "timeout": (2, 120, " seconds"),
    "healthy_threshold": (2, 10, ""),
    "unhealthy_threshold": (2, 10, ""),
}

# The attributes this module manages (and shows in --diff).
MANAGED_ATTRIBUTES = (
    "deregistration_delay.timeout_seconds",
    "load_balancing.algorithm.type",
    "slow_start.duration_seconds",
    "stickiness.app_cookie.cookie_name",
    "stickiness.app_cookie.duration_seconds",
    "stickiness.enabled",
    "stickiness.lb_cookie.duration_seconds",
    "stickiness.type",
)
# Cookie names the load balancer keeps for itself.
RESERVED_COOKIE_PREFIXES = ("AWSALB", "AWSALBAPP", "AWSALBTG")
# RFC 6265 token characters, what AWS accepts in an application cookie name.
COOKIE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$")
MATCHER_RANGES = {"http": (200, 499), "grpc": (0, 99)}


class TargetGroupError(ValueError):
    """Input that AWS would reject, with a message naming the option."""


def whole_number(option, value, low, high, extra="", error=TargetGroupError):
    """An integer option within [low, high], else an `error` naming it (the
    collection's ELBv2 modules check their integer options with this)."""
    usage = f"allowed: {low}-{high}{extra}"
    if isinstance(value, bool):
        raise error(f"{option}: {value!r} is not a number; {usage}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise error(f"{option}: {value!r} is not a number; {usage}")
    if str(number) != str(value).strip() and number != value:
        raise error(f"{option}: {value!r} is not a whole number; {usage}")
    if not low <= number <= high:
        raise error(f"{option}: {number} is out of range; {usage}")
    return number


def validate_name(name):
    if not isinstance(name, str) or not name:
        raise TargetGroupError("name: a target group needs a name of 1-32 letters, digits and hyphens")
    if len(name) > NAME_MAX:
        raise TargetGroupError(f"name: {name!r} has {len(name)} characters; at most {NAME_MAX}")
    if not NAME_PATTERN.match(name):
        raise TargetGroupError(
            f"name: {name!r} is not a target group name; allowed: letters, digits and hyphens, "
            "not starting or ending with a hyphen, no two hyphens in a row"
        )
    return name


def validate_arn(arn):
    parts = parse_aws_arn(arn) if isinstance(arn, str) else None
    if not parts or parts["service"] != "elasticloadbalancing" or parts["resource_type"] != "targetgroup":
        raise TargetGroupError(
            f"target_group_arn: {arn!r} is not a target group ARN "
            "(arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID)"
        )
    return arn


def normalize_matcher(matcher, grpc=False):
    """"200", "200-299", "200,302" (HTTP codes 200-499), or gRPC codes 0-99 -> the string AWS keeps."""
    low, high = MATCHER_RANGES["grpc" if grpc else "http"]
    example = '"12", "0-99" or "0,12"' if grpc else '"200", "200-299" or "200,302"'
    usage = f"allowed: {'gRPC' if grpc else 'HTTP'} codes {low}-{high}, one code, a range or a list ({example})"
    text = str(matcher).replace(" ", "") if matcher is not None else ""
    if not text or isinstance(matcher, bool):
        raise TargetGroupError(f"health_check.matcher: {matcher!r} is empty; {usage}")
    for part in text.split(","):
        bounds = part.split("-")
        if len(bounds) > 2 or not all(b.isdigit() for b in bounds):
            raise TargetGroupError(f"health_check.matcher: {matcher!r} is not a code list; {usage}")
        numbers = [int(b) for b in bounds]
        if not all(low <= n <= high for n in numbers) or numbers != sorted(numbers):
            raise TargetGroupError(f"health_check.matcher: {part!r} in {matcher!r} is out of range; {usage}")
    return text


def _health_check(hc):
    """The health_check option -> canonical, only the sub-options given
    (enabled a bool and protocol HTTP or HTTPS by the argument spec)."""
    hc = scrub_none_parameters(hc or {})
    result = {key: hc[key] for key in ("enabled", "protocol") if key in hc}
    if "port" in hc:
        port = str(hc["port"]).strip()
        if port != "traffic-port":
            port = str(whole_number("health_check.port", port, 1, 65535, " or traffic-port"))
        result["port"] = port
    if "path" in hc:
        path = str(hc["path"])
        if not path.startswith("/") or len(path) > 1024:
            raise TargetGroupError(f"health_check.path: {path!r} must start with '/' and have at most 1024 characters")
        result["path"] = path
    for key, (low, high, unit) in HEALTH_CHECK_RANGES.items():
        if key in hc:
            result[key] = whole_number(f"health_check.{key}", hc[key], low, high, unit)
    if "matcher" in hc:
        # Syntax only here; the range (HTTP or gRPC codes) once the protocol version is known.
        result["matcher"] = str(hc["matcher"]).replace(" ", "")
    return result


def _stickiness(stickiness):
    """The stickiness option -> its attributes (the argument spec requires
    enabled and gives type, lb_cookie or app_cookie)."""
    if stickiness is None:
        return {}
    kind = stickiness["type"]
    attributes = {"stickiness.enabled": "true" if stickiness["enabled"] else "false", "stickiness.type": kind}
    if stickiness.get("duration") is not None:
        duration = whole_number("stickiness.duration", stickiness["duration"], 1, 604800, " seconds (1 week)")
        attributes[f"stickiness.{kind}.duration_seconds"] = str(duration)
    cookie = stickiness.get("cookie_name")
    if kind == "lb_cookie" and cookie:
        raise TargetGroupError("stickiness.cookie_name: only with stickiness.type=app_cookie (lb_cookie names its own cookie)")
    if kind == "app_cookie":
        if not cookie:
            raise TargetGroupError("stickiness.cookie_name: required with stickiness.type=app_cookie (the application's cookie)")
        if not COOKIE_NAME_PATTERN.match(cookie):
            raise TargetGroupError(
                f"stickiness.cookie_name: {cookie!r} is not a cookie name; allowed: letters, digits and !#$%&'*+-.^_`|~"
            )
        if cookie.startswith(RESERVED_COOKIE_PREFIXES):
            raise TargetGroupError(
                f"stickiness.cookie_name: {cookie!r} starts with a name the load balancer reserves "
                f"({', '.join(RESERVED_COOKIE_PREFIXES)})"
            )
        attributes["stickiness.app_cookie.cookie_name"] = cookie
    return attributes


def _attributes(params):
    attributes = {}
    if params.get("deregistration_delay") is not None:
        attributes["deregistration_delay.timeout_seconds"] = str(
            whole_number("deregistration_delay", params["deregistration_delay"], 0, 3600, " seconds")
        )
    if params.get("slow_start") is not None:
        seconds = whole_number("slow_start", params["slow_start"], 0, 900, " seconds (0 turns it off, else 30-900)")
        if 0 < seconds < 30:
            raise TargetGroupError(f"slow_start: {seconds} is out of range; allowed: 0 (off) or 30-900 seconds")
        attributes["slow_start.duration_seconds"] = str(seconds)
    if params.get("load_balancing_algorithm") is not None:
        attributes["load_balancing.algorithm.type"] = params["load_balancing_algorithm"]
    attributes.update(_stickiness(params.get("stickiness")))
    return attributes


def desired_group(params):
    """The canonical group the module's options ask for (only what is given)."""
    fixed = scrub_none_parameters({key: params.get(key) for key in FIXED_FIELDS})
    if "port" in fixed:
        fixed["port"] = whole_number("port", fixed["port"], 1, 65535)
    hc = _health_check(params.get("health_check"))
    if hc.get("enabled") is False and fixed.get("target_type", "ip") in ("ip", "instance"):
        raise TargetGroupError(
            "health_check.enabled: AWS keeps health checks on for target type ip and instance; "
            "remove health_check.enabled or set it to true"
        )
    return {**fixed, "health_check": hc, "attributes": _attributes(params)}


def check_against(desired, current):
    """Rules that need the group's current settings (or AWS's defaults for a
    new group): the matcher's code range, and timeout < interval."""
    current = current or {"health_check": {}}
    version = desired.get("protocol_version") or current.get("protocol_version") or "HTTP1"
    hc = desired["health_check"]
    if "matcher" in hc:
        hc["matcher"] = normalize_matcher(hc["matcher"], grpc=version == "GRPC")
    if "interval" in hc or "timeout" in hc:
        now = current["health_check"]
        interval = hc.get("interval", now.get("interval", CREATE_DEFAULTS["interval"]))
        timeout = hc.get("timeout", now.get("timeout", CREATE_DEFAULTS["timeout"]))
        if timeout >= interval:
            raise TargetGroupError(
                f"health_check.timeout: {timeout} must be smaller than health_check.interval ({interval})"
            )
    return desired


def current_group(group, attributes):
    """A group as DescribeTargetGroups returns it, with its attributes -> canonical."""
    hc = {key: group.get(field) for key, field in HEALTH_CHECK_FIELDS.items()}
    matcher = hc["matcher"] or {}
    hc["matcher"] = matcher.get("GrpcCode", matcher.get("HttpCode"))
    values = {item["Key"]: str(item.get("Value", "")) for item in attributes or []}
    described = camel_dict_to_snake_dict(group)
    return {
        **{key: described.get(key) for key in FIXED_FIELDS},
        "health_check": scrub_none_parameters(hc),
        "attributes": {k: values[k] for k in MANAGED_ATTRIBUTES if k in values},
    }


def differences(desired, current):
    """{"fixed": [options AWS cannot change that differ], "health_check": {sub-option: new value},
    "attributes": {key: new value}} for what differs."""
    diffs = {
        section: {k: v for k, v in sorted(desired[section].items()) if current[section].get(k) != v}
        for section in ("health_check", "attributes")
    }
    diffs["fixed"] = sorted(key for key in FIXED_FIELDS if key in desired and desired[key] != current.get(key))
    return diffs


def changed_fields(diffs, to_set, to_unset):
    """Dotted names of everything that differs, for the `changes` result."""
    names = [f"{section}.{k}" for section in ("health_check", "attributes") for k in diffs[section]]
    return sorted(names + diffs["fixed"] + [f"tags.{k}" for k in {*to_set, *to_unset}])


def after(desired, current):
    """The canonical group once the desired settings are applied."""
    return {
        **current,
        **{k: desired[k] for k in FIXED_FIELDS if k in desired},
        "health_check": {**current["health_check"], **desired["health_check"]},
        "attributes": {**current["attributes"], **desired["attributes"]},
    }


def for_diff(group, tags=None):
    """Canonical group (+ tags) -> plain data with sorted keys for --diff; {} for no group."""
    if not group:
        return {}
    shown = {k: v for k, v in group.items() if v is not None}
    return sorted_data(shown if tags is None else {**shown, "tags": tags})


def modify_kwargs(hc_changes, protocol_version):
    """Changed health check settings -> ModifyTargetGroup keyword arguments."""
    kwargs = {HEALTH_CHECK_FIELDS[key]: value for key, value in hc_changes.items()}
    if "matcher" in hc_changes:
        kwargs["Matcher"] = {"GrpcCode" if protocol_version == "GRPC" else "HttpCode": hc_changes["matcher"]}
    return kwargs


def create_kwargs(name, desired, tags):
    """Desired group -> CreateTargetGroup keyword arguments (attributes need a second call)."""
    fixed = snake_dict_to_camel_dict({key: desired.get(key) for key in FIXED_FIELDS}, capitalize_first=True)
    kwargs = scrub_none_parameters({"Name": name, **fixed})
    kwargs.update(modify_kwargs(desired["health_check"], desired.get("protocol_version")))
    if tags:  # as compare.tag_changes gives them: strings, sorted
        kwargs["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return kwargs


def missing_to_create(desired):
    """Options CreateTargetGroup needs that were not given."""
    return [key for key in ("vpc_id", "protocol", "port") if desired.get(key) is None]


def forwards_to(actions, arn):
    """Whether any of the actions forwards (plainly or weighted) to the target group."""
    return any(
        target.get("TargetGroupArn") == arn
        for action in actions or []
        for target in [action, *((action.get("ForwardConfig") or {}).get("TargetGroups") or [])]
    )


def describe_users(listeners, rules_by_listener, tags_by_rule, arn):
    """Who forwards to the target group: one line per listener default action
    and per rule, naming the rule's owner (tag pocstack:rule-name) if any."""
    users = []
    for listener in listeners:
        port = listener.get("Port")
        if forwards_to(listener.get("DefaultActions"), arn):
            users.append(f"listener {listener['ListenerArn']} (port {port}, default action)")
        for rule in rules_by_listener.get(listener["ListenerArn"], []):
            if rule.get("IsDefault") or not forwards_to(rule.get("Actions"), arn):
                continue
            owner = tags_by_rule.get(rule["RuleArn"], {}).get("pocstack:rule-name")
            named = f", pocstack:rule-name {owner}" if owner else ""
            users.append(f"rule {rule['RuleArn']} (listener port {port}, priority {rule.get('Priority')}{named})")
    return users
