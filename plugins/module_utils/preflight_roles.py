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
ranges AWS enforces on numbers, the values it allows where another table is
the source (Fargate's CPU sizes), the forms of some strings and what a dict's
keys must satisfy together, which argument specs cannot express, are in
RANGES, ALLOWED, FORMS and WHOLE below, and nowhere else.

The service variables `poc_*` are checked by the same rules: RoleSources reads
from the roles' defaults which role variable each one feeds
(`{{ poc_X | default(...) }}`, or `{{ (poc_X | default({})).KEY | default(...) }}`
for one key of it) and applies that role variable's spec, ranges and forms to
the `poc_*` value, naming the `poc_*` variable.

Pure functions over plain data; messages name the variable, the value (never
a no_log option's) and what is allowed.
"""

import difflib
import ipaddress
import re
from collections.abc import Mapping

from ansible.module_utils.common.validation import check_type_int

from ansible_collections.pocstack.aws.plugins.module_utils import ecs_services
from ansible_collections.pocstack.aws.plugins.module_utils import ecs_task_definitions
from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules
from ansible_collections.pocstack.aws.plugins.module_utils import preflight

ROLES = ("alb_tls", "ecr_image", "fargate_service", "ssm_secrets")
HEALTH_CHECK = ecs_task_definitions.HEALTH_CHECK_RANGES

# AWS's limits on the roles' numbers, also on a dict option's key
# ("variable.key"): (lowest, highest, whose limit).
RANGES = {
    "alb_tls_idle_timeout": (1, 4000, "ALB attribute idle_timeout.timeout_seconds"),
    "alb_tls_container_port": (1, 65535, "a TCP port"),
    "alb_tls_health_check_interval": (5, 300, "target group HealthCheckIntervalSeconds"),
    "alb_tls_health_check_timeout": (2, 120, "target group HealthCheckTimeoutSeconds"),
    "alb_tls_healthy_threshold": (2, 10, "target group HealthyThresholdCount"),
    "alb_tls_unhealthy_threshold": (2, 10, "target group UnhealthyThresholdCount"),
    "alb_tls_deregistration_delay": (0, 3600, "target group attribute deregistration_delay.timeout_seconds"),
    "alb_tls_priority": (*listener_rules.PRIORITY_RANGE, "listener rule Priority"),
    "alb_tls_priority_range": (*listener_rules.PRIORITY_RANGE, "listener rule Priority"),
    "alb_tls_prune_wait_timeout": (0, 86400, "seconds"),
    "ecr_image_keep_last": (0, 10000, "ECR lifecycle rule countNumber; 0: no lifecycle policy"),
    "fargate_service_container_port": (1, 65535, "a TCP port"),
    "fargate_service_desired_count": (0, preflight.MAX_TASKS, "ECS quota tasks per service"),
    "fargate_service_deployment_minimum_healthy_percent": (0, 100, "ECS minimumHealthyPercent"),
    "fargate_service_health_check_grace_period": (0, 2147483647, "ECS healthCheckGracePeriodSeconds"),
    "fargate_service_keep_revisions": (0, 1000, "task definition revisions"),
    "fargate_service_wait_timeout": (1, 86400, "seconds"),
    "fargate_service_wait_poll_interval": (1, 300, "seconds"),
    "fargate_service_teardown_retries": (0, 360, "retries"),
    "fargate_service_capacity_provider_strategy.weight": (*ecs_services.WEIGHT, "ECS capacity provider weight"),
    "fargate_service_capacity_provider_strategy.base": (*ecs_services.BASE, "ECS capacity provider base"),
    "fargate_service_autoscaling.min": (0, preflight.MAX_TASKS, "ECS quota tasks per service"),
    "fargate_service_autoscaling.max": (0, preflight.MAX_TASKS, "ECS quota tasks per service"),
    "fargate_service_autoscaling.cpu_target": (1, 100, "percent of the service's CPU"),
    "fargate_service_autoscaling.scale_in_cooldown": (0, 3600, "seconds"),
    "fargate_service_autoscaling.scale_out_cooldown": (0, 3600, "seconds"),
    # the limits ecs_task_definition_revision enforces
    "fargate_service_container_health_check.interval": (*HEALTH_CHECK["interval"], "ECS HealthCheck interval, seconds"),
    "fargate_service_container_health_check.timeout": (*HEALTH_CHECK["timeout"], "ECS HealthCheck timeout, seconds"),
    "fargate_service_container_health_check.retries": (*HEALTH_CHECK["retries"], "ECS HealthCheck retries"),
    "fargate_service_container_health_check.start_period": (*HEALTH_CHECK["startPeriod"],
                                                            "ECS HealthCheck startPeriod, seconds"),
    "fargate_service_sidecars.health_check.interval": (*HEALTH_CHECK["interval"], "ECS HealthCheck interval, seconds"),
    "fargate_service_sidecars.health_check.timeout": (*HEALTH_CHECK["timeout"], "ECS HealthCheck timeout, seconds"),
    "fargate_service_sidecars.health_check.retries": (*HEALTH_CHECK["retries"], "ECS HealthCheck retries"),
    "fargate_service_sidecars.health_check.start_period": (*HEALTH_CHECK["startPeriod"], "ECS HealthCheck startPeriod, seconds"),
    "fargate_service_sidecars.ports": (1, 65535, "a TCP port"),
    "fargate_service_sidecars.cpu": (0, 10240, "ECS container cpu units"),
    # Docker 20.10 and later reserve at least 6 MiB for a container (ECS container definition "memory").
    "fargate_service_sidecars.memory": (6, 122880, "MiB, within the task's memory"),
}

# Values AWS allows that a table elsewhere holds (the argument spec would be a
# second copy of it): (values, what they are).
ALLOWED = {
    "fargate_service_cpu": (tuple(preflight.FARGATE_SIZES), "a Fargate CPU value"),
}

_MATCHER = re.compile(r"^[2-4]\d\d(?:-[2-4]\d\d)?(?:,[2-4]\d\d(?:-[2-4]\d\d)?)*$")
_LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_HEALTH_PATH = re.compile(r"^/[\x21-\x7e]{0,1023}$")
_PATH = re.compile(r"^[/*][A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}\Z")
_ECR_REPO = preflight.ECR_REPOSITORY
_ECR_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


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
    "alb_tls_path_patterns": (_PATH.match, "a path pattern: start with '/' or '*', at most 128 characters of letters, "
                                           "digits, _-.$/~\"'@:+&, and the wildcards * and ?"),
    "alb_tls_host_headers": (preflight.HOST_HEADER.match, preflight.HOST_RULE),
    "fargate_service_log_group": (_LOG_GROUP.match, "1-512 of letters, digits and . - _ / #"),
    "ecr_image_repository": (_ECR_REPO.match, "an ECR repository name of 2-256 lower-case letters, digits and ._-/ "
                                              "(no separator at either end)"),
    "ecr_image_tag": (_ECR_TAG.match, "an image tag of up to 128 letters, digits, _.- (not starting with . or -)"),
}


def _certificate_pem(name, value):
    errors = []
    if value:  # unset: the role uses another certificate source
        preflight.check_certificate_pem(errors, value, name)
    return errors


# Variables whose contents are checked, not only their form (in place of
# check_option, so that a private key is never shown): {variable: check(name, value) -> messages}.
# A role used alone refuses a PEM pair ACM would refuse, before its first write.
CONTENTS = {
    "alb_tls_certificate_pem": _certificate_pem,
}


def _health_check(path, value, shown):
    """ECS's HealthCheck command: CMD or CMD-SHELL first, then what to run; a
    check without a command is none only when nothing else is set either."""
    command = value.get("command")
    if command is None:
        return [f"{path}.command is required once another key is set ({{}} for no health check)"] if value else []
    if not isinstance(command, (list, tuple)) or len(command) < 2 or command[0] not in ecs_task_definitions.HEALTH_CHECK_COMMANDS:
        return [f"{path}.command={shown(command)} must start with CMD (the command's words follow, run directly) or "
                "CMD-SHELL (one string follows, run by the container's shell), e.g. "
                "['CMD-SHELL', 'curl -f http://localhost:8080/health || exit 1']"]
    return []


# What a dict's keys must satisfy together, beyond each key's spec: {variable: check(path, value, shown)}.
WHOLE = {
    "fargate_service_container_health_check": _health_check,
    "fargate_service_sidecars.health_check": _health_check,
}


def role_of(name):
    """The role a variable belongs to, or None (also for a role's internal `<role>__*` names)."""
    return next((role for role in ROLES if name.startswith(role + "_") and not name.startswith(role + "__")), None)


def merged_options(argument_specs):
    """{option: spec} over every entry point of one role's argument_specs."""
    options = {}
    for entry in (argument_specs or {}).values():
        options.update((entry or {}).get("options") or {})
    return options


# How a role's default hands a poc_* variable over: the whole of it, or one key of it.
_FEEDS = re.compile(r"^\{\{\s*(poc_\w+)\s*\|\s*default\(.*\)\s*\}\}$", re.DOTALL)
_FEEDS_KEY = re.compile(r"^\{\{\s*\(\s*(poc_\w+)\s*\|\s*default\(\{\}\)\s*\)\.(\w+)\s*\|\s*default\(.*\)\s*\}\}$",
                        re.DOTALL)
_POC_NAME = re.compile(r"\bpoc_\w+")


class RoleSources:
    """What the roles' files say, for the poc_* variables too.

    `specs`: {role: {option: spec}} (merged_options of each role);
    `raw_defaults`: {variable: value} of the roles' defaults/main.yml, as
    written. From them: `feeds` {poc_X: [role variable, ...]} where a default
    is `{{ poc_X | default(...) }}`; `key_feeds` {poc_X: {key: role variable}}
    where it is `{{ (poc_X | default({})).key | default(...) }}`; `known`,
    every poc_* name a default reads (what a service may set)."""

    def __init__(self, specs, raw_defaults):
        self.specs = specs
        self.defaults = {k: v for k, v in raw_defaults.items() if "{{" not in str(v)}
        self.options = {name: spec for options in specs.values() for name, spec in options.items()}
        self.feeds, self.key_feeds, self.known = {}, {}, set()
        for variable, value in raw_defaults.items():
            if not isinstance(value, str):
                continue
            self.known.update(_POC_NAME.findall(value))
            whole, key = _FEEDS.match(value.strip()), _FEEDS_KEY.match(value.strip())
            if whole:
                self.feeds.setdefault(whole.group(1), []).append(variable)
            elif key:
                self.key_feeds.setdefault(key.group(1), {})[key.group(2)] = variable

    def check_service_variables(self, values):
        """Messages for a service's poc_* variables ({name: value}) by the
        specs, RANGES, ALLOWED and FORMS of the role variables they feed,
        naming the poc_* variable; one message once when it feeds two."""
        errors = []
        for poc in sorted(values):
            value = values[poc]
            for variable in self.feeds.get(poc, ()):
                errors += [m for m in check_option(poc, variable, value, self.options.get(variable, {"type": "raw"}))
                           if m not in errors]
            keys = self.key_feeds.get(poc)
            if keys and value is not None:
                errors += _check_dict(poc, value, {key: (variable, self.options.get(variable, {"type": "raw"}))
                                                   for key, variable in keys.items()})
        return errors

    def check_keys_of(self, poc, path, value):
        """Messages for `value` at `path` (a sidecar's image) by the role variables the keys of `poc`
        (poc_image) feed."""
        keys = self.key_feeds.get(poc) or {}
        return _check_dict(path, value, {key: (variable, self.options.get(variable, {"type": "raw"}))
                                         for key, variable in keys.items()})


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
        elif name in CONTENTS:
            errors += CONTENTS[name](name, value)
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


def _holds_secret(spec):
    """True when a no_log option is in `spec` or below it (a whole value shown would show it)."""
    return bool(spec.get("no_log")) or any(_holds_secret(key) for key in (spec.get("options") or {}).values())


def _keys(spec):
    return f" with the keys {', '.join(spec['options'])}" if spec.get("options") else ""


def _allowed(name):
    """What RANGES or ALLOWED says of `name`, for a message: "; allowed: ..." or ""."""
    if name in RANGES:
        low, high, whose = RANGES[name]
        return f"; allowed: {low}-{high} ({whose})"
    if name in ALLOWED:
        return f"; allowed: {', '.join(map(str, ALLOWED[name][0]))}"
    return ""


def check_option(path, name, value, spec, secret=False):
    """Messages for one value against its argument spec; `name` is the role
    variable it belongs to, with ".key" for a dict option's key (the key of
    RANGES, ALLOWED and FORMS)."""
    secret = secret or bool(spec.get("no_log"))
    if value is None:
        return []
    kind = spec.get("type", "str")
    shown = _shown(value, secret or _holds_secret(spec))
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            elements = f" of {spec['elements']}" if spec.get("elements") else ""
            return [f"{path}={shown} must be a list{elements} (a YAML sequence){_keys(spec)}, not a {_kind(value)}"]
        element = {"type": spec.get("elements", "raw"), "options": spec.get("options"), "choices": spec.get("choices")}
        errors = []
        for index, item in enumerate(value):
            errors += check_option(f"{path}[{index}]", name, item, element, secret)
        return errors
    if kind == "dict":
        keys = {key: (f"{name}.{key}", key_spec) for key, key_spec in (spec.get("options") or {}).items()}
        errors = _check_dict(path, value, keys, secret)
        if not errors and name in WHOLE:
            errors = WHOLE[name](path, value, lambda part: _shown(part, secret))
        return errors
    if kind == "bool":
        if not isinstance(value, bool):
            return [f"{path}={shown} must be true or false (a YAML boolean, unquoted): a string such as 'false' "
                    "is true in a condition"]
        return _check_choices(path, value, spec, secret)
    if kind in ("int", "float"):
        return _check_number(path, name, value, spec, secret)
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


def _check_dict(path, value, keys, secret=False):
    """A dict's keys: `keys` {key: (name as in check_option, spec)}; none: any key."""
    if not isinstance(value, Mapping):
        shown = _shown(value, secret or any(_holds_secret(spec) for _name, spec in keys.values()))
        return [f"{path}={shown} must be a dict (a YAML mapping){_keys({'options': keys})}, not a {_kind(value)}"]
    errors = [_unknown_key(path, key, keys) for key in value if keys and key not in keys]
    for key, (name, spec) in keys.items():
        if key in value:
            errors += check_option(f"{path}.{key}", name, value[key], spec, secret)
        elif spec.get("required"):
            errors.append(f"{path}.{key} is required")
    return errors


def _unknown_key(path, key, keys):
    close = difflib.get_close_matches(str(key), list(keys), n=1) or [k for k in keys if k.startswith(str(key))][:1]
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{path}.{key} is not a known key{hint}; allowed: {', '.join(keys)}"


def _check_number(path, name, value, spec, secret):
    """A whole number (type int) or any number (float), within RANGES and ALLOWED."""
    shown = _shown(value, secret)
    whole = spec.get("type") == "int"
    what = "a whole number" if whole else "a number"
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError
        number = check_type_int(value.strip() if isinstance(value, str) else value) if whole else float(value)
        if whole and isinstance(value, float) and not value.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        return [f"{path}={shown} must be {what}{_allowed(name)}"]
    errors = _check_choices(path, number, spec, secret)
    limits, allowed = RANGES.get(name), ALLOWED.get(name)
    if not errors and limits and not limits[0] <= number <= limits[1]:
        errors.append(f"{path}={shown} is out of range{_allowed(name)}")
    elif not errors and allowed and number not in allowed[0]:
        errors.append(f"{path}={shown} is not {allowed[1]}{_allowed(name)}")
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
    preflight.check_size(errors, "fargate_service_cpu", values.get("fargate_service_cpu"),
                         "fargate_service_memory", values.get("fargate_service_memory"))
    preflight.check_capacity(errors, "fargate_service_capacity_provider_strategy",
                             values.get("fargate_service_capacity_provider_strategy"),
                             "fargate_service_cpu_architecture", values.get("fargate_service_cpu_architecture"))
    taken = preflight.names_taken("fargate_service_environment", values.get("fargate_service_environment"),
                                  "fargate_service_secrets", values.get("fargate_service_secrets"))
    region = values.get("aws_region") if isinstance(values.get("aws_region"), str) else ""
    preflight.check_secrets_manager(errors, "fargate_service_secrets_manager", values.get("fargate_service_secrets_manager"),
                                    region, taken)
    if values.get("fargate_service_sidecars") or values.get("fargate_service_depends_on"):
        health = values.get("fargate_service_container_health_check")
        main = {"name": values.get("fargate_service_name") or "(the service's container)",
                "port": values.get("fargate_service_container_port"),
                "health_check": isinstance(health, Mapping) and bool(health.get("command"))}
        preflight.check_containers(errors, ("fargate_service_sidecars", "fargate_service_depends_on", "fargate_service_cpu",
                                            "fargate_service_memory"), main, values.get("fargate_service_sidecars"),
                                   values.get("fargate_service_depends_on"),
                                   (values.get("fargate_service_cpu"), values.get("fargate_service_memory")))
    span = values.get("alb_tls_priority_range")
    numbers = [preflight._int(v) for v in span] if isinstance(span, (list, tuple)) else []
    if isinstance(span, (list, tuple)) and (len(numbers) != 2 or None in numbers or numbers[0] > numbers[1]):
        errors.append(f"alb_tls_priority_range={list(span)!r} must be [first, last] with first <= last")
    return errors
