# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security checklist of a deployed PoC service (pocstack.aws.poc_audit).

Pure functions over the resources that audit_read.describe_stack() read, so
that every check can be tested without AWS. The described stack is a dict:

  service            ECS DescribeServices item (networkConfiguration, loadBalancers)
  task_definition    ECS DescribeTaskDefinition item (containerDefinitions, role ARNs)
  roles              [{kind: execution|task, arn, name, policies: [
                        {kind: inline|aws-managed|customer-managed, name, arn, document}]}]
                     (document is None when it could not be read)
  security_groups    {group id: EC2 DescribeSecurityGroups item}
  task_security_group_ids, container_ports
  load_balancers     [{LoadBalancerArn, LoadBalancerName, SecurityGroups, attributes: {key: value},
                       listeners: [ELBv2 listener + Rules: [DescribeRules items]]}]
  target_group_arns  target groups the service registers its tasks in
  ssl_policies       {policy name: [protocols]} from DescribeSSLPolicies
  secret_references  [{container, name, value_from, arn, kind: ssm|secretsmanager, parameter_name}]
  parameters         {parameter ARN: DescribeParameters item (never a value) or None}
  log_groups         {log group name: DescribeLogGroups item or None}
  images             [{container, image, repository, registry_id, region, tag, digest}] (ECR images)
  repositories       {repository name: DescribeRepositories item or None}
  registry_scanning  GetRegistryScanningConfiguration's scanningConfiguration, or None

Each check returns findings: {severity, check, resource, message, fix}. A
message never contains a value of an environment variable or a parameter.
"""

import fnmatch
import json
import re
from urllib.parse import unquote

HIGH, MEDIUM, LOW = "high", "medium", "low"
SEVERITIES = (HIGH, MEDIUM, LOW)
_RANK = {HIGH: 0, MEDIUM: 1, LOW: 2}

# Actions that have no resource-level permissions in AWS: "*" is the only
# resource a policy can give them, so "*" is not a finding for these.
STAR_ONLY_ACTIONS = (
    "ecr:GetAuthorizationToken",
    "sts:GetCallerIdentity",
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ssm:DescribeParameters",
    "secretsmanager:ListSecrets",
    "secretsmanager:GetRandomPassword",
    "kms:ListKeys",
    "kms:ListAliases",
    "s3:ListAllMyBuckets",
    "ec2:Describe*",
    "elasticloadbalancing:Describe*",
)

# Actions that read a secret value (what the execution role needs for `secrets`).
SECRET_READ_ACTIONS = (
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "secretsmanager:GetSecretValue",
)
_SECRET_SERVICES = ("ssm", "secretsmanager")

# AWS managed policies whose names say they reach every resource of a service.
_BROAD_MANAGED_NAME = re.compile(r"(FullAccess|ReadOnlyAccess|ReadOnly|PowerUserAccess|AdministratorAccess)(_v\d+)?$")

# HTTPS listener policies that still accept TLS 1.0 or 1.1, by name, for when
# DescribeSSLPolicies does not know the policy.
_OLD_TLS_POLICY = re.compile(r"-(1-0|1-1)-|^ELBSecurityPolicy-(\d{4}-\d{2}|FS-\d{4}-\d{2})$")
_OLD_TLS_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1")

# Environment variable names that look like secrets, and last words that make
# a name a reference to one (SECRET_ARN, PASSWORD_FILE, ..._FINGERPRINT).
_SECRET_WORDS = ("PASS", "SECRET", "TOKEN")
_REFERENCE_WORDS = frozenset((
    "ARN", "ID", "NAME", "PATH", "FILE", "URL", "URI", "FINGERPRINT", "HASH", "LENGTH", "TTL",
    "TIMEOUT", "EXPIRY", "EXPIRES", "HEADER", "FIELD", "TYPE", "REGION", "ALGORITHM", "FORMAT",
))

WORLD = ("0.0.0.0/0", "::/0")
ALB_PORTS = (80, 443)


# --------------------------------------------------------------------- helpers
def finding(severity, check, resource, message, fix):
    return {"severity": severity, "check": check, "resource": resource, "message": message, "fix": fix}


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def policy_document(document):
    """A policy document as a dict, from the dict boto3 returns or a (URL-encoded) JSON string."""
    if document is None or isinstance(document, dict):
        return document
    return json.loads(document if document.lstrip().startswith("{") else unquote(document))


def allow_statements(document):
    document = policy_document(document) or {}
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict) and s.get("Effect") == "Allow"]


def _matches(pattern, value):
    """IAM wildcard match, without case (IAM action names are case-insensitive)."""
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def star_only(action):
    return any(_matches(allowed, action) for allowed in STAR_ONLY_ACTIONS)


def arn_parts(arn):
    """(service, region, account, resource) of an ARN, or None. Not amazon.aws's
    parse_aws_arn: policy Resources have "*" for region or account, which it refuses."""
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return parts[2], parts[3], parts[4], parts[5]


def broad_resource(resource):
    """"*", or an ARN naming every resource of a type (parameter/*, log-group:*, ...)."""
    if resource == "*":
        return True
    parts = arn_parts(resource)
    if not parts:
        return False
    if parts[0] == "s3":  # bucket/*: every object of one bucket, not a resource type
        return parts[3] == "*"
    return re.fullmatch(r"(?:[A-Za-z0-9-]+[/:])?\*", parts[3]) is not None


def _policy_resource(role, policy, index=None, statement=None):
    where = f"role/{role.get('name')} policy {policy.get('name')}"
    return where if statement is None else f"{where} statement {statement.get('Sid') or '#' + str(index)}"


def _role_statements(stack, role_kind=None, own=False):
    """(resource, statement) of each Allow statement of the roles (of one kind
    only, when given). own: only inline and customer-managed policies, whose
    statements are judged one by one; AWS managed ones get one finding each."""
    for role in stack.get("roles", []):
        for policy in role.get("policies", []) if role_kind in (None, role.get("kind")) else []:
            if not (own and policy.get("kind") == "aws-managed"):
                for index, st in enumerate(allow_statements(policy.get("document")), 1):
                    yield _policy_resource(role, policy, index, st), st


def _whole_service(action):
    return action == "*" or action.endswith(":*")


def _every_but(statement, key, what):
    return f"every {what} but " + ", ".join(sorted(_as_list(statement[key])))


def _ingress(stack, group_ids):
    """(label, permission) of each ingress permission of the security groups."""
    for group_id in group_ids:
        group = stack.get("security_groups", {}).get(group_id) or {}
        name = group.get("GroupName")
        label = f"security group {group_id} ({name})" if name else f"security group {group_id}"
        for permission in group.get("IpPermissions", []):
            yield label, permission


def _port_text(permission):
    proto = str(permission.get("IpProtocol", "-1"))
    if proto == "-1":
        return "all protocols and ports"
    low, high = permission.get("FromPort"), permission.get("ToPort")
    if low in (None, -1) and high in (None, -1) or (low == 0 and high == 65535):
        return f"all {_proto_name(proto)} ports"
    return f"{_proto_name(proto)} {low}" if low == high else f"{_proto_name(proto)} {low}-{high}"


def _proto_name(proto):
    return {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}.get(proto, proto)


def _sources(permission):
    found = [r.get("CidrIp") for r in permission.get("IpRanges", [])]
    found += [r.get("CidrIpv6") for r in permission.get("Ipv6Ranges", [])]
    found += [p.get("PrefixListId") for p in permission.get("PrefixListIds", [])]
    found += [g.get("GroupId") for g in permission.get("UserIdGroupPairs", [])]
    return [s for s in found if s]


def _tcp_ports(permission):
    """The tcp port range of a permission, or None when it is not tcp."""
    if _proto_name(str(permission.get("IpProtocol", "-1"))) != "tcp":
        return None
    low, high = permission.get("FromPort"), permission.get("ToPort")
    if low is None or high is None or low == -1:
        return 0, 65535
    return low, high


def _routes_to(actions, target_group_arns):
    """Whether a forward action (to one target group or weighted ones) reaches one of target_group_arns."""
    for action in actions:
        weighted = (action.get("ForwardConfig") or {}).get("TargetGroups", [])
        arns = [action.get("TargetGroupArn")] + [t.get("TargetGroupArn") for t in weighted]
        if action.get("Type") == "forward" and any(arn in target_group_arns for arn in arns):
            return True
    return False


def _listeners(stack, protocol=None):
    """(label, listener) of each listener of the load balancers (of one protocol, when given)."""
    for lb in stack.get("load_balancers", []):
        for listener in lb.get("listeners", []):
            if protocol in (None, listener.get("Protocol")):
                where = f"{listener.get('Protocol')}:{listener.get('Port')}"
                yield f"load balancer {lb.get('LoadBalancerName')} listener {where}", listener


# ---------------------------------------------------------------------- checks
def check_iam_action_wildcard(stack, options):
    """Allow statements with wildcard actions (*, service:*, NotAction: high; Get* and the like: medium)."""
    found = []
    for resource, st in _role_statements(stack, own=True):
        if "NotAction" in st:
            found.append(finding(
                HIGH, "iam-action-wildcard", resource,
                f"NotAction allows every action except {', '.join(sorted(_as_list(st['NotAction'])))}",
                "list the actions the service needs in Action instead of NotAction"))
            continue
        actions = _as_list(st.get("Action"))
        whole = [a for a in actions if _whole_service(a)]
        partial = [a for a in actions if a not in whole and ("*" in a or "?" in a) and not star_only(a)]
        if whole:
            found.append(finding(
                HIGH, "iam-action-wildcard", resource,
                f"allows every action of {', '.join(sorted(whole))}",
                "name the actions the service needs (for example ssm:GetParameters), not a service wildcard"))
        elif partial:
            found.append(finding(
                MEDIUM, "iam-action-wildcard", resource,
                f"wildcard actions {', '.join(sorted(partial))}",
                "name the actions the service needs instead of a wildcard"))
    return found


def check_iam_resource_wildcard(stack, options):
    """Allow statements on Resource "*" (or every resource of a type, or
    NotResource) for actions that AWS lets a policy scope to resources."""
    found = []
    for resource, st in _role_statements(stack, own=True):
        if "NotResource" in st:
            broad = ["NotResource " + json.dumps(sorted(_as_list(st["NotResource"])))]
        else:
            broad = [r for r in _as_list(st.get("Resource")) if broad_resource(r)]
        if "NotAction" in st:
            actions = [_every_but(st, "NotAction", "action")]
        else:
            actions = [a for a in _as_list(st.get("Action")) if not star_only(a)]
        if broad and actions:
            found.append(finding(
                HIGH, "iam-resource-wildcard", resource,
                f"{', '.join(sorted(actions))} on {', '.join(broad)}",
                "scope the statement to the service's own ARNs (repository, parameters, log group, key); "
                "only actions without resource-level permissions (ecr:GetAuthorizationToken) need \"*\""))
    return found


def check_iam_aws_managed_policy(stack, options):
    """AWS managed policies attached to the task's roles: written for every
    account, they reach far beyond one service. high: full access, read-only
    access to a whole service, administrator, or wildcard actions; medium: others."""
    found = []
    for role in stack.get("roles", []):
        for policy in role.get("policies", []):
            if policy.get("kind") != "aws-managed":
                continue
            name = policy.get("name") or ""
            allowed = allow_statements(policy.get("document"))
            wildcard = any(
                "NotAction" in st or any(_whole_service(a) for a in _as_list(st.get("Action"))) for st in allowed)
            broad = any(
                any(broad_resource(r) for r in _as_list(st.get("Resource")))
                and not all(star_only(a) for a in _as_list(st.get("Action")))
                for st in allowed
            )
            if _BROAD_MANAGED_NAME.search(name) or wildcard:
                severity, why = HIGH, "grants a whole service's actions or data to the role"
            else:
                severity = MEDIUM
                why = "grants its actions on every resource of the account" if broad else "is written for every account, not this service"
            found.append(finding(
                severity, "iam-aws-managed-policy", f"role/{role.get('name')} policy {policy.get('arn') or name}",
                f"AWS managed policy {name} {why}",
                "detach it and give the role an inline policy scoped to the service's own resources"))
    return found


def check_iam_exec_role_foreign_parameters(stack, options):
    """The execution role may read SSM parameters or Secrets Manager secrets
    other than those the task definition's `secrets` reference."""
    own = {ref["arn"] for ref in stack.get("secret_references", []) if ref.get("arn")}
    found = []
    for resource, st in _role_statements(stack, "execution"):
        if "NotAction" in st:
            reads = [a for a in SECRET_READ_ACTIONS if not any(_matches(p, a) for p in _as_list(st["NotAction"]))]
        else:
            reads = [a for a in SECRET_READ_ACTIONS if any(_matches(p, a) for p in _as_list(st.get("Action")))]
        if "NotResource" in st:
            beyond, severity = [_every_but(st, "NotResource", "resource")], HIGH
        else:
            beyond, severity = _foreign_secret_resources(_as_list(st.get("Resource")), own)
        if reads and beyond:
            found.append(finding(
                severity, "iam-exec-role-foreign-parameters", resource,
                f"may call {', '.join(sorted(set(reads)))} beyond the service's own secrets, on {', '.join(beyond)}",
                "allow ssm:GetParameters only on the ARNs of the parameters in the task definition's secrets"))
    return found


def _foreign_secret_resources(resources, own):
    """Resources (of SSM or Secrets Manager, or "*") other than the service's
    own secrets, and the severity: a wildcard that also covers one of the
    service's own secrets (its path, say) is medium, anything else high."""
    beyond, severity = [], None
    for resource in resources:
        parts = arn_parts(resource)
        if resource != "*" and (not parts or parts[0] not in _SECRET_SERVICES):
            continue  # another service's resource in the same statement (a KMS key, say)
        if resource in own:
            continue
        covers_own = any(fnmatch.fnmatchcase(arn, resource) for arn in own)
        if covers_own and "*" not in resource:
            continue  # secret-name-?????? is how a policy names one Secrets Manager secret
        level = MEDIUM if covers_own and not broad_resource(resource) else HIGH
        beyond.append(resource)
        severity = HIGH if HIGH in (severity, level) else level
    return beyond, severity


def check_iam_task_role_permissions(stack, options):
    """Anything the task role allows that the inventory did not grant
    (option task_role_allowed_actions); the default task role has none."""
    allowed = options.get("task_role_allowed_actions") or []
    found = [
        finding(LOW, "iam-task-role-permissions", _policy_resource(role, policy),
                f"policy {policy.get('name')} (not readable) gives the application AWS permissions",
                "detach it, or grant the permissions the application needs through the inventory")
        for role in stack.get("roles", []) if role.get("kind") == "task"
        for policy in role.get("policies", []) if policy.get("document") is None
    ]
    for resource, st in _role_statements(stack, "task"):
        if "NotAction" in st:
            extra = [_every_but(st, "NotAction", "action")]
        else:
            extra = [a for a in _as_list(st.get("Action")) if not any(_matches(p, a) for p in allowed)]
        if extra:
            found.append(finding(
                LOW, "iam-task-role-permissions", resource,
                f"the application may call {', '.join(sorted(extra))}, which the inventory does not grant",
                "remove the statement, or grant the actions through the inventory "
                "(poc_audit task_role_allowed_actions) if the application needs them"))
    return found


def _load_balancer_group_ids(stack):
    return list(dict.fromkeys(g for lb in stack.get("load_balancers", []) for g in lb.get("SecurityGroups", [])))


def check_sg_alb_ingress(stack, options):
    """Load balancer security group ingress other than tcp 443 and 80 (all
    protocols or a range of ports: high; another single port or protocol: medium)."""
    found = []
    for label, permission in _ingress(stack, _load_balancer_group_ids(stack)):
        ports = _tcp_ports(permission)
        if ports is not None:
            others = ports[1] - ports[0] + 1 - sum(1 for p in ALB_PORTS if ports[0] <= p <= ports[1])
            if others == 0:
                continue
            wide = others > 1
        else:
            wide = str(permission.get("IpProtocol", "-1")) == "-1"
        found.append(finding(
            HIGH if wide else MEDIUM, "sg-alb-ingress", label,
            f"load balancer accepts {_port_text(permission)} from {', '.join(_sources(permission)) or 'nowhere'}",
            "allow only tcp 443, and 80 for the redirect to HTTPS"))
    return found


def check_sg_task_ingress(stack, options):
    """Task security group ingress other than the container port from the
    load balancer's security group (from anywhere: high; else medium)."""
    alb_groups = set(_load_balancer_group_ids(stack))
    ports = set(stack.get("container_ports", []))
    found = []
    for label, permission in _ingress(stack, stack.get("task_security_group_ids", [])):
        tcp = _tcp_ports(permission)
        port_ok = tcp is not None and tcp[0] == tcp[1] and tcp[0] in ports
        bad = [s for s in _sources(permission) if not (port_ok and s in alb_groups)]
        if bad:
            found.append(finding(
                HIGH if any(s in WORLD for s in bad) else MEDIUM, "sg-task-ingress", label,
                f"tasks accept {_port_text(permission)} from {', '.join(bad)}",
                f"allow only tcp {'/'.join(str(p) for p in sorted(ports)) or 'the container port'} "
                "from the load balancer's security group"))
    return found


def check_task_public_ip(stack, options):
    """Tasks get public IP addresses (assignPublicIp ENABLED)."""
    config = ((stack.get("service") or {}).get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    if config.get("assignPublicIp") != "ENABLED":
        return []
    return [finding(
        MEDIUM, "task-public-ip", f"service {(stack.get('service') or {}).get('serviceName')}",
        "tasks get public IP addresses (assignPublicIp ENABLED): one security group rule away from the internet",
        "run the tasks in private subnets without public IPs (NAT or VPC endpoints for ECR, SSM and logs)")]


def _redirects_to_https(actions):
    return any(a.get("Type") == "redirect" and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS" for a in actions)


def check_listener_http_no_redirect(stack, options):
    """HTTP listeners that do not redirect to HTTPS: high when plain HTTP
    reaches the service (default action or a rule forwards to it), else low."""
    targets = set(stack.get("target_group_arns", []))
    found = []
    for label, listener in _listeners(stack, "HTTP"):
        actions = [listener.get("DefaultActions", [])] + [rule.get("Actions", []) for rule in listener.get("Rules", [])]
        if any(_routes_to(a, targets) for a in actions):
            found.append(finding(
                HIGH, "listener-http-no-redirect", label,
                "plain HTTP is forwarded to the service",
                "make the HTTP listener's default action a redirect to HTTPS (port 443, HTTP_301) "
                "and route the service only on the HTTPS listener"))
        elif not _redirects_to_https(listener.get("DefaultActions", [])):
            found.append(finding(
                LOW, "listener-http-no-redirect", label,
                "HTTP listener does not redirect to HTTPS",
                "make the HTTP listener's default action a redirect to HTTPS (port 443, HTTP_301)"))
    return found


def _old_tls(policy, known):
    if policy in known:
        return [p for p in known[policy] if p in _OLD_TLS_PROTOCOLS]
    return ["TLSv1/TLSv1.1"] if _OLD_TLS_POLICY.search(policy) else []


def check_listener_tls_policy(stack, options):
    """HTTPS listeners whose security policy accepts TLS versions before 1.2."""
    known = stack.get("ssl_policies") or {}
    found = []
    for label, listener in _listeners(stack, "HTTPS"):
        policy = listener.get("SslPolicy") or ""
        old = _old_tls(policy, known)
        if old:
            found.append(finding(
                HIGH, "listener-tls-policy", label,
                f"security policy {policy} accepts {', '.join(old)}",
                "use a TLS 1.3 policy (ELBSecurityPolicy-TLS13-1-2-2021-06)"))
    return found


def check_listener_default_forward(stack, options):
    """A listener's default action forwards to the service: every request no
    rule matches (any host, any path) reaches it."""
    targets = set(stack.get("target_group_arns", []))
    return [
        finding(LOW, "listener-default-forward", label,
                "the default action forwards every unmatched request to the service",
                "make the default action a fixed 404 and route the service with a listener rule")
        for label, listener in _listeners(stack)
        if _routes_to(listener.get("DefaultActions", []), targets)
    ]


def check_rule_no_condition(stack, options):
    """Listener rules (not the default) that forward to the service without any condition."""
    targets = set(stack.get("target_group_arns", []))
    return [
        finding(MEDIUM, "rule-no-condition", f"{label} rule {rule.get('Priority')}",
                "rule forwards to the service without any condition",
                "give the rule a path-pattern and/or host-header condition")
        for label, listener in _listeners(stack)
        for rule in listener.get("Rules", [])
        if not rule.get("IsDefault") and not rule.get("Conditions") and _routes_to(rule.get("Actions", []), targets)
    ]


def _alb_attribute_check(check_id, severity, key, message, fix):
    """A check that reports every load balancer whose attribute `key` is not true."""
    def check(stack, options):
        return [
            finding(severity, check_id, f"load balancer {lb.get('LoadBalancerName')}", message, fix)
            for lb in stack.get("load_balancers", [])
            if str((lb.get("attributes") or {}).get(key, "false")).lower() != "true"
        ]
    check.__doc__ = f"{key} is false."
    return check


check_alb_drop_invalid_headers = _alb_attribute_check(
    "alb-drop-invalid-headers", MEDIUM, "routing.http.drop_invalid_header_fields.enabled",
    "requests with invalid HTTP header names reach the service (routing.http.drop_invalid_header_fields.enabled false)",
    "set routing.http.drop_invalid_header_fields.enabled to true")
check_alb_deletion_protection = _alb_attribute_check(
    "alb-deletion-protection", LOW, "deletion_protection.enabled",
    "deletion protection is off",
    "set deletion_protection.enabled to true (and off again before teardown)")
check_alb_access_logs = _alb_attribute_check(
    "alb-access-logs", LOW, "access_logs.s3.enabled",
    "access logs are off: requests leave no trace",
    "set access_logs.s3.enabled to true with a bucket the load balancer may write to")


def looks_secret(name, allowed=()):
    """Whether an environment variable name looks like it holds a secret
    (*PASS*, *SECRET*, *TOKEN*, *KEY), unless it names a reference to one."""
    if name in allowed:
        return False
    words = [w for w in re.split(r"[^A-Z0-9]+", name.upper()) if w]
    if not words or words[-1] in _REFERENCE_WORDS:
        return False
    return any(marker in word for word in words for marker in _SECRET_WORDS) or any(w.endswith("KEY") for w in words)


def check_env_plain_secret(stack, options):
    """Environment variables whose names look like secrets, passed as plain
    values (visible to anyone who may describe the task definition)."""
    allowed = options.get("plain_environment_allowed") or []
    return [
        finding(HIGH, "env-plain-secret", f"container {container.get('name')} environment {variable.get('name')}",
                "looks like a secret but is a plain environment value, readable by anyone who may "
                "describe the task definition",
                "store it as an SSM SecureString and pass it through the container's secrets (valueFrom)")
        for container in (stack.get("task_definition") or {}).get("containerDefinitions", [])
        for variable in container.get("environment", [])
        if looks_secret(variable.get("name", ""), allowed)
    ]


def check_ssm_parameter_not_secure(stack, options):
    """Parameters referenced by the container's secrets that are String or StringList, not SecureString."""
    found = []
    for ref in stack.get("secret_references", []):
        parameter = (stack.get("parameters") or {}).get(ref.get("arn")) if ref.get("kind") == "ssm" else None
        if parameter and parameter.get("Type") != "SecureString":
            found.append(finding(
                HIGH, "ssm-parameter-not-secure", ref.get("parameter_name") or ref.get("arn"),
                f"secret {ref.get('name')} of container {ref.get('container')} is a {parameter.get('Type')} "
                "parameter: stored unencrypted",
                "store it as a SecureString (delete and re-create the parameter with type SecureString)"))
    return found


def check_log_retention(stack, options):
    """Log groups of the containers without a retention period (kept forever)."""
    return [
        finding(MEDIUM, "log-retention", f"log group {name}",
                "logs are kept forever (no retention)",
                "set a retention period (for example 14 days)")
        for name, group in sorted((stack.get("log_groups") or {}).items())
        if group is not None and not group.get("retentionInDays")
    ]


def _scanned_by_registry(stack, repository):
    config = stack.get("registry_scanning") or {}
    filters = [f.get("filter", "") for rule in config.get("rules", []) for f in rule.get("repositoryFilters", [])]
    return config.get("scanType") == "ENHANCED" and any(_matches(f, repository) for f in filters)


def check_ecr_scan_on_push(stack, options):
    """ECR repositories of the images without scan on push (nor enhanced registry scanning)."""
    return [
        finding(MEDIUM, "ecr-scan-on-push", f"repository {name}",
                "images are not scanned for vulnerabilities on push",
                "turn on scan on push (imageScanningConfiguration.scanOnPush)")
        for name, repo in sorted((stack.get("repositories") or {}).items())
        if repo is not None and not (repo.get("imageScanningConfiguration") or {}).get("scanOnPush")
        and not _scanned_by_registry(stack, name)
    ]


def check_ecr_tag_mutable(stack, options):
    """ECR repositories with mutable tags: low when the task pins its image by
    digest, medium when it runs a tag that a push can move."""
    found = []
    for name, repo in sorted((stack.get("repositories") or {}).items()):
        if repo is None or not str(repo.get("imageTagMutability", "")).startswith("MUTABLE"):
            continue
        by_tag = [i for i in stack.get("images", []) if i.get("repository") == name and not i.get("digest")]
        found.append(finding(
            MEDIUM if by_tag else LOW, "ecr-tag-mutable", f"repository {name}",
            "tags are mutable" + (f" and the task runs the tag {by_tag[0].get('tag') or 'latest'}: "
                                  "a push changes what runs" if by_tag else ""),
            "make the tags immutable (imageTagMutability IMMUTABLE) and deploy by digest"))
    return found


# The checklist, by id, in report order: each check_<id> function above, in
# the order they are defined (a check's id is its name, with - for _).
CHECKS = {name[len("check_"):].replace("_", "-"): check for name, check in list(globals().items())
          if name.startswith("check_") and callable(check)}
CHECK_IDS = list(CHECKS)


def run_checks(stack, options=None):
    """Every finding of every check not in options['skip'], most severe first."""
    options = options or {}
    skip = set(options.get("skip") or [])
    found = [f for check_id, check in CHECKS.items() if check_id not in skip for f in check(stack, options)]
    return sorted(found, key=lambda f: (_RANK[f["severity"]], CHECK_IDS.index(f["check"]), f["resource"]))


def counts(findings):
    return {severity: sum(1 for f in findings if f["severity"] == severity) for severity in SEVERITIES}


def report_lines(findings):
    """One line per finding: severity, check id, resource, what is wrong, how to fix."""
    return [
        f"{f['severity'].upper():<6} {f['check']:<32} {f['resource']}: {f['message']}. Fix: {f['fix']}."
        for f in findings
    ]
