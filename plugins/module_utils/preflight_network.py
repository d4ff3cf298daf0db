# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight checks of the network the tasks will run in (no AWS calls).

What the play read before its first write (subnets, the VPC's route tables,
its VPC endpoints and DNS attributes, as the amazon.aws *_info modules return
them) against what the inventory asks for. Each of these passes every API call
on AWS and fails only later, at a task start or in traffic:

- On Fargate platform 1.4 the image pull, the secrets and the log stream go
  through the task's own network interface. A task subnet needs a way out for
  ecr.api, ecr.dkr, s3 (image layers), logs, ssm when the service has
  secrets and secretsmanager when it has Secrets Manager secrets: a public IP with a route to an internet gateway, a NAT route, or a
  VPC endpoint of each. Without one every task stops with
  ResourceInitializationError.
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html
- A target in an availability zone the load balancer is not enabled in is never
  routed to (Target.NotInUse).
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
- Interface endpoints with private DNS (the default) need the VPC's
  enableDnsSupport and enableDnsHostnames; the S3 gateway endpoint serves only
  the route tables it is associated with.
  https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html
- ECS Exec (poc_enable_execute_command) runs through the Session Manager
  agent in the task, which opens its channels to ssmmessages through the
  same interface: without a way to it the tasks start, but every
  `aws ecs execute-command` fails with TargetNotConnectedException.
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html
"""

GATEWAY_ENDPOINTS = ("s3", "dynamodb")
# Fargate's start-up calls by endpoint: the secrets one only for services that have secrets.
ALWAYS_NEEDED = ("ecr.api", "ecr.dkr", "s3", "logs")
KNOWN_ENDPOINTS = ALWAYS_NEEDED + ("ssm", "secretsmanager", "kms", "ssmmessages", "sts", "dynamodb")
DEFAULT_ROUTE = "0.0.0.0/0"
LIVE_ENDPOINT_STATES = ("available", "pending", "pendingacceptance")


def _id(resource, key):
    """A resource's ID as the *_info modules return it (`route_table_id`, and also `id`)."""
    return (resource or {}).get(key) or (resource or {}).get("id")


def route_table_of(route_tables, subnet_id, vpc_id):
    """The route table of a subnet: its explicit association, else the VPC's main table."""
    main = None
    for table in route_tables:
        if table.get("vpc_id") != vpc_id:
            continue
        for association in table.get("associations") or []:
            if association.get("subnet_id") == subnet_id:
                return table
            if association.get("main"):
                main = table
    return main


def way_out(table):
    """('igw', id), ('nat', id) or (None, None): where the table's 0.0.0.0/0 goes.

    A transit gateway, a NAT instance, a network interface or a peering as the
    target counts as a NAT route: what lies behind it cannot be seen from here.
    """
    route = next((route for route in (table or {}).get("routes") or []
                  if route.get("destination_cidr_block") == DEFAULT_ROUTE and route.get("state", "active") == "active"),
                 None)
    if route is None:
        return None, None
    gateway = route.get("gateway_id") or ""
    if gateway.startswith("igw-"):
        return "igw", gateway
    for key in ("nat_gateway_id", "transit_gateway_id", "instance_id", "network_interface_id",
                "vpc_peering_connection_id"):
        if route.get(key):
            return "nat", route[key]
    return None, None


def endpoints_reaching(endpoints, vpc_id, region, table_id, planned, planned_tables):
    """The AWS services (ecr.api, s3, ...) a task subnet with route table
    `table_id` reaches through a VPC endpoint: those of the VPC, and those
    this deploy creates (`planned`, gateway ones on `planned_tables`)."""
    found, prefix = set(), f"com.amazonaws.{region}."
    for endpoint in endpoints:
        service = str(endpoint.get("service_name"))
        name = service.removeprefix(prefix)  # ecr.api, s3, ...; the whole name when of another region
        if (endpoint.get("vpc_id") != vpc_id or name in ("", service)
                or endpoint.get("state", "available").lower() not in LIVE_ENDPOINT_STATES):
            continue
        if (endpoint.get("vpc_endpoint_type") or "Gateway").lower() == "gateway":
            if table_id in (endpoint.get("route_table_ids") or []):
                found.add(name)
        elif endpoint.get("private_dns_enabled", True):
            found.add(name)
    return found | {name for name in planned if name not in GATEWAY_ENDPOINTS or table_id in planned_tables}


def check_task_reach(service, public_ip, has_secrets, task_subnets, route_tables, endpoints, vpc_id, region,
                     planned, planned_tables, execute_command=False, secrets_manager=False):
    """Messages for a service whose tasks could not reach what Fargate needs at
    start (ssm for SSM secrets, secretsmanager for poc_secrets_manager), or
    (with ECS Exec) the Session Manager channel once running."""
    needed = (list(ALWAYS_NEEDED) + (["ssm"] if has_secrets else [])
              + (["secretsmanager"] if secrets_manager else []))
    errors = []
    for subnet_id in task_subnets:
        table = route_table_of(route_tables, subnet_id, vpc_id)
        kind, target = way_out(table)
        if kind == "nat" or (kind == "igw" and public_ip):
            continue
        table_id = _id(table, "route_table_id")
        reached = endpoints_reaching(endpoints, vpc_id, region, table_id, planned, planned_tables)
        missing = [name for name in needed if name not in reached]
        if not missing:
            if execute_command and "ssmmessages" not in reached:
                errors.append(
                    f"poc_enable_execute_command is true, but tasks in {subnet_id} (route table {table_id}) reach "
                    f"AWS only through VPC endpoints and none is for ssmmessages: the tasks would run, but every "
                    f"`aws ecs execute-command` into {service} would fail with TargetNotConnectedException. One way "
                    f"out is needed: the VPC endpoint ssmmessages (pocstack_vpc_endpoints; site.yml adds it to a "
                    f"non-empty list itself); or task subnets with a NAT gateway route (pocstack_task_subnet_ids); "
                    f"or poc_enable_execute_command: false")
            continue
        if table is None:
            why = f"{subnet_id} has no route table"
        elif kind is None:
            why = f"{subnet_id} (route table {table_id}) has no route to 0.0.0.0/0"
        else:  # an internet gateway, without a public IP
            why = (f"{subnet_id} (route table {table_id}) sends 0.0.0.0/0 to {target}, "
                   "but poc_assign_public_ip is false (the tasks get no public IP)")
        ways = [
            "poc_assign_public_ip: true (the subnet routes to an internet gateway)" if kind == "igw"
            else "task subnets with a route to an internet gateway and poc_assign_public_ip: true",
            "task subnets with a NAT gateway route (pocstack_task_subnet_ids)",
            f"the VPC endpoints {', '.join(needed + (['ssmmessages'] if execute_command else []))} (pocstack_vpc_endpoints"
            + (f", with {table_id} in pocstack_vpc_endpoint_route_table_ids for s3" if table_id else "") + ")",
        ]
        errors.append(
            f"tasks in {why}, and no VPC endpoint for {', '.join(missing)}: Fargate pulls the image, reads the "
            f"secrets and ships the logs through the task's network interface, so every task of {service} would "
            f"stop with ResourceInitializationError. One way out is needed: " + "; or ".join(ways)
        )
    return errors


def check_zones(subnets, alb_subnet_ids, task_subnet_ids):
    """Task subnets must be in availability zones the load balancer is enabled in."""
    zone = {s.get("subnet_id"): s.get("availability_zone") for s in subnets}
    alb_zones = sorted({zone[s] for s in alb_subnet_ids if zone.get(s)})
    errors = []
    for subnet_id in task_subnet_ids:
        if zone.get(subnet_id) and alb_zones and zone[subnet_id] not in alb_zones:
            errors.append(
                f"pocstack_task_subnet_ids: {subnet_id} is in {zone[subnet_id]}, where the load balancer has no "
                f"subnet (pocstack_subnet_ids cover {', '.join(alb_zones)}): its tasks would never get traffic "
                f"(Target.NotInUse); add a subnet of {zone[subnet_id]} to pocstack_subnet_ids or leave it out"
            )
    return errors


def check_endpoints(planned, planned_tables, vpc, vpc_id, route_tables, task_subnet_ids):
    """The endpoints this deploy creates: known names, DNS on the VPC for
    interface ones, the S3 gateway on every task subnet's route table."""
    errors = []
    unknown = [name for name in planned if name not in KNOWN_ENDPOINTS]
    if unknown:
        errors.append(f"pocstack_vpc_endpoints: {', '.join(map(repr, unknown))} unknown; "
                      f"allowed: {', '.join(KNOWN_ENDPOINTS)}")
    interface = [name for name in planned if name not in GATEWAY_ENDPOINTS]
    if interface and vpc:
        off = {attribute: key for attribute, key in (("enableDnsSupport", "enable_dns_support"),
                                                     ("enableDnsHostnames", "enable_dns_hostnames"))
               if vpc.get(key) is False}
        if off:
            flags = " ".join("--" + key.replace("_", "-") for key in off.values())
            errors.append(
                f"pocstack_vpc_endpoints: {vpc_id} has {' and '.join(off)} off; the interface endpoints' private DNS "
                f"(how the tasks find {', '.join(interface)}) needs both on: "
                f"aws ec2 modify-vpc-attribute --vpc-id {vpc_id} {flags} (one attribute per call)"
            )
    gateways = [name for name in planned if name in GATEWAY_ENDPOINTS]
    if gateways:
        tables = [_id(route_table_of(route_tables, subnet_id, vpc_id), "route_table_id")
                  for subnet_id in task_subnet_ids]
        tables = list(dict.fromkeys(table_id for table_id in tables if table_id and table_id not in planned_tables))
        if tables:
            errors.append(
                f"pocstack_vpc_endpoint_route_table_ids={list(planned_tables)!r} leaves out {', '.join(tables)} "
                f"(the route table of a task subnet): the {', '.join(gateways)} gateway endpoint serves only the route "
                f"tables it is associated with, so those tasks could not fetch image layers; add "
                f"{', '.join(tables)}"
            )
    return errors


def check_network(services, shared):
    """{service or '(shared)': [messages]}.

    services: {name: {"public_ip": bool, "secrets": bool, "execute_command": bool, "secrets_manager": bool}};
    shared: subnets, route_tables, endpoints, vpc (as the *_info modules
    return them), pocstack_subnet_ids, pocstack_task_subnet_ids,
    pocstack_vpc_endpoints, pocstack_vpc_endpoint_route_table_ids, aws_region.
    """
    alb_subnets = list(shared.get("pocstack_subnet_ids") or [])
    task_subnets = list(shared.get("pocstack_task_subnet_ids") or []) or alb_subnets
    planned = list(shared.get("pocstack_vpc_endpoints") or [])
    planned_tables = list(shared.get("pocstack_vpc_endpoint_route_table_ids") or [])
    vpc = shared.get("vpc") or {}
    vpc_id = _id(vpc, "vpc_id") or shared.get("pocstack_vpc_id")
    route_tables = shared.get("route_tables") or []
    result = {}
    errors = check_zones(shared.get("subnets") or [], alb_subnets, task_subnets) + check_endpoints(
        planned, planned_tables, vpc, vpc_id, route_tables, task_subnets)
    if errors:
        result["(shared)"] = errors
    for service in sorted(services):
        settings = services[service]
        errors = check_task_reach(service, bool(settings.get("public_ip")), bool(settings.get("secrets")),
                                  task_subnets, route_tables, shared.get("endpoints") or [], vpc_id,
                                  shared.get("aws_region"), planned, planned_tables,
                                  bool(settings.get("execute_command")), bool(settings.get("secrets_manager")))
        if errors:
            result[service] = errors
    return result
