# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of the PoC inventory: what AWS would reject halfway through
a deploy, or what argument specs cannot express, found before any AWS call.

Pure functions over plain data: `check_services({name: {poc_var: value}},
shared, roles)` returns {name: [message, ...]}; every message names the
variable, the value (never a secret's value) and what is allowed. Each poc_*
variable's type, range and form are those of the role variable it feeds
(`roles`: preflight_roles.RoleSources, read from the roles' argument specs and
defaults); what is here is what one role variable's spec cannot say: values
that must fit together (Fargate sizes, a listener rule's conditions, unique
priorities), secrets, names AWS derives from the service's.
"""

import datetime
import difflib
import itertools
import re
from collections.abc import Mapping

from ansible.module_utils.common.dict_transformations import snake_dict_to_camel_dict
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.pocstack.aws.plugins.module_utils import audit
from ansible_collections.pocstack.aws.plugins.module_utils import ecs_services
from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules
from ansible_collections.pocstack.aws.plugins.module_utils import rule_actions
from ansible_collections.pocstack.aws.plugins.module_utils.service_scaling import MAX_TASKS

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
except ImportError:  # ansible-core requires it on the controller; said in check_certificate_pem_contents
    x509 = serialization = None
    UnsupportedAlgorithm = ValueError

# AWS Fargate task sizes: cpu units -> allowed memory (MiB).
FARGATE_SIZES = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}
MAX_CONDITION_VALUES = 5
# ALB quota "Wildcards per rule" (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html).
MAX_RULE_WILDCARDS = 5

_ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
HOST_HEADER = re.compile(r"^[A-Za-z0-9\-.*?]{1,128}\Z")
HOST_RULE = "a host name of at most 128 characters of letters, digits, '-', '.', and the wildcards * and ?"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM_PART = re.compile(r"^[A-Za-z0-9_.\-/]+$")
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$")
_IAM_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")


class Unreadable:
    """A variable whose value could not be evaluated (the message says why)."""

    def __init__(self, message):
        self.message = message


def _int(value):
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _elb_name(errors, subject, name, limit=32, why=""):
    """AWS's rule for load balancer and target group names; `limit`: what of
    their 32 characters `name` may use, `why` says where the rest goes."""
    if len(name) > limit:
        errors.append(f"{subject} {name!r} has {len(name)} characters; at most {limit} allowed{why}")
    elif not _ELB_NAME.match(name):
        errors.append(f"{subject} {name!r} is not allowed; use letters, digits and '-', "
                      f"not starting or ending with '-'{why}")


def check_size(errors, cpu_var, cpu, memory_var, memory):
    """Whether a Fargate task of `cpu` units can have `memory` MiB (nothing
    said when either is no whole number or cpu no Fargate value: their own
    checks say so)."""
    units, mib = _int(cpu), _int(memory)
    if units in FARGATE_SIZES and mib is not None and mib not in FARGATE_SIZES[units]:
        errors.append(f"{memory_var}={memory!r} does not fit {cpu_var}={units}; "
                      f"allowed memory (MiB): {allowed_memory_text(units)}")


def check_capacity(errors, strategy_var, strategy, arch_var, architecture):
    """A capacity provider strategy's entries together (what ECS refuses at
    CreateService), and with the CPU architecture: Fargate Spot runs only
    X86_64 Linux tasks (AWS, "Fargate capacity providers": "Linux tasks with
    the ARM64 architecture don't support the Fargate Spot capacity
    provider"). Nothing said of a strategy with entries the argument spec's
    checks name (no dict, another provider, a number out of range)."""
    if not isinstance(strategy, (list, tuple)) or not strategy or not all(isinstance(s, dict) for s in strategy):
        return
    entries = [{**s, "weight": _int(s.get("weight", 0)), "base": _int(s.get("base", 0))} for s in strategy]
    limits = {"weight": ecs_services.WEIGHT, "base": ecs_services.BASE}
    if any(e.get("capacity_provider") not in ("FARGATE", "FARGATE_SPOT")
           or any(e[key] is None or not low <= e[key] <= high for key, (low, high) in limits.items())
           for e in entries):
        return
    try:
        ecs_services.capacity_provider_strategy(entries, where=strategy_var)
    except ecs_services.ServiceError as e:
        errors.append(str(e))
    if architecture == "ARM64" and any(e.get("capacity_provider") == "FARGATE_SPOT" for e in entries):
        errors.append(f"{strategy_var}: FARGATE_SPOT does not run ARM64 tasks ({arch_var}=ARM64); Fargate Spot runs "
                      "only X86_64 Linux tasks: use FARGATE alone, or X86_64")


def allowed_memory_text(cpu):
    """The Fargate memory sizes (MiB) for `cpu` units, for messages."""
    allowed = FARGATE_SIZES[cpu]
    if len(allowed) <= 4:
        return ", ".join(map(str, allowed))
    return f"{allowed[0]}-{allowed[-1]} in steps of {allowed[1] - allowed[0]}"


def _strings(value):
    """The strings of a list (what is no list or string: the type checks name it)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, (list, tuple)) else []


def check_routing(errors, svc):
    """poc_host_headers (it feeds alb_tls_host_headers through an expression,
    with poc_host) and what the conditions of one listener rule must fit
    together. poc_path_patterns's type and form are its role variable's."""
    paths = _strings(svc.get("poc_path_patterns"))
    hosts = svc.get("poc_host_headers")
    if hosts is not None and not isinstance(hosts, (list, tuple)):
        errors.append(f"poc_host_headers={hosts!r} must be a list of strings")
    for host in hosts if isinstance(hosts, (list, tuple)) else []:
        if not isinstance(host, str) or not HOST_HEADER.match(host):
            errors.append(f"poc_host_headers: {host!r} is not a host name; allowed: {HOST_RULE}")
    hosts = _strings(hosts)
    host, label = svc.get("poc_host"), "poc_path_patterns + poc_host_headers"
    if isinstance(host, str) and host and host not in hosts:
        hosts, label = hosts + [host], label + " + poc_host"
    total = len(paths) + len(hosts)
    if total > MAX_CONDITION_VALUES:
        errors.append(f"{label}: {total} values; a listener rule allows at most {MAX_CONDITION_VALUES}")
    wildcards = sum(value.count("*") + value.count("?") for value in paths + hosts)
    if wildcards > MAX_RULE_WILDCARDS:
        errors.append(f"{label}: {wildcards} wildcards (* and ?); a listener rule allows at most {MAX_RULE_WILDCARDS}")


def dns_name_problem(name):
    """Why `name` is not a DNS host name (letters, digits, '-', dots), or None."""
    if not isinstance(name, str) or not name or len(name) > 253:
        return "at most 253 characters"
    labels = name.lower().rstrip(".").split(".")
    if len(labels) < 2 or not all(_DNS_LABEL.match(label) for label in labels):
        return "labels of 1-63 letters, digits and '-' (not first or last) separated by dots, no wildcard"
    return None


def check_host(errors, svc, shared):
    """poc_host: one host name in the hosted zone (an alias record and a host-header condition)."""
    host = svc.get("poc_host")
    if not isinstance(host, str) or host == "":
        return  # not a string: its type check names it
    problem = dns_name_problem(host)
    if problem:
        errors.append(f"poc_host={host!r} is not a host name; {problem}")
        return
    zone = shared.get("pocstack_hosted_zone") or ""
    # without pocstack_hosted_zone, the host name without its first label
    hosted = (zone or host.split(".", 1)[-1]).lower().rstrip(".")
    if zone and not host.lower().rstrip(".").endswith("." + hosted):
        errors.append(f"poc_host={host!r} is not in pocstack_hosted_zone={zone!r}; use a name below it")
    elif not zone and "." not in hosted:
        errors.append(f"poc_host={host!r}: its hosted zone would be {hosted!r}; "
                      "set pocstack_hosted_zone or use a name like service.poc.example.com")


def check_counts(errors, svc):
    """poc_autoscaling's min and max, together and with poc_desired_count
    (each number's type and range are its role variable's)."""
    scaling = svc.get("poc_autoscaling")
    if not isinstance(scaling, dict):
        return
    if "min" not in scaling or "max" not in scaling:
        errors.append(f"poc_autoscaling needs min and max (whole numbers of tasks, 0-{MAX_TASKS}); it has "
                      f"{', '.join(map(str, scaling)) or 'no keys'}")
        return
    desired, low, high = _int(svc.get("poc_desired_count", 1)), _int(scaling["min"]), _int(scaling["max"])
    if None not in (desired, low, high) and not low <= desired <= high:
        errors.append(
            f"poc_autoscaling: min {low} <= poc_desired_count {desired} <= max {high} does not hold; "
            "allowed: min <= desired <= max"
        )
    # requests_per_target above 0: a bound RANGES (inclusive) cannot say; its type is its spec's
    requests = scaling.get("requests_per_target")
    try:
        below = not isinstance(requests, bool) and float(requests) <= 0
    except (TypeError, ValueError):
        below = False  # no number: its spec's type check names it
    if below:
        errors.append(f"poc_autoscaling.requests_per_target={requests!r} must be requests per "
                      "task and minute; allowed: a number above 0")


def _garbles_its_arn(value, parameter, region):
    """True when Ansible's no_log masking of `value` would change the
    parameter's ARN (arn:aws:ssm:REGION:ACCOUNT:parameterNAME) in the results
    the next roles read: the value occurs in it (the account's 12 digits are
    unknown here, so any run of up to 12 digits counts as occurring)."""
    arn = f"arn:aws:ssm:{region or 'us-east-1'}:<account>:parameter{parameter}"
    return value in arn or (value.isdigit() and len(value) <= 12)


# SSM Parameter Store: a standard parameter's value holds at most 4 KB.
MAX_SECRET_BYTES = 4096


def check_plain_environment(errors, environment, secrets, allowed):
    """Secrets given as plain environment: readable by anyone who may describe
    the task definition (the audit would find them after the deploy)."""
    values = {s.get("value"): s.get("name") for s in secrets if isinstance(s, dict) and isinstance(s.get("value"), str) and s.get("value")}
    for name, value in environment.items():
        if not isinstance(name, str):
            continue
        if isinstance(value, str) and value in values:
            errors.append(f"poc_environment: the value of {name} is the value of the secret {values[value]} (not shown); "
                          "plain environment values are readable by anyone who may describe the task definition: "
                          "remove it, the secret reaches the container through poc_secrets")
        elif audit.looks_secret(name, allowed):
            errors.append(f"poc_environment: {name} looks like a secret (PASS, SECRET, TOKEN, KEY), but a plain value is "
                          "readable by anyone who may describe the task definition: move it to poc_secrets (an SSM "
                          "SecureString); if it is no secret, list it in pocstack_audit_plain_environment_allowed")


def check_secrets(errors, svc, service, prefix, region="", plain_allowed=()):
    """What the names and values of poc_secrets and poc_environment must be
    for SSM, ECS and Ansible's no_log (their types: ssm_secrets_secrets's and
    fargate_service_environment's specs)."""
    secrets = svc.get("poc_secrets") if isinstance(svc.get("poc_secrets"), (list, tuple)) else []
    environment = svc.get("poc_environment") if isinstance(svc.get("poc_environment"), dict) else {}
    seen = set()
    for index, secret in enumerate(secrets):
        if not isinstance(secret, dict) or secret.get("name") is None:
            continue  # the spec's check names it
        name = secret["name"]
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            errors.append(
                f"poc_secrets[{index}].name={name!r} is not an environment variable name; "
                "allowed: letters, digits and '_', not starting with a digit"
            )
            continue
        parameter = f"{prefix}/{service}/{name}"
        if not _PARAM_PART.match(parameter) or len(parameter) > 1011:
            errors.append(
                f"poc_secrets[{index}].name={name!r} makes the parameter name {parameter!r}, which SSM rejects; "
                "allowed: letters, digits, _.-/ and at most 1011 characters"
            )
        if name in seen:
            errors.append(f"poc_secrets[{index}].name={name!r} is listed twice; names must be unique")
        seen.add(name)
        value = secret.get("value")
        if value is None or (isinstance(value, str) and not value):
            errors.append(
                f"poc_secrets[{index}] ({name}) has no value; give one from ansible-vault, the environment or a lookup"
            )
        elif isinstance(value, str) and len(value.encode()) > MAX_SECRET_BYTES:
            errors.append(f"poc_secrets[{index}] ({name}): the value has {len(value.encode())} bytes; an SSM "
                          f"parameter holds at most {MAX_SECRET_BYTES}")
        elif isinstance(value, str) and _garbles_its_arn(value, parameter, region):
            errors.append(
                f"poc_secrets[{index}] ({name}): the value occurs in the parameter's own ARN "
                f"(arn:aws:ssm:{region or '<region>'}:<account>:parameter{parameter}); Ansible hides secret values "
                "wherever they appear in task results, which would garble the ARN ECS reads the secret from: "
                "use a longer value (for example from lookup('ansible.builtin.password', ...))"
            )
        if name in environment:
            errors.append(f"poc_secrets[{index}].name={name!r} is also in poc_environment; a name is a secret or plain, not both")
    for name in environment:
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            errors.append(f"poc_environment: {name!r} is not an environment variable name; allowed: letters, digits and '_'")
    check_plain_environment(errors, environment, secrets, plain_allowed)


# A Secrets Manager secret's complete ARN: the name, '-' and the 6 characters
# Secrets Manager appends (an exact IAM grant needs them); ECS's valueFrom
# adds :json-key:version-stage:version-id after it.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
SECRET_ARN = re.compile(r"^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:([A-Za-z0-9/_+=.@-]{1,512})-[A-Za-z0-9]{6}$")
SECRET_ARN_RULE = "arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf (the complete ARN, with its 6-character suffix)"
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:key/[A-Za-z0-9-]{1,256}$")
# Secrets Manager: VersionStage 1-256 characters, VersionId 32-64; ECS's
# valueFrom separates its fields with ':', so none may hold one.
SECRET_FIELDS = {"json_key": (1, 1024), "version_stage": (1, 256), "version_id": (32, 64)}


def check_secrets_manager(errors, var, entries, region="", taken=None):
    """`var` (poc_secrets_manager or fargate_service_secrets_manager): each
    entry's ARN, names and fields as ECS and IAM need them; `taken`:
    {environment variable name: where else it is set}. Types: the spec's."""
    taken = dict(taken or {})
    for index, entry in enumerate(entries if isinstance(entries, (list, tuple)) else []):
        if not isinstance(entry, dict):
            continue  # the spec's check names it
        where, name = f"{var}[{index}]", entry.get("name")
        if isinstance(name, str):
            if not _ENV_NAME.match(name):
                errors.append(f"{where}.name={name!r} is not an environment variable name; "
                              "allowed: letters, digits and '_', not starting with a digit")
            elif name in taken:
                errors.append(f"{where}.name={name!r} is also in {taken[name]}; ECS refuses a task definition with "
                              "a name twice among a container's environment and secrets: use another name")
            else:
                taken[name] = f"{var}[{index}]"
        arn = entry.get("secret_arn")
        match = SECRET_ARN.match(arn) if isinstance(arn, str) else None
        if isinstance(arn, str) and not match:
            errors.append(f"{where}.secret_arn={arn!r} is not a Secrets Manager secret ARN; allowed: {SECRET_ARN_RULE}")
        elif match and region and match.group(2) != region:
            errors.append(f"{where}.secret_arn is in region {match.group(2)}; the tasks run in aws_region={region} "
                          "and reach Secrets Manager there (their secretsmanager VPC endpoint serves that region "
                          "only): use a secret of that region (a replica)")
        for key, (low, high) in SECRET_FIELDS.items():
            value = entry.get(key)
            if isinstance(value, str) and value and (":" in value or not low <= len(value) <= high):
                errors.append(f"{where}.{key}={value!r} is not allowed; allowed: {low}-{high} characters "
                              "without ':' (ECS's valueFrom separates its fields with it)")
        if entry.get("version_stage") and entry.get("version_id"):
            errors.append(f"{where} has version_stage and version_id; ECS allows one of them "
                          "(leave both out for the AWSCURRENT version)")
        key = entry.get("kms_key")
        if isinstance(key, str) and key and not KMS_KEY_ARN.match(key):
            errors.append(f"{where}.kms_key={key!r} is not a KMS key ARN; allowed: the ARN of the customer managed "
                          "key that encrypts the secret (arn:aws:kms:REGION:ACCOUNT:key/ID), or leave it out for "
                          "the AWS managed key aws/secretsmanager")


def check_image(errors, svc, image=None, var="poc_image"):
    """poc_image's keys together (each key's type and form: the ecr_image variable it feeds); `image`
    and `var`: a sidecar's image of the same shape."""
    image = svc.get("poc_image") if image is None else image
    if not isinstance(image, dict):
        return
    if image.get("source") == "mirror" and not (isinstance(image.get("image"), str) and image["image"].strip()):
        errors.append(f"{var}.image is required with source 'mirror': the image to pull, e.g. docker.io/library/nginx:1.27")
    architecture = svc.get("poc_cpu_architecture", "X86_64")
    wanted = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}.get(architecture)
    if image.get("source") == "build" and image.get("platform") and wanted and image["platform"] != wanted:
        errors.append(f"{var}.platform={image['platform']!r} does not run on poc_cpu_architecture={architecture}; "
                      f"build for {wanted}, or leave {var}.platform out (it follows poc_cpu_architecture)")


# ECS: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed" (container name).
_CONTAINER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
DEPENDS_ON_CONDITIONS = ("START", "COMPLETE", "SUCCESS", "HEALTHY")


def _entries(value):
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, (list, tuple)) else []


def check_containers(errors, names, main, sidecars, depends_on, size=(None, None)):
    """What ECS requires of a task's containers together (each key's type: the
    fargate_service_sidecars spec): unique container names, one port per
    container of the task (awsvpc: one network namespace), dependsOn on known
    containers, HEALTHY only on a container with a health check,
    COMPLETE/SUCCESS only on a non-essential one (ECS: "This condition can't be
    set on an essential container"), no cycle, the containers' cpu and memory
    within the task's. `names`: (sidecars' variable, main's depends_on
    variable, task cpu variable, task memory variable); `main`: {name, port,
    health_check (bool)} of the service's own container; `size`: (cpu, memory)
    of the task."""
    var, depends_var, cpu_var, memory_var = names
    containers = {main["name"]: {"essential": True, "health": bool(main.get("health_check")), "var": "the service's container"}}
    ports = {}
    if _int(main.get("port")) is not None:
        ports[_int(main["port"])] = "the service's container"
    edges = {main["name"]: (depends_var, depends_on)}
    for index, sidecar in _entries(sidecars):
        where, name = f"{var}[{index}]", sidecar.get("name")
        if not isinstance(name, str):
            continue  # the spec's check names it
        if not _CONTAINER_NAME.match(name):
            errors.append(f"{where}.name={name!r} is not a container name; allowed: 1-255 letters, digits, '_' and '-'")
        elif name == main["name"]:
            errors.append(f"{where}.name={name!r} is the service's own container's name; give the sidecar another")
        elif name in containers:
            errors.append(f"{where}.name={name!r} is listed twice; container names must be unique in a task")
        else:
            essential = sidecar.get("essential")
            check = sidecar.get("health_check")
            containers[name] = {"essential": essential is None or essential is True,
                                "health": isinstance(check, dict) and bool(check.get("command")), "var": where}
            edges[name] = (f"{where}.depends_on", sidecar.get("depends_on"))
        for port_index, port in enumerate(sidecar.get("ports") if isinstance(sidecar.get("ports"), list) else []):
            number = _int(port)
            if number is None:
                continue
            if not 1 <= number <= 65535:
                continue  # the spec's range names it
            if number in ports:
                errors.append(f"{where}.ports[{port_index}]={number} is also the port of {ports[number]}; the containers "
                              "of a task share one network namespace (awsvpc), so each port can have one listener")
            else:
                ports[number] = where
    _check_depends_on(errors, containers, edges)
    _check_container_sizes(errors, var, sidecars, cpu_var, memory_var, size)


def _check_depends_on(errors, containers, edges):
    graph = {}
    for name, (where, depends) in edges.items():
        graph[name] = []
        for index, dep in _entries(depends):
            target, condition = dep.get("container"), dep.get("condition")
            if not isinstance(target, str) or condition not in DEPENDS_ON_CONDITIONS:
                continue  # the spec's check names it
            at = f"{where}[{index}]"
            if target == name:
                errors.append(f"{at}.container={target!r} is the container itself; a container cannot depend on itself")
            elif target not in containers:
                errors.append(f"{at}.container={target!r} is not a container of the task; allowed: "
                              f"{', '.join(n for n in containers if n != name)}")
            elif condition == "HEALTHY" and not containers[target]["health"]:
                errors.append(f"{at}.condition=HEALTHY needs a health check on {target} ({containers[target]['var']}); "
                              "give it one (health_check), or use START")
            elif condition in ("COMPLETE", "SUCCESS") and containers[target]["essential"]:
                errors.append(f"{at}.condition={condition} on the essential container {target}: this condition can't be "
                              "set on an essential container; set essential: false on it, or use START or HEALTHY")
            else:
                graph[name].append(target)
    cycle = _cycle(graph)
    if cycle:
        errors.append(f"{edges[cycle[0]][0]} makes a cycle of dependencies: {' -> '.join(cycle)}; no container "
                      "could start; remove one of them")


def _cycle(graph):
    """A dependency cycle [a, b, ..., a] of `graph` {name: [names]}, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in graph.get(node, ()):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target, path + [target])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in graph:
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def _check_container_sizes(errors, var, sidecars, cpu_var, memory_var, size):
    cpu, memory = (_int(v) for v in size)
    total_cpu = total_memory = 0
    for index, sidecar in _entries(sidecars):
        share, limit = _int(sidecar.get("cpu")), _int(sidecar.get("memory"))
        if share is not None and cpu is not None and share > cpu:
            errors.append(f"{var}[{index}].cpu={share} is more than the task's {cpu_var}={cpu}")
        if limit is not None and memory is not None and limit > memory:
            errors.append(f"{var}[{index}].memory={limit} is more than the task's {memory_var}={memory} (MiB)")
        total_cpu += share or 0
        total_memory += limit or 0
    if cpu is not None and total_cpu > cpu:
        errors.append(f"{var}: the containers' cpu add up to {total_cpu}, more than the task's {cpu_var}={cpu}")
    if memory is not None and total_memory > memory:
        errors.append(f"{var}: the containers' memory adds up to {total_memory} MiB, more than the task's "
                      f"{memory_var}={memory}")


def check_sidecars(errors, svc, service, prefix, region=""):
    """poc_sidecars and poc_depends_on: the containers together (check_containers), each image as
    poc_image (check_image; its keys' forms are checked by preflight_roles), its ECR repository's
    name, and its secrets as poc_secrets'."""
    sidecars = svc.get("poc_sidecars")
    main_check = svc.get("poc_health_check")
    image = svc.get("poc_image")
    built_app = isinstance(image, dict) and image.get("source") == "build" and "context" not in image
    main = {"name": service, "port": svc.get("poc_container_port", 8050),
            "health_check": (main_check or {}).get("command") if isinstance(main_check, dict) else built_app}
    check_containers(errors, ("poc_sidecars", "poc_depends_on", "poc_cpu", "poc_memory"), main, sidecars,
                     svc.get("poc_depends_on"), (svc.get("poc_cpu", 256), svc.get("poc_memory", 512)))
    for index, sidecar in _entries(sidecars):
        name, where = sidecar.get("name"), f"poc_sidecars[{index}]"
        if not isinstance(name, str) or not _CONTAINER_NAME.match(name):
            continue
        if not isinstance(sidecar.get("image"), dict):
            if "image" in sidecar:
                errors.append(f"{where}.image must be a dict of the shape of poc_image ({{source: existing, repository, tag}}, "
                              "{source: build, context, ...} or {source: mirror, image, ...}), not "
                              f"{type(sidecar['image']).__name__}")
        else:
            check_image(errors, svc, sidecar["image"], f"{where}.image")
            repository = sidecar["image"].get("repository") or f"pocstack/{service}-{name.lower()}"
            if not sidecar["image"].get("repository") and not ECR_REPOSITORY.match(repository):
                errors.append(f"{where}.name={name!r} makes the ECR repository name {repository!r}, which ECR rejects; "
                              "give image.repository (2-256 lower-case letters, digits and ._-/)")
        own = {"poc_secrets": sidecar.get("secrets") or [], "poc_environment": sidecar.get("environment") or {}}
        found = []
        check_secrets(found, own, f"{service}/{name}", prefix, region)
        errors += [m.replace("poc_secrets[", f"{where}.secrets[").replace("poc_environment", f"{where}.environment")
                   for m in found]


ECR_REPOSITORY = re.compile(r"^(?=.{2,256}\Z)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


def check_access(errors, svc):
    """ALB-level login and the task role's grants (their types: alb_tls_authenticate's
    and fargate_service_task_policy_statements's specs)."""
    login = svc.get("poc_alb_login")
    if isinstance(login, dict):
        secret = str(login.get("client_secret", ""))
        if rule_actions.action_type(login) not in rule_actions.AUTHENTICATE_TYPES:
            errors.append(
                "poc_alb_login must be a dict with type authenticate-oidc or authenticate-cognito and that action's "
                "settings (see pocstack.aws.elb_listener_rule)"
            )
        else:
            try:
                rule_actions.normalize_action(login)
            except rule_actions.RuleError as e:
                message = str(e).replace(secret, "********") if secret else str(e)
                errors.append(f"poc_alb_login: {message}")
    statements = svc.get("poc_task_policy_statements")
    for index, st in enumerate(statements if isinstance(statements, list) else []):
        if not isinstance(st, dict):
            continue
        if st.get("Effect") not in ("Allow", "Deny") or not st.get("Action") or not st.get("Resource"):
            errors.append(f"poc_task_policy_statements[{index}] needs Effect (Allow or Deny), Action and Resource")
        actions = st.get("Action") if isinstance(st.get("Action"), list) else [st.get("Action")]
        if "*" in actions:
            errors.append(f"poc_task_policy_statements[{index}]: Action '*' grants everything; name the actions")


def names_taken(environment_var, environment, secrets_var, secrets):
    """{environment variable name: the variable that sets it} of a container's
    plain environment (a dict) and SSM secrets (a list of {name, ...}), for
    check_secrets_manager's `taken`."""
    taken = {name: environment_var for name in (environment if isinstance(environment, Mapping) else ())}
    for index, secret in enumerate(secrets if isinstance(secrets, list) else []):
        if isinstance(secret, Mapping) and isinstance(secret.get("name"), str):
            taken[secret["name"]] = f"{secrets_var}[{index}]"
    return taken


def check_service(service, svc, shared, roles):
    """All mistakes of one service: a list of messages. `roles`
    (preflight_roles.RoleSources) knows the poc_* variables the roles read and
    checks each against the role variable it feeds."""
    errors = [v.message for _key, v in sorted(svc.items()) if isinstance(v, Unreadable)]
    svc = {k: v for k, v in svc.items() if not isinstance(v, Unreadable)}
    for var in sorted(set(svc) - roles.known):
        close = difflib.get_close_matches(var, roles.known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        errors.append(f"{var} is not a known service variable{hint}; known: {', '.join(sorted(roles.known))}")
    typed = roles.check_service_variables(svc)
    for index, sidecar in _entries(svc.get("poc_sidecars")):  # each image as poc_image
        if isinstance(sidecar.get("image"), dict):
            typed += roles.check_keys_of("poc_image", f"poc_sidecars[{index}].image", sidecar["image"])
    own = []
    check_size(own, "poc_cpu", svc.get("poc_cpu", 256), "poc_memory", svc.get("poc_memory", 512))
    check_capacity(own, "poc_capacity_provider_strategy", svc.get("poc_capacity_provider_strategy"),
                   "poc_cpu_architecture", svc.get("poc_cpu_architecture", "X86_64"))
    check_routing(own, svc)
    check_host(own, svc, shared)
    check_counts(own, svc)
    check_secrets(own, svc, service, shared.get("pocstack_ssm_prefix", "/pocstack"), shared.get("aws_region", ""),
                  shared.get("pocstack_audit_plain_environment_allowed") or ())
    check_secrets_manager(own, "poc_secrets_manager", svc.get("poc_secrets_manager"), shared.get("aws_region", ""),
                          names_taken("poc_environment", svc.get("poc_environment"), "poc_secrets", svc.get("poc_secrets")))
    check_image(own, svc)
    check_sidecars(own, svc, service, shared.get("pocstack_ssm_prefix", "/pocstack"), shared.get("aws_region", ""))
    check_access(own, svc)
    if not any(message.startswith("poc_container_port") for message in typed):
        # alb_tls names the target group <service>-<6 hex digits of its immutable settings>
        _elb_name(own, "service name", service, 32 - 7,
                  " (its target group is named <service>-<6 hex digits>, at most 32 characters)")
    cluster = str(shared.get("pocstack_cluster_name", "pocstack"))
    for role in (f"{cluster}-{service}-exec", f"{cluster}-{service}-task"):
        if not _IAM_NAME.match(role):
            own.append(f"pocstack_cluster_name + service name: the IAM role name {role!r} is too long or has other "
                       "characters than letters, digits and +=,.@_-; at most 64 allowed")
    return errors + [message for message in typed if not _said_better(message, own)] + own


def _said_better(message, own):
    """A spec's "X.key is required" when a check here says more of X (a
    secret without a value: where to get one)."""
    if not message.endswith(" is required"):
        return False
    element = message[:-len(" is required")].rsplit(".", 1)[0]
    return any(other.startswith(element + " ") for other in own)


def check_shared(shared):
    errors = []
    _elb_name(errors, "pocstack_alb_name: the load balancer name", str(shared.get("pocstack_alb_name", "pocstack")))
    cluster = str(shared.get("pocstack_cluster_name", "pocstack"))
    if not re.match(r"^[A-Za-z0-9_-]{1,255}$", cluster):
        errors.append(f"pocstack_cluster_name={cluster!r} is not allowed; use 1-255 letters, digits, '_' and '-'")
    prefix = str(shared.get("pocstack_ssm_prefix", "/pocstack"))
    if not prefix.startswith("/") or prefix.endswith("/") or not _PARAM_PART.match(prefix):
        errors.append(f"pocstack_ssm_prefix={prefix!r} must start with '/', not end with '/', and use letters, digits, _.-/")
    # the certificate's sources: well formed, not both (pocstack_certificate_arn
    # is checked against the account: check_certificate)
    request, pem = shared.get("pocstack_certificate_request"), shared.get("pocstack_certificate_pem")
    if request and pem:
        errors.append("pocstack_certificate_request and pocstack_certificate_pem are both set; give one certificate source")
    if request:
        check_certificate_request(errors, request, shared.get("pocstack_hosted_zone"))
    if pem:
        check_certificate_pem(errors, pem)
    zone = shared.get("pocstack_hosted_zone")
    if zone not in (None, ""):
        problem = dns_name_problem(zone)
        if problem:
            errors.append(f"pocstack_hosted_zone={zone!r} is not a DNS zone name; {problem}")
    return errors


CERTIFICATE_REQUEST_KEYS = ("domain_name", "subject_alternative_names", "hosted_zone", "wait_timeout")
CERTIFICATE_PEM_KEYS = ("certificate", "private_key", "certificate_chain", "name")


def _mapping(errors, var, value, allowed):
    """True when `value` is a mapping; its unknown keys are reported."""
    if not isinstance(value, dict):
        errors.append(f"{var} must be a mapping with the keys {', '.join(allowed)}")
        return False
    for key in sorted(set(value) - set(allowed)):
        errors.append(f"{var}.{key} is not known; allowed: {', '.join(allowed)}")
    return True


def _in_zone(name, zone):
    bare, zone = str(name).lower().removeprefix("*."), str(zone).lower().rstrip(".")
    return bare == zone or bare.endswith("." + zone)


def check_certificate_request(errors, request, zone):
    var = "pocstack_certificate_request"
    if not _mapping(errors, var, request, CERTIFICATE_REQUEST_KEYS):
        return
    sans = request.get("subject_alternative_names") or []
    if not isinstance(sans, (list, tuple)):
        errors.append(f"{var}.subject_alternative_names={sans!r} must be a list of domain names")
        sans = []
    names = [("domain_name", request.get("domain_name"))] + [("subject_alternative_names", name) for name in sans]
    zone = request.get("hosted_zone") or zone
    for key, name in names:
        problem = dns_name_problem(name.removeprefix("*.")) if isinstance(name, str) else "required, a string"
        if problem:
            errors.append(f"{var}.{key}={name!r} is not a domain name ('*.' allowed in front); {problem}")
        elif zone and not _in_zone(name, zone):
            errors.append(f"{var}.{key}={name!r} is not in the hosted zone {zone!r}; ACM validates it there")
    timeout = request.get("wait_timeout", 600)
    if _int(timeout) is None or not 1 <= _int(timeout) <= 7200:
        errors.append(f"{var}.wait_timeout={timeout!r} must be 1-7200 seconds")


def check_certificate_pem(errors, pem, var="pocstack_certificate_pem", now=None):
    """A PEM pair ACM would import: the texts parse, the key is the
    certificate's, the certificate is valid `now` (default: the current UTC
    time). ACM refuses each of these only at ImportCertificate, after the
    run has written to the account. Messages never hold the key's text."""
    if not _mapping(errors, var, pem, CERTIFICATE_PEM_KEYS):
        return
    own = []
    for key in ("certificate", "certificate_chain"):
        if pem.get(key) is not None and "-----BEGIN CERTIFICATE-----" not in str(pem.get(key)):
            own.append(f"{var}.{key} must be PEM text (-----BEGIN CERTIFICATE-----)")
    if not pem.get("certificate"):
        own.append(f"{var}.certificate is required")
    # Never the value: it is a private key.
    if not pem.get("private_key") or "PRIVATE KEY-----" not in str(pem.get("private_key")):
        own.append(f"{var}.private_key must be a PEM private key (-----BEGIN ... PRIVATE KEY-----)")
    if not own:
        check_certificate_pem_contents(own, pem, var, now)
    errors.extend(own)


def check_certificate_pem_contents(errors, pem, var, now=None):
    """What ACM's ImportCertificate checks of a well-formed PEM pair (see
    check_certificate_pem), with the cryptography library ansible-core
    depends on."""
    if x509 is None:
        errors.append(f"{var}: the Python library cryptography is missing on the controller; it is needed to check the pair")
        return
    now = now or datetime.datetime.now(datetime.timezone.utc)
    text = str(pem["certificate"])
    if text.count("-----BEGIN CERTIFICATE-----") > 1:
        # ACM: "The certificate field contains more than one certificate."
        errors.append(f"{var}.certificate holds more than one certificate; put the issuer's certificates in "
                      f"{var}.certificate_chain (ACM takes one certificate in this field)")
        return
    try:
        certificate = x509.load_pem_x509_certificate(text.strip().encode())
    except ValueError as e:
        errors.append(f"{var}.certificate does not parse as a PEM X.509 certificate: {e}")
        return
    _check_validity(errors, f"{var}.certificate", certificate, now)
    if pem.get("certificate_chain"):
        try:
            chain = x509.load_pem_x509_certificates(str(pem["certificate_chain"]).strip().encode())
        except ValueError as e:
            errors.append(f"{var}.certificate_chain does not parse as PEM X.509 certificates: {e}")
        else:
            for index, issuer in enumerate(chain):
                _check_validity(errors, f"{var}.certificate_chain[{index}]", issuer, now)
    try:
        key = serialization.load_pem_private_key(str(pem["private_key"]).strip().encode(), password=None)
    except TypeError:  # a password-protected key
        errors.append(f"{var}.private_key is encrypted; ACM imports only an unencrypted private key")
        return
    except (ValueError, UnsupportedAlgorithm):
        # The library's reason may quote the input: never shown.
        errors.append(f"{var}.private_key does not parse as a PEM private key (PKCS#8, or PKCS#1 RSA / SEC1 EC)")
        return
    if _public_key_der(key.public_key()) != _public_key_der(certificate.public_key()):
        errors.append(f"{var}.private_key does not match the certificate's public key ({var}.certificate "
                      f"{certificate.subject.rfc4514_string()!r}); ACM refuses the pair (ValidationException)")


def _public_key_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _check_validity(errors, what, certificate, now):
    """ACM imports a certificate only while the current time is between its Not Before and Not After."""
    before, after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if after < now:
        errors.append(f"{what} ({certificate.subject.rfc4514_string()!r}) expired on {after:%Y-%m-%d %H:%M} UTC; "
                      "ACM does not import an expired certificate")
    elif before > now:
        errors.append(f"{what} ({certificate.subject.rfc4514_string()!r}) is not valid before "
                      f"{before:%Y-%m-%d %H:%M} UTC; ACM does not import a certificate that is not yet valid")


def check_certificate(arn, region):
    """The certificate must be an ACM certificate ARN in the deployment's region."""
    match = _ACM_ARN.match(str(arn or ""))
    if not match:
        return [f"pocstack_certificate_arn={arn!r} is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"]
    if match.group(1) != region:
        return [f"pocstack_certificate_arn is in region {match.group(1)}; the ALB is in aws_region={region}, use a certificate from there"]
    return []


def check_subnets(subnets, vpc_id, requested=(), variable="pocstack_subnet_ids", min_zones=2):
    """`subnets`: what DescribeSubnets returned (at least) for the `requested`
    subnet IDs of `variable`; the ALB's need `min_zones` availability zones."""
    errors = []
    requested = set(requested)
    subnets = [s for s in subnets if s.get("subnet_id") in requested] if requested else list(subnets)
    missing = sorted(requested - {s.get("subnet_id") for s in subnets})
    if missing:
        errors.append(f"{variable}: {', '.join(missing)} not found in aws_region")
    outside = sorted(s["subnet_id"] for s in subnets if s.get("vpc_id") != vpc_id)
    if outside:
        errors.append(f"{variable}: {', '.join(outside)} not in pocstack_vpc_id={vpc_id}")
    zones = {s.get("availability_zone") for s in subnets if s.get("vpc_id") == vpc_id}
    if len(zones) < min_zones:
        errors.append(
            f"{variable}: the subnets of {vpc_id} cover {len(zones)} availability zone(s); "
            f"at least {min_zones} are needed"
        )
    return errors


def check_services(services, shared, roles):
    """{service: [messages]} for every service with a mistake; '(shared)' for
    shared ones; `roles`: see check_service."""
    result = {}
    shared_errors = check_shared(shared)
    if shared_errors:
        result["(shared)"] = shared_errors
    priorities = {}
    for service in sorted(services):
        errors = check_service(service, services[service], shared, roles)
        priority = _int(services[service].get("poc_priority"))
        if priority is not None:
            priorities.setdefault(priority, []).append(service)
        if errors:
            result[service] = errors
    for priority, owners in sorted(priorities.items()):
        for service in owners if len(owners) > 1 else []:
            others = ", ".join(o for o in owners if o != service)
            result.setdefault(service, []).append(
                f"poc_priority={priority} is also used by {others}; priorities must be unique on the listener")
    for service, message in check_rule_order({name: svc for name, svc in services.items() if name not in result}):
        result.setdefault(service, []).append(message)
    return result


def rule_settings(svc):
    """How roles/alb_tls's defaults turn a service's variables into its
    listener rule: each alb_tls_* variable the inventory sets, else the poc_*
    one, as defaults/main.yml derives them (a unit test renders those
    defaults and compares). {"conditions": canonical or None when unreadable,
    "priority", "priority_var", "priority_range", "allow_shadowing"}."""
    host = svc.get("alb_tls_host", svc.get("poc_host") or "")
    hosts = svc.get("alb_tls_host_headers")
    if hosts is None:
        hosts = list(svc.get("poc_host_headers") or []) + ([host] if host else [])
    paths = svc.get("alb_tls_path_patterns", svc.get("poc_path_patterns"))
    if paths is None:
        paths = [] if hosts else ["*"]
    try:
        conditions = listener_rules.normalize_conditions(
            ([{"field": "path-pattern", "values": list(paths)}] if paths else [])
            + ([{"field": "host-header", "values": sorted(set(hosts))}] if hosts else []))
    except (listener_rules.RuleError, TypeError, AttributeError):
        conditions = None  # check_routing has named what is wrong
    priority_var = "alb_tls_priority" if svc.get("alb_tls_priority") is not None else "poc_priority"
    allow = svc.get("alb_tls_allow_shadowing", svc.get("poc_allow_shadowing", False))
    return {
        "conditions": conditions,
        "priority": _int(svc.get(priority_var)),
        "priority_var": priority_var,
        "priority_range": tuple(svc.get("alb_tls_priority_range") or listener_rules.PRIORITY_RANGE),
        "allow_shadowing": boolean(allow, strict=False),  # as the role's `| bool`
    }


def check_rule_order(services):
    """[(service, message)] for selected services whose rules would take all
    of each other's traffic (ALB's first match wins): the same routing
    whatever the priorities, or an explicit priority in front of a rule whose
    every request it matches. poc_allow_shadowing: true on the front one allows it."""
    found = []
    rules = {name: rule_settings(services[name]) for name in sorted(services)}
    rules = {name: rule for name, rule in rules.items() if rule["conditions"] is not None}
    for pair in itertools.combinations(rules, 2):
        a, b = (rules[name]["conditions"] for name in pair)
        if listener_rules.covers(a, b) and listener_rules.covers(b, a):
            if not any(rules[name]["allow_shadowing"] for name in pair):
                found += [(one, f"the listener rule of {one} has the same conditions as {other}'s "
                                f"({listener_rules.describe_conditions(a)}): whichever comes first takes all "
                                "the traffic of the other; give one of them other poc_path_patterns or poc_host")
                          for one, other in (pair, pair[::-1])]
            continue
        for front, back in (pair, pair[::-1]):
            fc, fp, bc, bp = (rules[front]["conditions"], rules[front]["priority"], rules[back]["conditions"],
                              rules[back]["priority"])
            if (None not in (fp, bp) and fp < bp and listener_rules.covers(fc, bc)
                    and not rules[front]["allow_shadowing"]):
                found.append((front, f"poc_priority={fp} puts {front}'s rule ({listener_rules.describe_conditions(fc)}) "
                                     f"in front of {back}'s (poc_priority={bp}; {listener_rules.describe_conditions(bc)}), "
                                     f"whose every request it matches: {back} would get no traffic; give {front} a "
                                     f"priority above {bp} or narrower conditions, or set poc_allow_shadowing: true"))
    return found


DEPLOYED_RULE_HINT = ("; give the service another {priority_var} or narrower poc_path_patterns / poc_host, or set "
                      "poc_allow_shadowing: true to keep it there on purpose")


def check_deployed_rules(services, listener):
    """{service: [messages]} for selected services whose listener rule the
    rules already on the listener (`listener`: what elb_listener_rules_info
    returned) refuse: a priority another rule holds, a place in front of a rule
    whose every request it matches or behind one that matches all of its own,
    no such place for an automatic priority. The same functions decide as in
    pocstack.aws.elb_listener_rule, before its write; this says it before the
    run's first write."""
    arn = (listener or {}).get("listener_arn")
    if not arn:
        return {}
    described = listener.get("rules") or []
    # DescribeRules' form, as listener_rules reads it; the placement needs no actions, and tag keys stay as they are
    rules = [snake_dict_to_camel_dict({k: v for k, v in rule.items() if k not in ("actions", "tags")},
                                      capitalize_first=True) for rule in described]
    tags = {rule["rule_arn"]: rule.get("tags") or {} for rule in described}
    found = {}
    for name in sorted(services):
        settings = rule_settings(services[name])
        if settings["conditions"] is None:
            continue
        problems = listener_rules.placement_problems(
            rules, tags, name, settings["conditions"], settings["priority"], settings["priority_range"],
            settings["allow_shadowing"], arn)
        variable = (f"{settings['priority_var']}={settings['priority']}" if settings["priority"] is not None
                    else "poc_path_patterns / poc_host_headers / poc_host (automatic priority)")
        if problems:
            hint = DEPLOYED_RULE_HINT.format(**settings) if isinstance(problems[0], listener_rules.OrderProblem) else ""
            found[name] = [f"{variable}, against the rules deployed on the listener: {'; '.join(problems)}{hint}"]
    return found
