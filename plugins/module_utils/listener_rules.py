# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalisation and comparison of one ELBv2 listener rule (no AWS calls).

Conditions and actions arrive in two forms, the friendly snake_case one
({"field": "path-pattern", "values": [...]}, {"type": "forward",
"target_group_arn": ...}) and the raw AWS one ({"Field": ..., "PathPatternConfig":
{"Values": [...]}}); AWS describes rules in yet another shape (both the legacy
"Values" and the *Config, ForwardConfig next to TargetGroupArn). Everything is
reduced to one canonical, hashable-free, sorted form before comparing.
Actions live in rule_actions.
"""

import ipaddress
import re
from collections import namedtuple

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import owner_tags
from ansible_collections.pocstack.aws.plugins.module_utils import rule_actions as ra
from ansible_collections.pocstack.aws.plugins.module_utils.rule_actions import RuleError
from ansible_collections.pocstack.aws.plugins.module_utils.target_groups import whole_number

OWNER_TAG = "pocstack:rule-name"
# Where client_secret_update=on_change keeps a salted hash of the OIDC client
# secret, because AWS never returns the secret itself.
SECRET_TAG = "pocstack:client-secret-hash"
MAX_CONDITION_VALUES = 5
MAX_CONDITION_VALUE_LENGTH = 128
MAX_HEADER_NAME_LENGTH = 40
MAX_METHOD_LENGTH = 40
PRIORITY_RANGE = (1, 50000)

# field -> (AWS *Config key, how AWS compares values: None exactly, "lower" or
# "upper" case-insensitively, after that str method)
CONDITION_FIELDS = {
    "path-pattern": ("PathPatternConfig", None),
    "host-header": ("HostHeaderConfig", "lower"),
    "http-header": ("HttpHeaderConfig", None),
    "http-request-method": ("HttpRequestMethodConfig", "upper"),
    "query-string": ("QueryStringConfig", None),
    "source-ip": ("SourceIpConfig", None),
}

# Characters AWS accepts in condition values (Elastic Load Balancing user
# guide, "Add a listener rule"): field -> (pattern of one value, how to say it).
_WILDCARDS = "and the wildcards * and ?"
VALUE_CHARACTERS = {
    "path-pattern": (r"A-Za-z0-9_\-.$/~\"'@:+&*?", f"A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & {_WILDCARDS}"),
    "host-header": (r"A-Za-z0-9\-_.*?", f"A-Z a-z 0-9 - _ . {_WILDCARDS}"),
    "query-string": (r"A-Za-z0-9_\-.$/~\"'@:+&()!,;=*?", f"A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & ( ) ! , ; = {_WILDCARDS}"),
    "http-request-method": (r"A-Z_\-", "A-Z _ -"),
    "http-header-name": (r"A-Za-z0-9*?\-!#$%&'+.^_`|~", "A-Z a-z 0-9 * ? - ! # $ % & ' + . ^ _ ` | ~"),
    # printable ASCII, space included
    "http-header": (r"\x20-\x7e", "printable ASCII characters (space included)"),
}


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
    values = ra.first_given(condition.get("values"), config.get("Values"), condition.get("Values"))
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
    if compare:
        values = [getattr(v, compare)() for v in values]
    return (field, qualifier, tuple(sorted(set(values))))


def _merged(conditions, read):
    """Conditions, each read by `read` -> sorted list of (field, qualifier,
    values); one entry per field (and header name)."""
    merged = {}
    for condition in conditions or []:
        field, qualifier, values = read(condition)
        merged[(field, qualifier)] = tuple(sorted(set(merged.get((field, qualifier), ()) + values)))
    return sorted((field, qualifier, values) for (field, qualifier), values in merged.items())


def normalize_conditions(conditions):
    """A rule's conditions -> sorted list of (field, qualifier, values)."""
    result = _merged(conditions, normalize_condition)
    total = sum(len(values) for _field, _qualifier, values in result)
    if total > MAX_CONDITION_VALUES:
        raise RuleError(
            f"conditions: {total} condition values given; a rule allows at most {MAX_CONDITION_VALUES}"
        )
    return result


def _check_value(value, what, characters, limit=MAX_CONDITION_VALUE_LENGTH):
    """Length and characters of one condition value, as AWS checks them;
    `characters` is a key of VALUE_CHARACTERS."""
    if len(value) > limit:
        raise RuleError(
            f"conditions: {what} {value[:40]!r}... is {len(value)} characters long; AWS allows at most {limit}"
        )
    allowed, described = VALUE_CHARACTERS[characters]
    bad = sorted(set(re.sub(f"[{allowed}]", "", value)))
    if bad:
        raise RuleError(
            f"conditions: {what} {value!r} has characters AWS rejects ({' '.join(repr(c) for c in bad)}); "
            f"allowed: {described}"
        )


def _check_cidr(value):
    try:
        if "/" not in value:
            raise ValueError(value)
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise RuleError(
            f"conditions: source-ip value {value!r} is not a CIDR block; "
            "allowed: an IPv4 or IPv6 CIDR such as 203.0.113.0/24 or 2001:db8::/32"
        )


def _check_host(value):
    _check_value(value, "host-header value", "host-header")
    labels = value.split(".")
    if len(labels) < 2 or not re.match(r"^[A-Za-z0-9*?]+$", labels[-1]):
        raise RuleError(
            f"conditions: host-header value {value!r} must contain a '.' and end in letters (or wildcards) "
            "after the last '.', e.g. app.example.com or *.example.com"
        )


def validate_conditions(conditions):
    """What AWS would reject in canonical conditions, before any AWS call."""
    for field, qualifier, values in conditions:
        if field == "http-header":
            _check_value(qualifier, "http-header name", "http-header-name", MAX_HEADER_NAME_LENGTH)
        for value in values:
            if field == "query-string":
                key, _sep, val = value.partition("=")
                if key:
                    _check_value(key, "query-string key", field)
                _check_value(val, "query-string value", field)
            elif field == "source-ip":
                _check_cidr(value)
            elif field == "host-header":
                _check_host(value)
            elif field == "http-request-method":
                _check_value(value, "http-request-method value", field, MAX_METHOD_LENGTH)
            else:
                _check_value(value, f"{field} value", field)


def validate_range(priority_range):
    """(first, last) of the priority_range option: two priorities, first <= last."""
    if not isinstance(priority_range, (list, tuple)) or len(priority_range) != 2:
        raise RuleError(f"priority_range: {priority_range!r} must be two numbers [first, last] within "
                        f"{PRIORITY_RANGE[0]}-{PRIORITY_RANGE[1]}")
    first, last = (whole_number("priority_range", v, *PRIORITY_RANGE, error=RuleError) for v in priority_range)
    if first > last:
        raise RuleError(f"priority_range: [{first}, {last}] must satisfy first <= last")
    return first, last


def free_priority(rules, priority_range, taken=(), highest=False):
    """The lowest (or `highest`) priority in `priority_range` no rule of the
    listener uses (nor any in `taken`, priorities another writer just won);
    None when full."""
    first, last = priority_range
    used = {int(r["Priority"]) for r in rules if str(r.get("Priority", "")).isdigit()} | set(taken)
    candidates = range(last, first - 1, -1) if highest else range(first, last + 1)
    return next((candidate for candidate in candidates if candidate not in used), None)


def desired_rule(priority, conditions, actions):
    """The canonical rule the user asked for; priority None means automatic.
    client_secret is the OIDC client secret given (never compared: AWS does
    not return it), keep_secret whether the AWS form asked to keep AWS's."""
    if not conditions:
        # AWS refuses a non-default rule without conditions (moto accepts it).
        raise RuleError(
            "conditions: at least one condition is required when state=present; "
            f"allowed fields: {', '.join(sorted(CONDITION_FIELDS))}"
        )
    canonical = normalize_conditions(conditions)
    validate_conditions(canonical)
    secret, keep = ra.client_secret(actions)
    return {
        "priority": None if priority is None else whole_number("priority", priority, *PRIORITY_RANGE, error=RuleError),
        "conditions": canonical,
        "actions": ra.normalize_actions(actions),
        "client_secret": secret,
        "keep_secret": keep,
    }


def current_condition(condition):
    """A condition as DescribeRules returns it -> canonical; one this module
    cannot read (a field added to AWS later) stays distinct instead of failing:
    its settings, as plain sorted data, compare (and show in --diff) as
    different from anything this module writes."""
    try:
        return normalize_condition(condition)
    except RuleError:
        if not isinstance(condition, dict):
            return ("unknown", "", (repr(condition),))
        return (str(condition.get("Field", "unknown")), "", (repr({k: condition[k] for k in sorted(condition) if k != "Field"}),))


def current_rule(rule):
    """The canonical form of a rule as DescribeRules returns it. Never fails:
    whatever is on the rule is compared, not validated."""
    priority = rule.get("Priority")
    return {
        "priority": int(priority) if str(priority).isdigit() else None,
        "conditions": _merged(rule.get("Conditions"), current_condition),
        "actions": ra.current_actions(rule.get("Actions")),
    }


# tag_changes(secret_hash=KEEP_SECRET_TAG) leaves the secret hash tag as it is.
KEEP_SECRET_TAG = object()
# What results and --diff show in place of the secret hash tag's value.
SECRET_TAG_SHOWN = "<salted hash of client_secret>"


def wanted_tags(name, tags):
    """The user's tags plus the owner tag, whose value only the name option
    sets; the secret hash tag is the module's own too."""
    if SECRET_TAG in (tags or {}):
        raise RuleError(f"tags: {SECRET_TAG} is kept by this module (client_secret_update=on_change); remove it from tags")
    return owner_tags.wanted_tags(OWNER_TAG, name, tags, RuleError)


def tag_changes(current, name, tags, purge_tags, secret_hash=KEEP_SECRET_TAG):
    """(tags to set, keys to remove, tags afterwards) by compare.tag_changes,
    the owner tag and the secret hash tag being the module's own. secret_hash:
    KEEP_SECRET_TAG leaves the secret hash tag alone, None removes it, a value sets it."""
    wanted_tags(name, tags)
    secret = current.get(SECRET_TAG) if secret_hash is KEEP_SECRET_TAG else secret_hash
    owned = {OWNER_TAG: name, **({SECRET_TAG: secret} if secret else {})}
    others = {k: v for k, v in current.items() if k != SECRET_TAG or secret}
    to_set, to_unset, after = compare.tag_changes(others, tags, purge_tags, owned)
    if SECRET_TAG in current and not secret:
        to_unset = sorted(to_unset + [SECRET_TAG])
    return to_set, to_unset, after


def shown_tags(tags):
    """Tags for results and --diff: sorted, the secret hash not shown."""
    return {k: (SECRET_TAG_SHOWN if k == SECRET_TAG else v) for k, v in sorted(tags.items())}


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
        if field == "query-string":  # "key=value", the key left out when empty
            config = {"Values": [{k: v for k, v in zip(("Key", "Value"), pair.split("=", 1)) if v} for pair in values]}
        elif field == "http-header":
            config = {"HttpHeaderName": qualifier, "Values": list(values)}
        else:
            config = {"Values": list(values)}
        result.append({"Field": field, config_key: config})
    return result


def for_diff(rule, secret_marker=None):
    """Canonical rule -> plain, sorted data for --diff output (an empty dict
    for no rule). An OIDC action shows `secret_marker` for its client secret."""
    if rule is None:
        return {}
    return {
        "priority": rule["priority"],
        "conditions": [
            {"field": f, **({"name": q} if q else {}), "values": list(v)} for f, q, v in rule["conditions"]
        ],
        "actions": [ra.for_diff(a, secret_marker) for a in rule["actions"]],
        **({"tags": shown_tags(rule["tags"])} if "tags" in rule else {}),
    }


def find_owned(rules, tags_by_arn, name, desired_conditions):
    """The rule this module owns for `name`: by owner tag, else (for adoption) a
    non-default rule with identical conditions that no other name owns."""
    for rule in rules:
        if tags_by_arn.get(rule["RuleArn"], {}).get(OWNER_TAG) == name:
            return rule, False
    for rule in rules:
        unowned = not rule.get("IsDefault") and OWNER_TAG not in tags_by_arn.get(rule["RuleArn"], {})
        if unowned and current_rule(rule)["conditions"] == desired_conditions:
            return rule, True
    return None, False


# ---------------------------------------------------------- rule order
# ALB evaluates a listener's rules in priority order and the first match
# wins: a rule that matches every request a later rule matches takes all of
# that rule's traffic (a catch-all path "*" in front of a service's "/api*").


def _glob_covers(broad, narrow):
    """Whether every value the glob `narrow` matches is matched by `broad`
    (* any run of characters, ? one). Sound, not complete: False when unsure."""
    if broad == narrow or broad == "*":
        return True
    if broad.endswith("*") and not any(c in broad[:-1] for c in "*?"):
        return narrow.startswith(broad[:-1])  # a literal prefix, then anything
    if broad.startswith("*") and not any(c in broad[1:] for c in "*?"):
        return narrow.endswith(broad[1:])  # anything, then a literal suffix
    return False


def _matches_everything(field, values):
    return "*" in values or (field == "path-pattern" and "/*" in values)  # every path starts with "/"


def covers(earlier, later):
    """Whether every request the canonical conditions `later` match is matched
    by `earlier` too (sound: False when that cannot be shown)."""
    theirs = {(field, qualifier): values for field, qualifier, values in later}
    for field, qualifier, values in earlier:
        other = theirs.get((field, qualifier))
        if field in ("path-pattern", "host-header"):
            if _matches_everything(field, values):
                continue
            if other is None or not all(any(_glob_covers(mine, value) for mine in values) for value in other):
                return False
        elif other is None or not set(other) <= set(values):
            return False
    return True


def describe_conditions(conditions):
    """Canonical conditions -> 'path-pattern /api*, host-header a.example.com' for messages."""
    return "; ".join(f"{field}{' ' + qualifier if qualifier else ''} {', '.join(values)}"
                     for field, qualifier, values in conditions)


def rule_order(rules, tags_by_arn, conditions, except_arn=None):
    """(shadowed, shadowing): the other non-default rules of the listener whose
    every request `conditions` match (they must come after it to be shadowed),
    and those that match every request of `conditions` (in front, they take
    all of its traffic); each as (priority, owner, conditions)."""
    shadowed, shadowing = [], []
    for rule in rules:
        if rule.get("IsDefault") or rule["RuleArn"] == except_arn or not str(rule.get("Priority", "")).isdigit():
            continue
        theirs = current_rule(rule)["conditions"]
        entry = (int(rule["Priority"]), tags_by_arn.get(rule["RuleArn"], {}).get(OWNER_TAG, rule["RuleArn"]), theirs)
        if covers(conditions, theirs):
            shadowed.append(entry)
        if covers(theirs, conditions):
            shadowing.append(entry)
    return shadowed, shadowing


class OrderProblem(str):
    """A refusal because of rule order, which allow_shadowing lifts (callers
    add how to say that in their own terms)."""


def holder(rules, tags_by_arn, priority, except_arn=None):
    """Who holds `priority` on the listener, for messages; None when free."""
    for rule in rules:
        if rule.get("Priority") == str(priority) and rule["RuleArn"] != except_arn:
            owner = tags_by_arn.get(rule["RuleArn"], {}).get(OWNER_TAG, "not managed by this module")
            return f"rule {rule['RuleArn']} (owner: {owner})"
    return None


def priority_used(priority, held_by, listener_arn):
    return f"priority: {priority} is already used by {held_by} on listener {listener_arn}; choose another priority"


def automatic_priority(rules, tags_by_arn, conditions, priority_range, allow_shadowing, listener_arn, lost=()):
    """(priority, None) for a new rule without an explicit priority: the
    lowest free one in `priority_range` behind the rules the new one covers
    and in front of those that cover it (the highest for a rule that matches
    every request, leaving the room in front to narrower rules); (None,
    message) when there is none."""
    first, last = priority_range
    if not allow_shadowing:
        shadowed, shadowing = rule_order(rules, tags_by_arn, conditions)
        first = max([first] + [entry[0] + 1 for entry in shadowed])
        last = min([last] + [entry[0] - 1 for entry in shadowing])
        if first > last:
            def rule_list(entries):
                return ", ".join(f"{owner!r} at {priority} ({describe_conditions(c)})"
                                 for priority, owner, c in sorted(entries)) or "none"
            return None, OrderProblem(
                f"priority_range: no priority in {list(priority_range)} on listener {listener_arn} puts this rule "
                f"({describe_conditions(conditions)}) behind the rules whose every request it matches "
                f"({rule_list(shadowed)}) and in front of the rules that match its every request ({rule_list(shadowing)})"
            )
    catch_all = covers(conditions, []) and not allow_shadowing
    priority = free_priority(rules, (first, last), lost, highest=catch_all)
    if priority is None:
        return None, (f"priority_range: no free priority in {[first, last]} on listener {listener_arn}; "
                      "widen priority_range or give an explicit priority")
    return priority, None


def placement_problems(rules, tags_by_arn, name, conditions, priority=None, priority_range=PRIORITY_RANGE,
                       allow_shadowing=False, listener_arn=""):
    """What elb_listener_rule refuses, before any write, for the rule `name`
    with the canonical `conditions` at `priority` (None: automatic) on a
    listener with these `rules` and {rule ARN: tags}: [] when it can go
    there. The same functions decide in the module, so that a preflight over
    the rules read earlier says what the module would say."""
    own, _adopt = find_owned(rules, tags_by_arn, name, conditions)
    return placement(rules, tags_by_arn, conditions, priority, own, current_rule(own) if own else None,
                     priority_range, allow_shadowing, listener_arn)[1]


def placement(rules, tags_by_arn, conditions, priority, own, before, priority_range, allow_shadowing, listener_arn,
              lost=()):
    """(priority, problems) for the rule `own` (None: a new one; `before`: its
    current_rule) with `conditions` at `priority`; None keeps the priority of
    an existing rule and picks automatic_priority's for a new one."""
    if priority is None and before is None:
        priority, problem = automatic_priority(rules, tags_by_arn, conditions, priority_range, allow_shadowing,
                                               listener_arn, lost)
        return priority, [problem] if problem else []
    priority = before["priority"] if priority is None else priority
    return priority, position_problems(rules, tags_by_arn, conditions, priority, own, before, allow_shadowing,
                                       listener_arn)


def position_problems(rules, tags_by_arn, conditions, priority, own, before, allow_shadowing, listener_arn):
    """Why the rule `own` (None: a new one; `before`: its current_rule) may not
    have `conditions` at `priority`: another rule holds the priority, or (unless
    allow_shadowing, and only when priority or conditions change) the order."""
    own_arn = own["RuleArn"] if own else None
    held_by = holder(rules, tags_by_arn, priority, except_arn=own_arn)
    if held_by:
        return [priority_used(priority, held_by, listener_arn)]
    if allow_shadowing or (before and (before["priority"], before["conditions"]) == (priority, conditions)):
        return []
    shadowed, shadowing = rule_order(rules, tags_by_arn, conditions, own_arn)
    mine = describe_conditions(conditions)
    problems = [
        f"priority: {priority} puts this rule ({mine}) in front of rule {owner!r} at priority {theirs} ({describe_conditions(c)}), "
        "whose every request it matches: that rule would get no traffic"
        for theirs, owner, c in sorted(shadowed) if theirs > priority
    ]
    problems += [
        f"priority: {priority} puts this rule ({mine}) behind rule {owner!r} at priority {theirs} ({describe_conditions(c)}), "
        "which matches its every request: this rule would get no traffic"
        for theirs, owner, c in sorted(shadowing) if theirs < priority
    ]
    return [OrderProblem(problem) for problem in problems]


# --------------------------------------------------------- the OIDC secret
# What to do with the OIDC client secret this run. send: the secret to send
# (CreateRule, or ModifyRule because it changed), or None to ask AWS to keep
# the one it has (UseExistingClientSecret). tag: the secret hash tag afterwards
# (KEEP_SECRET_TAG, None to remove, or a new hash). before/after: what --diff
# shows in place of the secret.
SecretPlan = namedtuple("SecretPlan", "send tag before after", defaults=(None, KEEP_SECRET_TAG, None, None))


def has_oidc(actions):
    return any(a["type"] == ra.OIDC for a in actions)


def secret_plan(mode, desired, before, current_tags):
    """Whether to send the OIDC client secret. AWS never returns it, so it
    cannot be compared with the rule; `mode` (client_secret_update) decides:
    on_change compares it with the salted hash kept in SECRET_TAG, always
    sends it, on_create sends it only with the action's creation."""
    want, have = has_oidc(desired["actions"]), before is not None and has_oidc(before["actions"])
    shown_before = ra.SECRET_HIDDEN if have else None
    if not want:
        return SecretPlan(tag=None, before=shown_before)
    secret = desired["client_secret"]
    if secret is None:
        if not have:
            raise RuleError(
                "actions: authenticate-oidc needs client_secret (AuthenticateOidcConfig.ClientSecret) to "
                "create the rule or to add this action to it; afterwards AWS keeps it"
            )
        return SecretPlan(before=shown_before, after=ra.SECRET_HIDDEN)
    # on_create sends it only to create the action, like the first run of the other modes
    send = not have or mode == "always" or (
        mode == "on_change" and not ra.secret_matches(secret, current_tags.get(SECRET_TAG)))
    tag = None if mode != "on_change" else ra.hash_secret(secret) if send else KEEP_SECRET_TAG
    return SecretPlan(send=secret if send else None, tag=tag, before=shown_before,
                      after=ra.SECRET_SENT if send else ra.SECRET_HIDDEN)


# ------------------------------------------------- checks against the listener
def protocol_problems(listener, actions):
    """What AWS rejects for `actions` on this listener's protocol:
    authentication on a non-HTTPS listener, an HTTPS-to-HTTP redirect."""
    errors = []
    arn, protocol = listener["ListenerArn"], listener.get("Protocol")
    for action in actions:
        if action["type"] in ra.AUTHENTICATE_TYPES and protocol != "HTTPS":
            errors.append(f"actions: {action['type']} works only on HTTPS listeners; listener {arn} is {protocol}")
        if action["type"] == ra.REDIRECT and protocol == "HTTPS" and action["protocol"] == "HTTP":
            errors.append("actions: a redirect on an HTTPS listener cannot go to HTTP; use protocol HTTPS or #{protocol}")
    return errors


def forwarded_to(rules):
    """ARNs of the target groups rules as DescribeRules returns them forward
    to (plainly or weighted), the default rule's included."""
    return {arn for rule in rules for arn in ra.target_group_arns(ra.current_actions(rule.get("Actions")))}


def target_group_problems(lb, actions, groups, known=()):
    """(errors, missing) for the target groups `actions` forward to, given
    {ARN: target group} of those that exist: a target group in another VPC
    than the load balancer is an error, one that does not exist is missing.
    ARNs in `known` (what the listener's rules forward to already, so AWS
    has them in the load balancer's VPC) are not checked."""
    errors, missing = [], []
    lb_vpc = lb.get("VpcId")
    for tg_arn in sorted(set(ra.target_group_arns(actions)) - set(known)):
        group = groups.get(tg_arn)
        if group is None:
            missing.append(f"actions: target group {tg_arn} does not exist; create it first or fix the target group ARN")
        elif group.get("VpcId") and group["VpcId"] != lb_vpc:  # lambda target groups have no VPC
            errors.append(
                f"actions: target group {group.get('TargetGroupName', tg_arn)} ({tg_arn}) is in {group['VpcId']}, "
                f"but load balancer {lb.get('LoadBalancerName')} is in {lb_vpc}; forward to a target group of {lb_vpc}"
            )
    return errors, missing


def described_rule(rule, tags):
    """A rule as DescribeRules returns it -> the `rule` result: snake_cased
    (parameter names of AuthenticationRequestExtraParams kept), with its
    tags, never a client secret (AWS does not return one; this makes sure)."""
    for action in rule.get("Actions") or []:
        (action.get("AuthenticateOidcConfig") or {}).pop("ClientSecret", None)
    described = camel_dict_to_snake_dict(rule)
    if "Actions" in rule:
        described["actions"] = ra.snake_actions(rule["Actions"])
    described["tags"] = shown_tags(tags)
    return described
