"""The audit checklist (no AWS): every check finds its loose input and nothing
in the tight one, with the documented severity."""
import copy

import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import audit
from ansible_collections.pocstack.aws.plugins.module_utils import audit_read

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARAM = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter"
USER_ARN = f"{PARAM}/pocstack/plotly/PLOTLY_USER"
PASS_ARN = f"{PARAM}/pocstack/plotly/PLOTLY_PASS"
OTHER_ARN = f"{PARAM}/pocstack/grafana/ADMIN_PASS"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:plotly-api-AbCdEf"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPO_ARN = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/pocstack/plotly"
LOGS_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/pocstack/plotly:log-stream:*"
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/plotly-8050/0123456789abcdef"
OTHER_TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/grafana-3000/fedcba9876543210"
ALB_SG, TASK_SG, OTHER_SG = "sg-0a1b", "sg-0c2d", "sg-0e3f"
DIGEST = "sha256:" + "a" * 64
WORLD = [{"CidrIp": "0.0.0.0/0"}]
REDIRECT = {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
NOT_FOUND = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}
FORWARD = {"Type": "forward", "TargetGroupArn": TG}
WEIGHTED = {"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": OTHER_TG, "Weight": 1},
                                                                  {"TargetGroupArn": TG, "Weight": 1}]}}
SECRET_VALUE = "hunter2-never-printed"


def tight():
    """The stack a least-privilege deploy should leave behind."""
    exec_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "AuthenticateToEcr", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullOwnImage", "Effect": "Allow", "Resource": REPO_ARN,
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]},
        {"Sid": "ReadOwnSecrets", "Effect": "Allow", "Action": ["ssm:GetParameters", "kms:Decrypt"],
         "Resource": [USER_ARN, PASS_ARN, KEY_ARN]},
        {"Sid": "WriteOwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": LOGS_ARN},
        {"Sid": "NeverSecrets", "Effect": "Deny", "Action": "*", "Resource": OTHER_ARN},
    ]}
    https = {"Protocol": "HTTPS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "DefaultActions": [NOT_FOUND],
             "Rules": [{"Priority": "100", "IsDefault": False, "Actions": [FORWARD],
                        "Conditions": [{"Field": "path-pattern", "Values": ["*"]}]},
                       {"Priority": "default", "IsDefault": True, "Conditions": [], "Actions": [NOT_FOUND]}]}
    http = {"Protocol": "HTTP", "Port": 80, "DefaultActions": [REDIRECT],
            "Rules": [{"Priority": "default", "IsDefault": True, "Conditions": [], "Actions": [REDIRECT]}]}
    ref = {"container": "plotly", "kind": "ssm", "region": REGION}
    return {
        "service": {"serviceName": "plotly", "loadBalancers": [{"targetGroupArn": TG, "containerPort": 8050}],
                    "networkConfiguration": {"awsvpcConfiguration": {"securityGroups": [TASK_SG], "assignPublicIp": "DISABLED"}}},
        "task_definition": {"containerDefinitions": [{
            "name": "plotly", "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/pocstack/plotly@{DIGEST}",
            "environment": [{"name": "PORT", "value": "8050"}, {"name": "POCSTACK_SECRETS_FINGERPRINT", "value": "0f1e2d3c"}],
            "secrets": [{"name": "PLOTLY_USER", "valueFrom": USER_ARN}, {"name": "PLOTLY_PASS", "valueFrom": PASS_ARN}],
        }]},
        "roles": [
            {"kind": "execution", "name": "pocstack-plotly-exec",
             "policies": [{"kind": "inline", "name": "pocstack-execution", "arn": None, "document": exec_policy}]},
            {"kind": "task", "name": "pocstack-plotly-task", "policies": []},
        ],
        "task_security_group_ids": [TASK_SG],
        "container_ports": [8050],
        "target_group_arns": [TG],
        "security_groups": {
            ALB_SG: {"GroupId": ALB_SG, "GroupName": "pocstack-alb", "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": WORLD, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": WORLD}]},
            TASK_SG: {"GroupId": TASK_SG, "GroupName": "pocstack-plotly-task", "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 8050, "ToPort": 8050, "UserIdGroupPairs": [{"GroupId": ALB_SG}]}]},
        },
        "load_balancers": [{"LoadBalancerName": "pocstack", "SecurityGroups": [ALB_SG], "listeners": [https, http],
                            "attributes": {"routing.http.drop_invalid_header_fields.enabled": "true",
                                           "deletion_protection.enabled": "true", "access_logs.s3.enabled": "true"}}],
        "ssl_policies": {"ELBSecurityPolicy-TLS13-1-2-2021-06": ["TLSv1.3", "TLSv1.2"]},
        "secret_references": [
            {**ref, "name": "PLOTLY_USER", "arn": USER_ARN, "parameter_name": "/pocstack/plotly/PLOTLY_USER"},
            {**ref, "name": "PLOTLY_PASS", "arn": PASS_ARN, "parameter_name": "/pocstack/plotly/PLOTLY_PASS"},
        ],
        "parameters": {USER_ARN: {"Name": "/pocstack/plotly/PLOTLY_USER", "Type": "SecureString"},
                       PASS_ARN: {"Name": "/pocstack/plotly/PLOTLY_PASS", "Type": "SecureString"}},
        "log_groups": {"/pocstack/plotly": {"logGroupName": "/pocstack/plotly", "retentionInDays": 14}},
        "images": [{"container": "plotly", "repository": "pocstack/plotly", "tag": None, "digest": DIGEST}],
        "repositories": {"pocstack/plotly": {"imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True}}},
        "registry_scanning": {"scanType": "BASIC", "rules": []},
    }


# ---------------------------------------------------------------- mutations
def exec_statement(statement):
    def loosen(stack):
        stack["roles"][0]["policies"][0]["document"]["Statement"].append({"Effect": "Allow", **statement})
        return stack
    return loosen


def attach(kind, role_index, name, document=None):
    def loosen(stack):
        arn = f"arn:aws:iam::{'aws' if kind == 'aws-managed' else ACCOUNT}:policy/{name}"
        stack["roles"][role_index]["policies"].append({"kind": kind, "name": name, "arn": arn, "document": document})
        return stack
    return loosen


def ingress(group, permission):
    def loosen(stack):
        stack["security_groups"][group]["IpPermissions"].append(permission)
        return stack
    return loosen


def set_path(path, value):
    """Set stack[a][b]... = value; path items are keys or list indexes."""
    def loosen(stack):
        target = stack
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return stack
    return loosen


def env(name):
    return set_path(["task_definition", "containerDefinitions", 0, "environment", 0], {"name": name, "value": SECRET_VALUE})


def https_rule(rule):
    def loosen(stack):
        stack["load_balancers"][0]["listeners"][0]["Rules"].insert(0, rule)
        return stack
    return loosen


LISTENERS = ["load_balancers", 0, "listeners"]
FULL_LOGS = {"Statement": [{"Effect": "Allow", "Action": ["logs:*"], "Resource": "*"}]}
ECS_EXEC_MANAGED = {"Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
    "logs:CreateLogStream", "logs:PutLogEvents"]}]}

# (check id, severity of the finding, how the tight stack is loosened)
LOOSE = [
    ("iam-action-wildcard", "high", exec_statement({"Action": "*", "Resource": LOGS_ARN})),
    ("iam-action-wildcard", "high", exec_statement({"Action": ["logs:*"], "Resource": LOGS_ARN})),
    ("iam-action-wildcard", "high", exec_statement({"NotAction": "iam:*", "Resource": LOGS_ARN})),
    ("iam-action-wildcard", "medium", exec_statement({"Action": "ecr:Get*", "Resource": REPO_ARN})),
    ("iam-resource-wildcard", "high", exec_statement({"Action": "logs:PutLogEvents", "Resource": "*"})),
    ("iam-resource-wildcard", "high", exec_statement({"Action": "ecr:BatchGetImage",
                                                      "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*"})),
    ("iam-resource-wildcard", "high", exec_statement({"Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:*:*"})),
    ("iam-resource-wildcard", "high", exec_statement({"Action": "logs:PutLogEvents", "NotResource": LOGS_ARN})),
    ("iam-resource-wildcard", "high", exec_statement({"Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "Resource": "*"})),
    ("iam-aws-managed-policy", "high", attach("aws-managed", 0, "CloudWatchLogsFullAccess", FULL_LOGS)),
    ("iam-aws-managed-policy", "high", attach("aws-managed", 0, "AmazonSSMReadOnlyAccess")),
    ("iam-aws-managed-policy", "high", attach("aws-managed", 1, "AdministratorAccess")),
    ("iam-aws-managed-policy", "medium", attach("aws-managed", 0, "service-role/AmazonECSTaskExecutionRolePolicy", ECS_EXEC_MANAGED)),
    ("iam-exec-role-foreign-parameters", "high", exec_statement({"Action": "ssm:GetParameters", "Resource": OTHER_ARN})),
    ("iam-exec-role-foreign-parameters", "high", exec_statement({"Action": "ssm:GetParameter*", "Resource": f"{PARAM}/*"})),
    ("iam-exec-role-foreign-parameters", "high", exec_statement({"Action": "secretsmanager:GetSecretValue", "Resource": "*"})),
    ("iam-exec-role-foreign-parameters", "high", exec_statement({"NotAction": "s3:*", "Resource": OTHER_ARN})),
    ("iam-exec-role-foreign-parameters", "medium", exec_statement({"Action": "ssm:GetParameters", "Resource": f"{PARAM}/pocstack/plotly/*"})),
    ("iam-task-role-permissions", "low", set_path(["roles", 1, "policies"], [
        {"kind": "inline", "name": "app", "arn": None,
         "document": {"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::poc-data/*"}]}}])),
    ("iam-task-role-permissions", "low", attach("customer-managed", 1, "gone")),
    ("sg-alb-ingress", "high", ingress(ALB_SG, {"IpProtocol": "-1", "IpRanges": WORLD})),
    ("sg-alb-ingress", "high", ingress(ALB_SG, {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 443, "IpRanges": WORLD})),
    ("sg-alb-ingress", "high", ingress(ALB_SG, {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": WORLD})),
    ("sg-alb-ingress", "medium", ingress(ALB_SG, {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": WORLD})),
    ("sg-alb-ingress", "medium", ingress(ALB_SG, {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": WORLD})),
    ("sg-task-ingress", "high", ingress(TASK_SG, {"IpProtocol": "tcp", "FromPort": 8050, "ToPort": 8050, "IpRanges": WORLD})),
    ("sg-task-ingress", "high", ingress(TASK_SG, {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]})),
    ("sg-task-ingress", "medium", ingress(TASK_SG, {"IpProtocol": "tcp", "FromPort": 8050, "ToPort": 8050,
                                                   "IpRanges": [{"CidrIp": "10.0.0.0/8"}]})),
    ("sg-task-ingress", "medium", ingress(TASK_SG, {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": ALB_SG}]})),
    ("sg-task-ingress", "medium", ingress(TASK_SG, {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                                   "UserIdGroupPairs": [{"GroupId": ALB_SG}]})),
    ("sg-task-ingress", "medium", ingress(TASK_SG, {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": TASK_SG}]})),
    ("sg-task-ingress", "medium", ingress(TASK_SG, {"IpProtocol": "tcp", "FromPort": 8050, "ToPort": 8050,
                                                   "PrefixListIds": [{"PrefixListId": "pl-0123"}]})),
    ("task-public-ip", "medium", set_path(["service", "networkConfiguration", "awsvpcConfiguration", "assignPublicIp"], "ENABLED")),
    ("listener-http-no-redirect", "high", set_path([*LISTENERS, 1, "DefaultActions"], [FORWARD])),
    ("listener-http-no-redirect", "high", set_path([*LISTENERS, 1, "Rules"], [
        {"Priority": "5", "IsDefault": False, "Actions": [WEIGHTED], "Conditions": [{"Field": "path-pattern", "Values": ["/x"]}]}])),
    ("listener-http-no-redirect", "low", set_path([*LISTENERS, 1, "DefaultActions"], [NOT_FOUND])),
    ("listener-tls-policy", "high", set_path([*LISTENERS, 0, "SslPolicy"], "ELBSecurityPolicy-2016-08")),
    ("listener-tls-policy", "high", set_path([*LISTENERS, 0, "SslPolicy"], "ELBSecurityPolicy-TLS-1-1-2017-01")),
    ("listener-tls-policy", "high", set_path(["ssl_policies", "ELBSecurityPolicy-TLS13-1-2-2021-06"], ["TLSv1.2", "TLSv1.1"])),
    ("listener-default-forward", "low", set_path([*LISTENERS, 0, "DefaultActions"], [FORWARD])),
    ("listener-default-forward", "low", set_path([*LISTENERS, 0, "DefaultActions"], [WEIGHTED])),
    ("rule-no-condition", "medium", https_rule({"Priority": "1", "IsDefault": False, "Conditions": [], "Actions": [FORWARD]})),
    ("rule-no-condition", "medium", https_rule({"Priority": "2", "IsDefault": False, "Actions": [WEIGHTED]})),
    ("alb-drop-invalid-headers", "medium", set_path(["load_balancers", 0, "attributes", "routing.http.drop_invalid_header_fields.enabled"], "false")),
    ("alb-drop-invalid-headers", "medium", set_path(["load_balancers", 0, "attributes"], {
        "deletion_protection.enabled": "true", "access_logs.s3.enabled": "true"})),
    ("alb-deletion-protection", "low", set_path(["load_balancers", 0, "attributes", "deletion_protection.enabled"], "false")),
    ("alb-access-logs", "low", set_path(["load_balancers", 0, "attributes", "access_logs.s3.enabled"], "false")),
    ("env-plain-secret", "high", env("PLOTLY_PASS")),
    ("env-plain-secret", "high", env("DB_PASSWORD")),
    ("env-plain-secret", "high", env("api_key")),
    ("env-plain-secret", "high", env("GITHUB_TOKEN")),
    ("env-plain-secret", "high", env("CLIENT_SECRET")),
    ("env-plain-secret", "high", env("STRIPEKEY")),
    ("ssm-parameter-not-secure", "high", set_path(["parameters", PASS_ARN, "Type"], "String")),
    ("ssm-parameter-not-secure", "high", set_path(["parameters", USER_ARN, "Type"], "StringList")),
    ("log-retention", "medium", set_path(["log_groups", "/pocstack/plotly"], {"logGroupName": "/pocstack/plotly"})),
    ("ecr-scan-on-push", "medium", set_path(["repositories", "pocstack/plotly", "imageScanningConfiguration"], {"scanOnPush": False})),
    ("ecr-tag-mutable", "low", set_path(["repositories", "pocstack/plotly", "imageTagMutability"], "MUTABLE")),
    ("ecr-tag-mutable", "medium", lambda stack: set_path(["images", 0], {"repository": "pocstack/plotly", "tag": "latest", "digest": None})(
        set_path(["repositories", "pocstack/plotly", "imageTagMutability"], "MUTABLE")(stack))),
]

# Variations that are still tight: never a finding.
ALSO_TIGHT = [
    ("registry login needs *", exec_statement({"Action": "ecr:GetAuthorizationToken", "Resource": "*"})),
    ("x-ray and describe calls need *", exec_statement({"Action": ["xray:PutTraceSegments", "ec2:DescribeNetworkInterfaces"], "Resource": "*"})),
    ("deny statements are not grants", exec_statement({"Effect": "Deny", "Action": "*", "Resource": "*"})),
    ("own secret by its -?????? ARN", lambda stack: exec_statement({"Action": "secretsmanager:GetSecretValue",
                                                                      "Resource": SECRET_ARN[:-6] + "??????"})(
        set_path(["secret_references", 2], {"container": "plotly", "name": "API", "kind": "secretsmanager", "arn": SECRET_ARN})(
            {**stack, "secret_references": stack["secret_references"] + [None]}))),
    ("granted task role actions", set_path(["roles", 1, "policies"], [
        {"kind": "inline", "name": "app", "arn": None,
         "document": {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "arn:aws:s3:::d"}]}}])),
    ("references to secrets are not secrets", set_path(["task_definition", "containerDefinitions", 0, "environment"], [
        {"name": n, "value": "x"} for n in ("SECRET_ARN", "PASSWORD_FILE", "AWS_ACCESS_KEY_ID", "TOKEN_URL", "KEYCLOAK_REALM_NAME")])),
    ("allowed plain names", env("NOT_A_SECRET_KEY")),
    ("http listener redirecting, rule to another service", set_path([*LISTENERS, 1, "Rules"], [
        {"Priority": "5", "IsDefault": False, "Actions": [{"Type": "forward", "TargetGroupArn": OTHER_TG}], "Conditions": []}])),
    ("tls policy known only by name", lambda stack: set_path([*LISTENERS, 0, "SslPolicy"], "ELBSecurityPolicy-TLS13-1-3-2021-06")(stack)),
    ("enhanced registry scanning", lambda stack: set_path(["registry_scanning"], {
        "scanType": "ENHANCED", "rules": [{"scanFrequency": "SCAN_ON_PUSH", "repositoryFilters": [{"filter": "pocstack/*"}]}]})(
        set_path(["repositories", "pocstack/plotly", "imageScanningConfiguration"], {"scanOnPush": False})(stack))),
    ("missing log group", set_path(["log_groups", "/pocstack/plotly"], None)),
    ("alb ports as ranges of one", set_path(["security_groups", ALB_SG, "IpPermissions"], [
        {"IpProtocol": "6", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "PrefixListIds": [{"PrefixListId": "pl-0123"}]}])),
    ("no load balancer, no ingress", lambda stack: {**stack, "load_balancers": [], "target_group_arns": [],
                                                    "security_groups": {TASK_SG: {"GroupId": TASK_SG, "IpPermissions": []}}}),
]

CHECK = audit.CHECKS
OPTIONS = {"task_role_allowed_actions": ["s3:GetObject", "s3:List*"], "plain_environment_allowed": ["NOT_A_SECRET_KEY"]}


def test_every_check_has_loose_cases():
    assert {case[0] for case in LOOSE} == set(audit.CHECK_IDS)
    assert len(audit.CHECK_IDS) == len(set(audit.CHECK_IDS)) == 20


@pytest.mark.parametrize("check_id", audit.CHECK_IDS)
def test_tight_stack_has_no_finding(check_id):
    assert CHECK[check_id](tight(), OPTIONS) == []


def test_tight_stack_passes_the_whole_audit():
    assert audit.run_checks(tight(), OPTIONS) == []


@pytest.mark.parametrize("check_id, severity, loosen", LOOSE, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(LOOSE)])
def test_loose_input_is_a_finding(check_id, severity, loosen):
    stack = loosen(tight())
    found = CHECK[check_id](stack, OPTIONS)
    assert found, f"{check_id} found nothing"
    assert {f["check"] for f in found} == {check_id}
    assert {f["severity"] for f in found} == {severity}
    for f in found:
        assert set(f) == {"severity", "check", "resource", "message", "fix"} and all(f.values())
        assert SECRET_VALUE not in str(f)
    # and no other check is disturbed by it, except the ones that look at the same thing
    others = {f["check"] for f in audit.run_checks(stack, OPTIONS)} - {check_id}
    assert others <= RELATED.get(check_id, set()), others


# Loosening one point may rightly show in a neighbouring check too.
RELATED = {
    "iam-action-wildcard": {"iam-resource-wildcard", "iam-exec-role-foreign-parameters"},
    "iam-resource-wildcard": {"iam-action-wildcard"},
    "iam-exec-role-foreign-parameters": {"iam-action-wildcard", "iam-resource-wildcard"},
    "iam-aws-managed-policy": {"iam-task-role-permissions"},
    "listener-http-no-redirect": {"listener-default-forward", "rule-no-condition"},
    "listener-default-forward": {"listener-http-no-redirect"},
    "ecr-tag-mutable": set(),
}


@pytest.mark.parametrize("name, change", ALSO_TIGHT, ids=[case[0] for case in ALSO_TIGHT])
def test_allowed_variations_are_not_findings(name, change):
    assert audit.run_checks(change(tight()), OPTIONS) == []


def test_task_role_permissions_without_inventory_grant():
    stack = set_path(["roles", 1, "policies"], [{"kind": "inline", "name": "app", "arn": None, "document": {
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "sqs:SendMessage"], "Resource": "arn:aws:s3:::d"}]}}])(tight())
    assert [f["message"] for f in audit.check_iam_task_role_permissions(stack, OPTIONS)] == [
        "the application may call sqs:SendMessage, which the inventory does not grant"]
    assert len(audit.check_iam_task_role_permissions(stack, {})) == 1


def test_skip_and_order():
    stack = tight()
    for _, _, loosen in (LOOSE[0], LOOSE[32], LOOSE[46]):  # action wildcard (high), public IP (medium), access logs (low)
        stack = loosen(stack)
    found = audit.run_checks(stack, OPTIONS)
    assert [f["severity"] for f in found] == ["high", "medium", "low"]
    assert [f["check"] for f in found] == ["iam-action-wildcard", "task-public-ip", "alb-access-logs"]
    assert audit.counts(found) == {"high": 1, "medium": 1, "low": 1}
    assert [f["check"] for f in audit.run_checks(stack, {**OPTIONS, "skip": ["task-public-ip"]})] == [
        "iam-action-wildcard", "alb-access-logs"]


def test_report_has_one_line_per_finding():
    stack = ingress(ALB_SG, {"IpProtocol": "-1", "IpRanges": WORLD})(tight())
    assert audit.report_lines(audit.run_checks(stack, OPTIONS)) == [
        "HIGH   sg-alb-ingress                   security group sg-0a1b (pocstack-alb): load balancer accepts "
        "all protocols and ports from 0.0.0.0/0. Fix: allow only tcp 443, and 80 for the redirect to HTTPS."]


@pytest.mark.parametrize("name, secret", [
    ("PLOTLY_PASS", True), ("PASSWORD", True), ("db_passwd", True), ("API_KEY", True), ("KEY", True), ("AUTH_TOKEN", True),
    ("MY_SECRET", True), ("SECRETS", True), ("PORT", False), ("POCSTACK_SECRETS_FINGERPRINT", False), ("SECRET_ARN", False),
    ("KMS_KEY_ID", False), ("PASSWORD_FILE", False), ("KEYBOARD", False), ("DASH_DEBUG", False), ("", False),
])
def test_secret_like_names(name, secret):
    assert audit.looks_secret(name) is secret


@pytest.mark.parametrize("document", [
    {"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
    '{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}',
    "%7B%22Statement%22%3A%20%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%22s3%3A%2A%22%2C%20%22Resource%22%3A%20%22%2A%22%7D%7D",
])
def test_policy_document_forms(document):
    assert audit.allow_statements(document) == [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]


@pytest.mark.parametrize("resource, broad", [
    ("*", True), ("arn:aws:ssm:us-east-1:1:parameter/*", True), ("arn:aws:logs:*:*:*", True), ("arn:aws:s3:::*", True),
    ("arn:aws:logs:us-east-1:1:log-group:*", True), (LOGS_ARN, False), (PASS_ARN, False),
    ("arn:aws:ssm:us-east-1:1:parameter/pocstack/*", False), ("not-an-arn", False), ("arn:aws:s3:::poc-data/*", False),
])
def test_broad_resources(resource, broad):
    assert audit.broad_resource(resource) is broad


# ------------------------------------------------------------ reading helpers
@pytest.mark.parametrize("value_from, kind, arn, name", [
    (PASS_ARN, "ssm", PASS_ARN, "/pocstack/plotly/PLOTLY_PASS"),
    (f"{PARAM}/flat", "ssm", f"{PARAM}/flat", "flat"),
    ("/pocstack/plotly/PLOTLY_PASS", "ssm", PASS_ARN, "/pocstack/plotly/PLOTLY_PASS"),
    ("flat", "ssm", f"{PARAM}/flat", "flat"),
    (SECRET_ARN + ":password::", "secretsmanager", SECRET_ARN, None),
])
def test_secret_references(value_from, kind, arn, name):
    ref = audit_read.secret_reference("plotly", {"name": "X", "valueFrom": value_from}, "aws", REGION, ACCOUNT)
    assert (ref["kind"], ref["arn"], ref.get("parameter_name"), ref["region"]) == (kind, arn, name, REGION)


@pytest.mark.parametrize("image, expected", [
    (f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/pocstack/plotly@{DIGEST}", ("pocstack/plotly", None, DIGEST, REGION)),
    (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/app:1.2", ("app", "1.2", None, "eu-west-1")),
    (f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app", ("app", None, None, REGION)),
    ("public.ecr.aws/nginx/nginx:latest", None),
    ("nginx:1.27", None),
])
def test_ecr_images(image, expected):
    found = audit_read.ecr_image("c", image)
    assert (found and (found["repository"], found["tag"], found["digest"], found["region"])) == expected or (
        found is None and expected is None)


def test_loose_cases_do_not_share_state():
    before = copy.deepcopy(tight())
    for _, _, loosen in LOOSE:
        loosen(tight())
    assert tight() == before
