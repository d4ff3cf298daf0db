"""The life of a PoC on the emulator: preview, interrupted deploys, re-runs,
a preview of an inventory change, autoscaling switched on and off, a second
service on the shared load balancer, teardowns, and all of it again while the
emulator throttles a tenth of the calls.

The stages run in order on one emulator of this module's own; each builds on
the state the previous one left.
"""
import json
import os
import re

import boto3
import pytest

import scan
from harness import PLOTLY
from harness import TWO_SERVICES
from harness import changed_tasks
from harness import failure_message
from harness import make_inventory
from harness import run
from harness import run_and_kill
from harness import set_service
from harness import stats
from harness import task_results

TASK_DEFINITION_TASK = "task | Task definition (secrets by valueFrom, awslogs)"
SERVICE_TASK = "service | Fargate service behind the target group"
# Issue 19's regression guard: what a no-op re-run of one service may cost,
# counted (never timed) by the bench's callback (bench/callback_plugins/):
# module tasks (each a fork and a Python with boto3: about 0.7 s) and AWS
# reads, of the service's own plays and of the controller's (local
# bootstrap, preflight, shared infrastructure). Lower them when a change
# saves some; a change that adds some must say why here. Service reads
# 49 -> 50 (issue 22): ecr_image reads the image's manifest once more
# (BatchGetImage), for the platforms an index lists, which fargate_service
# checks against the tasks' CPU architecture before it writes.
CALLS_CALLBACK = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "callback_plugins")
NO_OP_BUDGET = {"service module tasks": 18, "service reads": 50, "controller module tasks": 15, "controller reads": 53}
SCALING = {"min": 1, "max": 4, "cpu_target": 60, "requests_per_target": 500, "scale_out_cooldown": 60}

# Each a write the deploy makes, spread over the roles, in deploy order: the
# run is killed right after the emulator has counted it.
KILL_POINTS = [
    "elasticloadbalancing:CreateLoadBalancer",   # alb_tls, shared part
    "ssm:PutParameter",                          # ssm_secrets (after the first of two)
    "elasticloadbalancing:CreateTargetGroup",    # alb_tls, service part
    "iam:CreateRole",                            # fargate_service, IAM (after the first of two)
    "ecs:RegisterTaskDefinition",                # fargate_service, task definition
    "ecs:CreateService",                         # fargate_service, service
]

ONE_OF_EACH = {
    "target group": 1, "listener rule": 1, "ecs service": 1, "task definition (ACTIVE)": 1, "ssm parameter": 2,
    "log group": 1, "iam role": 2, "security group": 1, "ecr repository": 1,
}


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    return make_inventory(tmp_path_factory.mktemp("lifecycle"), TWO_SERVICES)


def counts(emulator, service):
    return {kind: len(items) for kind, items in scan.inventory(emulator.url, service).items() if kind != "tagged"}


def test_check_mode_on_an_empty_account_reports_everything_and_writes_nothing(emulator, inventory):
    emulator.reset()
    rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly", "--check"])
    assert rc == 0, failure_message(out)
    assert emulator.writes() == {}
    changed = {name for name, _host in changed_tasks(out)}
    # what would be created is reported, by each role
    for fragment in ("VPC for the PoC services", "ALB accepts 443", "load balancer | Would be created",
                     "ECS cluster", "SecureStrings under", "target group | Would be created", "Log group",
                     "iam | Would be created with the roles", TASK_DEFINITION_TASK, SERVICE_TASK):
        assert any(fragment in name for name in changed), (fragment, sorted(changed))


def test_interrupted_deploys_leave_exactly_one_of_each(emulator, inventory, measured):
    emulator.reset()
    killed = []
    for call in KILL_POINTS:
        if run_and_kill(inventory, emulator, call, extra=["-e", "service=plotly"]):
            killed.append(call)
        # never a duplicate, whatever the point
        found = counts(emulator, "plotly")
        assert all(found.get(kind, 0) <= n for kind, n in ONE_OF_EACH.items()), (call, found)
        assert found.get("task definition (INACTIVE)", 0) == 0, (call, found)
    assert killed == KILL_POINTS, "every run must reach its kill point"
    measured(f"killed at {', '.join(killed)}; after each, at most one of each resource")
    rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    assert counts(emulator, "plotly") == ONE_OF_EACH
    shared = scan.shared_inventory(emulator.url)
    assert shared["load balancer"] == ["pocstack"] and shared["ecs cluster"] == ["pocstack"]


def test_rerun_changes_nothing(emulator, inventory, tmp_path, measured):
    emulator.calls(reset=True)
    profile = tmp_path / "calls.json"
    rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly"], extra_env={
        "ANSIBLE_CALLBACK_PLUGINS": CALLS_CALLBACK, "ANSIBLE_CALLBACKS_ENABLED": "pocstack_calls",
        "POCSTACK_CALLS_PROFILE": str(profile)})
    assert rc == 0, failure_message(out)
    assert {host: s["changed"] for host, s in stats(out).items()} == {"localhost": 0, "plotly": 0}
    assert emulator.writes() == {}
    tasks = json.loads(profile.read_text())
    cost = {"service module tasks": 0, "service reads": 0, "controller module tasks": 0, "controller reads": 0}
    for task in tasks:
        who = "service" if "plotly" in task["hosts"] else "controller"
        cost[f"{who} module tasks"] += bool(task["hosts_ran"] and task["module"])
        cost[f"{who} reads"] += task["reads"]
    measured(f"no-op re-run of one service: {cost}")
    over = {what: f"{n} > {NO_OP_BUDGET[what]}" for what, n in cost.items() if n > NO_OP_BUDGET[what]}
    assert not over, (cost, over, [(t["task"], t["reads"]) for t in tasks if t["hosts_ran"] and t["module"]])


def test_the_local_bootstrap_repairs_its_network(emulator, inventory):
    """The bootstrap makes nothing when its two reads find the network intact
    (the guard above counts that); a default route gone from the public route
    table or a private subnet that hands out public IPs gets the network's
    tasks run again, and they put it back."""
    ec2 = boto3.client("ec2", endpoint_url=emulator.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")

    def network():
        tables = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": ["pocstack-local-public"]}])["RouteTables"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": ["pocstack-local-private-0"]}])["Subnets"]
        return ([r.get("GatewayId", "")[:4] for t in tables for r in t["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"],
                [s["MapPublicIpOnLaunch"] for s in subnets])

    assert network() == (["igw-"], [False])
    [table] = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": ["pocstack-local-public"]}])["RouteTables"]
    ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    [subnet] = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": ["pocstack-local-private-0"]}])["Subnets"]
    ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    assert network() == ([], [True])
    rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    assert network() == (["igw-"], [False])
    assert {name for name, _ in changed_tasks(out, "localhost")} >= {
        "bootstrap | Public and private subnets, one of each per availability zone",
        "bootstrap | Public route table (default route to the internet gateway)"}, changed_tasks(out)
    assert stats(out)["plotly"]["changed"] == 0, changed_tasks(out, "plotly")


def test_check_mode_on_the_deployed_service_changes_nothing(emulator, inventory):
    emulator.calls(reset=True)
    rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly", "--check"])
    assert rc == 0, failure_message(out)
    assert {host: s["changed"] for host, s in stats(out).items()} == {"localhost": 0, "plotly": 0}, changed_tasks(out)
    assert emulator.writes() == {}


def test_check_diff_previews_a_cpu_and_desired_count_change_without_writing(emulator, inventory):
    set_service(inventory, "plotly", {"poc_cpu": 512, "poc_memory": 1024, "poc_desired_count": 2})
    try:
        emulator.calls(reset=True)
        rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly", "--check", "--diff"])
    finally:
        set_service(inventory, "plotly", {k: PLOTLY[k] for k in ("poc_cpu", "poc_memory", "poc_desired_count")})
    assert rc == 0, failure_message(out)
    assert emulator.writes() == {}
    task_definition = task_results(out, TASK_DEFINITION_TASK, "plotly")[0]
    assert task_definition["changed"] and task_definition["registered"]
    assert task_definition["diff"]["before"]["cpu"] == "256" and task_definition["diff"]["after"]["cpu"] == "512"
    assert task_definition["diff"]["before"]["memory"] == "512" and task_definition["diff"]["after"]["memory"] == "1024"
    service = task_results(out, SERVICE_TASK, "plotly")[0]
    assert service["changed"] and "desired_count" in service["changes"] and "task_definition" in service["changes"]
    assert service["diff"]["before"]["desired_count"] == 1 and service["diff"]["after"]["desired_count"] == 2
    assert service["diff"]["after"]["task_definition"].endswith("plotly:2")
    # nothing else of the service would change
    assert {name for name, host in changed_tasks(out) if host == "plotly"} == {TASK_DEFINITION_TASK, SERVICE_TASK}
    ecs = scan.clients(emulator.url)("ecs")
    live = ecs.describe_services(cluster="pocstack", services=["plotly"])["services"][0]
    assert live["desiredCount"] == 1 and live["taskDefinition"].endswith("plotly:1")


def scaling_state(emulator):
    """(scalable target or None, {policy name: policy}) of plotly, read with boto3."""
    client = scan.clients(emulator.url)("application-autoscaling")
    targets = client.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=["service/pocstack/plotly"])
    policies = client.describe_scaling_policies(ServiceNamespace="ecs", ResourceId="service/pocstack/plotly")
    return ((targets["ScalableTargets"] or [None])[0],
            {p["PolicyName"]: p for p in policies["ScalingPolicies"]})


def desired_count(emulator):
    ecs = scan.clients(emulator.url)("ecs")
    return ecs.describe_services(cluster="pocstack", services=["plotly"])["services"][0]["desiredCount"]


def deploy(emulator, inventory):
    rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    return out


def test_autoscaling_is_applied_kept_and_removed_with_the_option(emulator, inventory):
    set_service(inventory, "plotly", {"poc_autoscaling": SCALING})
    deploy(emulator, inventory)
    target, policies = scaling_state(emulator)
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    assert target["ScalableDimension"] == "ecs:service:DesiredCount"
    assert sorted(policies) == ["plotly-cpu", "plotly-requests"]
    cpu = policies["plotly-cpu"]["TargetTrackingScalingPolicyConfiguration"]
    assert cpu["TargetValue"] == 60 and cpu["ScaleOutCooldown"] == 60 and cpu["ScaleInCooldown"] == 300
    assert cpu["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    requests = policies["plotly-requests"]["TargetTrackingScalingPolicyConfiguration"]
    metric = requests["PredefinedMetricSpecification"]
    assert requests["TargetValue"] == 500 and metric["PredefinedMetricType"] == "ALBRequestCountPerTarget"
    elb = scan.clients(emulator.url)("elbv2")
    lb_arn = elb.describe_load_balancers(Names=["pocstack"])["LoadBalancers"][0]["LoadBalancerArn"]
    [tg_arn] = [g["TargetGroupArn"] for g in elb.describe_target_groups()["TargetGroups"]
                if re.fullmatch(r"plotly-[0-9a-f]{6}", g["TargetGroupName"])]
    assert metric["ResourceLabel"] == f"{lb_arn.split(':loadbalancer/')[1]}/{tg_arn.split(':')[-1]}"

    # a re-run changes nothing
    emulator.calls(reset=True)
    out = deploy(emulator, inventory)
    assert stats(out)["plotly"]["changed"] == 0, changed_tasks(out)
    assert emulator.writes() == {}

    # the policies moved the count: a re-run keeps it
    scan.clients(emulator.url)("ecs").update_service(cluster="pocstack", service="plotly", desiredCount=3)
    emulator.calls(reset=True)
    out = deploy(emulator, inventory)
    assert stats(out)["plotly"]["changed"] == 0, changed_tasks(out)
    assert emulator.writes() == {} and desired_count(emulator) == 3

    # a new count in the inventory is applied
    set_service(inventory, "plotly", {"poc_desired_count": 2})
    out = deploy(emulator, inventory)
    assert desired_count(emulator) == 2
    assert changed_tasks(out, "plotly") == [(SERVICE_TASK, "plotly")]

    # the option dropped: policies and scalable target gone, the count stays
    set_service(inventory, "plotly", {"poc_autoscaling": None})
    out = deploy(emulator, inventory)
    assert scaling_state(emulator) == (None, {})
    assert desired_count(emulator) == 2
    assert changed_tasks(out, "plotly") == [("scaling | None (policies deleted, scalable target deregistered)", "plotly")]

    # on again (and the inventory's count back to 1), for the teardown to remove
    set_service(inventory, "plotly", {"poc_autoscaling": SCALING, "poc_desired_count": PLOTLY["poc_desired_count"]})
    deploy(emulator, inventory)
    target, policies = scaling_state(emulator)
    assert target is not None and len(policies) == 2


def test_teardown_keeps_the_shared_load_balancer_while_another_service_uses_it(emulator, inventory):
    rc, out = run(inventory, emulator.port, extra=["-e", "service=second"])
    assert rc == 0, failure_message(out)
    rc, out = run(inventory, emulator.port, playbook="playbooks/teardown.yml",
                  extra=["-e", "service=plotly", "-e", "teardown_shared=true"])
    assert rc == 0, failure_message(out)
    assert stats(out)["plotly"]["changed"] > 0
    # autoscaling, service, every task definition revision: all gone
    assert scan.inventory(emulator.url, "plotly") == {}
    assert scaling_state(emulator) == (None, {})
    assert counts(emulator, "second") == ONE_OF_EACH
    shared = scan.shared_inventory(emulator.url)
    assert shared["load balancer"] == ["pocstack"] and shared["ecs cluster"] == ["pocstack"]


def test_teardown_twice_and_of_a_service_never_deployed_change_nothing(emulator, inventory):
    for service in ("plotly", "never-deployed"):
        emulator.calls(reset=True)
        rc, out = run(inventory, emulator.port, playbook="playbooks/teardown.yml", extra=["-e", f"service={service}"])
        assert rc == 0, failure_message(out)
        assert all(s["changed"] == 0 for s in stats(out).values()), changed_tasks(out)
        assert emulator.writes() == {}


def test_deploy_and_teardown_survive_throttling(emulator, inventory, measured):
    emulator.throttle(0.10, seed=7)
    try:
        emulator.calls(reset=True)
        rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly"])
        assert rc == 0, failure_message(out)
        deployed = emulator.calls()
        # the inventory still asks for autoscaling (left on by the autoscaling test)
        assert counts(emulator, "plotly") == {**ONE_OF_EACH, "scalable target": 1, "scaling policy": 2}
        emulator.calls(reset=True)
        rc, out = run(inventory, emulator.port, playbook="playbooks/teardown.yml", extra=["-e", "teardown_shared=true"])
        assert rc == 0, failure_message(out)
        torn_down = emulator.calls()
    finally:
        emulator.throttle(0)
    assert scan.inventory(emulator.url, "plotly") == {}
    assert scan.inventory(emulator.url, "second") == {}
    assert scan.shared_inventory(emulator.url) == {}
    # the emulator answered a tenth of the calls with a throttling error; all were retried
    assert deployed["throttled"] > 0 and torn_down["throttled"] > 0
    measured(f"throttled and retried: {deployed['throttled']} of "
             f"{deployed['throttled'] + deployed['reads'] + deployed['writes']} calls in the deploy, "
             f"{torn_down['throttled']} of {torn_down['throttled'] + torn_down['reads'] + torn_down['writes']} "
             "in the teardown")
