#!/usr/bin/env python3
"""Read back the plotly stack that site.yml deployed and check every setting
of the reference design (DESIGN.md table) plus the fixes we make to it.

Run by the molecule `site` scenario's verify step, against the emulator:
    AWS_URL=http://127.0.0.1:4567 python tests/integration/verify_site.py plotly
Exits 1 and lists every failed check.
"""
import json
import os
import re
import sys
import urllib.request

import boto3

SERVICE = sys.argv[1] if len(sys.argv) > 1 else "plotly"
CLUSTER = "pocstack"
ALB = "pocstack"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

_kw = dict(endpoint_url=os.environ.get("AWS_URL"), region_name=os.environ.get("AWS_REGION", "us-east-1"))
elb = boto3.client("elbv2", **_kw)
ecs = boto3.client("ecs", **_kw)
ssm = boto3.client("ssm", **_kw)
acm = boto3.client("acm", **_kw)
ec2 = boto3.client("ec2", **_kw)
iam = boto3.client("iam", **_kw)
logs = boto3.client("logs", **_kw)

CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def expect(what, actual, wanted):
    assert actual == wanted, f"{what}: expected {wanted!r}, found {actual!r}"


def load_balancer():
    return elb.describe_load_balancers(Names=[ALB])["LoadBalancers"][0]


def listeners():
    found = elb.describe_listeners(LoadBalancerArn=load_balancer()["LoadBalancerArn"])["Listeners"]
    return {lst["Port"]: lst for lst in found}


def target_group():
    """The service's one target group: <service>-<6 hex digits> (a hash of the
    settings AWS cannot change on a group)."""
    [group] = [g for g in elb.describe_target_groups()["TargetGroups"]
               if re.fullmatch(rf"{SERVICE}-[0-9a-f]{{6}}", g["TargetGroupName"])]
    return group


def service():
    return ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]


def task_definition():
    return ecs.describe_task_definition(taskDefinition=service()["taskDefinition"])["taskDefinition"]


@check
def target_group_health_check():
    tg = target_group()
    expect("target type", tg["TargetType"], "ip")
    expect("protocol", tg["Protocol"], "HTTP")
    expect("port", tg["Port"], 8050)
    expect("health check path", tg["HealthCheckPath"], "/health")
    expect("health check interval", tg["HealthCheckIntervalSeconds"], 6)
    expect("health check timeout", tg["HealthCheckTimeoutSeconds"], 5)
    expect("healthy threshold", tg["HealthyThresholdCount"], 2)
    expect("unhealthy threshold", tg["UnhealthyThresholdCount"], 2)
    expect("matcher", tg["Matcher"]["HttpCode"], "200")


@check
def alb_internet_facing_idle_timeout_30():
    lb = load_balancer()
    expect("scheme", lb["Scheme"], "internet-facing")
    expect("type", lb["Type"], "application")
    expect("availability zones", len({az["ZoneName"] for az in lb["AvailabilityZones"]}), 2)
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(
        LoadBalancerArn=lb["LoadBalancerArn"])["Attributes"]}
    expect("idle timeout", attrs["idle_timeout.timeout_seconds"], "30")
    expect("drop invalid header fields", attrs["routing.http.drop_invalid_header_fields.enabled"], "true")


@check
def https_443_certificate_tls_policy_default_404():
    https = listeners()[443]
    expect("protocol", https["Protocol"], "HTTPS")
    expect("TLS policy", https["SslPolicy"], TLS_POLICY)
    certs = acm.list_certificates()["CertificateSummaryList"]
    local = [c["CertificateArn"] for c in certs
             if {"Key": "Name", "Value": "pocstack-local"} in acm.list_tags_for_certificate(
                 CertificateArn=c["CertificateArn"])["Tags"]]
    expect("certificate", [c["CertificateArn"] for c in https["Certificates"]], local)
    default = https["DefaultActions"]
    expect("default action", [a["Type"] for a in default], ["fixed-response"])
    expect("default status", default[0]["FixedResponseConfig"]["StatusCode"], "404")


@check
def http_80_redirects_to_https():
    http = listeners()[80]
    expect("protocol", http["Protocol"], "HTTP")
    action = http["DefaultActions"][0]
    expect("action", action["Type"], "redirect")
    expect("redirect protocol", action["RedirectConfig"]["Protocol"], "HTTPS")
    expect("redirect port", action["RedirectConfig"]["Port"], "443")
    expect("redirect status", action["RedirectConfig"]["StatusCode"], "HTTP_301")
    expect("only two listeners", sorted(listeners()), [80, 443])


@check
def listener_rule_path_priority_forward():
    rules = [r for r in elb.describe_rules(ListenerArn=listeners()[443]["ListenerArn"])["Rules"]
             if not r["IsDefault"]]
    expect("service rules on the HTTPS listener", len(rules), 1)
    rule = rules[0]
    expect("priority", rule["Priority"], "100")
    paths = [c.get("PathPatternConfig", {}).get("Values") or c.get("Values")
             for c in rule["Conditions"] if c["Field"] == "path-pattern"]
    expect("path pattern", paths, [["*"]])
    expect("action", rule["Actions"][0]["Type"], "forward")
    expect("target group", rule["Actions"][0]["TargetGroupArn"], target_group()["TargetGroupArn"])
    tags = {t["Key"]: t["Value"] for t in elb.describe_tags(
        ResourceArns=[rule["RuleArn"]])["TagDescriptions"][0]["Tags"]}
    expect("rule owner tag", tags.get("pocstack:rule-name"), SERVICE)


@check
def service_fargate_deployment_200_75():
    svc = service()
    expect("launch type", svc["launchType"], "FARGATE")
    expect("desired count", svc["desiredCount"], 1)
    conf = svc["deploymentConfiguration"]
    expect("deployment maximum percent", conf["maximumPercent"], 200)
    expect("deployment minimum healthy percent", conf["minimumHealthyPercent"], 75)
    expect("circuit breaker", conf["deploymentCircuitBreaker"], {"enable": True, "rollback": True})
    expect("health check grace period", svc["healthCheckGracePeriodSeconds"], 60)
    expect("load balancers", svc["loadBalancers"], [{
        "targetGroupArn": target_group()["TargetGroupArn"], "containerName": SERVICE, "containerPort": 8050}])
    vpc = svc["networkConfiguration"]["awsvpcConfiguration"]
    expect("subnets", len(vpc["subnets"]), 2)
    expect("security groups", len(vpc["securityGroups"]), 1)


@check
def tasks_private_without_public_ip():
    vpc = service()["networkConfiguration"]["awsvpcConfiguration"]
    expect("assign public IP", vpc["assignPublicIp"], "DISABLED")
    lb_subnets = {az["SubnetId"] for az in load_balancer()["AvailabilityZones"]}
    assert not lb_subnets & set(vpc["subnets"]), "tasks share the load balancer's public subnets"
    for subnet in vpc["subnets"]:
        tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["RouteTables"]
        routes = [r for t in tables for r in t["Routes"]]
        expect(f"routes to the internet from {subnet}",
               [r for r in routes if r.get("GatewayId", "").startswith("igw-") or r.get("NatGatewayId")], [])


@check
def vpc_endpoints_for_private_tasks():
    vpc_id = load_balancer()["VpcId"]
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    prefix = f"com.amazonaws.{_kw['region_name']}."
    by_service = {e["ServiceName"].removeprefix(prefix): e for e in found}
    expect("endpoints", sorted(by_service), ["ecr.api", "ecr.dkr", "logs", "s3", "ssm"])
    task_subnets = set(service()["networkConfiguration"]["awsvpcConfiguration"]["subnets"])
    for name, endpoint in by_service.items():
        if name == "s3":
            expect("s3 endpoint type", endpoint["VpcEndpointType"], "Gateway")
            assert endpoint["RouteTableIds"], "the S3 gateway endpoint is on no route table"
        else:
            expect(f"{name} endpoint type", endpoint["VpcEndpointType"], "Interface")
            expect(f"{name} endpoint subnets", set(endpoint["SubnetIds"]), task_subnets)
            groups = ec2.describe_security_groups(GroupIds=[g["GroupId"] for g in endpoint["Groups"]])["SecurityGroups"]
            ports = {(p["FromPort"], p["ToPort"]) for g in groups for p in g["IpPermissions"]}
            expect(f"{name} endpoint ingress", ports, {(443, 443)})


@check
def task_cpu_memory_image_by_digest():
    td = task_definition()
    expect("cpu", td["cpu"], "256")
    expect("memory", td["memory"], "512")
    expect("network mode", td["networkMode"], "awsvpc")
    expect("compatibilities", td["requiresCompatibilities"], ["FARGATE"])
    image = td["containerDefinitions"][0]["image"]
    assert "@sha256:" in image, f"image is not pinned by digest: {image}"
    expect("port", td["containerDefinitions"][0]["portMappings"][0]["containerPort"], 8050)
    assert td.get("executionRoleArn"), "no execution role"


@check
def secrets_by_value_from_not_environment():
    container = task_definition()["containerDefinitions"][0]
    secrets = {s["name"]: s["valueFrom"] for s in container.get("secrets", [])}
    expect("secret names", sorted(secrets), ["PLOTLY_PASS", "PLOTLY_USER"])
    for name, arn in secrets.items():
        assert arn.endswith(f":parameter/pocstack/{SERVICE}/{name}"), f"{name} valueFrom is {arn}"
        param = ssm.get_parameter(Name=f"/pocstack/{SERVICE}/{name}")["Parameter"]
        expect(f"{name} type", param["Type"], "SecureString")
    env = {e["name"] for e in container.get("environment", [])}
    assert not env & set(secrets), f"secrets also in plain environment: {env & set(secrets)}"


@check
def awslogs_options():
    log = task_definition()["containerDefinitions"][0]["logConfiguration"]
    expect("log driver", log["logDriver"], "awslogs")
    expect("log options", log["options"], {
        "awslogs-group": f"/pocstack/{SERVICE}", "awslogs-region": _kw["region_name"], "awslogs-stream-prefix": "ecs"})
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/pocstack/{SERVICE}")["logGroups"]
    expect("log group retention", [g.get("retentionInDays") for g in groups], [14])


@check
def security_groups_tight():
    lb = load_balancer()
    alb_sg = ec2.describe_security_groups(GroupIds=lb["SecurityGroups"])["SecurityGroups"][0]
    expect("ALB ingress ports", sorted((p["IpProtocol"], p["FromPort"], p["ToPort"]) for p in alb_sg["IpPermissions"]),
           [("tcp", 80, 80), ("tcp", 443, 443)])
    task_sg_id = service()["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"][0]
    task_sg = ec2.describe_security_groups(GroupIds=[task_sg_id])["SecurityGroups"][0]
    perms = task_sg["IpPermissions"]
    expect("task ingress", [(p["FromPort"], p["ToPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]], p["IpRanges"])
                            for p in perms], [(8050, 8050, [alb_sg["GroupId"]], [])])


@check
def execution_role_least_privilege():
    role = task_definition()["executionRoleArn"].split("/")[-1]
    names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    expect("managed policies", iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"], [])
    for name in names:
        doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        for st in doc["Statement"]:
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            if st["Resource"] == "*":
                expect("actions allowed on *", actions, ["ecr:GetAuthorizationToken"])


def statements(role):
    found = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        found.extend(doc["Statement"])
    return found


def allowed(found, action, resource):
    for st in found:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if st["Effect"] == "Allow" and action in actions and any(
                re.fullmatch(r.replace("*", ".*"), resource) for r in resources):
            return True
    return False


@check
def execution_role_can_pull_read_and_log():
    """What Fargate does as the execution role before the container starts: the
    grants must be there (not only nothing too broad)."""
    td = task_definition()
    found = statements(td["executionRoleArn"].split("/")[-1])
    container = td["containerDefinitions"][0]
    account, region, repository = re.match(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^@:]+)",
                                            container["image"]).groups()
    repository_arn = f"arn:aws:ecr:{region}:{account}:repository/{repository}"
    missing = [a for a in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer") if not allowed(found, a, repository_arn)]
    missing += [] if allowed(found, "ecr:GetAuthorizationToken", "*") else ["ecr:GetAuthorizationToken"]
    for secret in container["secrets"]:
        if not allowed(found, "ssm:GetParameters", secret["valueFrom"]):
            missing.append(f"ssm:GetParameters on {secret['valueFrom']}")
    group = container["logConfiguration"]["options"]["awslogs-group"]
    stream = f"arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:ecs/{SERVICE}/0123"
    missing += [a for a in ("logs:CreateLogStream", "logs:PutLogEvents") if not allowed(found, a, stream)]
    expect("grants missing from the execution role", missing, [])


@check
def tasks_run_and_targets_are_healthy_where_the_emulator_runs_containers():
    plane = os.environ.get("AWS_URL") and _data_plane()
    if not (plane and plane.get("enabled")):
        return  # a control plane only (or AWS itself: the wait for steady state judged it)
    svc = service()
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
    found = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    expect("running tasks", sorted(t["lastStatus"] for t in found), ["RUNNING"] * svc["desiredCount"])
    health = elb.describe_target_health(TargetGroupArn=target_group()["TargetGroupArn"])["TargetHealthDescriptions"]
    expect("target states", sorted(h["TargetHealth"]["State"] for h in health), ["healthy"] * svc["desiredCount"])
    ports = [t["ports"].get("8050") for t in plane["tasks"] if t["service"] == SERVICE]
    for address in ports:
        with urllib.request.urlopen(f"http://{address}/health", timeout=10) as resp:
            expect(f"/health of the container at {address}", resp.status, 200)
    expect("containers answering", len(ports), svc["desiredCount"])


def _data_plane():
    try:
        with urllib.request.urlopen(os.environ["AWS_URL"] + "/_pocstack/dataplane", timeout=10) as resp:
            return json.load(resp)
    except (OSError, ValueError):
        return None


def main():
    failed = 0
    for fn in CHECKS:
        try:
            fn()
            print(f"ok      {fn.__name__}")
        except Exception as exc:  # report every check, not just the first failure
            failed += 1
            print(f"FAILED  {fn.__name__}: {type(exc).__name__}: {exc}")
    print(f"{len(CHECKS) - failed}/{len(CHECKS)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
