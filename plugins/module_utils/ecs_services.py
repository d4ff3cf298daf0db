# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalisation and comparison of one ECS Fargate service (no AWS calls).

A service as DescribeServices returns it and the module's options are both
reduced to one flat, sorted form (the "fields" below, snake_case), with AWS's
defaults filled in where AWS leaves a field out. An option left unset keeps
what the service has. UpdateService is then sent only the fields that differ.

The desired count is special: it is applied on create, and afterwards only
when the value asked for differs from the value asked for on the previous run,
which the module records in the service tag DESIRED_COUNT_TAG. So a count an
autoscaling policy set is not undone by a re-run with the same inventory.
"""

import re

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible.module_utils.common.dict_transformations import snake_dict_to_camel_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters

DESIRED_COUNT_TAG = "pocstack:desired-count"
NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
TASK_DEFINITION = re.compile(r"^(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?([A-Za-z0-9_-]{1,255}:\d+)$")
WEIGHT, BASE = (0, 1000), (0, 100000)
MAX_GRACE = 2147483647

# Field -> AWS's value when the service does not report it.
DEFAULTS = {
    "platform_version": "LATEST",
    "assign_public_ip": False,
    "load_balancers": [],
    "deployment_maximum_percent": 200,
    "deployment_minimum_healthy_percent": 100,
    "deployment_circuit_breaker_enable": False,
    "deployment_circuit_breaker_rollback": False,
    "health_check_grace_period_seconds": 0,
    "enable_execute_command": False,
    "propagate_tags": "NONE",
}
NETWORK_FIELDS = ("subnets", "security_groups", "assign_public_ip")
DEPLOYMENT_FIELDS = (
    "deployment_maximum_percent", "deployment_minimum_healthy_percent",
    "deployment_circuit_breaker_enable", "deployment_circuit_breaker_rollback",
)
# Fields sent to CreateService and UpdateService as they are, camel-cased
# (lists of dicts too: snake_dict_to_camel_dict recurses into them).
PLAIN_FIELDS = (
    "task_definition", "platform_version", "health_check_grace_period_seconds", "enable_execute_command",
    "propagate_tags", "load_balancers", "capacity_provider_strategy",
)
# Fields that take effect only in new tasks: UpdateService also forces a new
# deployment when one of them changes (a new task definition does that anyway).
NEEDS_DEPLOYMENT = ("capacity_provider_strategy", "enable_execute_command")


class ServiceError(ValueError):
    """Input that AWS would reject, or a change AWS cannot make, with a message
    naming the option."""


def task_definition_ref(value, where="task_definition"):
    """ARN or family:revision -> family:revision."""
    match = TASK_DEFINITION.match(str(value or ""))
    if not match:
        raise ServiceError(
            f"{where}: {value!r} is not a task definition revision; give family:revision (plotly:3) "
            "or a task definition ARN"
        )
    return match.group(1)


def load_balancer(item, where):
    """One entry of load_balancers: the argument spec made it a dict of the
    three (AWS's key names are its aliases), the port an int."""
    for key in ("target_group_arn", "container_name"):
        if not item[key]:
            raise ServiceError(f"{where}.{key}: required")
    if not 1 <= item["container_port"] <= 65535:
        raise ServiceError(f"{where}.container_port: {item['container_port']} is not a port; allowed: 1-65535")
    return {key: item[key] for key in ("target_group_arn", "container_name", "container_port")}


def capacity_provider_strategy(items, where="capacity_provider_strategy"):
    """The option (providers among the argument spec's choices, weight and
    base ints) -> sorted strategy."""
    if not items:
        raise ServiceError(f"{where}: give at least one provider, or use launch_type instead")
    strategy = []
    for i, item in enumerate(items):
        entry = {"capacity_provider": item["capacity_provider"]}
        for key, (low, high) in (("weight", WEIGHT), ("base", BASE)):
            value = 0 if item.get(key) is None else item[key]
            if isinstance(value, bool) or not low <= value <= high:  # the spec lets yes/no through as an int
                raise ServiceError(f"{where}[{i}].{key}: {value!r} is out of range; allowed: {low}-{high}")
            entry[key] = value
        strategy.append(entry)
    names = [s["capacity_provider"] for s in strategy]
    if len(set(names)) != len(names):
        raise ServiceError(f"{where}: each capacity provider may appear once")
    if sum(1 for s in strategy if s["base"]) > 1:
        raise ServiceError(f"{where}: only one capacity provider may have a base above 0")
    if len(strategy) > 1 and not any(s["weight"] for s in strategy):
        raise ServiceError(f"{where}: with several providers, at least one needs a weight above 0")
    return sorted(strategy, key=lambda s: s["capacity_provider"])


def validate(params):
    """Check the options; returns the fields they set (unset options left out)."""
    if not NAME.match(params["name"] or ""):
        raise ServiceError(f"name: {params['name']!r} is not allowed; use 1-255 letters, digits, '-' and '_'")
    given = {}
    if params.get("task_definition") is not None:
        given["task_definition"] = task_definition_ref(params["task_definition"])
    if params.get("desired_count") is not None and params["desired_count"] < 0:
        raise ServiceError(f"desired_count: {params['desired_count']} must be 0 or more")
    if params.get("capacity_provider_strategy") is not None:
        given["capacity_provider_strategy"] = capacity_provider_strategy(params["capacity_provider_strategy"])
    elif params.get("launch_type") is not None:
        given["launch_type"] = params["launch_type"]
    if params.get("subnets") == []:
        raise ServiceError("subnets: give at least one subnet (Fargate tasks run in awsvpc mode)")
    for key in ("subnets", "security_groups"):
        if params.get(key) is not None:
            given[key] = sorted(set(params[key]))
    if params.get("load_balancers") is not None:
        given["load_balancers"] = sorted(
            (load_balancer(lb, f"load_balancers[{i}]") for i, lb in enumerate(params["load_balancers"])),
            key=lambda lb: (lb["target_group_arn"], lb["container_name"], lb["container_port"]),
        )
    low = params.get("deployment_minimum_healthy_percent")
    high = params.get("deployment_maximum_percent")
    if low is not None and not 0 <= low <= 100:
        raise ServiceError(f"deployment_minimum_healthy_percent: {low} is out of range; allowed: 0-100")
    if high is not None and high < 1:
        raise ServiceError(f"deployment_maximum_percent: {high} must be 1 or more")
    if low is not None and high is not None and high < low:
        raise ServiceError(
            f"deployment_maximum_percent: {high} is below deployment_minimum_healthy_percent {low}; "
            "the maximum must be at least the minimum"
        )
    grace = params.get("health_check_grace_period_seconds")
    if grace is not None and not 0 <= grace <= MAX_GRACE:
        raise ServiceError(f"health_check_grace_period_seconds: {grace} is out of range; allowed: 0-{MAX_GRACE}")
    for key in ("platform_version", "assign_public_ip", "enable_execute_command", "propagate_tags", *DEPLOYMENT_FIELDS,
                "health_check_grace_period_seconds"):
        if params.get(key) is not None:
            given[key] = params[key]
    if DESIRED_COUNT_TAG in (params.get("tags") or {}):
        raise ServiceError(f"tags: {DESIRED_COUNT_TAG} is set by this module from desired_count; remove it from tags")
    return given


def current_service(service):
    """A service as DescribeServices returns it -> fields (AWS defaults filled in)."""
    network = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    deployment = service.get("deploymentConfiguration") or {}
    breaker = deployment.get("deploymentCircuitBreaker") or {}
    strategy = service.get("capacityProviderStrategy") or []
    fields = {
        "task_definition": service.get("taskDefinition", "").split("task-definition/")[-1],
        "desired_count": service.get("desiredCount", 0),
        "launch_type": None if strategy else service.get("launchType"),
        "capacity_provider_strategy": sorted(
            ({"weight": 0, "base": 0, **camel_dict_to_snake_dict(s)} for s in strategy),
            key=lambda s: s.get("capacity_provider") or "",
        ) or None,
        "platform_version": service.get("platformVersion"),
        "subnets": sorted(network.get("subnets") or []),
        "security_groups": sorted(network.get("securityGroups") or []),
        "assign_public_ip": network.get("assignPublicIp") == "ENABLED",
        "load_balancers": sorted(
            ({"target_group_arn": lb.get("targetGroupArn"), "container_name": lb.get("containerName"),
              "container_port": lb.get("containerPort")} for lb in service.get("loadBalancers") or []),
            key=lambda lb: (lb["target_group_arn"] or "", lb["container_name"] or "", lb["container_port"] or 0),
        ),
        "deployment_maximum_percent": deployment.get("maximumPercent"),
        "deployment_minimum_healthy_percent": deployment.get("minimumHealthyPercent"),
        "deployment_circuit_breaker_enable": breaker.get("enable"),
        "deployment_circuit_breaker_rollback": breaker.get("rollback"),
        "health_check_grace_period_seconds": service.get("healthCheckGracePeriodSeconds"),
        "enable_execute_command": service.get("enableExecuteCommand"),
        "propagate_tags": service.get("propagateTags"),
    }
    return {key: DEFAULTS.get(key) if value is None else value for key, value in fields.items()}


def service_tags(service):
    # Not boto3_tag_list_to_ansible_dict: ECS may leave out the value of a
    # tag set with none, which that raises ValueError on.
    return {t["key"]: t.get("value", "") for t in service.get("tags") or []}


def desired_count_plan(requested, current_count, recorded, force=False):
    """(count to send to UpdateService or None, value to record in the tag or None).

    The count is applied when it differs from the value recorded on the
    previous run (or none was recorded, or `force`); an equal request leaves
    whatever count the service has now, e.g. from autoscaling, alone."""
    if requested is None or (not force and recorded == str(requested)):
        return None, None
    return (requested if requested != current_count else None), str(requested)


def check_switch(given, current):
    """Fail on what UpdateService cannot change in place."""
    if "capacity_provider_strategy" in given and current["launch_type"]:
        raise ServiceError(
            f"capacity_provider_strategy: the service runs with launch_type {current['launch_type']}; AWS documents "
            "no in-place switch from it to Fargate capacity providers. Keep launch_type, or delete the service "
            "(state=absent) and create it again with capacity_provider_strategy."
        )
    if "launch_type" in given and current["capacity_provider_strategy"]:
        raise ServiceError(
            "launch_type: the service runs with a capacity_provider_strategy; this module does not switch it "
            "back to a launch type in place. Keep capacity_provider_strategy, or delete the service "
            "(state=absent) and create it again with launch_type."
        )
    if "launch_type" in given and current["launch_type"] and given["launch_type"] != current["launch_type"]:
        raise ServiceError(
            f"launch_type: the service runs with launch type {current['launch_type']}, which AWS cannot change; "
            "delete the service (state=absent) and create it again"
        )


def primary_deployment_failed(service):
    """True when the service's PRIMARY deployment was failed by the circuit breaker."""
    return any(d.get("status") == "PRIMARY" and d.get("rolloutState") == "FAILED"
               for d in service.get("deployments") or [])


def plan_update(given, current):
    """(fields after the update, sorted names of the fields that differ);
    desired count and tags are planned separately."""
    check_switch(given, current)
    after = dict(current)
    after.update({k: v for k, v in given.items() if k != "launch_type"})
    changed = sorted(k for k in after if after[k] != current[k])
    return after, changed


def update_request(after, changed):
    """Fields that differ -> UpdateService keyword arguments."""
    request = snake_dict_to_camel_dict({k: after[k] for k in PLAIN_FIELDS if k in changed})
    if set(NETWORK_FIELDS) & set(changed):
        request["networkConfiguration"] = network_configuration(after)
    if set(DEPLOYMENT_FIELDS) & set(changed):
        request["deploymentConfiguration"] = deployment_configuration(after)
    if set(NEEDS_DEPLOYMENT) & set(changed):
        request["forceNewDeployment"] = True
    return request


def network_configuration(fields):
    conf = {"subnets": list(fields["subnets"]), "assignPublicIp": "ENABLED" if fields.get("assign_public_ip") else "DISABLED"}
    if fields.get("security_groups"):
        conf["securityGroups"] = list(fields["security_groups"])
    return {"awsvpcConfiguration": conf}


def deployment_configuration(fields):
    """The four deployment fields -> deploymentConfiguration (unset ones left out)."""
    breaker = {k: fields.get(f"deployment_circuit_breaker_{k}") for k in ("enable", "rollback")}
    return scrub_none_parameters({
        "maximumPercent": fields.get("deployment_maximum_percent"),
        "minimumHealthyPercent": fields.get("deployment_minimum_healthy_percent"),
        "deploymentCircuitBreaker": {k: bool(v) for k, v in breaker.items()} if any(v is not None for v in breaker.values()) else None,
    })


def create_request(cluster, name, given, desired_count, tags):
    """Options -> CreateService keyword arguments (unset options get AWS's defaults)."""
    missing = [k for k, v in (("task_definition", given.get("task_definition")), ("desired_count", desired_count),
                              ("subnets", given.get("subnets"))) if v is None]
    if missing:
        raise ServiceError(f"{', '.join(missing)}: required to create the service {name!r} in cluster {cluster!r}")
    request = {
        "cluster": cluster,
        "serviceName": name,
        "desiredCount": desired_count,
        "networkConfiguration": network_configuration(given),
        "platformVersion": DEFAULTS["platform_version"],
        "tags": ansible_dict_to_boto3_tag_list(dict(sorted(tags.items())), "key", "value"),
        # no load balancers ([]) is AWS's default: left out, as an unset option
        **snake_dict_to_camel_dict(scrub_none_parameters({k: given.get(k) for k in PLAIN_FIELDS if given.get(k) != []})),
    }
    if "capacity_provider_strategy" not in given:
        request["launchType"] = given.get("launch_type", "FARGATE")
    deployment = deployment_configuration(given)
    if deployment:
        request["deploymentConfiguration"] = deployment
    return request


def created_fields(given, desired_count):
    """What a service created from `given` will report, for --diff."""
    fields = {**DEFAULTS, "security_groups": [], "launch_type": "FARGATE", "capacity_provider_strategy": None, **given}
    if "capacity_provider_strategy" in given:
        fields["launch_type"] = None
    return dict(fields, desired_count=desired_count)
