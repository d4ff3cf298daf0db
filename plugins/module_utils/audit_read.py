# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read everything pocstack.aws.poc_audit judges, starting from one ECS service.

Discovery follows references only (service -> task definition -> roles,
parameters, log groups, images; service -> security groups, target groups ->
load balancers -> listeners -> rules), never naming conventions, so the audit
works on stacks this collection did not create. Only describe/list/get calls
that return metadata: no parameter or secret value is ever read.

Clients are made with retry_decorator=AWSRetry.jittered_backoff(); the ELBv2, IAM
and EC2 reads are amazon.aws's elb_utils, iam and ec2 helpers (they raise AnsibleAWSError),
lists come from botocore's paginators. describe_stack() returns the dict that
audit.run_checks() takes (its layout is documented in audit.py).
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils import ec2 as ec2_utils
from ansible_collections.amazon.aws.plugins.module_utils import elb_utils
from ansible_collections.amazon.aws.plugins.module_utils import iam as iam_utils
from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code

from ansible_collections.pocstack.aws.plugins.module_utils.audit import policy_document
from ansible_collections.pocstack.aws.plugins.module_utils.ecr import describe_repository
from ansible_collections.pocstack.aws.plugins.module_utils.elbv2 import get_listener_rules

_ECR_IMAGE = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$"
)


class ServiceNotFound(Exception):
    pass


# --------------------------------------------------------------------- IAM
def role_policies(iam, role_name):
    """The role's inline policies, then its attached ones, with their documents."""
    return [
        {"kind": "inline", "name": name, "arn": None,
         "document": policy_document(iam.get_role_policy(RoleName=role_name, PolicyName=name, aws_retry=True)["PolicyDocument"])}
        for name in iam_utils.list_iam_role_policies(iam, role_name)
    ] + [
        {"kind": "aws-managed" if ":iam::aws:policy/" in p["PolicyArn"] else "customer-managed",
         "name": p["PolicyName"], "arn": p["PolicyArn"], "document": managed_policy_document(iam, p["PolicyArn"])}
        for p in iam_utils.list_iam_role_attached_policies(iam, role_name)
    ]


def managed_policy_document(iam, arn):
    """The default version's document, or None when the policy cannot be found."""
    try:
        version = iam_utils.get_iam_managed_policy_by_arn(iam, arn)["DefaultVersionId"]
        return policy_document(iam_utils.get_iam_managed_policy_version(iam, arn, version)["Document"])
    except is_ansible_aws_error_code("NoSuchEntity"):
        return None


# --------------------------------------------------------------------- EC2
def describe_security_groups(ec2, group_ids):
    """{id: group}; groups that do not exist are left out. amazon.aws's helper
    answers [] when one is missing: then one by one, to tell which."""
    found = ec2_utils.describe_security_groups(ec2, GroupIds=list(group_ids))
    if not found:
        found = [g for group_id in group_ids for g in ec2_utils.describe_security_groups(ec2, GroupIds=[group_id])]
    return {g["GroupId"]: g for g in found}


# --------------------------------------------------------------------- ELBv2
def ssl_policy_protocols(elbv2, names):
    """{policy name: [protocols]} for the policies AWS knows; unknown ones are left out."""
    known = {}
    for name in names:
        try:
            for policy in elbv2.describe_ssl_policies(Names=[name], aws_retry=True)["SslPolicies"]:
                known[policy["Name"]] = policy.get("SslProtocols", [])
        except is_boto3_error_code("SSLPolicyNotFound"):
            pass
    return known


# --------------------------------------------------------------------- SSM, logs, ECR
def describe_parameters(ssm, names):
    """{name: metadata} (type, key, version; never the value); missing names are left out."""
    found = {}
    for start in range(0, len(names), 50):
        filters = [{"Key": "Name", "Option": "Equals", "Values": list(names[start:start + 50])}]
        parameters = paginated_query_with_retries(ssm, "describe_parameters", ParameterFilters=filters)["Parameters"]
        found.update((parameter["Name"], parameter) for parameter in parameters)
    return found


def describe_log_group(logs, name):
    found = paginated_query_with_retries(logs, "describe_log_groups", logGroupNamePrefix=name)["logGroups"]
    return next((group for group in found if group["logGroupName"] == name), None)


# --------------------------------------------------------------------- references
def secret_reference(container, secret, partition, region, account):
    """Where one container secret comes from: {container, name, value_from, kind, arn, parameter_name, region}."""
    value_from = secret.get("valueFrom", "")
    ref = {"container": container, "name": secret.get("name"), "value_from": value_from}
    parts = parse_aws_arn(value_from) or {}
    if parts.get("service") == "secretsmanager":
        # arn:...:secret:NAME-abcdef[:json-key:version-stage:version-id]
        return {**ref, "kind": "secretsmanager", "arn": ":".join(value_from.split(":")[:7]), "region": parts["region"]}
    if parts.get("service") == "ssm":
        path = parts["resource"][len("parameter"):]  # "/a/b" for /a/b, "/name" for name
        name = path if "/" in path[1:] else path[1:]
        return {**ref, "kind": "ssm", "arn": value_from, "parameter_name": name, "region": parts["region"]}
    # A bare name: a parameter of the task's own region and account.
    arn = f"arn:{partition}:ssm:{region}:{account}:parameter{'' if value_from.startswith('/') else '/'}{value_from}"
    return {**ref, "kind": "ssm", "arn": arn, "parameter_name": value_from, "region": region}


def ecr_image(container, image):
    match = _ECR_IMAGE.match(image or "")
    if not match:
        return None
    return {"container": container, "image": image, "registry_id": match["registry"], "region": match["region"],
            "repository": match["repository"], "tag": match["tag"], "digest": match["digest"]}


# --------------------------------------------------------------------- the whole stack
def describe_stack(client, cluster, service, warn):
    """Read the service and everything it references. `client(name, region=None)`
    returns a retrying boto3 client; `warn(text)` reports what could not be found.
    Raises ServiceNotFound when the service does not exist (or is inactive)."""
    ecs = client("ecs")
    found = ecs.describe_services(cluster=cluster, services=[service], aws_retry=True).get("services", [])
    svc = next((s for s in found if s.get("status") != "INACTIVE"), None)
    if svc is None:
        raise ServiceNotFound(f"ECS service {service!r} not found in cluster {cluster!r}")
    task_definition = ecs.describe_task_definition(
        taskDefinition=svc["taskDefinition"], aws_retry=True)["taskDefinition"]
    arn = parse_aws_arn(task_definition["taskDefinitionArn"])
    partition, region, account = arn["partition"], arn["region"], arn["account_id"]
    containers = task_definition.get("containerDefinitions", [])
    awsvpc = (svc.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    stack = {
        "service": svc,
        "task_definition": task_definition,
        "task_security_group_ids": list(awsvpc.get("securityGroups", [])),
        "target_group_arns": [lb["targetGroupArn"] for lb in svc.get("loadBalancers", []) if lb.get("targetGroupArn")],
        "container_ports": sorted({lb["containerPort"] for lb in svc.get("loadBalancers", []) if lb.get("containerPort")}),
    }
    stack["roles"] = _read_roles(client("iam"), task_definition, warn)
    stack["load_balancers"], stack["ssl_policies"] = _read_load_balancers(client("elbv2"), stack["target_group_arns"])
    group_ids = list(dict.fromkeys(stack["task_security_group_ids"] + [
        g for lb in stack["load_balancers"] for g in lb.get("SecurityGroups", [])]))
    stack["security_groups"] = describe_security_groups(client("ec2"), group_ids) if group_ids else {}
    for missing in [g for g in group_ids if g not in stack["security_groups"]]:
        warn(f"security group {missing} not found")
    stack["secret_references"] = [
        secret_reference(c.get("name"), s, partition, region, account) for c in containers for s in c.get("secrets", [])
    ]
    stack["parameters"] = _read_parameters(client, stack["secret_references"], warn)
    stack["log_groups"] = _read_log_groups(client, containers, region, warn)
    stack["images"] = [i for i in (ecr_image(c.get("name"), c.get("image")) for c in containers) if i]
    stack["repositories"], stack["registry_scanning"] = _read_repositories(client, stack["images"], warn)
    return stack


def _read_roles(iam, task_definition, warn):
    roles, cache = [], {}
    for kind, key in (("execution", "executionRoleArn"), ("task", "taskRoleArn")):
        arn = task_definition.get(key)
        if not arn:
            continue
        name = arn.rsplit("/", 1)[-1]
        if arn not in cache:
            role = iam_utils.get_iam_role(iam, name)
            if role is None:
                warn(f"{kind} role {arn} not found")
            cache[arn] = (role, role_policies(iam, name) if role else [])
        role, policies = cache[arn]
        roles.append({"kind": kind, "arn": arn, "name": name, "policies": policies,
                      "permissions_boundary": ((role or {}).get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")})
    return roles


def _read_load_balancers(elbv2, target_group_arns):
    if not target_group_arns:
        return [], {}
    target_groups = elb_utils.describe_target_groups(elbv2, TargetGroupArns=list(target_group_arns))
    lb_arns = list(dict.fromkeys(a for tg in target_groups for a in tg.get("LoadBalancerArns", [])))
    load_balancers = (elb_utils.describe_load_balancers(elbv2, load_balancer_arns=lb_arns) or []) if lb_arns else []
    for lb in load_balancers:
        attributes = elb_utils.describe_load_balancer_attributes(elbv2, lb["LoadBalancerArn"])
        lb["attributes"] = {a["Key"]: a.get("Value") for a in attributes}
        lb["listeners"] = elb_utils.describe_listeners(elbv2, lb["LoadBalancerArn"])
        for listener in lb["listeners"]:
            listener["Rules"] = get_listener_rules(elbv2, listener["ListenerArn"])
    names = sorted({li["SslPolicy"] for lb in load_balancers for li in lb["listeners"] if li.get("SslPolicy")})
    return load_balancers, ssl_policy_protocols(elbv2, names)


def _read_parameters(client, references, warn):
    parameters = {}
    ssm_refs = [r for r in references if r["kind"] == "ssm"]
    for region in sorted({r["region"] for r in ssm_refs}):
        refs = [r for r in ssm_refs if r["region"] == region]
        found = describe_parameters(client("ssm", region=region), sorted({r["parameter_name"] for r in refs}))
        for ref in refs:
            parameters[ref["arn"]] = found.get(ref["parameter_name"])
            if parameters[ref["arn"]] is None:
                warn(f"parameter {ref['parameter_name']} (secret {ref['name']} of container {ref['container']}) not found")
    return parameters


def _read_log_groups(client, containers, region, warn):
    groups = {}
    for container in containers:
        config = container.get("logConfiguration") or {}
        options = config.get("options") or {}
        if config.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
            continue
        name = options["awslogs-group"]
        if name not in groups:
            groups[name] = describe_log_group(client("logs", region=options.get("awslogs-region") or region), name)
            if groups[name] is None:
                warn(f"log group {name} not found (with awslogs-create-group, ECS creates it without retention)")
    return groups


def _read_repositories(client, images, warn):
    repositories, scanning = {}, None
    for image in images:
        if image["repository"] in repositories:
            continue
        ecr = client("ecr", region=image["region"])
        repositories[image["repository"]] = describe_repository(ecr, image["repository"], image["registry_id"])
        if repositories[image["repository"]] is None:
            warn(f"ECR repository {image['repository']} of container {image['container']} not found")
        elif scanning is None:
            scanning = ecr.get_registry_scanning_configuration(aws_retry=True).get("scanningConfiguration")
    return repositories, scanning
