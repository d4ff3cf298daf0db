# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of the PoC inventory: what AWS would reject halfway through
a deploy, or what argument specs cannot express, found before any AWS call.

Pure functions over plain data: `check_services({name: {poc_var: value}},
shared)` returns {name: [message, ...]}; every message names the variable, the
value (never a secret's value) and what is allowed.
"""

import re

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
KNOWN = {
    "poc_image", "poc_container_port", "poc_cpu", "poc_memory", "poc_desired_count",
    "poc_path_patterns", "poc_host_headers", "poc_priority", "poc_secrets", "poc_environment",
    "poc_health_check_path", "poc_assign_public_ip", "poc_autoscaling",
}
IMAGE_SOURCES = ("existing",)
MAX_CONDITION_VALUES = 5
PRIORITY = (1, 50000)

_ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_PATH = re.compile(r"^[/*][A-Za-z0-9_\-.$/~\"'@:+&*?]*$")
_HOST = re.compile(r"^[A-Za-z0-9\-.*?]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM_PART = re.compile(r"^[A-Za-z0-9_.\-/]+$")
_ECR_REPO = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_ECR_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
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


def _elb_name(errors, what, name, source):
    if len(name) > 32:
        errors.append(f"{source}: the {what} name {name!r} has {len(name)} characters; at most 32 allowed")
    elif not _ELB_NAME.match(name):
        errors.append(
            f"{source}: the {what} name {name!r} is not allowed; use letters, digits and '-', "
            "not starting or ending with '-'"
        )


def _list(errors, var, value, kind="strings"):
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        errors.append(f"{var}={value!r} must be a list of {kind}")
        return []
    return list(value)


def check_size(errors, svc):
    cpu, memory = svc.get("poc_cpu", 256), svc.get("poc_memory", 512)
    cpu_i, mem_i = _int(cpu), _int(memory)
    if cpu_i not in FARGATE_SIZES:
        errors.append(
            f"poc_cpu={cpu!r} is not a Fargate CPU value; allowed: {', '.join(map(str, FARGATE_SIZES))}"
        )
        return
    allowed = FARGATE_SIZES[cpu_i]
    if mem_i not in allowed:
        shown = ", ".join(map(str, allowed)) if len(allowed) <= 4 else f"{allowed[0]}-{allowed[-1]} in steps of {allowed[1] - allowed[0]}"
        errors.append(f"poc_memory={memory!r} does not fit poc_cpu={cpu_i}; allowed memory (MiB): {shown}")


def check_port(errors, svc):
    port = svc.get("poc_container_port", 8050)
    if _int(port) is None or not 1 <= _int(port) <= 65535:
        errors.append(f"poc_container_port={port!r} is not a port; allowed: 1-65535")
        return None
    return _int(port)


def check_health(errors, svc):
    path = svc.get("poc_health_check_path", "/health")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 1024 or " " in path:
        errors.append(f"poc_health_check_path={path!r} must be a path starting with '/' (at most 1024 characters, no spaces)")


def check_routing(errors, svc):
    paths = _list(errors, "poc_path_patterns", svc.get("poc_path_patterns"))
    hosts = _list(errors, "poc_host_headers", svc.get("poc_host_headers"))
    for path in paths:
        if not isinstance(path, str) or len(path) > 128 or not _PATH.match(path):
            errors.append(
                f"poc_path_patterns: {path!r} is not a path pattern; start with '/' or '*', at most 128 characters "
                "of letters, digits, _-.$/~\"'@:+&, and the wildcards * and ?"
            )
    for host in hosts:
        if not isinstance(host, str) or len(host) > 128 or not _HOST.match(host):
            errors.append(
                f"poc_host_headers: {host!r} is not a host name; at most 128 characters of letters, digits, "
                "'-', '.', and the wildcards * and ?"
            )
    total = len(paths) + len(hosts)
    if total > MAX_CONDITION_VALUES:
        errors.append(
            f"poc_path_patterns + poc_host_headers: {total} values; a listener rule allows at most {MAX_CONDITION_VALUES}"
        )


def check_priority(errors, svc):
    if svc.get("poc_priority") is None:
        return None  # automatic: the lowest free priority, chosen by elb_listener_rule
    value = svc["poc_priority"]
    number = _int(value)
    if number is None or not PRIORITY[0] <= number <= PRIORITY[1]:
        errors.append(f"poc_priority={value!r} is out of range; allowed: {PRIORITY[0]}-{PRIORITY[1]}")
        return None
    return number


def check_counts(errors, svc):
    desired = svc.get("poc_desired_count", 1)
    desired_i = _int(desired)
    if desired_i is None or desired_i < 0:
        errors.append(f"poc_desired_count={desired!r} must be a whole number, 0 or more")
        return
    scaling = svc.get("poc_autoscaling")
    if scaling is None:
        return
    if not isinstance(scaling, dict):
        errors.append(f"poc_autoscaling={scaling!r} must be a dict with min and max")
        return
    low, high = _int(scaling.get("min")), _int(scaling.get("max"))
    if low is None or high is None or low < 0:
        errors.append(f"poc_autoscaling: min={scaling.get('min')!r} and max={scaling.get('max')!r} must be whole numbers, 0 or more")
    elif not low <= desired_i <= high:
        errors.append(
            f"poc_autoscaling: min {low} <= poc_desired_count {desired_i} <= max {high} does not hold; "
            "allowed: min <= desired <= max"
        )


def check_secrets(errors, svc, service, prefix):
    secrets = _list(errors, "poc_secrets", svc.get("poc_secrets"), "dicts with name and value")
    environment = svc.get("poc_environment") or {}
    if not isinstance(environment, dict):
        errors.append(f"poc_environment must be a dict of NAME: value, got {type(environment).__name__}")
        environment = {}
    seen = set()
    for index, secret in enumerate(secrets):
        if not isinstance(secret, dict):
            errors.append(f"poc_secrets[{index}] must be a dict with name and value")
            continue
        name = secret.get("name")
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
        if name in environment:
            errors.append(f"poc_secrets[{index}].name={name!r} is also in poc_environment; a name is a secret or plain, not both")
    for name in environment:
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            errors.append(f"poc_environment: {name!r} is not an environment variable name; allowed: letters, digits and '_'")


def check_image(errors, svc, service):
    image = svc.get("poc_image", {}) or {}
    if not isinstance(image, dict):
        errors.append(f"poc_image={image!r} must be a dict with source, repository and tag")
        return
    source = image.get("source", "existing")
    if source not in IMAGE_SOURCES:
        errors.append(f"poc_image.source={source!r} is not supported; allowed: {', '.join(IMAGE_SOURCES)}")
    repo = image.get("repository", f"pocstack/{service}")
    if not isinstance(repo, str) or not 2 <= len(repo) <= 256 or not _ECR_REPO.match(repo):
        errors.append(
            f"poc_image.repository={repo!r} is not an ECR repository name; allowed: 2-256 lower-case letters, "
            "digits and ._-/ (no separator at either end)"
        )
    tag = image.get("tag", "latest")
    if not isinstance(tag, str) or not _ECR_TAG.match(tag):
        errors.append(f"poc_image.tag={tag!r} is not an image tag; allowed: up to 128 letters, digits, _.- (not starting with . or -)")


def check_service(service, svc, shared):
    """All mistakes of one service: a list of messages."""
    errors = [v.message for _key, v in sorted(svc.items()) if isinstance(v, Unreadable)]
    svc = {k: v for k, v in svc.items() if not isinstance(v, Unreadable)}
    for var in sorted(set(svc) - KNOWN):
        errors.append(f"{var} is not a known service variable; known: {', '.join(sorted(KNOWN))}")
    check_size(errors, svc)
    port = check_port(errors, svc)
    check_priority(errors, svc)
    check_health(errors, svc)
    check_routing(errors, svc)
    check_counts(errors, svc)
    check_secrets(errors, svc, service, shared.get("pocstack_ssm_prefix", "/pocstack"))
    check_image(errors, svc, service)
    if port is not None:
        _elb_name(errors, "target group", f"{service}-{port}", "service name + poc_container_port")
    cluster = str(shared.get("pocstack_cluster_name", "pocstack"))
    for role in (f"{cluster}-{service}-exec", f"{cluster}-{service}-task"):
        if not _IAM_NAME.match(role):
            errors.append(
                f"pocstack_cluster_name + service name: the IAM role name {role!r} is too long or has other characters "
                "than letters, digits and +=,.@_-; at most 64 allowed"
            )
    return errors


def check_shared(shared):
    errors = []
    _elb_name(errors, "load balancer", str(shared.get("pocstack_alb_name", "pocstack")), "pocstack_alb_name")
    cluster = str(shared.get("pocstack_cluster_name", "pocstack"))
    if not re.match(r"^[A-Za-z0-9_-]{1,255}$", cluster):
        errors.append(f"pocstack_cluster_name={cluster!r} is not allowed; use 1-255 letters, digits, '_' and '-'")
    prefix = str(shared.get("pocstack_ssm_prefix", "/pocstack"))
    if not prefix.startswith("/") or prefix.endswith("/") or not _PARAM_PART.match(prefix):
        errors.append(f"pocstack_ssm_prefix={prefix!r} must start with '/', not end with '/', and use letters, digits, _.-/")
    return errors


def check_certificate(arn, region):
    """The certificate must be an ACM certificate ARN in the deployment's region."""
    match = _ACM_ARN.match(str(arn or ""))
    if not match:
        return [f"pocstack_certificate_arn={arn!r} is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"]
    if match.group(1) != region:
        return [f"pocstack_certificate_arn is in region {match.group(1)}; the ALB is in aws_region={region}, use a certificate from there"]
    return []


def check_subnets(subnets, vpc_id, requested=()):
    """`subnets`: what DescribeSubnets returned for the `requested` pocstack_subnet_ids."""
    errors = []
    found = {s.get("subnet_id") for s in subnets}
    missing = sorted(set(requested) - found)
    if missing:
        errors.append(f"pocstack_subnet_ids: {', '.join(missing)} not found in aws_region")
    outside = sorted(s["subnet_id"] for s in subnets if s.get("vpc_id") != vpc_id)
    if outside:
        errors.append(f"pocstack_subnet_ids: {', '.join(outside)} not in pocstack_vpc_id={vpc_id}")
    zones = {s.get("availability_zone") for s in subnets if s.get("vpc_id") == vpc_id}
    if len(zones) < 2:
        errors.append(
            f"pocstack_subnet_ids: the subnets of {vpc_id} cover {len(zones)} availability zone(s); "
            "an ALB needs subnets in at least 2"
        )
    return errors


def check_services(services, shared):
    """{service: [messages]} for every service with a mistake; '(shared)' for shared ones."""
    result = {}
    shared_errors = check_shared(shared)
    if shared_errors:
        result["(shared)"] = shared_errors
    priorities = {}
    for service in sorted(services):
        errors = check_service(service, services[service], shared)
        priority = _int(services[service].get("poc_priority"))
        if priority is not None:
            priorities.setdefault(priority, []).append(service)
        if errors:
            result[service] = errors
    for priority, owners in sorted(priorities.items()):
        if len(owners) > 1:
            for service in owners:
                others = ", ".join(o for o in owners if o != service)
                result.setdefault(service, []).append(
                    f"poc_priority={priority} is also used by {others}; priorities must be unique on the listener"
                )
    return result


def format_report(result):
    lines = [f"The inventory has {sum(map(len, result.values()))} mistake(s); nothing was created:"]
    for service in sorted(result):
        lines.append(f"{service}:")
        lines.extend(f"  - {message}" for message in result[service])
    return "\n".join(lines)
