# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalisation and comparison of one ELBv2 listener rule (no AWS calls).

Conditions and actions arrive in two forms, the friendly snake_case one
({"field": "path-pattern", "values": [...]}, {"type": "forward",
"target_group_arn": ...}) and the raw AWS one ({"Field": ..., "PathPatternConfig":
{"Values": [...]}}); AWS describes rules in yet another shape (both the legacy
"Values" and the *Config, ForwardConfig next to TargetGroupArn). Everything is
reduced to one canonical, hashable-free, sorted form before comparing.
"""

OWNER_TAG = "pocstack:rule-name"
MAX_CONDITION_VALUES = 5
PRIORITY_RANGE = (1, 50000)

# field -> (AWS *Config key, how AWS compares values: "case" exact, "lower" or
# "upper" case-insensitively)
CONDITION_FIELDS = {
    "path-pattern": ("PathPatternConfig", "case"),
    "host-header": ("HostHeaderConfig", "lower"),
    "http-header": ("HttpHeaderConfig", "case"),
    "http-request-method": ("HttpRequestMethodConfig", "upper"),
    "query-string": ("QueryStringConfig", "case"),
    "source-ip": ("SourceIpConfig", "case"),
}
ACTION_TYPES = ("forward",)


class RuleError(ValueError):
    """Input that AWS would reject, with a message naming the option."""


def _field_name(value):
    return str(value).strip().lower().replace("_", "-")


def _query_pair(value, field):
    """A query-string value -> "key=value" (key may be empty)."""
    if isinstance(value, dict):
        key = value.get("key", value.get("Key")) or ""
        val = value.get("value", value.get("Value"))
        if val in (None, ""):
            raise RuleError(f"conditions: {field} values need a value (and optionally a key), got {value!r}")
        return f"{key}={val}"
    if isinstance(value, str) and "=" in value:
        return value
    if isinstance(value, str) and value:
        return f"={value}"
    raise RuleError(f"conditions: {field} values must be {{key, value}} dicts or 'key=value' strings, got {value!r}")


def normalize_condition(condition):
    """One condition, friendly or raw, or as AWS describes it -> (field, qualifier, values).

    The qualifier is the header name of an http-header condition (AWS compares
    it case-insensitively), empty for every other field."""
    if not isinstance(condition, dict):
        raise RuleError(f"conditions: each condition must be a dict, got {condition!r}")
    if "field" in condition or "Field" in condition:
        field = _field_name(condition.get("field", condition.get("Field")))
    else:
        # {path_pattern: [...]} shorthand
        if len(condition) != 1:
            raise RuleError(f"conditions: cannot read condition {condition!r}; use field and values")
        (key, values), = condition.items()
        field = _field_name(key)
        condition = {"field": field, "values": values}
    if field not in CONDITION_FIELDS:
        raise RuleError(
            f"conditions: field {field!r} is not supported; allowed: {', '.join(sorted(CONDITION_FIELDS))}"
        )
    config_key, compare = CONDITION_FIELDS[field]
    config = condition.get(config_key) or {}
    values = condition.get("values")
    if values is None:
        values = config.get("Values")
    if values is None:
        values = condition.get("Values")
    if isinstance(values, (str, dict)):
        values = [values]
    if not values:
        raise RuleError(f"conditions: {field} needs at least one value")
    qualifier = ""
    if field == "http-header":
        qualifier = condition.get("name") or condition.get("header_name") or config.get("HttpHeaderName") or ""
        if not qualifier:
            raise RuleError("conditions: an http-header condition needs name (the header name)")
        qualifier = str(qualifier).lower()
    if field == "query-string":
        values = [_query_pair(v, field) for v in values]
    else:
        values = [str(v) for v in values]
    if compare == "lower":
        values = [v.lower() for v in values]
    elif compare == "upper":
        values = [v.upper() for v in values]
    return (field, qualifier, tuple(sorted(set(values))))


def normalize_conditions(conditions):
    """A rule's conditions -> sorted list of (field, qualifier, values); one
    entry per field (and header name)."""
    merged = {}
    for condition in conditions or []:
        field, qualifier, values = normalize_condition(condition)
        merged[(field, qualifier)] = tuple(sorted(set(merged.get((field, qualifier), ()) + values)))
    result = sorted((field, qualifier, values) for (field, qualifier), values in merged.items())
    total = sum(len(values) for _field, _qualifier, values in result)
    if total > MAX_CONDITION_VALUES:
        raise RuleError(
            f"conditions: {total} condition values given; a rule allows at most {MAX_CONDITION_VALUES}"
        )
    return result


def normalize_action(action):
    """One action, friendly or raw or as described -> canonical dict."""
    if not isinstance(action, dict):
        raise RuleError(f"actions: each action must be a dict, got {action!r}")
    kind = str(action.get("type", action.get("Type", ""))).lower()
    if kind not in ACTION_TYPES:
        raise RuleError(f"actions: type {kind!r} is not supported; allowed: {', '.join(ACTION_TYPES)}")
    config = action.get("ForwardConfig") or {}
    arns = {g.get("TargetGroupArn") for g in config.get("TargetGroups") or []}
    arn = action.get("target_group_arn") or action.get("TargetGroupArn")
    if arn:
        arns.add(arn)
    if len(arns) > 1:
        raise RuleError("actions: a forward action goes to one target group; weighted forwards are not supported")
    if (config.get("TargetGroupStickinessConfig") or {}).get("Enabled"):
        raise RuleError("actions: target group stickiness is not supported; remove TargetGroupStickinessConfig")
    if not arns or None in arns:
        raise RuleError("actions: a forward action needs target_group_arn")
    return {"type": "forward", "target_group_arn": arns.pop()}


def normalize_actions(actions):
    if not actions:
        raise RuleError("actions: at least one action is required when state=present")
    return [normalize_action(a) for a in actions]


def validate_priority(priority):
    low, high = PRIORITY_RANGE
    try:
        value = int(priority)
    except (TypeError, ValueError):
        raise RuleError(f"priority: {priority!r} is not a number; allowed: {low}-{high}")
    if not low <= value <= high:
        raise RuleError(f"priority: {value} is out of range; allowed: {low}-{high}")
    return value


def validate_range(priority_range):
    low, high = PRIORITY_RANGE
    try:
        first, last = (int(v) for v in priority_range)
    except (TypeError, ValueError):
        raise RuleError(f"priority_range: {priority_range!r} must be two numbers [first, last] within {low}-{high}")
    if not low <= first <= last <= high:
        raise RuleError(f"priority_range: [{first}, {last}] must satisfy {low} <= first <= last <= {high}")
    return first, last


def free_priority(rules, priority_range, taken=()):
    """The lowest priority in `priority_range` no rule of the listener uses
    (nor any in `taken`, priorities another writer just won); None when full."""
    first, last = priority_range
    used = {int(r["Priority"]) for r in rules if str(r.get("Priority", "")).isdigit()} | set(taken)
    for candidate in range(first, last + 1):
        if candidate not in used:
            return candidate
    return None


def desired_rule(priority, conditions, actions):
    """The canonical rule the user asked for; priority None means automatic."""
    if not conditions:
        # AWS refuses a non-default rule without conditions (moto accepts it).
        raise RuleError(
            "conditions: at least one condition is required when state=present; "
            f"allowed fields: {', '.join(sorted(CONDITION_FIELDS))}"
        )
    return {
        "priority": None if priority is None else validate_priority(priority),
        "conditions": normalize_conditions(conditions),
        "actions": normalize_actions(actions),
    }


def _aws_config(item, skip):
    """The parts of a described condition or action other than `skip`, as
    plain sorted data, so that anything this module does not write still
    compares (and shows in --diff) as different from what it writes."""
    return {key: item[key] for key in sorted(item) if key not in skip}


def current_condition(condition):
    """A condition as DescribeRules returns it -> canonical; one this module
    cannot read (a field added to AWS later) stays distinct instead of failing."""
    try:
        return normalize_condition(condition)
    except RuleError:
        field = str(condition.get("Field", "unknown")) if isinstance(condition, dict) else "unknown"
        return (field, "", (repr(_aws_config(condition, ("Field",))) if isinstance(condition, dict) else repr(condition),))


def current_action(action):
    """An action as DescribeRules returns it -> canonical.

    A plain forward (TargetGroupArn and/or a ForwardConfig of one target group,
    stickiness off) equals the friendly form. Anything else a person or another
    tool may have put on a rule this module owns (redirect, fixed-response,
    authenticate-*, weighted or sticky forward) keeps its AWS data, so it
    differs from the desired action and ModifyRule replaces it."""
    kind = str(action.get("Type", action.get("type", ""))).lower()
    if kind == "forward":
        config = action.get("ForwardConfig") or {}
        groups = config.get("TargetGroups") or []
        arns = {g.get("TargetGroupArn") for g in groups}
        if action.get("TargetGroupArn"):
            arns.add(action["TargetGroupArn"])
        sticky = (config.get("TargetGroupStickinessConfig") or {}).get("Enabled", False)
        if len(arns) == 1 and not sticky:
            return {"type": "forward", "target_group_arn": arns.pop()}
    return {"type": kind, "aws": _aws_config(action, ("Type", "Order"))}


def current_rule(rule):
    """The canonical form of a rule as DescribeRules returns it. Never fails:
    whatever is on the rule is compared, not validated."""
    priority = rule.get("Priority")
    merged = {}
    for condition in rule.get("Conditions") or []:
        field, qualifier, values = current_condition(condition)
        merged[(field, qualifier)] = tuple(sorted(set(merged.get((field, qualifier), ()) + values)))
    return {
        "priority": int(priority) if str(priority).isdigit() else None,
        "conditions": sorted((f, q, v) for (f, q), v in merged.items()),
        "actions": [current_action(a) for a in sorted(rule.get("Actions") or [], key=lambda a: a.get("Order", 0))],
    }


def wanted_tags(name, tags):
    """The tags the rule must carry: the user's plus the owner tag, whose value
    only the name option sets."""
    tags = dict(tags or {})
    if OWNER_TAG in tags and tags[OWNER_TAG] != name:
        raise RuleError(f"tags: {OWNER_TAG} is set by this module from name ({name!r}); remove it from tags")
    tags[OWNER_TAG] = name
    return {str(k): str(v) for k, v in tags.items()}


def tag_changes(current, name, tags, purge_tags):
    """(tags to set, keys to remove, tags afterwards), amazon.aws semantics:
    tags None leaves the user's tags alone; purge never removes the owner tag
    nor AWS-reserved aws:* keys."""
    want = wanted_tags(name, tags)
    purge = purge_tags and tags is not None
    to_unset = sorted(k for k in current if purge and k not in want and k != OWNER_TAG and not k.startswith("aws:"))
    to_set = {k: v for k, v in want.items() if current.get(k) != v}
    after = {k: v for k, v in {**current, **want}.items() if k not in to_unset}
    return to_set, to_unset, after


def rule_differences(desired, current):
    """What must change: a subset of {"priority", "conditions", "actions"}.
    An automatic priority (None) keeps whatever the rule has."""
    keys = ("conditions", "actions") if desired["priority"] is None else ("priority", "conditions", "actions")
    return sorted(key for key in keys if desired[key] != current[key])


def to_aws_conditions(conditions):
    """Canonical conditions -> CreateRule/ModifyRule Conditions."""
    result = []
    for field, qualifier, values in conditions:
        config_key = CONDITION_FIELDS[field][0]
        if field == "query-string":
            config = {"Values": [dict(zip(("Key", "Value"), v.split("=", 1))) for v in values]}
            config["Values"] = [{k: v for k, v in pair.items() if v} for pair in config["Values"]]
        elif field == "http-header":
            config = {"HttpHeaderName": qualifier, "Values": list(values)}
        else:
            config = {"Values": list(values)}
        result.append({"Field": field, config_key: config})
    return result


def to_aws_actions(actions):
    return [
        {"Type": "forward", "TargetGroupArn": a["target_group_arn"], "Order": index}
        for index, a in enumerate(actions, start=1)
    ]


def for_diff(rule):
    """Canonical rule -> plain, sorted data for --diff output (an empty dict
    for no rule)."""
    if rule is None:
        return {}
    return {
        "priority": rule["priority"],
        "conditions": [
            {"field": f, **({"name": q} if q else {}), "values": list(v)} for f, q, v in rule["conditions"]
        ],
        "actions": [dict(sorted(a.items())) for a in rule["actions"]],
        **({"tags": dict(sorted(rule["tags"].items()))} if "tags" in rule else {}),
    }


def find_owned(rules, tags_by_arn, name, desired_conditions):
    """The rule this module owns for `name`: by owner tag, else (for adoption) a
    non-default rule with identical conditions that no other name owns."""
    for rule in rules:
        if tags_by_arn.get(rule["RuleArn"], {}).get(OWNER_TAG) == name:
            return rule, False
    for rule in rules:
        if rule.get("IsDefault"):
            continue
        if OWNER_TAG in tags_by_arn.get(rule["RuleArn"], {}):
            continue
        if current_rule(rule)["conditions"] == desired_conditions:
            return rule, True
    return None, False


def rule_using_priority(rules, priority, except_arn=None):
    for rule in rules:
        if rule.get("Priority") == str(priority) and rule["RuleArn"] != except_arn:
            return rule
    return None
