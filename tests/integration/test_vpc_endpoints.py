"""fargate_service's VPC endpoints in a VPC with more than one task subnet per
availability zone and a secondary address range, through the role on the
emulator (which refuses two subnets of one zone on an interface endpoint with
AWS's DuplicateSubnetsInSameZone).

An interface endpoint gets one task subnet per zone, and its security group
admits HTTPS from every address range of the VPC, so tasks in a subnet of the
secondary range reach it too; a re-run changes nothing and runs
ec2_vpc_endpoint for no endpoint (issue 19), a changed tag gets it run for
that endpoint alone.
"""
import json
import os
import subprocess
import sys

import boto3
import pytest

from emulator_support import ansible_env
from emulator_support import failures
from emulator_support import task_results
from harness import ROOT

ROLE_PLAY = """\
- name: The shared cluster and its endpoints
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    aws_region: us-east-1
  module_defaults:
    group/pocstack.aws.aws: {endpoint_url: "http://127.0.0.1:%(port)s", region: us-east-1,
                             access_key: testing, secret_key: testing}
  tasks:
    - name: cluster
      ansible.builtin.include_role:
        name: pocstack.aws.fargate_service
        tasks_from: cluster
      vars:
        fargate_service_cluster: endpoints-test
        fargate_service_vpc_id: %(vpc)s
        fargate_service_subnet_ids: %(subnets)s
        fargate_service_vpc_endpoints: [logs, s3]
        fargate_service_vpc_endpoint_route_table_ids: [%(table)s]
"""


@pytest.fixture(scope="module")
def deployed(emulator, tmp_path_factory):
    ec2 = boto3.client("ec2", endpoint_url=emulator.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    vpc = ec2.create_vpc(CidrBlock="10.70.0.0/16")["Vpc"]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="100.64.0.0/16")
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for cidr, zone in [("10.70.1.0/24", "us-east-1a"), ("100.64.1.0/24", "us-east-1a"),
                                  ("100.64.2.0/24", "us-east-1b")]]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    play = tmp_path_factory.mktemp("endpoints") / "play.yml"
    play.write_text(ROLE_PLAY % {"port": emulator.port, "vpc": vpc, "subnets": json.dumps(subnets), "table": table})
    env = ansible_env(emulator.port, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"))

    def run():
        return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                               str(play)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

    runs = [run(), run()]
    # a tag of the logs endpoint changed outside Ansible
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    [logs] = [e["VpcEndpointId"] for e in endpoints if e["ServiceName"].endswith(".logs")]
    ec2.create_tags(Resources=[logs], Tags=[{"Key": "Name", "Value": "renamed"}])
    runs.append(run())
    return {"ec2": ec2, "vpc": vpc, "subnets": subnets, "runs": runs, "logs": logs}


def endpoint_runs(stdout):
    """The endpoints ec2_vpc_endpoint ran for in a run: {service: changed}."""
    return {r["fargate_service__endpoint"]: r["changed"]
            for r in task_results(stdout)["endpoints | One endpoint per AWS service the tasks use "
                                          "(those missing or whose tags differ)"].get("results", [])}


def test_the_role_runs_and_a_rerun_changes_nothing(deployed):
    first, second, _ = deployed["runs"]
    assert first.returncode == 0, failures(first.stdout)
    assert endpoint_runs(first.stdout) == {"logs": True, "s3": True}
    assert second.returncode == 0, failures(second.stdout)
    assert json.loads(second.stdout)["stats"]["localhost"]["changed"] == 0
    # one read of the VPC's endpoints told that the module would change none
    assert endpoint_runs(second.stdout) == {}


def test_a_changed_tag_runs_the_module_for_that_endpoint_alone(deployed):
    third = deployed["runs"][2]
    assert third.returncode == 0, failures(third.stdout)
    assert endpoint_runs(third.stdout) == {"logs": True}
    [tags] = [e["Tags"] for e in deployed["ec2"].describe_vpc_endpoints(VpcEndpointIds=[deployed["logs"]])["VpcEndpoints"]]
    assert {t["Key"]: t["Value"] for t in tags}["Name"] == "endpoints-test-logs"


def test_an_interface_endpoint_has_one_task_subnet_per_zone(deployed):
    endpoints = deployed["ec2"].describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [deployed["vpc"]]}])["VpcEndpoints"]
    [logs] = [e for e in endpoints if e["ServiceName"].endswith(".logs")]
    zones = {s["SubnetId"]: s["AvailabilityZone"] for s in deployed["ec2"].describe_subnets(
        SubnetIds=logs["SubnetIds"])["Subnets"]}
    assert sorted(zones.values()) == ["us-east-1a", "us-east-1b"]


def test_the_endpoints_security_group_admits_every_range_of_the_vpc(deployed):
    [group] = deployed["ec2"].describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [deployed["vpc"]]}, {"Name": "group-name", "Values": ["endpoints-test-endpoints"]}
    ])["SecurityGroups"]
    ranges = sorted(r["CidrIp"] for permission in group["IpPermissions"] for r in permission["IpRanges"])
    assert ranges == ["10.70.0.0/16", "100.64.0.0/16"]
