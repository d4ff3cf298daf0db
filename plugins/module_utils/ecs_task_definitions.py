# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalisation and comparison of ECS task definitions (no AWS calls).

The desired definition (module options, containers in the camelCase shape of
the ECS API) and a revision as DescribeTaskDefinition returns it are reduced to
one canonical form before comparing, so that what AWS fills in or returns in
another form is not a difference:
- task cpu/memory as strings ("256"), also from ints, "0.25 vCPU" or "0.5 GB";
- container defaults AWS adds: essential true, cpu 0, empty lists and dicts
  (mountPoints, volumesFrom, systemControls, environment, ...), healthCheck
  interval 30 / timeout 5 / retries 3 (and startPeriod 0, AWS's "off", left
  out whether sent or not), an EFS volume's rootDirectory "/";
- portMappings: protocol "tcp", hostPort = containerPort under awsvpc/host
  (0 for a dynamic port under bridge), numbers from strings;
- the order of containers, environment, secrets, port mappings, ulimits,
  volumes and mount points, and environment values as strings.
Whatever else a revision carries (set by hand or by another tool) stays in its
canonical form and so counts as a difference.
"""

import copy
import re

from ansible_collections.pocstack.aws.plugins.module_utils.ecs_services import NAME
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import FARGATE_SIZES
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import allowed_memory_text

# What DescribeTaskDefinition returns about a revision rather than its content.
GENERATED = (
    "taskDefinitionArn", "revision", "status", "compatibilities", "requiresAttributes",
    "registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt",
)
CONTAINER_INTS = ("cpu", "memory", "memoryReservation", "startTimeout", "stopTimeout")
HEALTH_CHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3}
# What ECS's HealthCheck allows (API reference, HealthCheck).
HEALTH_CHECK_RANGES = {"interval": (5, 300), "timeout": (2, 60), "retries": (1, 10), "startPeriod": (0, 300)}
HEALTH_CHECK_COMMANDS = ("CMD", "CMD-SHELL")
EPHEMERAL_GIB = (21, 200)


class TaskDefinitionError(ValueError):
    """Input that AWS would reject, with a message naming the option."""


def prune(value):
    """Drop None, empty lists and empty dicts from dicts, recursively: AWS
    returns some empty lists it was not given and omits others."""
    if isinstance(value, dict):
        pruned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def _int(value, where):
    if isinstance(value, bool):
        raise TaskDefinitionError(f"{where}: {value!r} is not a whole number")
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise TaskDefinitionError(f"{where}: {value!r} is not a whole number")


def _ints(item, keys, where):
    for key in keys:
        if key in item:
            item[key] = _int(item[key], f"{where}.{key}")


def _units(value, where, unit_pattern, what):
    """cpu or memory -> AWS's string of units: 256 / "256" / "0.25 vCPU" -> "256"."""
    if isinstance(value, bool) or value is None:
        raise TaskDefinitionError(f"{where}: {value!r} is not a {what}")
    text = str(value).strip()
    if text.isdigit():
        return str(int(text))
    match = re.match(r"^(\d+(?:\.\d+)?)\s*" + unit_pattern + r"$", text, re.IGNORECASE)
    if not match:
        raise TaskDefinitionError(f"{where}: {value!r} is not a {what}")
    return str(int(float(match.group(1)) * 1024))


def task_cpu(value, where="cpu"):
    return _units(value, where, "vcpu", "CPU value; use CPU units (256) or vCPUs ('0.25 vCPU')")


def task_memory(value, where="memory"):
    return _units(value, where, "gb", "memory value; use MiB (512) or GB ('0.5 GB')")


def _port_mapping(mapping, network_mode, where):
    if not isinstance(mapping, dict):
        raise TaskDefinitionError(f"{where}: each port mapping must be a dict, got {mapping!r}")
    mapping = dict(mapping)
    _ints(mapping, ("containerPort", "hostPort"), where)
    mapping["protocol"] = str(mapping.get("protocol", "tcp")).lower()
    if "containerPort" in mapping:
        if network_mode in ("awsvpc", "host"):
            if mapping.setdefault("hostPort", mapping["containerPort"]) != mapping["containerPort"]:
                raise TaskDefinitionError(
                    f"{where}.hostPort: must equal containerPort ({mapping['containerPort']}) "
                    f"in network mode {network_mode}, or be left out"
                )
        elif mapping.get("hostPort", 0) == 0:
            mapping["hostPort"] = 0  # a dynamic host port under bridge
    return mapping


def _health_check(check, where):
    """A container's healthCheck with ECS's defaults, checked against ECS's limits."""
    if not isinstance(check, dict):
        raise TaskDefinitionError(f"{where}: must be a dict with command, interval, timeout, retries, startPeriod")
    check = {**HEALTH_CHECK_DEFAULTS, **check}
    _ints(check, tuple(HEALTH_CHECK_RANGES), where)
    if check.get("startPeriod") == 0:
        del check["startPeriod"]
    command = check.get("command")
    if not isinstance(command, list) or len(command) < 2 or command[0] not in HEALTH_CHECK_COMMANDS:
        raise TaskDefinitionError(
            f"{where}.command: {command!r} must be a list starting with CMD (the command's words follow) or "
            "CMD-SHELL (one string for the container's shell follows)"
        )
    check["command"] = [str(word) for word in command]
    for key, (low, high) in HEALTH_CHECK_RANGES.items():
        if key in check and not low <= check[key] <= high:
            raise TaskDefinitionError(f"{where}.{key}: {check[key]} is out of range; allowed: {low}-{high}")
    return check


def _by(*keys):
    return lambda item: tuple(str(item.get(k, "")) if isinstance(item, dict) else str(item) for k in keys)


def normalize_container(container, network_mode, where):
    """One container definition (camelCase, as the ECS API takes it) -> canonical."""
    if not isinstance(container, dict):
        raise TaskDefinitionError(f"{where}: each container must be a dict, got {container!r}")
    for key in ("name", "image"):
        if not isinstance(container.get(key), str) or not container[key]:
            raise TaskDefinitionError(f"{where}.{key}: required (a non-empty string)")
    c = prune(copy.deepcopy(container))
    c.setdefault("essential", True)
    c.setdefault("cpu", 0)
    _ints(c, CONTAINER_INTS, where)
    if "portMappings" in c:
        c["portMappings"] = sorted(
            (_port_mapping(m, network_mode, f"{where}.portMappings[{i}]") for i, m in enumerate(c["portMappings"])),
            key=_by("containerPort", "hostPort", "protocol", "name"),
        )
    for key, value_key in (("environment", "value"), ("secrets", "valueFrom")):
        for i, item in enumerate(c.get(key, [])):
            if not isinstance(item, dict) or not item.get("name") or value_key not in item:
                raise TaskDefinitionError(f"{where}.{key}[{i}]: needs name and {value_key}, got {item!r}")
            item[value_key] = str(item[value_key])
    if "healthCheck" in c:
        c["healthCheck"] = _health_check(c["healthCheck"], f"{where}.healthCheck")
    for i, ulimit in enumerate(c.get("ulimits", [])):
        _ints(ulimit, ("softLimit", "hardLimit"), f"{where}.ulimits[{i}]")
    log = c.get("logConfiguration")
    if log:
        if "options" in log:
            log["options"] = {str(k): str(v) for k, v in log["options"].items()}
        if "secretOptions" in log:
            log["secretOptions"] = sorted(log["secretOptions"], key=_by("name"))
    if "dockerLabels" in c:
        c["dockerLabels"] = {str(k): str(v) for k, v in c["dockerLabels"].items()}
    for key, order in (("environment", ("name",)), ("secrets", ("name",)),
                       ("ulimits", ("name",)), ("mountPoints", ("sourceVolume", "containerPath")),
                       ("volumesFrom", ("sourceContainer",)), ("dependsOn", ("containerName",)),
                       ("systemControls", ("namespace",)), ("environmentFiles", ("value",))):
        if key in c:
            c[key] = sorted(c[key], key=_by(*order))
    return c


def _volume(volume, where):
    if not isinstance(volume, dict) or not volume.get("name"):
        raise TaskDefinitionError(f"{where}: each volume must be a dict with a name, got {volume!r}")
    volume = prune(copy.deepcopy(volume))
    if "efsVolumeConfiguration" in volume:
        volume["efsVolumeConfiguration"].setdefault("rootDirectory", "/")
    return volume


def desired_definition(params):
    """Module options -> the canonical definition, which is also what
    RegisterTaskDefinition is sent (containers in the order given)."""
    family = params["family"]
    if not NAME.match(family):
        raise TaskDefinitionError(f"family: {family!r} is not allowed; use 1-255 letters, digits, '-' and '_'")
    compat = params.get("requires_compatibilities")
    if compat is None:
        compat = [params.get("launch_type") or "FARGATE"]
    compat = sorted(set(compat))
    network_mode = params.get("network_mode") or "awsvpc"
    if "FARGATE" in compat and network_mode != "awsvpc":
        raise TaskDefinitionError(f"network_mode: Fargate tasks need awsvpc, got {network_mode!r}")
    containers = params.get("containers")
    if not containers:
        raise TaskDefinitionError("containers: at least one container is required when state=present")
    normalized = [normalize_container(c, network_mode, f"containers[{i}]") for i, c in enumerate(containers)]
    names = [c["name"] for c in normalized]
    for name in sorted({n for n in names if names.count(n) > 1}):
        raise TaskDefinitionError(f"containers: the name {name!r} is used more than once; names must be unique")
    definition = {
        "family": family,
        "containerDefinitions": normalized,
        "networkMode": network_mode,
        "requiresCompatibilities": compat,
        "executionRoleArn": params.get("execution_role_arn"),
        "taskRoleArn": params.get("task_role_arn"),
    }
    for key, normalize in (("cpu", task_cpu), ("memory", task_memory)):
        if params.get(key) is not None:
            definition[key] = normalize(params[key])
    if "FARGATE" in compat:
        check_fargate_size(definition.get("cpu"), definition.get("memory"))
    platform = params.get("runtime_platform") or {}
    definition["runtimePlatform"] = {
        "cpuArchitecture": platform.get("cpu_architecture"),
        "operatingSystemFamily": platform.get("operating_system_family"),
    }
    if params.get("ephemeral_storage_gib") is not None:
        size = params["ephemeral_storage_gib"]  # an int: the argument spec converts it
        low, high = EPHEMERAL_GIB
        if not low <= size <= high:
            raise TaskDefinitionError(f"ephemeral_storage_gib: {size} is out of range; allowed: {low}-{high}")
        definition["ephemeralStorage"] = {"sizeInGiB": size}
    definition["volumes"] = [_volume(v, f"volumes[{i}]") for i, v in enumerate(params.get("volumes") or [])]
    return prune(definition)


def check_fargate_size(cpu, memory):
    if cpu is None or memory is None:
        raise TaskDefinitionError("cpu, memory: both are required for Fargate (task-level size)")
    if int(cpu) not in FARGATE_SIZES:
        raise TaskDefinitionError(
            f"cpu: {cpu} is not a Fargate CPU value; allowed: {', '.join(map(str, FARGATE_SIZES))}"
        )
    if int(memory) not in FARGATE_SIZES[int(cpu)]:
        raise TaskDefinitionError(
            f"memory: {memory} does not fit cpu {cpu} on Fargate; allowed memory (MiB): {allowed_memory_text(int(cpu))}"
        )


def _or_as_is(normalize, value, *args):
    try:
        return normalize(value, *args)
    except TaskDefinitionError:
        return value


def current_definition(described):
    """A revision as DescribeTaskDefinition returns it -> canonical. Never
    fails: what cannot be normalised is compared as it is."""
    definition = {k: v for k, v in described.items() if k not in GENERATED}
    definition = prune(copy.deepcopy(definition))
    network_mode = definition.get("networkMode")
    definition["containerDefinitions"] = [
        _or_as_is(normalize_container, c, network_mode, f"containerDefinitions[{i}]")
        for i, c in enumerate(definition.get("containerDefinitions", []))
    ]
    for key, normalize in (("cpu", task_cpu), ("memory", task_memory)):
        if key in definition:
            definition[key] = _or_as_is(normalize, definition[key])
    if "requiresCompatibilities" in definition:
        definition["requiresCompatibilities"] = sorted(set(definition["requiresCompatibilities"]))
    definition["volumes"] = [_or_as_is(_volume, v, f"volumes[{i}]") for i, v in enumerate(definition.get("volumes", []))]
    return prune(definition)


def comparable(definition):
    """The canonical definition with order-free lists sorted (containers and
    volumes by name), for comparison and --diff."""
    if definition is None:
        return {}
    result = dict(definition)
    for key in ("containerDefinitions", "volumes"):
        if key in result:
            result[key] = sorted(result[key], key=_by("name"))
    return result


def for_diff(definition):
    """comparable() with secrets reduced to name and valueFrom (an ARN, never a
    value); environment values are plain configuration and shown."""
    result = comparable(definition)
    if "containerDefinitions" in result:
        result["containerDefinitions"] = [
            dict(c, secrets=[{"name": s.get("name"), "valueFrom": s.get("valueFrom")} for s in c["secrets"]])
            if "secrets" in c else c
            for c in result["containerDefinitions"]
        ]
    return result


def revision_of(arn):
    """arn:...:task-definition/family:12 -> 12."""
    return int(arn.rsplit(":", 1)[-1])


def newest_first(arns):
    return sorted(arns, key=revision_of, reverse=True)


def to_prune(active_arns, keep):
    """ACTIVE revisions beyond the newest `keep` (0 keeps all), oldest first."""
    if not keep:
        return []
    return sorted(newest_first(active_arns)[keep:], key=revision_of)
