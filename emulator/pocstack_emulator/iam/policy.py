"""IAM policy evaluation, as AWS evaluates a request of one principal.

Used by Fargate's start-up checks (pocstack_emulator.ecs.fargate): may the
task's execution role pull its image, read its secrets, write its logs; does
its trust policy let ECS assume it.

Why our own: the maintained Python evaluators fall short of what these checks
need. moto's own (moto.iam.access_control, used for its optional request
authentication) matches actions case-sensitively, knows neither `?` nor
NotResource, treats an Allow whose condition does not hold as an explicit
deny, and evaluates only StringEquals; policyuniverse parses and expands
policies but does not evaluate requests; iam-ape summarises effective
permissions from an authorization report; parliament, cloudsplaining and
policy_sentry lint or write policies. What is implemented here, after
AWS's "Policy evaluation logic" and the IAM JSON policy element reference:

- a request is allowed when an identity policy statement allows it, no
  statement of any policy denies it, and a permissions boundary (when the
  role has one) allows it too;
- Action/NotAction match case-insensitively with `*` and `?`;
  Resource/NotResource case-sensitively with `*` and `?` (ARN segments
  included, as IAM does);
- Principal/NotPrincipal for trust policies (AWS, Service, Federated, "*");
- Condition operators String*, Arn*, Bool, Null, Numeric*, with IfExists and
  ForAnyValue:/ForAllValues: qualifiers; condition keys are looked up
  case-insensitively; several values of one key are ORed, several keys and
  operators ANDed. Policy variables (${aws:username}) are not substituted.
"""
import json
import re

ALLOW = "allow"
EXPLICIT_DENY = "explicit_deny"
IMPLICIT_DENY = "implicit_deny"


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _document(policy):
    """A policy document as a dict (JSON text, URL-quoted JSON as IAM returns it, or a dict)."""
    if isinstance(policy, dict):
        return policy
    text = policy
    if text.lstrip().startswith("%7B") or text.lstrip().startswith("%7b"):
        from urllib.parse import unquote

        text = unquote(text)
    return json.loads(text)


def _wildcard(pattern, value, ignore_case):
    """IAM's wildcards: `*` any run of characters (`/` and `:` included), `?` one."""
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, (re.IGNORECASE if ignore_case else 0) | re.DOTALL) is not None


def _matches_any(patterns, value, ignore_case):
    return any(_wildcard(p, value, ignore_case) for p in _as_list(patterns))


# ------------------------------------------------------------------ conditions
def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _bool(value):
    return str(value).lower() == "true"


_OPERATORS = {
    "StringEquals": lambda given, wanted: given == wanted,
    "StringNotEquals": lambda given, wanted: given != wanted,
    "StringEqualsIgnoreCase": lambda given, wanted: given.lower() == wanted.lower(),
    "StringNotEqualsIgnoreCase": lambda given, wanted: given.lower() != wanted.lower(),
    "StringLike": lambda given, wanted: _wildcard(wanted, given, False),
    "StringNotLike": lambda given, wanted: not _wildcard(wanted, given, False),
    "ArnEquals": lambda given, wanted: _wildcard(wanted, given, False),
    "ArnLike": lambda given, wanted: _wildcard(wanted, given, False),
    "ArnNotEquals": lambda given, wanted: not _wildcard(wanted, given, False),
    "ArnNotLike": lambda given, wanted: not _wildcard(wanted, given, False),
    "Bool": lambda given, wanted: _bool(given) == _bool(wanted),
    "NumericEquals": lambda given, wanted: _number(given) is not None and _number(given) == _number(wanted),
    "NumericNotEquals": lambda given, wanted: _number(given) is not None and _number(given) != _number(wanted),
    "NumericLessThan": lambda given, wanted: _number(given) is not None and _number(given) < _number(wanted),
    "NumericLessThanEquals": lambda given, wanted: _number(given) is not None and _number(given) <= _number(wanted),
    "NumericGreaterThan": lambda given, wanted: _number(given) is not None and _number(given) > _number(wanted),
    "NumericGreaterThanEquals": lambda given, wanted: _number(given) is not None and _number(given) >= _number(wanted),
}
# Negated operators hold when no wanted value matches (AND over the values).
_NEGATED = {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike",
            "NumericNotEquals"}


def _condition_holds(operator, key, wanted_values, context):
    """One operator-key pair of a Condition block against the request context."""
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op[: -len("IfExists")] if if_exists else op
    given = None
    for name, value in context.items():
        if name.lower() == key.lower():
            given = value
            break
    wanted_values = [str(v) for v in _as_list(wanted_values)]
    if op == "Null":
        absent = given is None
        return any(_bool(w) == absent for w in wanted_values)
    if given is None:
        # A missing key: IfExists operators hold, ForAllValues holds vacuously, all others fail.
        return if_exists or qualifier == "ForAllValues"
    if op not in _OPERATORS:
        return False  # an operator IAM has and we do not: never grant on a guess
    test = _OPERATORS[op]
    given_values = [str(v) for v in _as_list(given)]

    def one(value):
        if op in _NEGATED:
            return all(test(value, w) for w in wanted_values)
        return any(test(value, w) for w in wanted_values)

    if qualifier == "ForAllValues":
        return all(one(v) for v in given_values)
    return any(one(v) for v in given_values)


def _conditions_hold(conditions, context):
    for operator, pairs in (conditions or {}).items():
        for key, wanted in (pairs or {}).items():
            if not _condition_holds(operator, key, wanted, context):
                return False
    return True


# ------------------------------------------------------------------ principals
def _principal_matches(element, principal):
    """principal: {"Service": "ecs-tasks.amazonaws.com"} or {"AWS": "arn:..."}."""
    if element == "*":
        return True
    for kind, wanted in (element or {}).items():
        for value in _as_list(wanted):
            for given_kind, given in principal.items():
                if given_kind == kind and (value == "*" or value == given):
                    return True
                # An account ID or its root ARN names every principal of that account.
                if kind == "AWS" == given_kind and re.fullmatch(r"\d{12}", value) and f"::{value}:" in given:
                    return True
                if kind == "AWS" == given_kind and value.endswith(":root") and given.startswith(value[: -len("root")]):
                    return True
    return False


# ------------------------------------------------------------------ statements
def statement_applies(statement, action, resource, context=None, principal=None):
    """True when the statement covers this request (its effect aside)."""
    context = context or {}
    if "NotAction" in statement:
        if _matches_any(statement["NotAction"], action, True):
            return False
    elif not _matches_any(statement.get("Action"), action, True):
        return False
    if principal is not None:
        if "NotPrincipal" in statement:
            if _principal_matches(statement["NotPrincipal"], principal):
                return False
        elif not _principal_matches(statement.get("Principal"), principal):
            return False
    if resource is not None:
        if "NotResource" in statement:
            if _matches_any(statement["NotResource"], resource, False):
                return False
        elif "Resource" in statement and not _matches_any(statement["Resource"], resource, False):
            return False
    return _conditions_hold(statement.get("Condition"), context)


def evaluate(policies, action, resource, context=None, principal=None):
    """(decision, statement): ALLOW, EXPLICIT_DENY or IMPLICIT_DENY for one
    request against a set of policies, and the statement that decided it
    (None for an implicit deny)."""
    allowed = None
    for policy in policies:
        for statement in _as_list(_document(policy).get("Statement")):
            if not statement_applies(statement, action, resource, context, principal):
                continue
            if statement.get("Effect") == "Deny":
                return EXPLICIT_DENY, statement
            if statement.get("Effect") == "Allow" and allowed is None:
                allowed = statement
    return (ALLOW, allowed) if allowed is not None else (IMPLICIT_DENY, None)


def role_policies(iam_backend, role_name):
    """(identity policy documents, permissions boundary document or None) of a moto IAM role."""
    role = iam_backend.get_role(role_name)
    documents = list(role.policies.values())
    for policy in role.managed_policies.values():
        documents.append(_default_version(policy))
    boundary = None
    boundary_arn = getattr(role, "permissions_boundary_arn", None)
    if boundary_arn:
        boundary = _default_version(iam_backend.get_policy(boundary_arn))
    return documents, boundary


def _default_version(policy):
    for version in policy.versions:
        if version.is_default:
            return version.document
    return policy.document


def is_allowed(identity_policies, boundary, action, resource, context=None):
    """(allowed, why): why names the kind of refusal as AWS's AccessDenied
    messages do ("because no identity-based policy allows the X action", ...)."""
    decision, _ = evaluate(identity_policies, action, resource, context)
    if decision == EXPLICIT_DENY:
        return False, "with an explicit deny in an identity-based policy"
    if decision == IMPLICIT_DENY:
        return False, f"because no identity-based policy allows the {action} action"
    if boundary is not None:
        decision, _ = evaluate([boundary], action, resource, context)
        if decision == EXPLICIT_DENY:
            return False, "with an explicit deny in a permissions boundary"
        if decision == IMPLICIT_DENY:
            return False, f"because no permissions boundary allows the {action} action"
    return True, ""
