"""The network preflight: tasks that could not start or get traffic are refused
before anything is created, with the ways out named."""
import pytest

from ansible_collections.pocstack.aws.plugins.module_utils.preflight_network import check_network

VPC = "vpc-1"
REGION = "eu-west-1"
SUBNETS = [
    {"subnet_id": "subnet-pub-a", "vpc_id": VPC, "availability_zone": "eu-west-1a"},
    {"subnet_id": "subnet-pub-b", "vpc_id": VPC, "availability_zone": "eu-west-1b"},
    {"subnet_id": "subnet-prv-a", "vpc_id": VPC, "availability_zone": "eu-west-1a"},
    {"subnet_id": "subnet-prv-b", "vpc_id": VPC, "availability_zone": "eu-west-1b"},
    {"subnet_id": "subnet-prv-c", "vpc_id": VPC, "availability_zone": "eu-west-1c"},
]


def table(table_id, subnets, target=None, main=False):
    routes = [{"destination_cidr_block": "10.0.0.0/16", "gateway_id": "local", "state": "active"}]
    if target:
        key = "gateway_id" if target.startswith("igw-") else "nat_gateway_id"
        routes.append({"destination_cidr_block": "0.0.0.0/0", key: target, "state": "active"})
    associations = [{"subnet_id": s, "main": False} for s in subnets] + ([{"main": True}] if main else [])
    return {"route_table_id": table_id, "vpc_id": VPC, "routes": routes, "associations": associations}


PUBLIC = table("rtb-pub", ["subnet-pub-a", "subnet-pub-b"], "igw-1")
PRIVATE = table("rtb-prv", ["subnet-prv-a", "subnet-prv-b"])
NAT = table("rtb-nat", ["subnet-prv-a", "subnet-prv-b"], "nat-1")
MAIN = table("rtb-main", [], None, main=True)
ENDPOINTS = ["ecr.api", "ecr.dkr", "s3", "logs", "ssm"]


def endpoint(name, kind="Interface", tables=(), dns=True, state="available"):
    return {"service_name": f"com.amazonaws.{REGION}.{name}", "vpc_id": VPC, "vpc_endpoint_type": kind,
            "route_table_ids": list(tables), "private_dns_enabled": dns, "state": state}


def check(tasks=None, tables=(PUBLIC, PRIVATE, MAIN), endpoints=(), planned=(), planned_tables=(), public_ip=False,
          secrets=True, vpc=None, execute_command=False):
    shared = {"subnets": SUBNETS, "route_tables": list(tables), "endpoints": list(endpoints),
              "vpc": vpc or {"vpc_id": VPC, "enable_dns_support": True, "enable_dns_hostnames": True},
              "pocstack_subnet_ids": ["subnet-pub-a", "subnet-pub-b"], "pocstack_task_subnet_ids": list(tasks or []),
              "pocstack_vpc_endpoints": list(planned), "pocstack_vpc_endpoint_route_table_ids": list(planned_tables),
              "aws_region": REGION}
    return check_network({"plotly": {"public_ip": public_ip, "secrets": secrets, "execute_command": execute_command}},
                         shared)


def test_public_subnets_without_a_public_ip_name_the_three_ways_out():
    result = check()  # tasks default to the ALB's subnets
    assert list(result) == ["plotly"] and len(result["plotly"]) == 2  # one per subnet
    message = result["plotly"][0]
    assert message.startswith("tasks in subnet-pub-a (route table rtb-pub) sends 0.0.0.0/0 to igw-1, "
                              "but poc_assign_public_ip is false (the tasks get no public IP), and no VPC endpoint "
                              "for ecr.api, ecr.dkr, s3, logs, ssm")
    assert "every task of plotly would stop with ResourceInitializationError" in message
    assert ("One way out is needed: poc_assign_public_ip: true (the subnet routes to an internet gateway); or task "
            "subnets with a NAT gateway route (pocstack_task_subnet_ids); or the VPC endpoints ecr.api, ecr.dkr, s3, "
            "logs, ssm (pocstack_vpc_endpoints, with rtb-pub in pocstack_vpc_endpoint_route_table_ids for s3)") in message


@pytest.mark.parametrize("kwargs", [
    {"public_ip": True},
    {"tasks": ["subnet-prv-a", "subnet-prv-b"], "tables": (PUBLIC, NAT, MAIN)},
    {"tasks": ["subnet-prv-a", "subnet-prv-b"], "planned": ENDPOINTS, "planned_tables": ["rtb-prv"]},
    {"tasks": ["subnet-prv-a", "subnet-prv-b"],
     "endpoints": [endpoint("ecr.api"), endpoint("ecr.dkr"), endpoint("logs"), endpoint("ssm"),
                   endpoint("s3", "Gateway", ["rtb-prv"])]},
    # No secrets: no SSM endpoint needed.
    {"tasks": ["subnet-prv-a", "subnet-prv-b"], "secrets": False,
     "endpoints": [endpoint("ecr.api"), endpoint("ecr.dkr"), endpoint("logs"), endpoint("s3", "Gateway", ["rtb-prv"])]},
], ids=["public-ip", "nat", "planned-endpoints", "existing-endpoints", "no-secrets-no-ssm"])
def test_each_way_out_is_enough(kwargs):
    assert check(**kwargs) == {}


def test_endpoints_that_do_not_serve_the_subnet_do_not_count():
    result = check(tasks=["subnet-prv-a", "subnet-prv-b"],
                   endpoints=[endpoint("ecr.api", dns=False), endpoint("ecr.dkr", state="deleted"), endpoint("logs"),
                              endpoint("ssm"), endpoint("s3", "Gateway", ["rtb-other"])])
    assert "no VPC endpoint for ecr.api, ecr.dkr, s3:" in result["plotly"][0]
    assert "subnet-prv-a (route table rtb-prv) has no route to 0.0.0.0/0" in result["plotly"][0]


def test_a_subnet_without_its_own_table_uses_the_main_one():
    result = check(tasks=["subnet-prv-c"], tables=(PUBLIC, PRIVATE, table("rtb-main", [], "nat-9", main=True)))
    assert "plotly" not in result  # the main table's NAT route is the way out
    assert "subnet-prv-c is in eu-west-1c, where the load balancer has no subnet" in result["(shared)"][0]


def test_task_zones_must_be_the_load_balancers():
    main_with_nat = table("rtb-main", [], "nat-9", main=True)
    result = check(tasks=["subnet-prv-a", "subnet-prv-c"], tables=(PUBLIC, NAT, main_with_nat))
    assert result == {"(shared)": [
        "pocstack_task_subnet_ids: subnet-prv-c is in eu-west-1c, where the load balancer has no subnet "
        "(pocstack_subnet_ids cover eu-west-1a, eu-west-1b): its tasks would never get traffic (Target.NotInUse); "
        "add a subnet of eu-west-1c to pocstack_subnet_ids or leave it out"]}


def test_interface_endpoints_need_dns_support_and_hostnames():
    vpc = {"vpc_id": VPC, "enable_dns_support": True, "enable_dns_hostnames": False}
    result = check(tasks=["subnet-prv-a"], planned=ENDPOINTS, planned_tables=["rtb-prv"], vpc=vpc)
    assert result["(shared)"] == [
        "pocstack_vpc_endpoints: vpc-1 has enableDnsHostnames off; the interface endpoints' private DNS (how the tasks "
        "find ecr.api, ecr.dkr, logs, ssm) needs both on: aws ec2 modify-vpc-attribute --vpc-id vpc-1 "
        "--enable-dns-hostnames (one attribute per call)"]


def test_the_s3_gateway_must_be_on_every_task_subnets_route_table():
    result = check(tasks=["subnet-prv-a", "subnet-pub-b"], planned=ENDPOINTS, planned_tables=["rtb-prv"], public_ip=True)
    assert result == {"(shared)": [
        "pocstack_vpc_endpoint_route_table_ids=['rtb-prv'] leaves out rtb-pub (the route table of a task subnet): "
        "the s3 gateway endpoint serves only the route tables it is associated with, so those tasks could not fetch "
        "image layers; add rtb-pub"]}


def test_unknown_endpoint_names_are_refused_with_the_known_ones():
    result = check(tasks=["subnet-prv-a"], planned=["ecr.api", "ecr"], public_ip=True, tables=(PUBLIC, NAT, MAIN))
    assert result["(shared)"][0].startswith("pocstack_vpc_endpoints: 'ecr' unknown; allowed: ecr.api, ecr.dkr, s3")


PRIVATE_TASKS = ["subnet-prv-a", "subnet-prv-b"]
EXISTING = [endpoint("ecr.api"), endpoint("ecr.dkr"), endpoint("logs"), endpoint("ssm"),
            endpoint("s3", "Gateway", ["rtb-prv"])]


@pytest.mark.parametrize("kwargs", [
    {"public_ip": True},
    {"tasks": PRIVATE_TASKS, "tables": (PUBLIC, NAT, MAIN)},
    {"tasks": PRIVATE_TASKS, "planned": ENDPOINTS + ["ssmmessages"], "planned_tables": ["rtb-prv"]},
    {"tasks": PRIVATE_TASKS, "endpoints": EXISTING + [endpoint("ssmmessages")]},
    {"tasks": PRIVATE_TASKS, "endpoints": EXISTING, "planned": ["ssmmessages"]},
], ids=["public-ip", "nat", "planned-endpoint", "existing-endpoint", "existing-and-planned"])
def test_ecs_exec_reaches_ssmmessages_each_way(kwargs):
    assert check(execute_command=True, **kwargs) == {}


def test_ecs_exec_through_endpoints_without_ssmmessages_is_refused_with_the_ways_out():
    assert check(tasks=PRIVATE_TASKS, endpoints=EXISTING) == {}  # without ECS Exec nothing more is needed
    result = check(tasks=PRIVATE_TASKS, endpoints=EXISTING + [endpoint("ssmmessages", dns=False)],
                   execute_command=True)
    assert list(result) == ["plotly"] and len(result["plotly"]) == 2  # one per subnet
    assert result["plotly"][0] == (
        "poc_enable_execute_command is true, but tasks in subnet-prv-a (route table rtb-prv) reach AWS only through "
        "VPC endpoints and none is for ssmmessages: the tasks would run, but every `aws ecs execute-command` into "
        "plotly would fail with TargetNotConnectedException. One way out is needed: the VPC endpoint ssmmessages "
        "(pocstack_vpc_endpoints; site.yml adds it to a non-empty list itself); or task subnets with a NAT gateway "
        "route (pocstack_task_subnet_ids); or poc_enable_execute_command: false")


def test_ecs_exec_names_ssmmessages_among_the_endpoints_when_the_tasks_could_not_start_either():
    message = check(tasks=PRIVATE_TASKS, execute_command=True)["plotly"][0]
    assert "no VPC endpoint for ecr.api, ecr.dkr, s3, logs, ssm:" in message
    assert "the VPC endpoints ecr.api, ecr.dkr, s3, logs, ssm, ssmmessages (pocstack_vpc_endpoints" in message
