"""The emulator launcher: start/stop/status, call counting, and each fidelity fix."""
import json
import os
import socket
import subprocess
import sys
import urllib.request

import boto3
import pytest

LAUNCHER = os.path.join(os.path.dirname(__file__), "..", "..", "emulator", "pocstack_emulator.py")


def launcher(*args):
    return subprocess.run([sys.executable, LAUNCHER, *args], capture_output=True, text=True, timeout=90)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    state = str(tmp_path_factory.mktemp("emulator"))
    started = launcher("start", "--port", str(port), "--state-dir", state)
    assert started.returncode == 0, started.stderr
    yield {"port": port, "state": state, "url": f"http://127.0.0.1:{port}"}
    pid_file = os.path.join(state, f"emulator-{port}.pid")
    pid = int(open(pid_file).read())
    stopped = launcher("stop", "--port", str(port), "--state-dir", state)
    assert stopped.returncode == 0
    assert not os.path.exists(pid_file)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert launcher("status", "--port", str(port)).returncode == 3
    # stopping what is not running is not an error
    assert launcher("stop", "--port", str(port), "--state-dir", state).returncode == 0


def client(emulator, name):
    return boto3.client(name, endpoint_url=emulator["url"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def http(emulator, path, method="GET"):
    req = urllib.request.Request(emulator["url"] + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.load(resp)


@pytest.fixture
def network(emulator):
    ec2 = client(emulator, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    azs = [az["ZoneName"] for az in ec2.describe_availability_zones()["AvailabilityZones"][:2]]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(azs)]
    return {"vpc": vpc, "subnets": subnets}


def test_health_and_second_start_is_a_no_op(emulator):
    assert http(emulator, "/_pocstack/health") == {"status": "ok"}
    again = launcher("start", "--port", str(emulator["port"]), "--state-dir", emulator["state"])
    assert again.returncode == 0 and "already running" in again.stdout
    assert launcher("status", "--port", str(emulator["port"])).returncode == 0


def test_calls_are_counted_as_reads_and_writes(emulator):
    http(emulator, "/_pocstack/calls/reset", "POST")
    ecs = client(emulator, "ecs")
    ecs.list_clusters()
    ecs.create_cluster(clusterName="counted")
    client(emulator, "ec2").describe_vpcs()
    calls = http(emulator, "/_pocstack/calls")
    assert calls == {"reads": 2, "writes": 1,
                     "calls": {"ec2:DescribeVpcs": 1, "ecs:CreateCluster": 1, "ecs:ListClusters": 1}}


def test_alb_reports_aws_default_attributes_and_keeps_idle_timeout(emulator, network):
    elb = client(emulator, "elbv2")
    arn = elb.create_load_balancer(Name="attrs", Subnets=network["subnets"])["LoadBalancers"][0]["LoadBalancerArn"]
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}
    assert attrs["idle_timeout.timeout_seconds"] == "60"
    assert attrs["routing.http2.enabled"] == "true"
    assert attrs["routing.http.drop_invalid_header_fields.enabled"] == "false"
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "30"}])
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}
    assert attrs["idle_timeout.timeout_seconds"] == "30"


def _service_setup(emulator, network, name):
    ecs = client(emulator, "ecs")
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512", containerDefinitions=[{"name": "c", "image": "x"}])
    return ecs


def test_service_keeps_deployment_configuration_and_grace_period(emulator, network):
    ecs = _service_setup(emulator, network, "deploy")
    sg = client(emulator, "ec2").create_security_group(GroupName="deploy", Description="d", VpcId=network["vpc"])["GroupId"]
    net = {"awsvpcConfiguration": {"subnets": network["subnets"], "securityGroups": [sg]}}
    created = ecs.create_service(cluster="deploy", serviceName="s", taskDefinition="deploy", desiredCount=1,
                                 launchType="FARGATE", networkConfiguration=net,
                                 deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 75,
                                                          "deploymentCircuitBreaker": {"enable": True, "rollback": True}},
                                 healthCheckGracePeriodSeconds=60)["service"]
    described = ecs.describe_services(cluster="deploy", services=["s"])["services"][0]
    for svc in (created, described):
        assert svc["deploymentConfiguration"] == {"maximumPercent": 200, "minimumHealthyPercent": 75,
                                                  "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
        assert svc["healthCheckGracePeriodSeconds"] == 60
    ecs.update_service(cluster="deploy", service="s", healthCheckGracePeriodSeconds=30)
    assert ecs.describe_services(cluster="deploy", services=["s"])["services"][0]["healthCheckGracePeriodSeconds"] == 30


def test_service_defaults_match_aws(emulator, network):
    ecs = _service_setup(emulator, network, "defaults")
    svc = ecs.create_service(cluster="defaults", serviceName="s", taskDefinition="defaults", desiredCount=1,
                             launchType="FARGATE",
                             networkConfiguration={"awsvpcConfiguration": {"subnets": network["subnets"]}})["service"]
    assert svc["deploymentConfiguration"] == {"maximumPercent": 200, "minimumHealthyPercent": 100,
                                              "deploymentCircuitBreaker": {"enable": False, "rollback": False}}
    assert svc["healthCheckGracePeriodSeconds"] == 0
    # no securityGroups given: AWS uses the VPC's default group (moto answered 500)
    default_sg = client(emulator, "ec2").describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [network["vpc"]]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    assert svc["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"] == [default_sg]


def test_reset_forgets_resources(emulator):
    ecs = client(emulator, "ecs")
    ecs.create_cluster(clusterName="forgotten")
    http(emulator, "/moto-api/reset", "POST")
    assert ecs.list_clusters()["clusterArns"] == []
