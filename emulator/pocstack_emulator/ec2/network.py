"""What a Fargate task's network interface can reach, from moto's EC2 state.

On Fargate platform version 1.4 the task's own elastic network interface
carries everything ECS does for it before the container starts: the ECR
registry auth and image pull, the SSM or Secrets Manager secrets, the
CloudWatch Logs stream. The interface reaches an AWS service when

- its subnet's route table sends 0.0.0.0/0 to an internet gateway and the
  task has a public IP (assignPublicIp ENABLED); or
- that route goes to a NAT gateway that is available and sits in a subnet
  whose own route table reaches an internet gateway (a transit gateway, a
  NAT instance or a network interface as the target is taken as a path out;
  what is behind it cannot be seen from this VPC); or
- the VPC has an interface endpoint of the service (com.amazonaws.REGION.NAME)
  that is available, with private DNS enabled (which needs the VPC's
  enableDnsSupport and enableDnsHostnames), and whose security groups accept
  HTTPS from the task; for S3 (image layers), a gateway endpoint on the
  subnet's route table;

and in each case the task's security groups allow HTTPS out to it.
"""
import ipaddress

INTERNET = ipaddress.ip_network("0.0.0.0/0")
HTTPS = 443


def route_table_of(ec2, subnet):
    """The route table of a subnet: its explicit association, else the VPC's main table."""
    main = None
    for table in ec2.route_tables.values():
        if table.vpc_id != subnet.vpc_id:
            continue
        for association in table.associations:
            if association.get("SubnetId") == subnet.id:
                return table
            if association.get("Main"):
                main = table
    return main


def _default_route(table):
    if table is None:
        return None
    for route in table.routes:
        if route.destination_cidr_block == "0.0.0.0/0":
            return route
    return None


def _gateway_id(route):
    gateway = getattr(route, "gateway", None)
    return getattr(gateway, "id", gateway) if gateway is not None else None


def _rule_allows(rule, port, destinations):
    """An egress/ingress rule covers tcp/`port` and one of `destinations`
    (ip networks, or security group IDs as strings)."""
    if rule.ip_protocol not in ("-1", "tcp", "6"):
        return False
    if rule.ip_protocol != "-1" and not (rule.from_port <= port <= rule.to_port):
        return False
    cidr = (rule.ip_range or {}).get("CidrIp")
    group = (rule.source_group or {}).get("GroupId")
    for destination in destinations:
        if isinstance(destination, str):
            if group == destination:
                return True
        elif cidr and destination.subnet_of(ipaddress.ip_network(cidr, strict=False)):
            return True
    return False


def _rule_allows_https(rule, destinations):
    return _rule_allows(rule, HTTPS, destinations)


def _groups(ec2, group_ids):
    found = []
    for group_id in group_ids or []:
        group = ec2.get_security_group_by_name_or_id(group_id)
        if group is not None:
            found.append(group)
    return found


def _egress_allows(groups, destinations):
    return any(_rule_allows_https(rule, destinations) for group in groups for rule in group.egress_rules)


def _ingress_allows(groups, sources):
    return any(_rule_allows_https(rule, sources) for group in groups for rule in group.ingress_rules)


def admits_load_balancer(ec2, eni, port, balancer):
    """Whether the security groups of a target's interface `eni` accept TCP
    `port` from the load balancer `balancer` (moto's FakeLoadBalancer): a rule
    naming one of its security groups, or an IPv4 range that covers one of its
    subnets (where its nodes' addresses come from). AWS drops what they do
    not accept: health checks time out, requests end in 504."""
    sources = list(balancer.security_groups or [])
    sources += [ipaddress.ip_network(subnet.cidr_block) for subnet in balancer.subnets or []]
    groups = _groups(ec2, [group.id for group in eni.group_set])
    return any(_rule_allows(rule, port, sources) for group in groups for rule in group.ingress_rules)


def _path_to_internet(ec2, subnet, public_ip):
    """(path, why not): how the subnet's traffic gets out to the internet."""
    route = _default_route(route_table_of(ec2, subnet))
    if route is None:
        return None, f"the route table of {subnet.id} has no route to 0.0.0.0/0"
    gateway = _gateway_id(route)
    if gateway and str(gateway).startswith("igw-"):
        if public_ip:
            return f"internet gateway {gateway}", None
        return None, (f"{subnet.id} routes to the internet gateway {gateway}, "
                      "but the task has no public IP (assignPublicIp DISABLED)")
    nat = getattr(route, "nat_gateway", None)
    if nat is not None:
        if getattr(nat, "state", "available") != "available":
            return None, f"the NAT gateway {nat.id} is {nat.state}"
        nat_subnet = ec2.get_subnet(nat.subnet_id)
        nat_route = _default_route(route_table_of(ec2, nat_subnet))
        if nat_route is None or not str(_gateway_id(nat_route) or "").startswith("igw-"):
            return None, f"the NAT gateway {nat.id} sits in {nat.subnet_id}, which has no route to an internet gateway"
        return f"NAT gateway {nat.id}", None
    for kind in ("transit_gateway", "instance", "interface", "vpc_pcx"):
        target = getattr(route, kind, None)
        if target is not None:
            return f"{kind.replace('_', ' ')} {getattr(target, 'id', target)}", None
    return None, f"the route table of {subnet.id} sends 0.0.0.0/0 nowhere that leads out"


def _endpoint(ec2, vpc, region, service, subnet, task_groups, task_ip):
    """(path, why not) through a VPC endpoint of `service` (ecr.api, s3, ...)."""
    name = f"com.amazonaws.{region}.{service}"
    table = route_table_of(ec2, subnet)
    reasons = []
    for endpoint in ec2.vpc_end_points.values():
        if endpoint.vpc_id != vpc.id or endpoint.service_name != name or endpoint.state != "available":
            continue
        kind = (endpoint.vpc_endpoint_type or "Gateway").lower()
        if kind == "gateway":
            if table is not None and table.id in (endpoint.route_table_ids or []):
                if _egress_allows(task_groups, [INTERNET]) or _egress_allows(task_groups, [ipaddress.ip_network(task_ip)]):
                    return f"gateway endpoint {endpoint.id}", None
                reasons.append(f"the task's security groups allow no HTTPS out to {endpoint.id}")
            else:
                reasons.append(f"the gateway endpoint {endpoint.id} is not on the route table of {subnet.id}")
            continue
        if not endpoint.private_dns_enabled:
            reasons.append(f"the endpoint {endpoint.id} has private DNS disabled, so {service}'s public name "
                           "still resolves to public addresses")
            continue
        if not (vpc.enable_dns_support and vpc.enable_dns_hostnames):
            reasons.append(f"the endpoint {endpoint.id}'s private DNS needs enableDnsSupport and "
                           f"enableDnsHostnames on {vpc.id}")
            continue
        endpoint_groups = _groups(ec2, endpoint.security_group_ids)
        vpc_net = ipaddress.ip_network(vpc.cidr_block)
        sources = [ipaddress.ip_network(task_ip)] + [g.id for g in task_groups]
        if not _ingress_allows(endpoint_groups, sources):
            reasons.append(f"the security groups of {endpoint.id} accept no HTTPS from the task")
            continue
        if not _egress_allows(task_groups, [vpc_net, ipaddress.ip_network(task_ip)] + [g.id for g in endpoint_groups]):
            reasons.append(f"the task's security groups allow no HTTPS out to {endpoint.id}")
            continue
        return f"interface endpoint {endpoint.id}", None
    return None, "; ".join(reasons) or f"no VPC endpoint {name} in {vpc.id}"


def reach(ec2, region, subnet_id, task_ip, public_ip, group_ids, service):
    """(path, why not) for one AWS service (ecr.api, ecr.dkr, s3, logs, ssm,
    secretsmanager, kms) from a task's network interface."""
    subnet = ec2.get_subnet(subnet_id)
    vpc = ec2.get_vpc(subnet.vpc_id)
    groups = _groups(ec2, group_ids)
    path, why_endpoint = _endpoint(ec2, vpc, region, service, subnet, groups, task_ip)
    if path:
        return path, None
    out, why_out = _path_to_internet(ec2, subnet, public_ip)
    if out:
        if _egress_allows(groups, [INTERNET]):
            return out, None
        why_out = "the task's security groups allow no HTTPS out to the internet"
    return None, f"{why_out}; {why_endpoint}"


def subnet_ip(ec2, subnet):
    """A free private IPv4 address of the subnet, as AWS hands one to a new
    network interface (the first four and the last address are AWS's)."""
    network = ipaddress.ip_network(subnet.cidr_block)
    taken = set()
    for eni in ec2.enis.values():
        if getattr(eni, "subnet", None) is not None and eni.subnet.id == subnet.id:
            taken.add(eni.private_ip_address)
    for instance_ip in getattr(subnet, "_reserved_ips", set()):
        taken.add(str(instance_ip))
    hosts = list(network.hosts())  # excludes the network and broadcast addresses
    for address in hosts[3:]:  # .1-.3: router, DNS, reserved
        if str(address) not in taken:
            return str(address)
    raise RuntimeError(f"no free address left in {subnet.id} ({subnet.cidr_block})")
