"""pocstack.aws.ecs_service_wait against the emulator, run by ansible-playbook.

The emulator these tests start is a control plane only (no data plane): a
service with one desired task keeps one pending task forever, which is what a
real service whose tasks cannot be placed looks like. The wait must then end at its timeout with the
pending-task diagnosis instead of hanging; a service scaled to zero must pass
at the first poll; check mode must not call AWS; a bad timeout must be
refused naming the option. The module reaches the emulator through the
`group/pocstack.aws.aws` module defaults, which proves it is in the action
group.

Uses the endpoint fixture's emulator (tests/integration/conftest.py); it creates
uniquely named resources and deletes them, and never resets the emulator.
"""
import json
import os
import subprocess
import sys
import uuid

import boto3
import pytest

from emulator_support import LOCAL_PLAY

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="module")
def stack(endpoint):
    """A cluster with two Fargate services behind one target group: `busy`
    (desired 1) and `idle` (desired 0)."""
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    ec2, ecs, elbv2 = boto3.client("ec2", **kw), boto3.client("ecs", **kw), boto3.client("elbv2", **kw)
    name = "wait-" + uuid.uuid4().hex[:8]
    vpc = ec2.create_vpc(CidrBlock="10.88.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.88.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in ((1, "us-east-1a"), (2, "us-east-1b"))]
    subnet = subnets[0]
    group = ec2.create_security_group(GroupName=name, Description="ecs_service_wait test", VpcId=vpc)["GroupId"]
    tg = elbv2.create_target_group(Name=f"{name}-8050", Protocol="HTTP", Port=8050, VpcId=vpc, TargetType="ip",
                                   HealthCheckPath="/health")["TargetGroups"][0]["TargetGroupArn"]
    # ECS takes only a group a load balancer forwards to (as AWS).
    lb = elbv2.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    ecs.create_cluster(clusterName=name)
    task_definition = ecs.register_task_definition(
        family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "public.ecr.aws/docker/library/nginx:stable",
                               "portMappings": [{"containerPort": 8050}]}])["taskDefinition"]["taskDefinitionArn"]
    for service, count in (("busy", 1), ("idle", 0)):
        ecs.create_service(cluster=name, serviceName=service, taskDefinition=task_definition, desiredCount=count,
                           launchType="FARGATE",
                           networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
                           loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 8050}],
                           deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                                    "maximumPercent": 200, "minimumHealthyPercent": 75})
    yield {"cluster": name, "family": name, "target_group": tg, "endpoint": endpoint}

    for service in ("busy", "idle"):
        ecs.delete_service(cluster=name, service=service, force=True)
    ecs.deregister_task_definition(taskDefinition=task_definition)
    ecs.delete_cluster(cluster=name)
    elbv2.delete_load_balancer(LoadBalancerArn=lb)
    elbv2.delete_target_group(TargetGroupArn=tg)
    ec2.delete_security_group(GroupId=group)
    for subnet in subnets:
        ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)


PLAYBOOK = LOCAL_PLAY + """\
  tasks:
    - name: pending
      pocstack.aws.ecs_service_wait:
        cluster: {cluster}
        service: busy
        task_definition: "{family}:1"
        timeout: 3
        poll_interval: 1
        last_events: 3
      ignore_errors: true
    - name: zero
      pocstack.aws.ecs_service_wait:
        cluster: {cluster}
        service: idle
    - name: check
      pocstack.aws.ecs_service_wait:
        cluster: {cluster}
        service: no-such-service
      check_mode: true
    - name: bad
      pocstack.aws.ecs_service_wait:
        cluster: {cluster}
        service: busy
        timeout: 0
      ignore_errors: true
"""


@pytest.fixture(scope="module")
def results(stack, tmp_path_factory):
    playbook = tmp_path_factory.mktemp("wait") / "wait.yml"
    playbook.write_text(PLAYBOOK.format(**stack))
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
    # The timeout bounds the test, should the wait ever hang.
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    return {t["task"]["name"]: t["hosts"]["localhost"] for t in tasks}


def test_a_task_pending_forever_ends_at_the_timeout_with_the_diagnosis(results, stack):
    pending = results["pending"]
    assert pending["failed"] is True and pending["outcome"] == "timeout"
    assert pending["elapsed"] >= 3 and pending["polls"] >= 2
    assert pending["stopped_tasks"] == [] and pending["target_health"] == []
    assert pending["target_group_arns"] == [stack["target_group"]]
    assert pending["circuit_breaker"]["enabled"] is True and pending["circuit_breaker"]["threshold"] == 3
    deployment = pending["deployment"]
    assert (deployment["status"], deployment["pending_count"], deployment["running_count"]) == ("PRIMARY", 1, 0)
    msg = pending["msg"]
    assert msg.splitlines()[0] == (
        f"ECS service busy (cluster {stack['cluster']}) did not reach a steady state within 3 s ({pending['polls']} polls). "
        f"Still waiting for: 0 of 1 task(s) of {stack['family']}:1 running, 1 pending; "
        f"rollout state COMPLETED (now IN_PROGRESS); 1 healthy target(s) in {stack['family']}-8050 (none registered).")
    assert f"Stopped tasks of deployment {deployment['id']}: none." in msg
    assert f"Target health ({stack['family']}-8050): no registered targets." in msg
    assert "Circuit breaker: not triggered: 0 failed task(s) so far, it acts at 3; rollback on." in msg
    assert "What to check:\n  - Tasks stay pending and none has stopped: read the service events" in msg


def test_zero_desired_tasks_is_steady_at_the_first_poll(results):
    zero = results["zero"]
    assert not zero.get("failed") and zero["changed"] is False
    assert zero["outcome"] == "completed" and zero["polls"] == 1 and zero["hints"] == []


def test_check_mode_does_not_call_aws(results):
    # The service does not exist: any AWS call would have failed the task.
    check = results["check"]
    assert not check.get("failed") and check["changed"] is False and check["outcome"] == "skipped"


def test_bad_timeout_is_refused_naming_the_option(results):
    bad = results["bad"]
    assert bad["failed"] is True and bad["msg"] == "timeout=0 is out of range; allowed: 1-86400"
