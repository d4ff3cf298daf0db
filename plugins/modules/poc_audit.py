#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: poc_audit
short_description: Security audit of a deployed ECS service behind an ALB
version_added: 0.2.0
description:
  - Reads what is deployed for one ECS service and reports each finding of a security checklist with its
    severity (V(high), V(medium), V(low)). Read-only; never reads a parameter or secret value.
  - Resources are discovered from the service by following references, not by naming conventions, so the
    audit works on stacks this collection did not create. The service leads to its task definition
    (containers, environment, secrets, log configuration, execution and task roles), the roles to their
    inline and attached policies (documents read), the service's network configuration to its security
    groups, its target groups to their load balancers (attributes, security groups), listeners and rules,
    the secrets to their SSM parameters (type only), the log configuration to the log groups, and the image
    to its ECR repository.
  - "The checklist (id: severity, what):"
  - "C(iam-action-wildcard): high for C(*), C(service:*) and C(NotAction); medium for partial wildcards such as
    C(ssm:Get*). Inline and customer-managed policies of both roles."
  - "C(iam-resource-wildcard): high. Allow statements on C(Resource: *), on every resource of a type
    (C(parameter/*)), or with C(NotResource), for actions that AWS lets a policy scope to resources.
    Actions without resource-level permissions (C(ecr:GetAuthorizationToken), C(sts:GetCallerIdentity),
    C(cloudwatch:PutMetricData), X-Ray, ECS Exec's C(ssmmessages:*) channels, C(ssm:DescribeParameters),
    C(ec2:Describe*)) are not findings."
  - "C(iam-aws-managed-policy): high for AWS managed policies named C(*FullAccess), C(*ReadOnlyAccess),
    C(*ReadOnly), C(PowerUserAccess), C(AdministratorAccess) or granting wildcard actions (for example
    C(CloudWatchLogsFullAccess), C(AmazonSSMReadOnlyAccess)); medium for any other AWS managed policy
    (for example C(AmazonECSTaskExecutionRolePolicy), which pulls from every repository and writes to every
    log group)."
  - "C(iam-exec-role-foreign-parameters): high when the execution role may read SSM parameters or Secrets
    Manager secrets other than those in the task definition's C(secrets); medium when a wildcard such as
    C(parameter/poc/app/*) covers the service's own and possibly others."
  - "C(iam-task-role-permissions): low. Every action the task role allows that O(task_role_allowed_actions)
    does not cover."
  - "C(sg-alb-ingress): high for all protocols or a range of ports, medium for another single port: load
    balancer security group ingress other than tcp 443 and 80 (from any source)."
  - "C(sg-task-ingress): high from C(0.0.0.0/0) or C(::/0), else medium: task security group ingress other
    than the container port from the load balancer's security groups."
  - "C(task-public-ip): medium. The service gives its tasks public IP addresses (C(assignPublicIp: ENABLED))."
  - "C(listener-http-no-redirect): high when an HTTP listener forwards to the service (default action or a
    rule), low when it does neither that nor redirect to HTTPS."
  - "C(listener-tls-policy): high. An HTTPS listener's security policy accepts TLS 1.0 or 1.1
    (C(DescribeSSLPolicies), or the policy name when AWS does not know it)."
  - "C(listener-default-forward): low. A listener's default action forwards to the service, so every
    unmatched request reaches it."
  - "C(rule-no-condition): medium. A listener rule forwards to the service without any condition."
  - "C(alb-drop-invalid-headers): medium. C(routing.http.drop_invalid_header_fields.enabled) is false."
  - "C(alb-deletion-protection): low. C(deletion_protection.enabled) is false."
  - "C(alb-access-logs): low. C(access_logs.s3.enabled) is false."
  - "C(env-plain-secret): high. A container environment variable whose name contains PASS, SECRET or TOKEN,
    or a word ending in KEY, is passed as a plain value instead of through C(secrets). Names whose last
    word makes them a reference (C(_ARN), C(_ID), C(_NAME), C(_PATH), C(_FILE), C(_URL), C(_FINGERPRINT),
    ...) are not findings; O(plain_environment_allowed) lists more."
  - "C(ssm-parameter-not-secure): high. A parameter referenced by C(secrets) is a C(String) or C(StringList),
    not a C(SecureString)."
  - "C(log-retention): medium. A container's awslogs log group keeps logs forever."
  - "C(ecr-scan-on-push): medium. The image's ECR repository does not scan on push (and no enhanced registry
    scanning rule covers it)."
  - "C(ecr-tag-mutable): low when the task pins its image by digest, medium when it runs a tag."
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  service:
    description: Name or ARN of the ECS service.
    type: str
    required: true
  task_role_allowed_actions:
    description:
      - IAM actions (wildcards allowed, as in a policy) the task role was granted on purpose, for example by
        the inventory. Any other action of the task role is a C(iam-task-role-permissions) finding.
    type: list
    elements: str
    default: []
  plain_environment_allowed:
    description: Environment variable names that look like secrets but are not (not C(env-plain-secret) findings).
    type: list
    elements: str
    default: []
  skip:
    description: Check ids not to run (accepted risks).
    type: list
    elements: str
    default: []
    choices: [iam-action-wildcard, iam-resource-wildcard, iam-aws-managed-policy, iam-exec-role-foreign-parameters,
              iam-task-role-permissions, sg-alb-ingress, sg-task-ingress, task-public-ip, listener-http-no-redirect,
              listener-tls-policy, listener-default-forward, rule-no-condition, alb-drop-invalid-headers,
              alb-deletion-protection, alb-access-logs, env-plain-secret, ssm-parameter-not-secure, log-retention,
              ecr-scan-on-push, ecr-tag-mutable]
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - "Written because no amazon.aws or community.aws module judges a deployed ECS service as a whole: the checklist
    needs the service, its task definition, both IAM roles with their policy documents, security groups, load
    balancer, listeners, rules, parameters, log groups and repository read together, where each C(_info) module of
    those collections returns one kind of them, without a judgement."
  - Policies are judged as written; a permissions boundary (returned in RV(resources.roles)) may narrow what
    they grant in effect.
  - Referenced resources that do not exist (a deleted role or log group, a missing parameter) are warnings,
    not findings. Any other error (access denied, for example) fails the module, since an audit that could not
    read everything must not pass.
  - "IAM actions used: C(ecs:DescribeServices), C(ecs:DescribeTaskDefinition), C(iam:GetRole),
    C(iam:ListRolePolicies), C(iam:GetRolePolicy), C(iam:ListAttachedRolePolicies), C(iam:GetPolicy),
    C(iam:GetPolicyVersion), C(ec2:DescribeSecurityGroups), C(elasticloadbalancing:DescribeTargetGroups),
    C(DescribeLoadBalancers), C(DescribeLoadBalancerAttributes), C(DescribeListeners), C(DescribeRules),
    C(DescribeSSLPolicies), C(ssm:DescribeParameters), C(logs:DescribeLogGroups), C(ecr:DescribeRepositories),
    C(ecr:GetRegistryScanningConfiguration)."
seealso:
  - module: community.aws.ecs_service_info
  - module: community.aws.ecs_taskdefinition_info
  - module: amazon.aws.iam_role_info
  - module: amazon.aws.ec2_security_group_info
  - module: amazon.aws.elb_application_lb_info
  - module: pocstack.aws.ecs_fargate_service
  - module: pocstack.aws.ecs_task_definition_revision
attributes:
  check_mode:
    support: full
    description: Read-only, so check mode runs it unchanged; C(changed) is always false.
  diff_mode:
    support: none
    description: Reads only; there is nothing to show.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Audit the plotly service of the pocstack cluster
  pocstack.aws.poc_audit:
    cluster: pocstack
    service: plotly
  register: audit

- name: Print one line per finding
  ansible.builtin.debug:
    var: audit.report

- name: Fail on any high finding
  ansible.builtin.fail:
    msg: "{{ audit.counts.high }} high finding(s)"
  when: audit.counts.high > 0

- name: Audit a service whose application may read one bucket, accepting mutable tags
  pocstack.aws.poc_audit:
    cluster: legacy
    service: reports
    task_role_allowed_actions: [s3:GetObject, s3:ListBucket]
    skip: [ecr-tag-mutable]
"""

RETURN = r"""
findings:
  description: Every finding, most severe first.
  returned: always
  type: list
  elements: dict
  contains:
    severity:
      description: high, medium or low.
      type: str
      sample: high
    check:
      description: Id of the check (see the module description).
      type: str
      sample: sg-alb-ingress
    resource:
      description: What the finding is about.
      type: str
      sample: sg-0123456789abcdef0 (pocstack-alb)
    message:
      description: What is wrong.
      type: str
      sample: load balancer accepts all protocols and ports from 0.0.0.0/0
    fix:
      description: How to fix it.
      type: str
      sample: allow only tcp 443, and 80 for the redirect to HTTPS
counts:
  description: Number of findings per severity.
  returned: always
  type: dict
  sample: {"high": 1, "medium": 0, "low": 2}
report:
  description: "One line per finding: severity, check id, resource, what is wrong, how to fix."
  returned: always
  type: list
  elements: str
  sample:
    - "HIGH   sg-alb-ingress                   sg-0123 (pocstack-alb): load balancer accepts all protocols and ports
      from 0.0.0.0/0. Fix: allow only tcp 443, and 80 for the redirect to HTTPS."
checks:
  description: Ids of the checks that ran.
  returned: always
  type: list
  elements: str
  sample: [iam-action-wildcard, iam-resource-wildcard]
resources:
  description: What the audit found and read, by reference from the service.
  returned: always
  type: dict
  contains:
    service_arn:
      description: ARN of the service.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:service/pocstack/plotly
    task_definition_arn:
      description: ARN of the service's task definition.
      type: str
      sample: arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:3
    roles:
      description: The execution and task roles, with their policies and permissions boundary.
      type: list
      elements: dict
      sample: [{"kind": "execution", "arn": "arn:aws:iam::123456789012:role/pocstack-plotly-exec",
                "policies": ["pocstack-execution"], "permissions_boundary": null}]
    task_security_group_ids:
      description: Security groups of the tasks.
      type: list
      elements: str
      sample: [sg-0123456789abcdef0]
    load_balancers:
      description: Load balancers in front of the service, with their security groups and listeners.
      type: list
      elements: dict
      sample: [{"name": "pocstack", "security_group_ids": ["sg-0fedcba9876543210"], "listeners": ["HTTPS:443", "HTTP:80"]}]
    target_group_arns:
      description: Target groups the service registers its tasks in.
      type: list
      elements: str
    parameters:
      description: Names of the SSM parameters referenced by the containers' secrets, with their type.
      type: dict
      sample: {"/pocstack/plotly/PLOTLY_PASS": "SecureString"}
    log_groups:
      description: Log groups of the containers.
      type: list
      elements: str
      sample: [/pocstack/plotly]
    repositories:
      description: ECR repositories of the containers' images.
      type: list
      elements: str
      sample: [pocstack/plotly]
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import audit
from ansible_collections.pocstack.aws.plugins.module_utils import audit_read


def summary(stack):
    # stack["parameters"] holds the SSM parameters only, by ARN
    parameters = {
        ref.get("parameter_name") or ref["arn"]: "secretsmanager" if ref["kind"] == "secretsmanager"
        else (stack["parameters"].get(ref["arn"]) or {}).get("Type") or "not found"
        for ref in stack["secret_references"]
    }
    return {
        "service_arn": stack["service"].get("serviceArn"),
        "task_definition_arn": stack["task_definition"].get("taskDefinitionArn"),
        "roles": [{"kind": r["kind"], "arn": r["arn"], "policies": [p["arn"] or p["name"] for p in r["policies"]],
                   "permissions_boundary": r["permissions_boundary"]} for r in stack["roles"]],
        "task_security_group_ids": stack["task_security_group_ids"],
        "load_balancers": [{"name": lb.get("LoadBalancerName"), "arn": lb.get("LoadBalancerArn"),
                            "security_group_ids": lb.get("SecurityGroups", []),
                            "listeners": [f"{li.get('Protocol')}:{li.get('Port')}" for li in lb["listeners"]]}
                           for lb in stack["load_balancers"]],
        "target_group_arns": stack["target_group_arns"],
        "parameters": parameters,
        "log_groups": sorted(stack["log_groups"]),
        "repositories": sorted(stack["repositories"]),
    }


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster=dict(type="str", required=True),
            service=dict(type="str", required=True),
            task_role_allowed_actions=dict(type="list", elements="str", default=[]),
            plain_environment_allowed=dict(type="list", elements="str", default=[]),
            skip=dict(type="list", elements="str", default=[], choices=audit.CHECK_IDS),
        ),
        supports_check_mode=True,
    )
    params = module.params

    def client(name, region=None):
        return module.client(name, retry_decorator=AWSRetry.jittered_backoff(), region=region or module.region)

    where = f"Could not read the resources of ECS service {params['service']} in cluster {params['cluster']}"
    try:
        stack = audit_read.describe_stack(client, params["cluster"], params["service"], module.warn)
    except audit_read.ServiceNotFound as e:
        module.fail_json(msg=f"{e}: check service= and cluster= (the audit starts from the ECS service)")
    except AnsibleAWSError as e:  # from amazon.aws's helpers: its message names the call that failed
        module.fail_json_aws(e.exception or e, msg=f"{where}: {e.message}")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=where)

    findings = audit.run_checks(stack, params)
    module.exit_json(
        changed=False,
        findings=findings,
        counts=audit.counts(findings),
        report=audit.report_lines(findings),
        checks=[c for c in audit.CHECK_IDS if c not in params["skip"]],
        resources=summary(stack),
    )


if __name__ == "__main__":
    main()
