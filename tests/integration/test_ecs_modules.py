"""pocstack.aws.ecs_task_definition_revision and ecs_fargate_service on the emulator.

Through ansible (playbooks/ecs_modules.yml, one run): check mode on an empty
account, create, a re-run that writes nothing, a change in --diff, absent
twice; then what is left is read back here. The per-field steps run the same
modules in this process (AnsibleModule with real argument processing, real
AWS calls over HTTP to the emulator, read back with boto3): each field changed
on its own is reported alone, sent alone and read back, and a re-run writes
nothing; a count set by autoscaling is kept. Write calls are counted by the
emulator. Uses the endpoint fixture (tests/integration/conftest.py): the emulator
on $POCSTACK_EMULATOR_PORT or one of its own; names are unique per run and nothing is reset.
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import urllib.request
import uuid

import boto3
import botocore.loaders
import botocore.session
import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.pocstack.aws.plugins.modules import ecs_fargate_service
from ansible_collections.pocstack.aws.plugins.modules import ecs_task_definition_revision

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "ecs_modules.yml")
BIN = os.path.dirname(sys.executable)
RUN = uuid.uuid4().hex[:8]
COUNT_TAG = "pocstack:desired-count"


def client(endpoint, name):
    return boto3.client(name, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def writes(endpoint):
    with urllib.request.urlopen(f"{endpoint}/_pocstack/calls", timeout=5) as resp:
        return json.load(resp)


@pytest.fixture(scope="module")
def net(endpoint):
    """A VPC with two subnets, two security groups, two target groups and a cluster."""
    ec2, elb = client(endpoint, "ec2"), client(endpoint, "elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(["us-east-1a", "us-east-1b"])]
    groups = [ec2.create_security_group(GroupName=f"ecsmod-{RUN}-{i}", Description="tasks", VpcId=vpc)["GroupId"]
              for i in range(2)]
    target_groups = [elb.create_target_group(Name=f"ecsmod-{RUN}-{i}", Protocol="HTTP", Port=8050, VpcId=vpc,
                                             TargetType="ip")["TargetGroups"][0]["TargetGroupArn"] for i in range(2)]
    # ECS takes only a group a load balancer forwards to (as AWS): one listener forwards to both.
    lb = elb.create_load_balancer(Name=f"ecsmod-{RUN}", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{
        "Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": arn, "Weight": 1} for arn in target_groups]}}])
    cluster = f"ecsmod-{RUN}"
    client(endpoint, "ecs").create_cluster(clusterName=cluster, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    return {"subnets": subnets, "security_groups": groups, "target_groups": target_groups, "cluster": cluster}


@pytest.fixture(scope="module", autouse=True)
def one_botocore_loader():
    """Every in-process module run makes a new botocore session, which would
    parse the same service models again (most of a run's CPU time); share
    one loader. Only the models' loading is shared, no state."""
    loader = botocore.loaders.create_loader()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", lambda *args, **kwargs: loader)
        yield


def run_module(endpoint, module, args, check=False):
    """Run a module's main() here as ansible would (argument spec, check and
    diff mode); returns its result."""
    args = dict(args, endpoint_url=endpoint, region="us-east-1", access_key="testing", secret_key="testing",
                _ansible_check_mode=check, _ansible_diff=True)
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        module.main()
    return json.loads(out.getvalue())


# ------------------------------------------------------------ through ansible
@pytest.fixture(scope="module")
def playbook(endpoint, net):
    extra = dict(net, endpoint=endpoint, calls_url=f"{endpoint}/_pocstack/calls", run=RUN)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           PLAYBOOK, "-e", json.dumps(extra)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


def test_playbook_check_create_rerun_change_absent_twice(playbook):
    rc, output = playbook
    assert rc == 0, output[-6000:]
    assert "[WARNING]" not in output, output


def test_playbook_leaves_the_service_inactive_and_every_revision_inactive(endpoint, net, playbook):
    assert playbook[0] == 0
    ecs = client(endpoint, "ecs")
    services = ecs.describe_services(cluster=net["cluster"], services=["web"])["services"]
    assert [s["status"] for s in services] in ([], ["INACTIVE"])
    family = f"ecsmod-{RUN}-web"
    assert ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"] == []
    inactive = ecs.list_task_definitions(familyPrefix=family, status="INACTIVE")["taskDefinitionArns"]
    assert sorted(a.rsplit(":", 1)[1] for a in inactive) == ["1", "2"]


# ------------------------------------------------------- each service field
@pytest.fixture(scope="module")
def revisions(endpoint):
    """Two revisions of one family, to move services between."""
    ecs = client(endpoint, "ecs")
    family = f"ecsmod-{RUN}-fields"
    for image in ("x:1", "x:2"):
        ecs.register_task_definition(family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                     cpu="256", memory="512", containerDefinitions=[{"name": "web", "image": image}])
    return [f"{family}:1", f"{family}:2"]


def service_args(net, revisions, name, **changes):
    args = {
        "cluster": net["cluster"], "name": name, "task_definition": revisions[0], "desired_count": 1,
        "subnets": net["subnets"], "security_groups": net["security_groups"][:1], "assign_public_ip": True,
        "load_balancers": [{"target_group_arn": net["target_groups"][0], "container_name": "web", "container_port": 8050}],
        "deployment_maximum_percent": 200, "deployment_minimum_healthy_percent": 75,
        "deployment_circuit_breaker_enable": True, "deployment_circuit_breaker_rollback": True,
        "health_check_grace_period_seconds": 60, "propagate_tags": "SERVICE", "tags": {"pocstack:service": name},
    }
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}


def describe(endpoint, net, name):
    found = client(endpoint, "ecs").describe_services(cluster=net["cluster"], services=[name], include=["TAGS"])
    return found["services"][0]


def awsvpc(svc):
    return svc["networkConfiguration"]["awsvpcConfiguration"]


# field: (the change, how many write calls, what DescribeServices must show afterwards)
FIELDS = {
    "task_definition": (lambda n, r: {"task_definition": r[1]}, 1, lambda s, n, r: s["taskDefinition"].endswith(r[1])),
    "subnets": (lambda n, r: {"subnets": n["subnets"][1:]}, 1, lambda s, n, r: awsvpc(s)["subnets"] == n["subnets"][1:]),
    "security_groups": (lambda n, r: {"security_groups": n["security_groups"][::-1]}, 1,
                        lambda s, n, r: sorted(awsvpc(s)["securityGroups"]) == sorted(n["security_groups"])),
    "assign_public_ip": (lambda n, r: {"assign_public_ip": False}, 1, lambda s, n, r: awsvpc(s)["assignPublicIp"] == "DISABLED"),
    "load_balancers": (lambda n, r: {"load_balancers": [
        {"target_group_arn": n["target_groups"][1], "container_name": "web", "container_port": 8050}]}, 1,
        lambda s, n, r: [lb["targetGroupArn"] for lb in s["loadBalancers"]] == n["target_groups"][1:]),
    "deployment_maximum_percent": (lambda n, r: {"deployment_maximum_percent": 150}, 1,
                                   lambda s, n, r: s["deploymentConfiguration"]["maximumPercent"] == 150
                                   and s["deploymentConfiguration"]["minimumHealthyPercent"] == 75),
    "deployment_minimum_healthy_percent": (lambda n, r: {"deployment_minimum_healthy_percent": 50}, 1,
                                           lambda s, n, r: s["deploymentConfiguration"]["minimumHealthyPercent"] == 50),
    "deployment_circuit_breaker_enable": (lambda n, r: {"deployment_circuit_breaker_enable": False}, 1,
                                          lambda s, n, r: s["deploymentConfiguration"]["deploymentCircuitBreaker"]
                                          == {"enable": False, "rollback": True}),
    "deployment_circuit_breaker_rollback": (lambda n, r: {"deployment_circuit_breaker_rollback": False}, 1,
                                            lambda s, n, r: s["deploymentConfiguration"]["deploymentCircuitBreaker"]
                                            == {"enable": True, "rollback": False}),
    "health_check_grace_period_seconds": (lambda n, r: {"health_check_grace_period_seconds": 120}, 1,
                                          lambda s, n, r: s["healthCheckGracePeriodSeconds"] == 120),
    "enable_execute_command": (lambda n, r: {"enable_execute_command": True}, 1, lambda s, n, r: s["enableExecuteCommand"]),
    "propagate_tags": (lambda n, r: {"propagate_tags": "TASK_DEFINITION"}, 1,
                       lambda s, n, r: s["propagateTags"] == "TASK_DEFINITION"),
    "platform_version": (lambda n, r: {"platform_version": "1.4.0"}, 1, lambda s, n, r: s["platformVersion"] == "1.4.0"),
    "tags": (lambda n, r: {"tags": {"team": "data"}}, 2,  # TagResource + UntagResource (purge)
             lambda s, n, r: {t["key"]: t["value"] for t in s["tags"]} == {"team": "data", COUNT_TAG: "1"}),
    "desired_count": (lambda n, r: {"desired_count": 2}, 2,  # UpdateService + the recorded count
                      lambda s, n, r: s["desiredCount"] == 2 and {"key": COUNT_TAG, "value": "2"} in s["tags"]),
}


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_each_field_is_changed_alone_and_read_back(endpoint, net, revisions, field):
    change, write_count, shows = FIELDS[field]
    name = f"f-{field.replace('_', '-')}"[:255]
    created = run_module(endpoint, ecs_fargate_service, service_args(net, revisions, name))
    assert created["changed"] and created["created"]

    before = writes(endpoint)["writes"]
    changed = run_module(endpoint, ecs_fargate_service, service_args(net, revisions, name, **change(net, revisions)))
    reported = [field, "tags"] if field == "desired_count" else [field]  # the recorded count is a tag
    assert changed["changed"] and changed["changes"] == reported, changed
    assert writes(endpoint)["writes"] - before == write_count, writes(endpoint)["calls"]
    assert shows(describe(endpoint, net, name), net, revisions), describe(endpoint, net, name)

    before = writes(endpoint)["writes"]
    again = run_module(endpoint, ecs_fargate_service, service_args(net, revisions, name, **change(net, revisions)))
    assert again["changed"] is False and again["changes"] == [], again["diff"]
    assert writes(endpoint)["writes"] == before


def test_check_mode_on_a_deployed_service_reports_and_writes_nothing(endpoint, net, revisions):
    run_module(endpoint, ecs_fargate_service, service_args(net, revisions, "checked"))
    before = writes(endpoint)["writes"]
    result = run_module(endpoint, ecs_fargate_service,
                        service_args(net, revisions, "checked", deployment_minimum_healthy_percent=100,
                                     subnets=net["subnets"][:1]), check=True)
    assert result["changed"] and result["changes"] == ["deployment_minimum_healthy_percent", "subnets"]
    assert result["diff"]["before"]["deployment_minimum_healthy_percent"] == 75
    assert result["diff"]["after"]["deployment_minimum_healthy_percent"] == 100
    assert writes(endpoint)["writes"] == before
    assert describe(endpoint, net, "checked")["deploymentConfiguration"]["minimumHealthyPercent"] == 75


def test_count_set_by_autoscaling_survives_a_rerun_until_the_inventory_changes(endpoint, net, revisions):
    run_module(endpoint, ecs_fargate_service, service_args(net, revisions, "scaled", desired_count=2))
    client(endpoint, "ecs").update_service(cluster=net["cluster"], service="scaled", desiredCount=5)  # a scaling policy

    before = writes(endpoint)["writes"]
    same = run_module(endpoint, ecs_fargate_service, service_args(net, revisions, "scaled", desired_count=2))
    assert same["changed"] is False and writes(endpoint)["writes"] == before
    assert describe(endpoint, net, "scaled")["desiredCount"] == 5

    changed = run_module(endpoint, ecs_fargate_service, service_args(net, revisions, "scaled", desired_count=3))
    assert changed["changed"] and changed["changes"] == ["desired_count", "tags"]
    svc = describe(endpoint, net, "scaled")
    assert svc["desiredCount"] == 3 and {"key": COUNT_TAG, "value": "3"} in svc["tags"]

    forced = run_module(endpoint, ecs_fargate_service,
                        service_args(net, revisions, "scaled", desired_count=3, force_desired_count=True))
    assert forced["changed"] is False  # already 3: forcing changes nothing
    client(endpoint, "ecs").update_service(cluster=net["cluster"], service="scaled", desiredCount=6)
    forced = run_module(endpoint, ecs_fargate_service,
                        service_args(net, revisions, "scaled", desired_count=3, force_desired_count=True))
    assert forced["changes"] == ["desired_count"] and describe(endpoint, net, "scaled")["desiredCount"] == 3


def test_capacity_provider_strategy_changes_in_place_but_never_switches_to_a_launch_type(endpoint, net, revisions):
    spot = [{"capacity_provider": "FARGATE", "weight": 1, "base": 1}]
    created = run_module(endpoint, ecs_fargate_service, service_args(net, revisions, "spot", capacity_provider_strategy=spot))
    assert created["created"] and "launch_type" not in created["service"]
    assert run_module(endpoint, ecs_fargate_service,
                      service_args(net, revisions, "spot", capacity_provider_strategy=spot))["changed"] is False

    both = spot + [{"capacity_provider": "FARGATE_SPOT", "weight": 3}]
    changed = run_module(endpoint, ecs_fargate_service, service_args(net, revisions, "spot", capacity_provider_strategy=both))
    assert changed["changes"] == ["capacity_provider_strategy"]
    assert len(describe(endpoint, net, "spot")["capacityProviderStrategy"]) == 2

    before = writes(endpoint)["writes"]
    refused = run_module(endpoint, ecs_fargate_service, service_args(net, revisions, "spot", launch_type="FARGATE"))
    assert refused["failed"] and refused["msg"].startswith("launch_type: the service runs with a capacity_provider_strategy")
    refused = run_module(endpoint, ecs_fargate_service, service_args(net, revisions, "checked", capacity_provider_strategy=spot))
    assert refused["failed"] and refused["msg"].startswith("capacity_provider_strategy: the service runs with launch_type FARGATE")
    assert writes(endpoint)["writes"] == before


def test_absent_scales_to_zero_then_deletes(endpoint, net, revisions):
    run_module(endpoint, ecs_fargate_service, service_args(net, revisions, "gone", desired_count=2))
    before = writes(endpoint)["calls"]
    result = run_module(endpoint, ecs_fargate_service, {"cluster": net["cluster"], "name": "gone", "state": "absent",
                                                        "wait": True})
    after = writes(endpoint)["calls"]
    assert result["changed"] and result["deleted"]
    assert after.get("ecs:UpdateService", 0) - before.get("ecs:UpdateService", 0) == 1
    assert after.get("ecs:DeleteService", 0) - before.get("ecs:DeleteService", 0) == 1
    assert describe(endpoint, net, "gone")["status"] == "INACTIVE"


# ---------------------------------------------------------- task definitions
def td_args(family, **changes):
    args = {"family": family, "cpu": "256", "memory": "512",
            "containers": [{"name": "web", "image": "x:1", "portMappings": [{"containerPort": 80}]}]}
    args.update(changes)
    return args


def active(endpoint, family):
    arns = client(endpoint, "ecs").list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
    return sorted(int(a.rsplit(":", 1)[1]) for a in arns)


def test_keep_revisions_deregisters_the_oldest(endpoint):
    family = f"ecsmod-{RUN}-keep"
    for image in ("x:1", "x:2", "x:3", "x:4"):
        result = run_module(endpoint, ecs_task_definition_revision, td_args(
            family, keep_revisions=2, containers=[{"name": "web", "image": image}]))
        assert result["registered"]
    assert result["revision"] == 4 and [a.rsplit(":", 1)[1] for a in result["deregistered"]] == ["2"]
    assert active(endpoint, family) == [3, 4]


def test_delete_inactive_removes_every_revision_and_then_is_no_change(endpoint):
    family = f"ecsmod-{RUN}-scratch"
    run_module(endpoint, ecs_task_definition_revision, td_args(family))
    run_module(endpoint, ecs_task_definition_revision, td_args(family, cpu="512", memory="1024"))
    gone = run_module(endpoint, ecs_task_definition_revision, {"family": family, "state": "absent", "delete_inactive": True})
    assert gone["changed"] and len(gone["deregistered"]) == 2 and len(gone["deleted"]) == 2
    ecs = client(endpoint, "ecs")
    for status in ("ACTIVE", "INACTIVE"):
        assert ecs.list_task_definitions(familyPrefix=family, status=status)["taskDefinitionArns"] == []
    before = writes(endpoint)["writes"]
    again = run_module(endpoint, ecs_task_definition_revision, {"family": family, "state": "absent", "delete_inactive": True})
    assert again["changed"] is False and writes(endpoint)["writes"] == before


def test_bad_input_fails_before_any_call(endpoint, net):
    before = writes(endpoint)
    result = run_module(endpoint, ecs_task_definition_revision, td_args(f"ecsmod-{RUN}-bad", cpu="300"))
    assert result["failed"] and result["msg"].startswith("cpu: 300 is not a Fargate CPU value")
    result = run_module(endpoint, ecs_fargate_service, {"cluster": net["cluster"], "name": "bad", "task_definition": "web"})
    assert result["failed"] and result["msg"].startswith("task_definition: 'web' is not a task definition revision")
    after = writes(endpoint)
    assert after["reads"] == before["reads"] and after["writes"] == before["writes"]
