# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation, normalisation and comparison for ecs_service_scaling (no AWS calls).

What the user asks for (friendly options) and what Application Auto Scaling
describes (DescribeScalableTargets, DescribeScalingPolicies) are both reduced
to one canonical, plain, sortable form before they are compared, so that what
AWS fills in (DisableScaleIn false, the 300 s cooldowns, TargetValue as a
float, Alarms, CreationTime) never reads as a change.
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn

from ansible_collections.pocstack.aws.plugins.module_utils.compare import sorted_data
from ansible_collections.pocstack.aws.plugins.module_utils.ecs_services import NAME
from ansible_collections.pocstack.aws.plugins.module_utils.target_groups import whole_number

POLICY_TYPE = "TargetTrackingScaling"
# ECS's quota of tasks per service: a larger maximum can never be reached.
MAX_TASKS = 5000
# Application Auto Scaling's quota of scaling policies per scalable target.
MAX_POLICIES = 50
# AWS's default scale-in and scale-out cooldown for ECS services, what a
# policy described without them has.
DEFAULT_COOLDOWN = 300
COOLDOWN_RANGE = (0, 3600)
PERCENT_RANGE = (1, 100)
MAX_POLICY_NAME = 256
MAX_RESOURCE_LABEL = 1023

METRICS = {
    "cpu": "ECSServiceAverageCPUUtilization",
    "memory": "ECSServiceAverageMemoryUtilization",
    "requests_per_target": "ALBRequestCountPerTarget",
}
METRIC_NAMES = {aws: friendly for friendly, aws in METRICS.items()}
PERCENT_METRICS = ("cpu", "memory")
# How a default policy name ends, per metric: <service>-<suffix>.
NAME_SUFFIX = {"cpu": "cpu", "memory": "memory", "requests_per_target": "requests"}

_LB_RESOURCE = re.compile(r"^loadbalancer/(?P<label>(?P<type>[a-z]+)/[A-Za-z0-9-]{1,32}/[0-9a-f]+)$")
_TG_RESOURCE = re.compile(r"^(?P<label>targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+)$")


class ScalingError(ValueError):
    """Input that AWS would reject or that cannot work, with a message naming the option."""


# ------------------------------------------------------------------ identity
def _arn(text, service):
    """amazon.aws's parse of an ARN of `service`, else None (a name, or another service's ARN)."""
    arn = parse_aws_arn(text) if text.startswith("arn:") else None
    return arn if arn and arn["service"] == service else None


def cluster_name(cluster):
    """A cluster name or ARN -> its name."""
    text = str(cluster or "").strip()
    arn = _arn(text, "ecs")
    if arn and arn["resource_type"] == "cluster":
        text = arn["resource_id"]
    return _checked_name(text, cluster, "cluster")


def service_name(service, cluster):
    """A service name or ARN -> its name. A long-form service ARN names its
    cluster, which must be `cluster` (a name)."""
    text = str(service or "").strip()
    arn = _arn(text, "ecs")
    if arn and arn["resource_type"] == "service":
        parts = arn["resource_id"].split("/")
        if len(parts) == 2:
            if parts[0] != cluster:
                raise ScalingError(f"service: the ARN {service!r} belongs to cluster {parts[0]!r}, not to cluster {cluster!r}")
            parts = parts[1:]
        text = parts[0] if len(parts) == 1 else text
    return _checked_name(text, service, "service")


def _checked_name(name, given, option):
    if not NAME.match(name):
        raise ScalingError(
            f"{option}: {given!r} is not an ECS {option} name or ARN; "
            "a name has 1-255 letters, digits, hyphens and underscores"
        )
    return name


def resource_id(cluster, service):
    """The scalable target's ResourceId: service/<cluster>/<service>."""
    name = cluster_name(cluster)
    return f"service/{name}/{service_name(service, name)}"


def _elb_resource(arn, pattern, option, kind, form, where):
    """(amazon.aws's parse of an ELB ARN, the match of its resource), else ScalingError."""
    parsed = _arn(str(arn or "").strip(), "elasticloadbalancing")
    match = pattern.match(parsed["resource"]) if parsed else None
    if not match:
        raise ScalingError(
            f"{where}: {option} {arn!r} is not a {kind} ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:{form})"
        )
    return parsed, match


def resource_label(load_balancer_arn, target_group_arn, where="policies"):
    """The ResourceLabel of ALBRequestCountPerTarget,
    app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>, from the two ARNs."""
    lb, lb_resource = _elb_resource(
        load_balancer_arn, _LB_RESOURCE, "load_balancer_arn", "load balancer", "loadbalancer/app/NAME/ID", where
    )
    if lb_resource.group("type") != "app":
        raise ScalingError(
            f"{where}: load_balancer_arn {load_balancer_arn!r} is not an Application Load Balancer; "
            "requests_per_target (ALBRequestCountPerTarget) needs one (loadbalancer/app/...)"
        )
    tg, tg_resource = _elb_resource(
        target_group_arn, _TG_RESOURCE, "target_group_arn", "target group", "targetgroup/NAME/ID", where
    )
    for key, part in (("partition", "partition"), ("region", "region"), ("account_id", "account")):
        if lb[key] != tg[key]:
            raise ScalingError(
                f"{where}: load_balancer_arn and target_group_arn are in different {part}s "
                f"({lb[key]} and {tg[key]}); the target group must belong to the load balancer"
            )
    label = f"{lb_resource.group('label')}/{tg_resource.group('label')}"
    if len(label) > MAX_RESOURCE_LABEL:  # cannot happen with valid names; AWS's own limit
        raise ScalingError(f"{where}: the resource label {label!r} is longer than {MAX_RESOURCE_LABEL} characters")
    return label


# ------------------------------------------------------------------- desired
def _whole(value, where):
    """An int from the argument spec, which lets YAML's yes/no through as True/False."""
    if isinstance(value, bool):
        raise ScalingError(f"{where}: {value!r} is not a whole number")
    return value


def validate_capacity(min_capacity, max_capacity):
    """(min, max): 0 <= min <= max <= MAX_TASKS. The argument spec makes them
    ints and requires them with state=present."""
    low, high = _whole(min_capacity, "min_capacity"), _whole(max_capacity, "max_capacity")
    if low < 0:
        raise ScalingError(f"min_capacity: {low} is below 0; allowed: 0-{MAX_TASKS}")
    if high > MAX_TASKS:
        raise ScalingError(f"max_capacity: {high} is above {MAX_TASKS}, ECS's limit of tasks per service; allowed: 0-{MAX_TASKS}")
    if low > high:
        raise ScalingError(f"min_capacity: {low} is above max_capacity {high}; allowed: 0 <= min_capacity <= max_capacity <= {MAX_TASKS}")
    return low, high


def _cooldown(value, where):
    return whole_number(where, _whole(value, where), *COOLDOWN_RANGE, " seconds", ScalingError)


def desired_policy(policy, service, index=0):
    """One entry of the policies option -> canonical policy. The argument spec
    checked the types: metric one of METRICS, target a float, cooldowns ints."""
    where = f"policies[{index}]"
    metric = policy["metric"]
    target = float(policy["target"])
    if metric in PERCENT_METRICS:
        low, high = PERCENT_RANGE
        if not low <= target <= high:
            raise ScalingError(f"{where}.target: {policy['target']!r} is out of range for {metric}; allowed: {low}-{high} (percent)")
    elif target <= 0:
        raise ScalingError(f"{where}.target: {policy['target']!r} must be above 0 (requests per target per minute)")
    name = str(policy.get("name") or "")
    if not name.strip():
        name = f"{service}-{NAME_SUFFIX[metric]}"
    if len(name) > MAX_POLICY_NAME or not name.isprintable():
        raise ScalingError(f"{where}.name: {name!r} must be 1-{MAX_POLICY_NAME} printable characters")
    canonical = {
        "name": name,
        "metric": metric,
        "target": target,
        "scale_in_cooldown": _cooldown(policy.get("scale_in_cooldown", DEFAULT_COOLDOWN), f"{where}.scale_in_cooldown"),
        "scale_out_cooldown": _cooldown(policy.get("scale_out_cooldown", DEFAULT_COOLDOWN), f"{where}.scale_out_cooldown"),
        "disable_scale_in": bool(policy.get("disable_scale_in")),
    }
    lb, tg = policy.get("load_balancer_arn"), policy.get("target_group_arn")
    if metric == "requests_per_target":
        if not lb or not tg:
            raise ScalingError(f"{where}: metric requests_per_target needs load_balancer_arn and target_group_arn")
        canonical["resource_label"] = resource_label(lb, tg, where)
    elif lb or tg:
        raise ScalingError(
            f"{where}: load_balancer_arn and target_group_arn only apply to metric requests_per_target, not {metric}"
        )
    return canonical


def desired_policies(policies, service):
    """The policies option -> {name: canonical policy}; None stays None (the
    policies on the target are left alone)."""
    if policies is None:
        return None
    if len(policies) > MAX_POLICIES:
        raise ScalingError(f"policies: {len(policies)} given; a scalable target has at most {MAX_POLICIES}")
    result = {}
    for index, policy in enumerate(policies):
        canonical = desired_policy(policy, service, index)
        if canonical["name"] in result:
            raise ScalingError(
                f"policies[{index}].name: {canonical['name']!r} is used twice; give each policy its own name "
                f"(the default is <service>-<{'|'.join(NAME_SUFFIX.values())}>)"
            )
        result[canonical["name"]] = canonical
    return result


# ------------------------------------------------------------------- current
def current_policy(policy):
    """A policy as DescribeScalingPolicies returns it -> canonical (never fails).

    A target tracking policy on a predefined metric compares with what this
    module writes; anything else (step scaling, a customized metric, a metric
    type added later) keeps its AWS data, so it differs and is replaced."""
    name = policy.get("PolicyName", "")
    kind = policy.get("PolicyType")
    config = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
    spec = config.get("PredefinedMetricSpecification") or {}
    if kind != POLICY_TYPE or not spec or "CustomizedMetricSpecification" in config or "TargetValue" not in config:
        described = config or policy.get("StepScalingPolicyConfiguration") or policy.get("PredictiveScalingPolicyConfiguration") or {}
        return {"name": name, "policy_type": kind, "aws": sorted_data(described)}
    metric_type = spec.get("PredefinedMetricType")
    canonical = {
        "name": name,
        "metric": METRIC_NAMES.get(metric_type, metric_type),
        "target": float(config["TargetValue"]),
        "scale_in_cooldown": int(config.get("ScaleInCooldown", DEFAULT_COOLDOWN)),
        "scale_out_cooldown": int(config.get("ScaleOutCooldown", DEFAULT_COOLDOWN)),
        "disable_scale_in": bool(config.get("DisableScaleIn", False)),
    }
    if spec.get("ResourceLabel"):
        canonical["resource_label"] = spec["ResourceLabel"]
    return canonical


def current_target(target):
    """A scalable target as DescribeScalableTargets returns it -> {min, max}; None for none."""
    if not target:
        return None
    return {"min_capacity": int(target["MinCapacity"]), "max_capacity": int(target["MaxCapacity"])}


# ------------------------------------------------------------------- compare
def plan(want_target, have_target, want_policies, have_policies, purge_policies):
    """What must change.

    want_target {min_capacity, max_capacity}; have_target the same or None;
    want_policies {name: canonical} or None (leave policies alone);
    have_policies {name: canonical}. Returns a dict:
      scalable_target: "created", "updated" or None
      create / update / delete: sorted policy names (a policy whose type
      changes is in both delete and update: deleted first, then put)."""
    result = {"scalable_target": None, "create": [], "update": [], "delete": []}
    if have_target is None:
        result["scalable_target"] = "created"
    elif have_target != want_target:
        result["scalable_target"] = "updated"
    if want_policies is None:
        return result
    for name in sorted(want_policies):
        if name not in have_policies:
            result["create"].append(name)
        elif have_policies[name] != want_policies[name]:
            result["update"].append(name)
            if have_policies[name].get("policy_type", POLICY_TYPE) != POLICY_TYPE:
                result["delete"].append(name)  # another type under the wanted name: deleted, then put
    if purge_policies:
        result["delete"].extend(name for name in have_policies if name not in want_policies)
    result["delete"] = sorted(result["delete"])
    return result


# -------------------------------------------------------------------- to AWS
def to_aws_config(policy):
    """Canonical policy -> PutScalingPolicy TargetTrackingScalingPolicyConfiguration.
    Every field is sent, so what AWS stores is exactly what was asked for."""
    spec = {"PredefinedMetricType": METRICS[policy["metric"]]}
    if policy.get("resource_label"):
        spec["ResourceLabel"] = policy["resource_label"]
    return {
        "TargetValue": policy["target"],
        "PredefinedMetricSpecification": spec,
        "ScaleInCooldown": policy["scale_in_cooldown"],
        "ScaleOutCooldown": policy["scale_out_cooldown"],
        "DisableScaleIn": policy["disable_scale_in"],
    }


# --------------------------------------------------------------------- output
def policy_list(policies, arns=None):
    """{name: canonical} -> list sorted by name, plain, with policy_arn when known."""
    result = []
    for name in sorted(policies):
        entry = sorted_data(policies[name])
        if arns is not None:
            entry["policy_arn"] = arns.get(name, "")
        result.append(entry)
    return result


def for_diff(target, policies, tags):
    """The state as --diff shows it: an empty dict for no scalable target."""
    if target is None and not policies:
        return {}
    state = {"policies": policy_list(policies or {})}
    if target is not None:
        state["scalable_target"] = {**sorted_data(target), "tags": sorted_data(tags or {})}
    return sorted_data(state)
