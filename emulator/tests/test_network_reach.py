"""What a Fargate task's network interface can reach (ec2/network.py), on
moto's EC2 state made with boto3: the paths Fargate 1.4 needs for the image,
the secrets and the logs, and the reason given when there is none."""
import boto3
import pytest
from moto import mock_aws

from pocstack_emulator.ec2 import network

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture
def vpc():
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
        public = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.7.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        private = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.7.10.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
        public_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        ec2.associate_route_table(RouteTableId=public_table, SubnetId=public)
        private_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=private_table, SubnetId=private)
        group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                      {"Name": "group-name", "Values": ["default"]}])
        from moto.ec2.models import ec2_backends

        yield {"client": ec2, "backend": ec2_backends[ACCOUNT][REGION], "vpc": vpc_id, "public": public,
               "private": private, "private_table": private_table, "public_table": public_table,
               "group": group["SecurityGroups"][0]["GroupId"]}


def reach(v, subnet, service="ecr.api", public_ip=None, groups=None, ip="10.7.10.20"):
    return network.reach(v["backend"], REGION, v[subnet], ip, public_ip, groups or [v["group"]], service)


def endpoint_group(v, cidr="10.7.0.0/16"):
    ec2 = v["client"]
    group = ec2.create_security_group(GroupName="endpoints", Description="HTTPS from the VPC", VpcId=v["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": cidr}]}])
    return group


def interface_endpoint(v, service, groups, private_dns=True):
    return v["client"].create_vpc_endpoint(VpcId=v["vpc"], ServiceName=f"com.amazonaws.{REGION}.{service}",
                                           VpcEndpointType="Interface", SubnetIds=[v["private"]],
                                           SecurityGroupIds=groups, PrivateDnsEnabled=private_dns)["VpcEndpoint"]["VpcEndpointId"]


def test_public_subnet_with_a_public_ip_goes_out_through_the_internet_gateway(vpc):
    path, why = reach(vpc, "public", public_ip="198.51.100.7", ip="10.7.0.20")
    assert path.startswith("internet gateway igw-") and why is None


def test_public_subnet_without_a_public_ip_has_no_path(vpc):
    path, why = reach(vpc, "public", ip="10.7.0.20")
    assert path is None
    assert "routes to the internet gateway" in why and "no public IP (assignPublicIp DISABLED)" in why
    assert f"no VPC endpoint com.amazonaws.{REGION}.ecr.api in {vpc['vpc']}" in why


def test_private_subnet_without_nat_or_endpoints_has_no_path(vpc):
    path, why = reach(vpc, "private")
    assert path is None
    assert why == (f"the route table of {vpc['private']} has no route to 0.0.0.0/0; "
                   f"no VPC endpoint com.amazonaws.{REGION}.ecr.api in {vpc['vpc']}")


def test_private_subnet_goes_out_through_a_nat_gateway_in_a_public_subnet(vpc):
    ec2 = vpc["client"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=vpc["public"], AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    ec2.create_route(RouteTableId=vpc["private_table"], DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    for service in ("ecr.api", "ecr.dkr", "s3", "logs", "ssm"):
        assert reach(vpc, "private", service)[0] == f"NAT gateway {nat}"


def test_interface_endpoints_with_private_dns_serve_every_subnet_of_the_vpc(vpc):
    endpoint = interface_endpoint(vpc, "ssm", [endpoint_group(vpc)])
    assert reach(vpc, "private", "ssm") == (f"interface endpoint {endpoint}", None)
    assert reach(vpc, "public", "ssm", ip="10.7.0.20") == (f"interface endpoint {endpoint}", None)
    assert reach(vpc, "private", "logs")[0] is None  # one endpoint per service


def test_private_dns_needs_dns_hostnames_on_the_vpc(vpc):
    vpc["client"].modify_vpc_attribute(VpcId=vpc["vpc"], EnableDnsHostnames={"Value": False})
    endpoint = interface_endpoint(vpc, "ecr.api", [endpoint_group(vpc)])
    path, why = reach(vpc, "private")
    assert path is None
    assert f"the endpoint {endpoint}'s private DNS needs enableDnsSupport and enableDnsHostnames on {vpc['vpc']}" in why


def test_an_endpoint_whose_group_admits_another_range_is_not_reached(vpc):
    endpoint = interface_endpoint(vpc, "ecr.api", [endpoint_group(vpc, cidr="10.99.0.0/16")])
    path, why = reach(vpc, "private")
    assert path is None and f"the security groups of {endpoint} accept no HTTPS from the task" in why


def test_the_s3_gateway_serves_only_its_route_tables(vpc):
    endpoint = vpc["client"].create_vpc_endpoint(VpcId=vpc["vpc"], ServiceName=f"com.amazonaws.{REGION}.s3",
                                                 VpcEndpointType="Gateway",
                                                 RouteTableIds=[vpc["private_table"]])["VpcEndpoint"]["VpcEndpointId"]
    assert reach(vpc, "private", "s3") == (f"gateway endpoint {endpoint}", None)
    path, why = reach(vpc, "public", "s3", ip="10.7.0.20")
    assert path is None
    assert f"the gateway endpoint {endpoint} is not on the route table of {vpc['public']}" in why


def test_a_task_group_without_https_egress_reaches_nothing(vpc):
    ec2 = vpc["client"]
    closed = ec2.create_security_group(GroupName="closed", Description="no egress", VpcId=vpc["vpc"])["GroupId"]
    ec2.revoke_security_group_egress(GroupId=closed, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    path, why = reach(vpc, "public", public_ip="198.51.100.7", ip="10.7.0.20", groups=[closed])
    assert path is None and "the task's security groups allow no HTTPS out to the internet" in why


def test_subnet_ip_skips_the_addresses_aws_reserves_and_those_in_use(vpc):
    subnet = vpc["backend"].get_subnet(vpc["private"])
    first = network.subnet_ip(vpc["backend"], subnet)
    assert first == "10.7.10.4"  # .0 network, .1 router, .2 DNS, .3 reserved
    vpc["backend"].create_network_interface(subnet=subnet, private_ip_address=first, group_ids=[vpc["group"]])
    assert network.subnet_ip(vpc["backend"], subnet) == "10.7.10.5"


def test_a_target_admits_the_load_balancer_by_its_security_group_or_a_range_over_its_subnets(vpc):
    """What the data plane lets through from a load balancer to a task (health checks, requests)."""
    from moto.elbv2.models import elbv2_backends

    ec2 = vpc["client"]
    alb_group = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc["vpc"])["GroupId"]
    elbv2 = boto3.client("elbv2", region_name=REGION)
    arn = elbv2.create_load_balancer(Name="lb", Subnets=[vpc["public"]],
                                     SecurityGroups=[alb_group])["LoadBalancers"][0]["LoadBalancerArn"]
    balancer = elbv2_backends[ACCOUNT][REGION].load_balancers[arn]

    made = []

    def task_with(*permissions):
        made.append(permissions)
        group = ec2.create_security_group(GroupName=f"task-{len(made)}", Description="t", VpcId=vpc["vpc"])["GroupId"]
        if permissions:
            ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=list(permissions))
        eni = ec2.create_network_interface(SubnetId=vpc["private"], Groups=[group])["NetworkInterface"]["NetworkInterfaceId"]
        return vpc["backend"].get_network_interface(eni)

    from_alb = task_with({"IpProtocol": "tcp", "FromPort": 8050, "ToPort": 8050, "UserIdGroupPairs": [{"GroupId": alb_group}]})
    assert network.admits_load_balancer(vpc["backend"], from_alb, 8050, balancer)
    assert not network.admits_load_balancer(vpc["backend"], from_alb, 8051, balancer), "another port"
    from_range = task_with({"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8100, "IpRanges": [{"CidrIp": "10.7.0.0/16"}]})
    assert network.admits_load_balancer(vpc["backend"], from_range, 8051, balancer)
    elsewhere = task_with({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.7.10.0/24"}]})
    assert not network.admits_load_balancer(vpc["backend"], elsewhere, 8050, balancer), "a range without the LB's subnet"
    assert not network.admits_load_balancer(vpc["backend"], task_with(), 8050, balancer), "no ingress rule"
