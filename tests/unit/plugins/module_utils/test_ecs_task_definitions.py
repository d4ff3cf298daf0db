"""Normalisation and comparison of task definitions: what AWS fills in or
returns differently is no difference, every real change is one, bad input is
named."""
import copy

import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import ecs_task_definitions as td
from ecs_fixtures import EXEC
from ecs_fixtures import SSM
from ecs_fixtures import TASK
from ecs_fixtures import container
from ecs_fixtures import described


def params(**overrides):
    base = {
        "family": "plotly", "containers": [container()], "cpu": "256", "memory": "512",
        "network_mode": "awsvpc", "launch_type": None, "requires_compatibilities": None,
        "execution_role_arn": EXEC, "task_role_arn": TASK, "runtime_platform": None,
        "volumes": None, "ephemeral_storage_gib": None,
    }
    base.update(overrides)
    return base


def differs(wanted, current):
    return compare.differences(td.comparable(td.current_definition(current)), td.comparable(td.desired_definition(wanted)))


def test_the_role_s_definition_equals_what_aws_describes():
    assert differs(params(), described()) == []


def _aws_container(**changes):
    c = copy.deepcopy(described()["containerDefinitions"][0])
    c.update(changes)
    return c


HEALTH = {"command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3}

# Each: (what AWS returns or the user writes differently, params, described) -> still no difference
SAME = [
    ("cpu and memory as ints", params(cpu=256, memory=512), described()),
    ("cpu in vCPU, memory in GB", params(cpu="0.25 vCPU", memory="0.5 GB"), described()),
    ("cpu 1vcpu, memory 2GB", params(cpu="1vcpu", memory="2GB"), described(cpu="1024", memory="2048")),
    ("launch_type FARGATE", params(launch_type="FARGATE"), described()),
    ("requires_compatibilities", params(requires_compatibilities=["FARGATE"]), described()),
    ("essential left out", params(containers=[{k: v for k, v in container().items() if k != "essential"}]), described()),
    ("protocol left out", params(containers=[container(portMappings=[{"containerPort": 8050}])]), described()),
    ("hostPort given equal", params(containers=[container(portMappings=[{"containerPort": 8050, "hostPort": 8050}])]),
     described()),
    ("protocol upper case", params(containers=[container(portMappings=[{"containerPort": 8050, "protocol": "TCP"}])]),
     described()),
    ("port as a string", params(containers=[container(portMappings=[{"containerPort": "8050"}])]), described()),
    ("environment value as a number", params(containers=[container(environment=[
        {"name": "PORT", "value": 8050}, {"name": "POCSTACK_SECRETS_FINGERPRINT", "value": "f00d"}])]), described()),
    ("empty lists given", params(containers=[container(mountPoints=[], volumesFrom=[], dependsOn=[])]), described()),
    ("AWS leaves out the empty lists", params(), described(containers=[{
        k: v for k, v in _aws_container().items() if k not in ("mountPoints", "volumesFrom", "systemControls")}])),
    ("cpu 0 given", params(containers=[container(cpu=0)]), described()),
    ("null options", params(containers=[container(command=None, healthCheck=None)]), described()),
    ("healthCheck defaults", params(containers=[container(healthCheck={"command": ["CMD", "true"]})]),
     described(containers=[_aws_container(healthCheck={"command": ["CMD", "true"], "interval": 30, "timeout": 5,
                                                        "retries": 3})])),
    ("healthCheck startPeriod 0 sent, AWS leaves it out",
     params(containers=[container(healthCheck={"command": ["CMD", "true"], "startPeriod": 0})]),
     described(containers=[_aws_container(healthCheck=HEALTH)])),
    ("healthCheck startPeriod 0 described", params(containers=[container(healthCheck=HEALTH)]),
     described(containers=[_aws_container(healthCheck=dict(HEALTH, startPeriod=0))])),
    ("healthCheck numbers as strings (a template's)", params(containers=[container(healthCheck={
        "command": ["CMD", "true"], "interval": "30", "timeout": "5", "retries": "3", "startPeriod": "10"})]),
     described(containers=[_aws_container(healthCheck=dict(HEALTH, startPeriod=10))])),
    ("healthCheck empty: none", params(containers=[container(healthCheck={})]), described()),
    ("log options as numbers", params(containers=[container(logConfiguration={"logDriver": "awslogs", "options": {
        "awslogs-group": "/pocstack/plotly", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs",
        "max-buffer-size": 25}})]),
     described(containers=[_aws_container(logConfiguration={"logDriver": "awslogs", "options": {
         "awslogs-group": "/pocstack/plotly", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs",
         "max-buffer-size": "25"}})])),
    ("memory reservation as a string", params(containers=[container(memoryReservation="256")]),
     described(containers=[_aws_container(memoryReservation=256)])),
    ("EFS rootDirectory default", params(volumes=[{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]),
     described(volumes=[{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "rootDirectory": "/"}}])),
    ("volumes in another order", params(volumes=[{"name": "b"}, {"name": "a"}]),
     described(volumes=[{"name": "a", "host": {}}, {"name": "b"}])),
    ("containers in another order",
     params(containers=[container(name="b", secrets=[]), container(name="a", secrets=[])]),
     described(containers=[_aws_container(name="a", secrets=[]), _aws_container(name="b", secrets=[])])),
    ("runtime platform", params(runtime_platform={"cpu_architecture": "ARM64", "operating_system_family": "LINUX"}),
     described(runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"})),
    ("runtime platform unset", params(runtime_platform={"cpu_architecture": None, "operating_system_family": None}),
     described()),
    ("ephemeral storage", params(ephemeral_storage_gib=30), described(ephemeralStorage={"sizeInGiB": 30})),
    ("mount points in another order", params(containers=[container(mountPoints=[
        {"sourceVolume": "b", "containerPath": "/b"}, {"sourceVolume": "a", "containerPath": "/a"}])]),
     described(containers=[_aws_container(mountPoints=[
         {"sourceVolume": "a", "containerPath": "/a"}, {"sourceVolume": "b", "containerPath": "/b"}])])),
]


@pytest.mark.parametrize("wanted, current", [c[1:] for c in SAME], ids=[c[0] for c in SAME])
def test_what_aws_fills_in_is_no_difference(wanted, current):
    assert differs(wanted, current) == []


# Each: (what changed, params, the paths reported)
DIFFERENT = [
    ("image", params(containers=[container(image="pocstack/plotly@sha256:" + "b" * 64)]),
     ["containerDefinitions[plotly].image"]),
    ("task cpu", params(cpu="512", memory="1024"), ["cpu", "memory"]),
    ("task memory", params(memory="1024"), ["memory"]),
    ("execution role", params(execution_role_arn=EXEC + "2"), ["executionRoleArn"]),
    ("task role", params(task_role_arn=None), ["taskRoleArn"]),
    ("container port", params(containers=[container(portMappings=[{"containerPort": 8080}])]),
     ["containerDefinitions[plotly].portMappings"]),
    ("protocol udp", params(containers=[container(portMappings=[{"containerPort": 8050, "protocol": "udp"}])]),
     ["containerDefinitions[plotly].portMappings"]),
    ("environment value", params(containers=[container(environment=[
        {"name": "POCSTACK_SECRETS_FINGERPRINT", "value": "beef"}, {"name": "PORT", "value": "8050"}])]),
     ["containerDefinitions[plotly].environment[POCSTACK_SECRETS_FINGERPRINT].value"]),
    ("environment added", params(containers=[container(environment=container()["environment"] + [
        {"name": "DEBUG", "value": "1"}])]), ["containerDefinitions[plotly].environment[DEBUG]"]),
    ("secret renamed", params(containers=[container(secrets=[{"name": "PLOTLY_USER", "valueFrom": SSM + "PLOTLY_USER"}])]),
     ["containerDefinitions[plotly].secrets[PLOTLY_PASS]"]),
    ("secret source", params(containers=[container(secrets=[{"name": "PLOTLY_USER", "valueFrom": SSM + "X"},
                                                            {"name": "PLOTLY_PASS", "valueFrom": SSM + "PLOTLY_PASS"}])]),
     ["containerDefinitions[plotly].secrets[PLOTLY_USER].valueFrom"]),
    ("not essential", params(containers=[container(essential=False)]), ["containerDefinitions[plotly].essential"]),
    ("container cpu", params(containers=[container(cpu=128)]), ["containerDefinitions[plotly].cpu"]),
    ("log group", params(containers=[container(logConfiguration={"logDriver": "awslogs", "options": {
        "awslogs-group": "/other", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}})]),
     ["containerDefinitions[plotly].logConfiguration.options.awslogs-group"]),
    ("second container", params(containers=[container(), container(name="sidecar", secrets=[])]),
     ["containerDefinitions[sidecar]"]),
    ("health check interval", params(containers=[container(healthCheck={"command": ["CMD", "true"], "interval": 10})]),
     ["containerDefinitions[plotly].healthCheck"]),
    ("runtime platform", params(runtime_platform={"cpu_architecture": "ARM64", "operating_system_family": "LINUX"}),
     ["runtimePlatform"]),
    ("ephemeral storage", params(ephemeral_storage_gib=40), ["ephemeralStorage"]),
    ("volume", params(volumes=[{"name": "data"}]), ["volumes"]),
    ("EC2 compatible too", params(requires_compatibilities=["EC2", "FARGATE"]), ["requiresCompatibilities"]),
]


@pytest.mark.parametrize("wanted, paths", [c[1:] for c in DIFFERENT], ids=[c[0] for c in DIFFERENT])
def test_each_real_change_is_a_difference_at_its_path(wanted, paths):
    assert differs(wanted, described()) == paths


# Each: (what changed, the healthCheck wanted, the one described, the paths reported)
HEALTH_CHANGES = [
    ("command", dict(HEALTH, command=["CMD", "false"]), HEALTH, ["containerDefinitions[plotly].healthCheck.command"]),
    ("CMD-SHELL instead of CMD", dict(HEALTH, command=["CMD-SHELL", "true"]), HEALTH,
     ["containerDefinitions[plotly].healthCheck.command"]),
    ("interval", dict(HEALTH, interval=10), HEALTH, ["containerDefinitions[plotly].healthCheck.interval"]),
    ("timeout", dict(HEALTH, timeout=3), HEALTH, ["containerDefinitions[plotly].healthCheck.timeout"]),
    ("retries", dict(HEALTH, retries=5), HEALTH, ["containerDefinitions[plotly].healthCheck.retries"]),
    ("start period added", dict(HEALTH, startPeriod=10), HEALTH, ["containerDefinitions[plotly].healthCheck.startPeriod"]),
    ("start period removed", HEALTH, dict(HEALTH, startPeriod=10),
     ["containerDefinitions[plotly].healthCheck.startPeriod"]),
    ("check removed", None, HEALTH, ["containerDefinitions[plotly].healthCheck"]),
    ("check added", HEALTH, None, ["containerDefinitions[plotly].healthCheck"]),
]


@pytest.mark.parametrize("wanted, current, paths", [c[1:] for c in HEALTH_CHANGES], ids=[c[0] for c in HEALTH_CHANGES])
def test_each_health_check_change_is_a_difference_at_its_path(wanted, current, paths):
    described_container = _aws_container(healthCheck=current) if current else _aws_container()
    assert differs(params(containers=[container(healthCheck=wanted)]), described(containers=[described_container])) \
        == paths


def test_the_health_check_is_registered_as_given_with_ecs_defaults():
    sent = td.desired_definition(params(containers=[container(healthCheck={"command": ["CMD-SHELL", "exit 0"]})]))
    assert sent["containerDefinitions"][0]["healthCheck"] == {"command": ["CMD-SHELL", "exit 0"], "interval": 30,
                                                              "timeout": 5, "retries": 3}


@pytest.mark.parametrize(
    "extra",
    [{"pidMode": "task"}, {"placementConstraints": [{"type": "memberOf", "expression": "x"}]},
     {"proxyConfiguration": {"type": "APPMESH", "containerName": "envoy"}}],
    ids=["pid-mode", "placement", "proxy"],
)
def test_anything_else_on_the_revision_is_a_difference(extra):
    assert differs(params(), described(**extra)) == sorted(extra)


def test_registered_payload_keeps_the_given_container_order_and_fills_defaults():
    definition = td.desired_definition(params(containers=[container(name="b", secrets=[]), container(name="a", secrets=[])]))
    assert [c["name"] for c in definition["containerDefinitions"]] == ["b", "a"]
    first = definition["containerDefinitions"][0]
    assert first["portMappings"] == [{"containerPort": 8050, "hostPort": 8050, "protocol": "tcp"}]
    assert first["environment"][0] == {"name": "POCSTACK_SECRETS_FINGERPRINT", "value": "f00d"}
    assert definition["cpu"] == "256" and definition["requiresCompatibilities"] == ["FARGATE"]
    assert "runtimePlatform" not in definition and "volumes" not in definition


def test_bridge_mode_dynamic_host_port_is_zero():
    definition = td.desired_definition(params(
        network_mode="bridge", launch_type="EC2", containers=[container(portMappings=[{"containerPort": 80}])]))
    assert definition["containerDefinitions"][0]["portMappings"] == [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}]


def test_diff_shows_secrets_by_name_and_value_from_only():
    c = container(secrets=[{"name": "PLOTLY_PASS", "valueFrom": SSM + "PLOTLY_PASS", "value": "hunter2"}])
    shown = td.for_diff(td.desired_definition(params(containers=[c])))
    assert shown["containerDefinitions"][0]["secrets"] == [{"name": "PLOTLY_PASS", "valueFrom": SSM + "PLOTLY_PASS"}]
    assert "hunter2" not in repr(shown)
    assert shown["containerDefinitions"][0]["environment"][1] == {"name": "PORT", "value": "8050"}


def test_current_definition_never_fails_on_what_it_cannot_read():
    odd = described(containers=[{"name": "x", "image": "y", "portMappings": ["not a dict"]}], cpu="lots")
    current = td.current_definition(odd)
    assert current["cpu"] == "lots"
    assert current["containerDefinitions"][0]["portMappings"] == ["not a dict"]


# Each: (params, expected fragment of the message)
INVALID = [
    (params(family="plotly app"), "family: 'plotly app' is not allowed"),
    (params(family=""), "family: '' is not allowed"),
    (params(containers=[]), "containers: at least one container is required"),
    (params(containers=["plotly"]), "containers[0]: each container must be a dict"),
    (params(containers=[{"name": "x"}]), "containers[0].image: required"),
    (params(containers=[{"image": "x"}]), "containers[0].name: required"),
    (params(containers=[container(), container()]), "containers: the name 'plotly' is used more than once"),
    (params(containers=[container(portMappings=[{"containerPort": "http"}])]),
     "containers[0].portMappings[0].containerPort: 'http' is not a whole number"),
    (params(containers=[container(portMappings=[{"containerPort": 8050, "hostPort": 80}])]),
     "containers[0].portMappings[0].hostPort: must equal containerPort (8050) in network mode awsvpc"),
    (params(containers=[container(portMappings=["8050"])]), "containers[0].portMappings[0]: each port mapping must be a dict"),
    (params(containers=[container(environment=[{"name": "A"}])]), "containers[0].environment[0]: needs name and value"),
    (params(containers=[container(secrets=[{"name": "A", "value": "plain"}])]),
     "containers[0].secrets[0]: needs name and valueFrom"),
    (params(containers=[container(memory=True)]), "containers[0].memory: True is not a whole number"),
    (params(containers=[container(healthCheck={"command": ["x"], "interval": "often"})]),
     "containers[0].healthCheck.interval: 'often' is not a whole number"),
    (params(containers=[container(healthCheck={"command": ["curl", "-f", "http://localhost/"]})]),
     "containers[0].healthCheck.command: ['curl', '-f', 'http://localhost/'] must be a list starting with CMD"),
    (params(containers=[container(healthCheck={"command": ["CMD-SHELL"]})]),
     "containers[0].healthCheck.command: ['CMD-SHELL'] must be a list starting with CMD"),
    (params(containers=[container(healthCheck={"command": "CMD-SHELL exit 0"})]),
     "containers[0].healthCheck.command: 'CMD-SHELL exit 0' must be a list"),
    (params(containers=[container(healthCheck={"interval": 10})]), "containers[0].healthCheck.command: None must be"),
    (params(containers=[container(healthCheck="CMD true")]), "containers[0].healthCheck: must be a dict"),
    (params(cpu="fast"), "cpu: 'fast' is not a CPU value"),
    (params(memory="lots"), "memory: 'lots' is not a memory value"),
    (params(cpu="300"), "cpu: 300 is not a Fargate CPU value; allowed: 256, 512, 1024"),
    (params(memory="4096"), "memory: 4096 does not fit cpu 256 on Fargate; allowed memory (MiB): 512, 1024, 2048"),
    (params(cpu="1024", memory="1024"), "allowed memory (MiB): 2048-8192 in steps of 1024"),
    (params(cpu=None), "cpu, memory: both are required for Fargate"),
    (params(network_mode="bridge"), "network_mode: Fargate tasks need awsvpc, got 'bridge'"),
    (params(ephemeral_storage_gib=10), "ephemeral_storage_gib: 10 is out of range; allowed: 21-200"),
    (params(volumes=[{"host": {}}]), "volumes[0]: each volume must be a dict with a name"),
]


# ECS's limits of a health check, just outside each end: (key, value, allowed)
HEALTH_LIMITS = [("interval", 4, "5-300"), ("interval", 301, "5-300"), ("timeout", 1, "2-60"), ("timeout", 61, "2-60"),
                 ("retries", 0, "1-10"), ("retries", 11, "1-10"), ("startPeriod", -1, "0-300"),
                 ("startPeriod", 301, "0-300")]
INVALID += [(params(containers=[container(healthCheck=dict(HEALTH, **{key: value}))]),
             f"containers[0].healthCheck.{key}: {value} is out of range; allowed: {allowed}")
            for key, value, allowed in HEALTH_LIMITS]


@pytest.mark.parametrize("wanted, message", INVALID, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(INVALID)])
def test_bad_input_is_named(wanted, message):
    with pytest.raises(td.TaskDefinitionError) as error:
        td.desired_definition(wanted)
    assert message in str(error.value)


def test_ec2_definition_without_task_size_is_allowed():
    definition = td.desired_definition(params(launch_type="EC2", cpu=None, memory=None, network_mode="bridge",
                                              containers=[container(memory=256)]))
    assert "cpu" not in definition and definition["requiresCompatibilities"] == ["EC2"]


@pytest.mark.parametrize(
    "arns, keep, expected",
    [
        (["f:1", "f:2", "f:3"], 5, []),
        (["f:1", "f:2", "f:3"], 2, ["f:1"]),
        (["f:10", "f:9", "f:2", "f:11"], 2, ["f:2", "f:9"]),
        (["f:1", "f:2"], 0, []),
        (["f:1", "f:2", "f:3"], 1, ["f:1", "f:2"]),
    ],
    ids=["under", "one-over", "numeric-order", "zero-keeps-all", "keep-one"],
)
def test_revisions_to_deregister(arns, keep, expected):
    assert td.to_prune(arns, keep) == expected
