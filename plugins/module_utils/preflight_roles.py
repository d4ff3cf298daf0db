# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of the roles' own variables (`alb_tls_*`, `ecr_image_*`,
`fargate_service_*`, `ssm_secrets_*`) set in the inventory or with -e.

Ansible checks a role's meta/argument_specs.yml only when the role is entered,
after the roles before it have written to the account; and it accepts what a
template hands over ("false" for a bool, "a,b" for a list) and, for a dict
without `options`, any key. Here the same argument specs are read (the one
source of each option's name, type, elements, choices and keys) and applied
strictly to every role variable the inventory sets, before any AWS call; the
ranges AWS enforces on whole numbers and the forms of some strings, which
argument specs cannot express, are in RANGES and FORMS below, and nowhere
else.

Pure functions over plain data; messages name the variable, the value (never
a no_log option's) and what is allowed.
"""

import difflib
import ipaddress
import re
from collections.abc import Mapping

from ansible.module_utils.common.validation import check_type_int

from ansible_collections.pocstack.aws.plugins.module_utils import preflight

ROLES = ("alb_tls", "ecr_image", "fargate_service", "ssm_secrets")

# AWS's limits on the roles' whole-number variables: (lowest, highest, whose limit).
RANGES = {
    "alb_tls_idle_timeout": (1, 4000, "ALB attribute idle_timeout.timeout_seconds"),
    "alb_tls_container_port": (1, 65535, "a TCP port"),
    "alb_tls_health_check_interval": (5, 300, "target group HealthCheckIntervalSeconds"),
    "alb_tls_health_check_timeout": (2, 120, "target group HealthCheckTimeoutSeconds"),
    "alb_tls_healthy_threshold": (2, 10, "target group HealthyThresholdCount"),
    "alb_tls_unhealthy_threshold": (2, 10, "target group UnhealthyThresholdCount"),
    "alb_tls_deregistration_delay": (0, 3600, "target group attribute deregistration_delay.timeout_seconds"),
    "alb_tls_priority": (*preflight.PRIORITY, "listener rule Priority"),
    "alb_tls_priority_range": (*preflight.PRIORITY, "listener rule Priority"),
    "alb_tls_prune_wait_timeout": (0, 86400, "seconds"),
    "ecr_image_keep_last": (1, 10000, "ECR lifecycle rule countNumber"),
    "fargate_service_container_port": (1, 65535, "a TCP port"),
    "fargate_service_desired_count": (0, preflight.MAX_TASKS, "ECS quota tasks per service"),
    "fargate_service_deployment_minimum_healthy_percent": (0, 100, "ECS minimumHealthyPercent"),
    "fargate_service_health_check_grace_period": (0, 2147483647, "ECS healthCheckGracePeriodSeconds"),
    "fargate_service_keep_revisions": (0, 1000, "task definition revisions"),
    "fargate_service_wait_timeout": (1, 86400, "seconds"),
    "fargate_service_wait_poll_interval": (1, 300, "seconds"),
    "fargate_service_teardown_retries": (0, 360, "retries"),
}

_MATCHER = re.compile(r"^[2-4]\d\d(?:-[2-4]\d\d)?(?:,[2-4]\d\d(?:-[2-4]\d\d)?)*$")
_LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_HEALTH_PATH = re.compile(r"^/[\x21-\x7e]{0,1023}$")


def _elb_name(text):
    return len(text) <= 32 and preflight._ELB_NAME.match(text)


def _cidr(text):
    try:
        ipaddress.ip_network(text, strict=True)
        return True
    except ValueError:
        return False


# The forms AWS accepts for some strings: (test, what is allowed). Empty strings mean "unset" and pass.
FORMS = {
    "alb_tls_name": (_elb_name, "1-32 letters, digits and '-', not starting or ending with '-'"),
    "alb_tls_target_group_name": (_elb_name, "1-32 letters, digits and '-', not starting or ending with '-'"),
    "alb_tls_ingress_cidrs": (_cidr, "CIDR blocks such as 203.0.113.0/24 or 2001:db8::/32, host bits zero"),
    "alb_tls_health_check_matcher": (_MATCHER.match, "HTTP codes 200-499 as '200', '200,302' or '200-299'"),
    "alb_tls_health_check_path": (_HEALTH_PATH.match, "a path starting with '/', at most 1024 printable characters, no spaces"),
    "alb_tls_certificate_arn": (preflight._ACM_ARN.match, "an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID) or ''"),
    "fargate_service_log_group": (_LOG_GROUP.match, "1-512 of letters, digits and . - _ / #"),
}


def role_of(name):
    """The role a variable belongs to, or None (also for a role's internal `<role>__*` names)."""
    for role in ROLES:
        if name.startswith(role + "_") and not name.startswith(role + "__"):
            return role
    return None


def merged_options(argument_specs):
    """{option: spec} over every entry point of one role's argument_specs."""
    options = {}
    for entry in (argument_specs or {}).values():
        options.update((entry or {}).get("options") or {})
    return options


def check_role_variables(values, specs, defaults=None):
    """Messages for `values` ({variable: value}, only role variables are
    looked at; a value may be an object with a `message`: it could not be
    evaluated) against `specs` ({role: {option: spec}}); `defaults` are the
    roles' plain defaults, for checks across two variables."""
    errors = []
    for name in sorted(values):
        role = role_of(name)
        if role is None or role not in specs:
            continue
        options = specs[role]
        value = values[name]
        if name not in options:
            close = difflib.get_close_matches(name, list(options), n=1)
            hint = f"did you mean {close[0]}?" if close else f"its variables are in roles/{role}/README.md"
            errors.append(f"{name} is not a variable of the role pocstack.aws.{role} (the role would ignore it); {hint}")
        elif hasattr(value, "message"):
            errors.append(value.message)
        else:
            errors += check_option(name, name, value, options[name])
    return errors + _check_pairs({**(defaults or {}), **values})


def _kind(value):
    """What YAML made of a value, in a user's words."""
    for kind, name in ((bool, "boolean"), (str, "string"), (int, "number"), (float, "number"), (Mapping, "dict"),
                       ((list, tuple), "list")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _shown(value, secret):
    return "(value hidden: no_log)" if secret else repr(value)


def check_option(path, name, value, spec, secret=False):
    """Messages for one value against its argument spec; `name` is the role
    variable it belongs to (the key of RANGES and FORMS)."""
    secret = secret or bool(spec.get("no_log"))
    if value is None:
        return []
    kind = spec.get("type", "str")
    shown = _shown(value, secret)
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            elements = f" of {spec['elements']}" if spec.get("elements") else ""
            return [f"{path}={shown} must be a list{elements} (a YAML sequence), not a {_kind(value)}"]
        element = {"type": spec.get("elements", "raw"), "options": spec.get("options"), "choices": spec.get("choices")}
        errors = []
        for index, item in enumerate(value):
            errors += check_option(f"{path}[{index}]", name, item, element, secret)
        return errors
    if kind == "dict":
        return _check_dict(path, name, value, spec, secret)
    if kind == "bool":
        if not isinstance(value, bool):
            return [f"{path}={shown} must be true or false (a YAML boolean, unquoted): a string such as 'false' "
                    "is true in a condition"]
        return _check_choices(path, value, spec, secret)
    if kind == "int":
        return _check_int(path, name, value, spec, secret)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return [f"{path}={shown} must be a number"]
        try:
            float(value)
        except ValueError:
            return [f"{path}={shown} must be a number"]
        return []
    if kind in ("str", "path"):
        if isinstance(value, (Mapping, list, tuple, bool)):
            return [f"{path}={shown} must be a string, not a {_kind(value)}"]
        text = str(value)
        if text != text.strip():
            return [f"{path}={shown} has white space at its start or end (a block scalar '|' keeps the final "
                    "newline: use '>-' or a plain scalar)"]
        errors = _check_choices(path, text, spec, secret)
        form = FORMS.get(name)
        if not errors and form and text and not form[0](text):
            errors.append(f"{path}={shown} is not allowed; allowed: {form[1]}")
        return errors
    return []


def _check_dict(path, name, value, spec, secret):
    if not isinstance(value, Mapping):
        return [f"{path}={_shown(value, secret)} must be a dict (a YAML mapping), not a {_kind(value)}"]
    keys = spec.get("options")
    if not keys:
        return []
    errors = []
    for key in value:
        if key not in keys:
            close = difflib.get_close_matches(str(key), list(keys), n=1) or [k for k in keys if k.startswith(str(key))][:1]
            hint = f" (did you mean {close[0]}?)" if close else ""
            errors.append(f"{path}.{key} is not a known key{hint}; allowed: {', '.join(keys)}")
    for key, key_spec in keys.items():
        if key in value:
            errors += check_option(f"{path}.{key}", name, value[key], key_spec, secret)
        elif key_spec.get("required"):
            errors.append(f"{path}.{key} is required")
    return errors


def _check_int(path, name, value, spec, secret):
    shown = _shown(value, secret)
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        return [f"{path}={shown} must be a whole number"]
    try:
        number = check_type_int(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return [f"{path}={shown} must be a whole number"]
    errors = _check_choices(path, number, spec, secret)
    limits = RANGES.get(name)
    if not errors and limits and not limits[0] <= number <= limits[1]:
        errors.append(f"{path}={shown} is out of range; allowed: {limits[0]}-{limits[1]} ({limits[2]})")
    return errors


def _check_choices(path, value, spec, secret):
    choices = spec.get("choices")
    if choices and value not in choices:
        return [f"{path}={_shown(value, secret)} is not allowed; allowed: {', '.join(map(str, choices))}"]
    return []


def _check_pairs(values):
    """What two variables must satisfy together (AWS refuses it at the API)."""
    errors = []
    interval = preflight._int(values.get("alb_tls_health_check_interval"))
    timeout = preflight._int(values.get("alb_tls_health_check_timeout"))
    if interval is not None and timeout is not None and timeout >= interval:
        errors.append(f"alb_tls_health_check_timeout={timeout} must be less than alb_tls_health_check_interval={interval} "
                      "(a target group's health check timeout must be smaller than its interval)")
    span = values.get("alb_tls_priority_range")
    numbers = [preflight._int(v) for v in span] if isinstance(span, (list, tuple)) else []
    if isinstance(span, (list, tuple)) and (len(numbers) != 2 or None in numbers or numbers[0] > numbers[1]):
        errors.append(f"alb_tls_priority_range={list(span)!r} must be [first, last] with first <= last")
    return errors
