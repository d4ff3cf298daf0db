"""What a role does with what its caller read in the same run (issue 19): the
roles' vars/main.yml, as Ansible renders them, take the caller's reads only
when they are complete and about the role's own resources, and fall back to
the role's own reads otherwise (a role used alone from Galaxy reads as before)."""
import pytest

from rendering import load
from rendering import render
from rendering import trusted

FARGATE = trusted(load("roles", "fargate_service", "vars", "main.yml"))
ALB = trusted(load("roles", "alb_tls", "vars", "main.yml"))

VPC = {"vpc_id": "vpc-1", "cidr_block": "10.0.0.0/16"}
SUBNETS = [{"subnet_id": "subnet-a", "vpc_id": "vpc-1", "availability_zone": "us-east-1a"},
           {"subnet_id": "subnet-b", "vpc_id": "vpc-1", "availability_zone": "us-east-1b"},
           {"subnet_id": "subnet-public", "vpc_id": "vpc-1", "availability_zone": "us-east-1a"}]
ENDPOINTS = [{"vpc_endpoint_id": "vpce-1", "vpc_id": "vpc-1"}, {"vpc_endpoint_id": "vpce-other", "vpc_id": "vpc-2"}]
OWN_READS = {"fargate_service__vpc_read": {"vpcs": [dict(VPC, cidr_block="10.9.0.0/16")]},
             "fargate_service__subnets_read": {"subnets": SUBNETS[:1]},
             "fargate_service__endpoints_read": {"vpc_endpoints": []}}


def network(given, subnet_ids=("subnet-a", "subnet-b")):
    variables = dict(FARGATE, **OWN_READS, fargate_service_network=given, fargate_service_vpc_id="vpc-1",
                     fargate_service_subnet_ids=list(subnet_ids))
    return {name: render("{{ %s }}" % name, variables) for name in (
        "fargate_service__network_known", "fargate_service__vpcs", "fargate_service__task_subnets",
        "fargate_service__vpc_endpoints_now")}


def test_the_callers_complete_read_is_used_for_the_roles_own_vpc_and_task_subnets():
    seen = network({"vpcs": [VPC, {"vpc_id": "vpc-2"}], "subnets": SUBNETS, "vpc_endpoints": ENDPOINTS})
    assert seen["fargate_service__network_known"] is True
    assert seen["fargate_service__vpcs"] == [VPC]
    assert [s["subnet_id"] for s in seen["fargate_service__task_subnets"]] == ["subnet-a", "subnet-b"]
    assert [e["vpc_endpoint_id"] for e in seen["fargate_service__vpc_endpoints_now"]] == ["vpce-1"]


@pytest.mark.parametrize("given", [
    {},                                                              # a role used alone
    {"vpcs": [VPC], "subnets": SUBNETS},                             # no endpoints read
    {"vpcs": [VPC], "subnets": SUBNETS[1:], "vpc_endpoints": []},    # a task subnet missing
])
def test_an_incomplete_read_leaves_the_role_to_read_itself(given):
    seen = network(given)
    assert seen["fargate_service__network_known"] is False
    assert seen["fargate_service__vpcs"] == [dict(VPC, cidr_block="10.9.0.0/16")]
    assert [s["subnet_id"] for s in seen["fargate_service__task_subnets"]] == ["subnet-a"]
    assert seen["fargate_service__vpc_endpoints_now"] == []


LB = {"load_balancer_name": "pocstack", "load_balancer_arn": "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/pocstack/1",
      "listeners": [{"port": 443, "listener_arn": "arn:listener"}]}
READ_BY_NAME = {"load_balancer_name": "pocstack", "listeners": [], "read": "by name"}


@pytest.mark.parametrize("given, used", [
    (LB, LB),
    ({}, READ_BY_NAME),                                              # the service part alone
    (dict(LB, load_balancer_name="another"), READ_BY_NAME),          # another load balancer
    ({"load_balancer_name": "pocstack"}, READ_BY_NAME),              # no listeners: check mode's answer
])
def test_the_service_part_takes_the_shared_parts_load_balancer_only_when_it_is_this_one(given, used):
    variables = dict(ALB, alb_tls_load_balancer=given, alb_tls_name="pocstack",
                     alb_tls__lb_info={"load_balancers": [READ_BY_NAME]})
    assert render("{{ alb_tls__load_balancers }}", variables) == [used]
