"""pocstack.aws.ecs_service_scaling against the emulator, run by ansible-playbook.

One play walks a service through the module's whole life: check mode on a
service without autoscaling (changed, zero writes), create (exactly the writes
needed, read back with boto3), a no-op re-run (changed=0, zero writes), a
change of min/max, a target and a cooldown (only that policy is put; read
back), a dropped policy (deleted), absent (target and policies gone) and absent
again (changed=0, zero writes). Writes are counted by the emulator
(/_pocstack/calls) between the steps. The module reaches the emulator through
the `group/pocstack.aws.aws` module defaults, which proves it is in the action
group.

Uses the endpoint fixture's emulator (tests/integration/conftest.py); it creates
uniquely named resources and deletes them, and never resets the emulator.
"""
import json
import os
import shlex
import subprocess
import sys
import uuid

import boto3
import pytest

from emulator_support import LOCAL_PLAY

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Head", "Search", "Lookup")


@pytest.fixture(scope="module")
def stack(endpoint):
    """A Fargate service (desired count 1) behind a target group of an ALB."""
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2, ecs, elbv2 = boto3.client("ec2", **kw), boto3.client("ecs", **kw), boto3.client("elbv2", **kw)
    name = "scale-" + uuid.uuid4().hex[:8]
    vpc = ec2.create_vpc(CidrBlock="10.89.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.89.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(["us-east-1a", "us-east-1b"])]
    group = ec2.create_security_group(GroupName=name, Description="ecs_service_scaling test", VpcId=vpc)["GroupId"]
    lb = elbv2.create_load_balancer(Name=name, Subnets=subnets, SecurityGroups=[group])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(Name=f"{name}-80", Protocol="HTTP", Port=80, VpcId=vpc,
                                   TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    listener = elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])["Listeners"][0]["ListenerArn"]
    ecs.create_cluster(clusterName=name)
    task_definition = ecs.register_task_definition(
        family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "public.ecr.aws/docker/library/nginx:stable",
                               "portMappings": [{"containerPort": 80}]}])["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=name, serviceName="web", taskDefinition=task_definition, desiredCount=1,
                       launchType="FARGATE", loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 80}],
                       networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group]}})
    yield {"cluster": name, "lb": lb, "tg": tg, "endpoint": endpoint,
           "resource_id": f"service/{name}/web"}

    scaling = boto3.client("application-autoscaling", **kw)
    if scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[f"service/{name}/web"])["ScalableTargets"]:
        scaling.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=f"service/{name}/web",
                                           ScalableDimension="ecs:service:DesiredCount")
    ecs.delete_service(cluster=name, service="web", force=True)
    ecs.deregister_task_definition(taskDefinition=task_definition)
    ecs.delete_cluster(cluster=name)
    elbv2.delete_listener(ListenerArn=listener)
    elbv2.delete_load_balancer(LoadBalancerArn=lb)
    elbv2.delete_target_group(TargetGroupArn=tg)
    ec2.delete_security_group(GroupId=group)
    for subnet in subnets:
        ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)


# What AWS holds for the service, read with boto3 independently of the module:
# {"target": {min, max, tags} or None, "policies": {name: configuration}, "desired": n}.
READBACK = """\
import json, sys, boto3
endpoint, cluster = sys.argv[1:]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
scaling, ecs = boto3.client("application-autoscaling", **kw), boto3.client("ecs", **kw)
ids = dict(ServiceNamespace="ecs", ResourceId=f"service/{cluster}/web", ScalableDimension="ecs:service:DesiredCount")
targets = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[ids["ResourceId"]])["ScalableTargets"]
target = None
if targets:
    tags = scaling.list_tags_for_resource(ResourceARN=targets[0]["ScalableTargetARN"])["Tags"]
    target = {"min": targets[0]["MinCapacity"], "max": targets[0]["MaxCapacity"], "tags": tags}
policies = {p["PolicyName"]: p["TargetTrackingScalingPolicyConfiguration"]
            for p in scaling.describe_scaling_policies(**ids)["ScalingPolicies"]}
desired = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]["desiredCount"]
print(json.dumps({"target": target, "policies": policies, "desired": desired}))
"""

PLAYBOOK = LOCAL_PLAY + """\
  vars:
    cpu: &cpu
      metric: cpu
      target: 60
    requests: &requests
      metric: requests_per_target
      target: 500
      load_balancer_arn: {lb}
      target_group_arn: {tg}
      scale_out_cooldown: 60
    wanted: &wanted
      cluster: {cluster}
      service: web
      min_capacity: 1
      max_capacity: 4
      policies: [*cpu, *requests]
      tags:
        pocstack:service: web
  tasks:
    - {{name: calls-check, set_fact: {{calls: "{{{{ lookup(\'ansible.builtin.url\', \'{endpoint}/_pocstack/calls\', split_lines=false) | from_json }}}}"}}}}
    - name: check
      pocstack.aws.ecs_service_scaling: *wanted
      check_mode: true
    - {{name: calls-create, set_fact: {{calls: "{{{{ lookup(\'ansible.builtin.url\', \'{endpoint}/_pocstack/calls\', split_lines=false) | from_json }}}}"}}}}
    - name: create
      pocstack.aws.ecs_service_scaling: *wanted
    - {{name: calls-noop, set_fact: {{calls: "{{{{ lookup(\'ansible.builtin.url\', \'{endpoint}/_pocstack/calls\', split_lines=false) | from_json }}}}"}}}}
    - name: noop
      pocstack.aws.ecs_service_scaling: *wanted
      diff: true
    - {{name: calls-change, set_fact: {{calls: "{{{{ lookup(\'ansible.builtin.url\', \'{endpoint}/_pocstack/calls\', split_lines=false) | from_json }}}}"}}}}
    - name: readback-create
      set_fact: {{held: "{{{{ lookup('ansible.builtin.pipe', readback) | from_json }}}}"}}
    - name: change
      pocstack.aws.ecs_service_scaling:
        cluster: {cluster}
        service: web
        min_capacity: 2
        max_capacity: 6
        tags: {{"pocstack:service": web}}
        policies:
          - {{metric: cpu, target: 70}}
          - {{metric: requests_per_target, target: 500, load_balancer_arn: {lb}, target_group_arn: {tg}, scale_out_cooldown: 30}}
      diff: true
    - name: readback-change
      set_fact: {{held: "{{{{ lookup('ansible.builtin.pipe', readback) | from_json }}}}"}}
    - name: drop
      pocstack.aws.ecs_service_scaling:
        cluster: {cluster}
        service: web
        min_capacity: 2
        max_capacity: 6
        tags: {{"pocstack:service": web}}
        policies:
          - {{metric: cpu, target: 70}}
    - name: readback-drop
      set_fact: {{held: "{{{{ lookup('ansible.builtin.pipe', readback) | from_json }}}}"}}
    - name: absent
      pocstack.aws.ecs_service_scaling: {{cluster: {cluster}, service: web, state: absent}}
      diff: true
    - name: readback-absent
      set_fact: {{held: "{{{{ lookup('ansible.builtin.pipe', readback) | from_json }}}}"}}
    - {{name: calls-again, set_fact: {{calls: "{{{{ lookup(\'ansible.builtin.url\', \'{endpoint}/_pocstack/calls\', split_lines=false) | from_json }}}}"}}}}
    - name: absent-again
      pocstack.aws.ecs_service_scaling: {{cluster: {cluster}, service: web, state: absent}}
    - {{name: calls-end, set_fact: {{calls: "{{{{ lookup(\'ansible.builtin.url\', \'{endpoint}/_pocstack/calls\', split_lines=false) | from_json }}}}"}}}}
"""


@pytest.fixture(scope="module")
def results(stack, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scaling")
    (folder / "play.yml").write_text(PLAYBOOK.format(**stack))
    (folder / "readback.py").write_text(READBACK)
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-e", f"ansible_python_interpreter={sys.executable}",
                           "-e", json.dumps({"readback": shlex.join([sys.executable, str(folder / "readback.py"),
                                                                     stack["endpoint"], stack["cluster"]])}),
                           str(folder / "play.yml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    return {t["task"]["name"]: t["hosts"]["localhost"] for t in tasks}


def writes(results, first, last):
    """{call: n} of the mutating calls the emulator counted between two calls-* tasks."""
    before, after = (results[step]["ansible_facts"]["calls"]["calls"] for step in (first, last))
    counted = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    return {name: n for name, n in counted.items()
            if n and not name.split(":", 1)[-1].startswith(READ_PREFIXES)}


def readback(results, step):
    return results[f"readback-{step}"]["ansible_facts"]["held"]


def test_check_mode_reports_the_change_and_writes_nothing(results):
    check = results["check"]
    assert check["changed"] is True and check["changes"]["scalable_target"] == "created"
    assert check["changes"]["policies_created"] == ["web-cpu", "web-requests"]
    assert check["scalable_target"] == {} and check["policies"] == []
    assert writes(results, "calls-check", "calls-create") == {}


def test_create_registers_puts_and_reads_back(results, stack):
    create = results["create"]
    assert create["changed"] is True
    assert writes(results, "calls-create", "calls-noop") == {
        "application-autoscaling:RegisterScalableTarget": 1, "application-autoscaling:PutScalingPolicy": 2}
    label = "app/{0}/{1}/targetgroup/{0}-80/{2}".format(
        stack["cluster"], stack["lb"].rsplit("/", 1)[1], stack["tg"].rsplit("/", 1)[1])
    held = readback(results, "create")
    assert held["target"] == {"min": 1, "max": 4, "tags": {"pocstack:service": "web"}}
    assert held["policies"] == {
        "web-cpu": {"TargetValue": 60.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                    "ScaleInCooldown": 300, "ScaleOutCooldown": 300, "DisableScaleIn": False},
        "web-requests": {"TargetValue": 500.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": label},
            "ScaleInCooldown": 300, "ScaleOutCooldown": 60, "DisableScaleIn": False},
    }
    assert held["desired"] == 1  # inside [1, 4]: registering leaves the desired count alone
    assert create["scalable_target"]["resource_id"] == stack["resource_id"]
    assert [p["policy_arn"].rsplit("/", 1)[1] for p in create["policies"]] == ["web-cpu", "web-requests"]


def test_rerun_is_a_no_op_without_writes(results):
    noop = results["noop"]
    assert noop["changed"] is False
    assert noop["diff"]["before"] == noop["diff"]["after"]
    assert writes(results, "calls-noop", "calls-change") == {}


def test_changing_bounds_a_target_and_a_cooldown(results):
    change = results["change"]
    assert change["changed"] is True
    assert change["changes"]["scalable_target"] == "updated"
    assert change["changes"]["policies_updated"] == ["web-cpu", "web-requests"]
    before, after = change["diff"]["before"], change["diff"]["after"]
    assert (before["scalable_target"]["min_capacity"], after["scalable_target"]["min_capacity"]) == (1, 2)
    assert [p["target"] for p in before["policies"]] == [60.0, 500.0]
    assert [p["target"] for p in after["policies"]] == [70.0, 500.0]
    assert [p["scale_out_cooldown"] for p in after["policies"]] == [300, 30]
    held = readback(results, "change")
    assert (held["target"]["min"], held["target"]["max"]) == (2, 6)
    assert held["policies"]["web-cpu"]["TargetValue"] == 70.0
    assert held["policies"]["web-requests"]["ScaleOutCooldown"] == 30
    assert held["desired"] == 2  # below the new minimum: AWS raises it to 2


def test_a_dropped_policy_is_deleted(results):
    drop = results["drop"]
    assert drop["changed"] is True and drop["changes"]["policies_deleted"] == ["web-requests"]
    assert drop["changes"]["scalable_target"] == "" and drop["changes"]["policies_updated"] == []
    assert sorted(readback(results, "drop")["policies"]) == ["web-cpu"]


def test_absent_removes_policies_and_target_and_again_is_a_no_op(results):
    absent = results["absent"]
    assert absent["changed"] is True
    assert absent["changes"]["scalable_target"] == "deregistered" and absent["changes"]["policies_deleted"] == ["web-cpu"]
    assert absent["diff"]["after"] == {}
    held = readback(results, "absent")
    assert held["target"] is None and held["policies"] == {}
    again = results["absent-again"]
    assert again["changed"] is False
    assert writes(results, "calls-again", "calls-end") == {}
