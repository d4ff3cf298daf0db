#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: elb_listener_rule
short_description: Manage one rule of an ELBv2 (ALB) listener
version_added: 0.1.0
description:
  - Creates, updates, moves or deletes exactly one rule of an Application Load Balancer listener.
  - The rule is identified by O(name), kept in the tag C(pocstack:rule-name) that this module owns, so
    the identity survives a priority change. A rule without that tag and with identical conditions is
    adopted. Rules owned by another name, and the default rule, are never changed.
  - Conditions and actions are normalised (order, case of host names, friendly and AWS forms, the defaults
    AWS fills in) before they are compared; AWS is only called when something differs.
  - A changed priority moves the rule with C(SetRulePriorities) instead of re-creating it.
  - Input AWS would reject fails before any AWS write, with a message naming the option and what is
    allowed. With O(state=present) the listener, its load balancer and the target groups forwarded to are
    read first, so that a target group of another VPC, an authenticate action on a non-HTTPS listener
    or an HTTPS-to-HTTP redirect is refused too. A target group a rule of the listener forwards to already
    is not read again (AWS keeps it, in the load balancer's VPC, while a rule uses it).
options:
  name:
    description: Identity of the rule on its listener, stored in the tag C(pocstack:rule-name).
    type: str
    required: true
  listener_arn:
    description: ARN of the listener. Mutually exclusive with O(load_balancer_name).
    type: str
  load_balancer_name:
    description: Name of the load balancer whose listener on O(listener_port) holds the rule.
    type: str
  listener_port:
    description: Port of the listener, with O(load_balancer_name).
    type: int
  priority:
    description:
      - Priority of the rule, 1-50000, unique on the listener.
      - When omitted, a new rule gets the lowest free priority in O(priority_range) (a rule whose conditions
        match every request, such as path C(*), the highest, so that narrower rules fit in front of it), and
        an existing rule keeps its priority. Several hosts may do this on the same listener at the same moment;
        a lost race (C(PriorityInUse)) re-reads the listener and picks again.
    type: int
  priority_range:
    description:
      - First and last priority the automatic choice may use.
      - Within it, the automatic choice keeps the rule behind every other rule whose every request it
        matches, and in front of every rule that matches its every request (see O(allow_shadowing)).
    type: list
    elements: int
    default: [1, 50000]
  allow_shadowing:
    description:
      - ALB evaluates rules in priority order and the first match wins, so a rule that matches every
        request of a later rule (a catch-all C(*) in front of another service's C(/api*)) takes all of that
        rule's traffic. Unless this is true, creating the rule, moving it or changing its conditions fails,
        before any write, when it would shadow another rule of the listener or be shadowed by one, naming
        that rule and its owner; an automatic priority is chosen where neither happens.
      - Only what can be shown is refused (C(*) and C(?) in path and host patterns, identical values of
        the other fields); the default rule is not a rule here.
    type: bool
    default: false
  conditions:
    description:
      - Conditions of the rule, in the friendly form (C(field), C(values), and C(name) for the header
        of an C(http-header) condition) or the AWS form (C(Field) and C(PathPatternConfig),
        C(HostHeaderConfig), C(HttpHeaderConfig), C(HttpRequestMethodConfig), C(QueryStringConfig),
        C(SourceIpConfig)).
      - Fields are C(path-pattern), C(host-header), C(http-header), C(http-request-method),
        C(query-string) (values as C({key, value}) dicts or C(key=value) strings) and C(source-ip)
        (CIDR blocks).
      - Values are compared the way AWS does (host names and header names without case, methods in
        upper case, order ignored). At most 5 values in all.
      - Each value is checked as AWS checks it, at most 128 characters (40 for header names and methods)
        of the characters AWS allows for its field; C(*) and C(?) are the wildcards. A host name must
        contain a C(.).
      - At least one condition is required when O(state=present).
    type: list
    elements: dict
  actions:
    description:
      - Actions of the rule, in the order AWS performs them (or sorted by O(actions[].order) when every
        action has one).
      - Exactly one C(forward), C(redirect) or C(fixed-response) action, and it comes last. Before it, at
        most one C(authenticate-oidc) or C(authenticate-cognito) action (HTTPS listeners only).
      - Each action is given in the friendly form (O(actions[].type) and that type's options below) or in
        the AWS form (O(actions[].type) with O(actions[].ForwardConfig), O(actions[].RedirectConfig),
        O(actions[].FixedResponseConfig), O(actions[].AuthenticateOidcConfig) or
        O(actions[].AuthenticateCognitoConfig)), as C(CreateRule) takes it and C(DescribeRules) returns it.
      - Settings left out are compared with the defaults AWS fills in, and sent explicitly.
      - When the rule found carries anything else (changed by hand, for instance), it is replaced.
      - Required when O(state=present).
    type: list
    elements: dict
    suboptions:
      type:
        description: The action.
        type: str
        required: true
        aliases: [Type]
        choices: [authenticate-cognito, authenticate-oidc, fixed-response, forward, redirect]
      order:
        description:
          - Order in which AWS performs the action, 1-50000, lowest first. Give it for every action or
            for none (then the list order is used). Only the resulting sequence is compared.
        type: int
        aliases: [Order]
        version_added: 0.2.0
      target_group_arn:
        description: C(forward) to this one target group. Mutually exclusive with O(actions[].target_groups).
        type: str
        aliases: [TargetGroupArn]
      target_groups:
        description:
          - C(forward) to up to 5 target groups, each getting O(actions[].target_groups[].weight) parts of
            the requests (a weighted forward, e.g. a canary).
          - Every target group must be in the VPC of the listener's load balancer.
        type: list
        elements: dict
        version_added: 0.2.0
        suboptions: &target_group
          target_group_arn:
            description: ARN of the target group.
            type: str
            required: true
            aliases: [TargetGroupArn]
          weight:
            description: Weight, 0-999. Defaults to 1. Ignored by AWS when there is only one target group.
            type: int
            aliases: [Weight]
      stickiness:
        description: Target group stickiness of a C(forward) action.
        type: dict
        version_added: 0.2.0
        suboptions: &stickiness
          enabled:
            description: Whether a client keeps going to the same target group. Defaults to false.
            type: bool
            aliases: [Enabled]
          duration_seconds:
            description: How long, 1-604800 seconds; required when O(actions[].stickiness.enabled=true).
            type: int
            aliases: [DurationSeconds]
      ForwardConfig:
        description: C(forward) in the AWS form.
        type: dict
        version_added: 0.2.0
        suboptions:
          TargetGroups:
            description: As O(actions[].target_groups).
            type: list
            elements: dict
            suboptions: *target_group
          TargetGroupStickinessConfig:
            description: As O(actions[].stickiness).
            type: dict
            suboptions: *stickiness
      protocol:
        description: C(redirect) to this protocol, C(HTTP), C(HTTPS) or C(#{protocol}) (the default, unchanged).
        type: str
        version_added: 0.2.0
      port:
        description: C(redirect) to this port, 1-65535, or C(#{port}) (the default).
        type: str
        version_added: 0.2.0
      host:
        description: C(redirect) to this host name, up to 128 characters; defaults to C(#{host}).
        type: str
        version_added: 0.2.0
      path:
        description: C(redirect) to this absolute path, starting with C(/), up to 128 characters; defaults to C(/#{path}).
        type: str
        version_added: 0.2.0
      query:
        description: C(redirect) with this query string (no leading C(?)), up to 128 characters; defaults to C(#{query}).
        type: str
        version_added: 0.2.0
      status_code:
        description:
          - For C(redirect), C(HTTP_301) (permanent) or C(HTTP_302) (temporary); C(301) and C(302) are accepted.
          - For C(fixed-response), the HTTP status, a 2XX, 4XX or 5XX code.
          - A C(redirect) must change at least one of protocol, host, port or path.
        type: str
        version_added: 0.2.0
      RedirectConfig:
        description: C(redirect) in the AWS form.
        type: dict
        version_added: 0.2.0
        suboptions:
          Protocol:
            description: As O(actions[].protocol).
            type: str
          Port:
            description: As O(actions[].port).
            type: str
          Host:
            description: As O(actions[].host).
            type: str
          Path:
            description: As O(actions[].path).
            type: str
          Query:
            description: As O(actions[].query).
            type: str
          StatusCode:
            description: C(HTTP_301) or C(HTTP_302).
            type: str
      content_type:
        description:
          - C(fixed-response) content type, one of C(text/plain) (the default), C(text/css), C(text/html),
            C(application/javascript), C(application/json).
        type: str
        version_added: 0.2.0
      message_body:
        description: C(fixed-response) body, up to 1024 characters; none by default.
        type: str
        version_added: 0.2.0
      FixedResponseConfig:
        description: C(fixed-response) in the AWS form.
        type: dict
        version_added: 0.2.0
        suboptions:
          StatusCode:
            description: As O(actions[].status_code).
            type: str
          ContentType:
            description: As O(actions[].content_type).
            type: str
          MessageBody:
            description: As O(actions[].message_body).
            type: str
      issuer:
        description: C(authenticate-oidc) identity provider's issuer, an C(https://) URL.
        type: str
        version_added: 0.2.0
      authorization_endpoint:
        description: C(authenticate-oidc) authorization endpoint, an C(https://) URL.
        type: str
        version_added: 0.2.0
      token_endpoint:
        description: C(authenticate-oidc) token endpoint, an C(https://) URL.
        type: str
        version_added: 0.2.0
      user_info_endpoint:
        description: C(authenticate-oidc) user info endpoint, an C(https://) URL.
        type: str
        version_added: 0.2.0
      client_id:
        description: C(authenticate-oidc) OAuth 2.0 client identifier.
        type: str
        version_added: 0.2.0
      client_secret:
        description:
          - C(authenticate-oidc) OAuth 2.0 client secret. Never logged nor returned; AWS never returns it
            either, so O(client_secret_update) says when it is sent.
          - Required to create the rule or to add this action to it. Omitted later, AWS keeps the secret
            it has (C(UseExistingClientSecret)).
        type: str
        version_added: 0.2.0
      user_pool_arn:
        description: C(authenticate-cognito) ARN of the Cognito user pool.
        type: str
        version_added: 0.2.0
      user_pool_client_id:
        description: C(authenticate-cognito) ID of the user pool's app client.
        type: str
        version_added: 0.2.0
      user_pool_domain:
        description: C(authenticate-cognito) domain prefix or fully qualified domain of the user pool.
        type: str
        version_added: 0.2.0
      session_cookie_name:
        description: C(authenticate-*) name of the session cookie; defaults to C(AWSELBAuthSessionCookie).
        type: str
        version_added: 0.2.0
      scope:
        description: C(authenticate-*) scopes asked from the identity provider; defaults to C(openid).
        type: str
        version_added: 0.2.0
      session_timeout:
        description: C(authenticate-*) session length in seconds, 1-604800; defaults to 604800 (7 days).
        type: int
        version_added: 0.2.0
      authentication_request_extra_params:
        description: C(authenticate-*) query parameters (up to 10) added to the authorization request.
        type: dict
        version_added: 0.2.0
      on_unauthenticated_request:
        description: C(authenticate-*) behaviour for a request without a session; defaults to C(authenticate).
        type: str
        choices: [allow, authenticate, deny]
        version_added: 0.2.0
      AuthenticateOidcConfig:
        description: C(authenticate-oidc) in the AWS form.
        type: dict
        version_added: 0.2.0
        suboptions:
          Issuer:
            description: As O(actions[].issuer).
            type: str
          AuthorizationEndpoint:
            description: As O(actions[].authorization_endpoint).
            type: str
          TokenEndpoint:
            description: As O(actions[].token_endpoint).
            type: str
          UserInfoEndpoint:
            description: As O(actions[].user_info_endpoint).
            type: str
          ClientId:
            description: As O(actions[].client_id).
            type: str
          ClientSecret:
            description: As O(actions[].client_secret); never logged nor returned.
            type: str
          UseExistingClientSecret:
            description: Keep the secret AWS has; the same as leaving the secret out.
            type: bool
          <<: &aws_authenticate_common
            SessionCookieName:
              description: As O(actions[].session_cookie_name).
              type: str
            Scope:
              description: As O(actions[].scope).
              type: str
            SessionTimeout:
              description: As O(actions[].session_timeout).
              type: int
            AuthenticationRequestExtraParams:
              description: As O(actions[].authentication_request_extra_params).
              type: dict
            OnUnauthenticatedRequest:
              description: As O(actions[].on_unauthenticated_request).
              type: str
              choices: [allow, authenticate, deny]
      AuthenticateCognitoConfig:
        description: C(authenticate-cognito) in the AWS form.
        type: dict
        version_added: 0.2.0
        suboptions:
          UserPoolArn:
            description: As O(actions[].user_pool_arn).
            type: str
          UserPoolClientId:
            description: As O(actions[].user_pool_client_id).
            type: str
          UserPoolDomain:
            description: As O(actions[].user_pool_domain).
            type: str
          <<: *aws_authenticate_common
  client_secret_update:
    description:
      - When to send the client secret of an C(authenticate-oidc) action. AWS never returns the secret,
        so it cannot be compared with the rule. Creating the rule, or adding the action to it, always
        sends it.
      - V(on_change) keeps a salted PBKDF2-SHA256 hash (600000 rounds) of the secret in the tag
        C(pocstack:client-secret-hash), which this module owns, and sends the secret when it no longer
        matches, so a rotated secret is updated and a re-run with the same secret is not a change. A rule
        without the tag (adopted, or made by hand) gets the secret once. Results and diffs never show the
        hash; anyone who may read the rule's tags can, so use a secret with enough entropy (an IdP-issued
        one).
      - V(always) sends the secret on every run, which then always reports a change, and keeps no hash.
      - V(on_create) never sends it to a rule that already has the action, and keeps no hash (an existing
        one is removed).
    type: str
    choices: [on_change, always, on_create]
    default: on_change
    version_added: 0.2.0
  state:
    description: Whether the rule should exist.
    type: str
    choices: [present, absent]
    default: present
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - "Written because amazon.aws and community.aws manage listener rules only within M(amazon.aws.elb_application_lb),
    as part of the whole load balancer (its subnets, security groups and listeners): a rule has no identity but its
    conditions, actions and priority, and with the default C(purge_rules=true) every rule not listed is deleted, so
    every service on a shared ALB would restate every other service's rules (with C(purge_rules=false) a rule dropped
    from the inventory is never deleted)."
  - In check mode a target group that does not exist yet is a warning, not an error, since an earlier
    task of the same run may create it.
  - The tags C(pocstack:rule-name) (always O(name)) and C(pocstack:client-secret-hash) belong to this
    module; O(purge_tags) never removes them and O(tags) must not set them.
  - "IAM actions used: C(elasticloadbalancing:DescribeLoadBalancers), C(DescribeListeners), C(DescribeRules),
    C(DescribeTargetGroups), C(DescribeTags), C(CreateRule), C(ModifyRule), C(SetRulePriorities),
    C(DeleteRule), C(AddTags), C(RemoveTags); for C(authenticate-cognito) also C(cognito-idp:DescribeUserPoolClient)."
seealso:
  - module: amazon.aws.elb_application_lb
  - module: amazon.aws.elb_application_lb_info
  - module: pocstack.aws.elb_listener_rules_info
  - module: pocstack.aws.alb_target_group
  - module: pocstack.aws.acm_certificate_request
attributes:
  check_mode:
    support: full
    description: No mutating call. C(changed), C(priority) (an automatic one included) and C(moved) are what a real
      run would report; C(rule) is the rule as it is now. A target group that does not exist yet is a warning, not an
      error.
  diff_mode:
    support: full
    description: "Sorted before/after of the rule (priority, conditions, actions, tags); an OIDC client secret shows
      as C(<hidden>), or C(<hidden: new value sent>) when this run sends it."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Path rule - route /plotly and everything below it to the plotly service
  pocstack.aws.elb_listener_rule:
    name: plotly
    load_balancer_name: pocstack
    listener_port: 443
    priority: 100
    conditions:
      - field: path-pattern
        values: ["/plotly", "/plotly/*"]
    actions:
      - type: forward
        target_group_arn: "{{ target_group.target_group_arn }}"

- name: Host rule, AWS form, with the lowest free priority between 100 and 199
  pocstack.aws.elb_listener_rule:
    name: grafana
    listener_arn: "{{ https_listener_arn }}"
    priority_range: [100, 199]
    conditions:
      - Field: host-header
        HostHeaderConfig:
          Values: [grafana.poc.example.com]
    actions:
      - Type: forward
        TargetGroupArn: "{{ grafana_tg_arn }}"
    tags:
      pocstack:service: grafana

- name: Weighted canary - 90 % to the stable version, 10 % to the new one, clients stay on theirs for an hour
  pocstack.aws.elb_listener_rule:
    name: plotly
    load_balancer_name: pocstack
    listener_port: 443
    conditions:
      - field: path-pattern
        values: ["/plotly*"]
    actions:
      - type: forward
        target_groups:
          - target_group_arn: "{{ stable_tg_arn }}"
            weight: 90
          - target_group_arn: "{{ canary_tg_arn }}"
            weight: 10
        stickiness:
          enabled: true
          duration_seconds: 3600

- name: OIDC-protected rule - log in with the company's identity provider before reaching the service
  pocstack.aws.elb_listener_rule:
    name: admin
    load_balancer_name: pocstack
    listener_port: 443
    conditions:
      - field: host-header
        values: [admin.poc.example.com]
    actions:
      - type: authenticate-oidc
        issuer: https://login.example.com
        authorization_endpoint: https://login.example.com/oauth2/authorize
        token_endpoint: https://login.example.com/oauth2/token
        user_info_endpoint: https://login.example.com/oauth2/userinfo
        client_id: pocstack-admin
        client_secret: "{{ vault_admin_oidc_client_secret }}"
        scope: openid email
        session_timeout: 28800
      - type: forward
        target_group_arn: "{{ admin_tg_arn }}"
  no_log: true  # keeps the task's arguments (the secret) out of logs on failure too

- name: Cognito user pool login, then the service
  pocstack.aws.elb_listener_rule:
    name: reports
    load_balancer_name: pocstack
    listener_port: 443
    conditions:
      - field: path-pattern
        values: ["/reports*"]
    actions:
      - type: authenticate-cognito
        user_pool_arn: "{{ user_pool_arn }}"
        user_pool_client_id: "{{ user_pool_client_id }}"
        user_pool_domain: pocstack-login
      - type: forward
        target_group_arn: "{{ reports_tg_arn }}"

- name: Fixed-response maintenance page in front of every path, above the service rules
  pocstack.aws.elb_listener_rule:
    name: maintenance
    load_balancer_name: pocstack
    listener_port: 443
    priority: 1
    conditions:
      - field: path-pattern
        values: ["*"]
    actions:
      - type: fixed-response
        status_code: 503
        content_type: text/html
        message_body: "<html><body><h1>Down for maintenance</h1><p>Back at 10:00 UTC.</p></body></html>"

- name: End the maintenance
  pocstack.aws.elb_listener_rule:
    name: maintenance
    load_balancer_name: pocstack
    listener_port: 443
    state: absent

- name: Redirect the old path to the new one, permanently
  pocstack.aws.elb_listener_rule:
    name: old-dashboard
    load_balancer_name: pocstack
    listener_port: 443
    conditions:
      - field: path-pattern
        values: ["/dashboard/*"]
    actions:
      - type: redirect
        path: "/plotly/#{path}"
        status_code: HTTP_301

- name: Send requests with the header X-Canary true, from the office network, to the canary
  pocstack.aws.elb_listener_rule:
    name: plotly-canary
    load_balancer_name: pocstack
    listener_port: 443
    priority: 90
    conditions:
      - field: http-header
        name: X-Canary
        values: ["true"]
      - field: source-ip
        values: [203.0.113.0/24]
      - field: http-request-method
        values: [GET, HEAD]
    actions:
      - type: forward
        target_group_arn: "{{ canary_tg_arn }}"

- name: Remove the plotly rule (only the one this module owns by that name)
  pocstack.aws.elb_listener_rule:
    name: plotly
    load_balancer_name: pocstack
    listener_port: 443
    state: absent
"""

RETURN = r"""
rule_arn:
  description: ARN of the rule; empty when it does not exist (or would be created in check mode).
  returned: always
  type: str
  sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/pocstack/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
priority:
  description: Priority of the rule (the one chosen, with an automatic priority); null when absent.
  returned: always
  type: int
  sample: 100
moved:
  description: Whether the priority was changed with SetRulePriorities (in check mode, whether it would be).
  returned: always
  type: bool
  sample: false
rule:
  description:
    - The rule as AWS describes it, snake_cased, with its tags; empty when absent, deleted, or not yet created (check mode).
    - In check mode, the rule as it is before the reported change.
    - Never holds the OIDC client secret.
  returned: always
  type: dict
  contains:
    rule_arn:
      description: ARN of the rule.
      type: str
      sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/pocstack/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
    is_default:
      description: Whether this is the listener's default rule (never for a rule of this module).
      type: bool
      sample: false
    priority:
      description: Priority, as a string (AWS form).
      type: str
      sample: "100"
    conditions:
      description: Conditions, AWS form, snake_cased.
      type: list
      elements: dict
      sample: [{"field": "path-pattern", "path_pattern_config": {"values": ["/plotly*"]}, "values": ["/plotly*"]}]
    actions:
      description:
        - Actions, AWS form, snake_cased, with the defaults AWS filled in. Each has C(type) and C(order),
          and by type C(target_group_arn) and/or C(forward_config), C(redirect_config),
          C(fixed_response_config), C(authenticate_oidc_config) (without the client secret) or
          C(authenticate_cognito_config).
        - The names in C(authentication_request_extra_params) are returned as given.
      type: list
      elements: dict
      sample:
        - type: authenticate-oidc
          order: 1
          authenticate_oidc_config:
            issuer: https://login.example.com
            authorization_endpoint: https://login.example.com/oauth2/authorize
            token_endpoint: https://login.example.com/oauth2/token
            user_info_endpoint: https://login.example.com/oauth2/userinfo
            client_id: pocstack-admin
            scope: openid
            session_cookie_name: AWSELBAuthSessionCookie
            session_timeout: 604800
            on_unauthenticated_request: authenticate
        - type: forward
          order: 2
          forward_config:
            target_groups:
              - {target_group_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/stable/1", weight: 90}
              - {target_group_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/canary/2", weight: 10}
            target_group_stickiness_config: {enabled: true, duration_seconds: 3600}
    tags:
      description: Tags of the rule; the value of C(pocstack:client-secret-hash) shows as C(<salted hash of client_secret>).
      type: dict
      sample: {"pocstack:rule-name": "plotly", "pocstack:service": "plotly"}
"""

import random
import time

from ansible_collections.amazon.aws.plugins.module_utils import elb_utils
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.pocstack.aws.plugins.module_utils import elbv2
from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr
from ansible_collections.pocstack.aws.plugins.module_utils import rule_actions as ra

# A lost race re-reads the listener and picks again; this many tries in all.
MAX_PRIORITY_ATTEMPTS = 10


class RuleManager:
    def __init__(self, module):
        self.module = module
        self.client = module.client("elbv2", retry_decorator=AWSRetry.jittered_backoff())
        self.params = module.params
        self.changed = False
        self.moved = False

    # ------------------------------------------------------------- reading
    def listener(self, details):
        """(listener ARN, listener, load balancer); the last two only when
        `details` (or when found by name anyway)."""
        arn = self.params["listener_arn"]
        if arn and not details:
            return arn, None, None
        name, port = self.params["load_balancer_name"], self.params["listener_port"]
        try:
            listener = elb_utils.describe_listeners(self.client, listener_arns=[arn])[0] if arn else None
            by = {"load_balancer_arns": [listener["LoadBalancerArn"]]} if arn else {"names": [name]}
            lb = (elb_utils.describe_load_balancers(self.client, **by) or [None])[0]  # None when it does not exist
            if lb is None:
                self.module.fail_json(msg=f"load_balancer_name: no load balancer named {name!r}; create it first or fix the name")
            if not arn:
                listeners = elb_utils.describe_listeners(self.client, lb["LoadBalancerArn"])
                listener = next((li for li in listeners if li["Port"] == port), None)
        except is_ansible_aws_error_code("ListenerNotFound") as e:
            self.module.fail_json_aws(e.exception, msg=f"listener_arn: no listener {arn}; create it first or fix the ARN")
        except AnsibleAWSError as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e.exception, msg=f"Could not read listener {arn}" if arn
                                      else f"Could not read the listeners of load balancer {name!r}")
        if listener is None:
            self.module.fail_json(msg=f"listener_port: load balancer {name!r} has no listener on port {port}")
        return listener["ListenerArn"], listener, lb

    def read_listener(self, listener_arn):
        """The listener's rules and {rule ARN: tags} of its non-default rules."""
        rules = elbv2.get_listener_rules(self.client, listener_arn)
        return rules, elbv2.tags_by_arn(self.client, [r["RuleArn"] for r in rules if not r.get("IsDefault")])

    # ---------------------------------------------------------- validation
    def check_protocols(self, listener, desired):
        """Fail on actions AWS would reject on this listener's protocol."""
        errors = lr.protocol_problems(listener, desired["actions"])
        if errors:
            self.module.fail_json(msg="; ".join(errors))

    def check_target_groups(self, lb, desired, rules):
        """Fail on target groups AWS would reject, reading those the actions
        forward to but no rule of the listener (`rules`) does yet: AWS checked
        those when it accepted the rules and refuses to delete them while used."""
        known = lr.forwarded_to(rules)
        arns = sorted(set(ra.target_group_arns(desired["actions"])) - known)
        try:
            groups = elbv2.target_groups_by_arn(self.client, arns) if arns else {}
        except AnsibleAWSError as e:
            self.module.fail_json_aws(e.exception, msg=f"Could not read the target groups {', '.join(arns)}")
        errors, missing = lr.target_group_problems(lb, desired["actions"], groups, known)
        if self.module.check_mode:
            # An earlier task of this same check-mode run may create them.
            for message in missing:
                self.module.warn(message)
        else:
            errors += missing
        if errors:
            self.module.fail_json(msg="; ".join(errors))

    # -------------------------------------------------------------- writing
    def priority_taken(self, error, listener_arn, priority):
        """Another writer took `priority` between our read and our write: name
        the rule that holds it now, so the user knows what to change."""
        holder = None
        try:
            holder = lr.holder(*self.read_listener(listener_arn), priority)
        except AnsibleAWSError:
            pass  # the message without the holder is still right
        self.module.fail_json_aws(error.exception, msg=lr.priority_used(priority, holder or "another rule", listener_arn))

    def run(self):
        params = self.params
        present = params["state"] == "present"
        try:
            desired = (
                lr.desired_rule(params["priority"], params["conditions"], params["actions"])
                if present
                else {"conditions": lr.normalize_conditions(params["conditions"])}
            )
            lr.validate_range(params["priority_range"])
            lr.wanted_tags(params["name"], params["tags"])
        except lr.RuleError as e:
            self.module.fail_json(msg=str(e))
        listener_arn, listener, lb = self.listener(details=present)
        if present:
            self.check_protocols(listener, desired)
        try:
            try:
                rules, tags = self.read_listener(listener_arn)
            except AnsibleAWSError:
                if present:  # a target group AWS would reject is named first, whatever the rules
                    self.check_target_groups(lb, desired, [])
                raise
        except is_ansible_aws_error_code("ListenerNotFound") as e:
            self.module.fail_json_aws(e.exception, msg=f"listener_arn: no listener {listener_arn}; create it first or fix the ARN")
        except AnsibleAWSError as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e.exception, msg=f"Could not read the rules of listener {listener_arn}")
        if present:
            self.check_target_groups(lb, desired, rules)
        rule, adopt = lr.find_owned(rules, tags, params["name"], desired["conditions"])
        if adopt and not present:
            rule = None
        before = dict(lr.current_rule(rule), tags=tags.get(rule["RuleArn"], {})) if rule else None
        if not present:
            return self.absent(rule, before)
        return self.present(listener_arn, rules, tags, rule, before, desired)

    def present(self, listener_arn, rules, tags, rule, before, desired):
        name = self.params["name"]
        try:
            plan = lr.secret_plan(self.params["client_secret_update"], desired, before, (before or {}).get("tags", {}))
            to_set, to_unset, after_tags = lr.tag_changes(
                (before or {}).get("tags", {}), name, self.params["tags"], self.params["purge_tags"], plan.tag
            )
        except lr.RuleError as e:
            self.module.fail_json(msg=str(e))
        if rule is None:
            return self.create(listener_arn, rules, tags, desired, after_tags, plan)
        priority, problems = lr.placement(rules, tags, desired["conditions"], desired["priority"], rule, before,
                                          None, self.params["allow_shadowing"], listener_arn)
        if problems:
            self.refuse(problems)
        desired = dict(desired, priority=priority)
        diff = {"before": lr.for_diff(before, plan.before), "after": lr.for_diff(dict(desired, tags=after_tags), plan.after)}

        arn = rule["RuleArn"]
        changes = lr.rule_differences(desired, before)
        if plan.send is not None:
            changes.append("client_secret")
        if changes or to_set or to_unset:
            self.changed = True
        if self.module.check_mode or not self.changed:
            self.moved = "priority" in changes
            # Nothing written: the rule is as just read.
            return self.exit(arn, desired["priority"], diff, (rule, tags.get(arn, {})))
        try:
            if {"conditions", "actions", "client_secret"} & set(changes):
                elb_utils.modify_rule(self.client, arn, Conditions=lr.to_aws_conditions(desired["conditions"]),
                                      Actions=ra.to_aws_actions(desired["actions"], plan.send))
            if "priority" in changes:
                elb_utils.set_rule_priorities(self.client, [{"RuleArn": arn, "Priority": desired["priority"]}])
                self.moved = True
            if to_set:
                elb_utils.add_tags(self.client, [arn], ansible_dict_to_boto3_tag_list(to_set))
            if to_unset:
                elb_utils.remove_tags(self.client, [arn], to_unset)
        except is_ansible_aws_error_code("PriorityInUse") as e:
            self.priority_taken(e, listener_arn, desired["priority"])
        except AnsibleAWSError as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e.exception, msg=f"Could not update the rule {name!r} ({arn})")
        return self.exit(arn, desired["priority"], diff)

    SHADOWING_HINT = ("; give the rule another priority or narrower conditions, or set allow_shadowing=true "
                      "to keep it there on purpose")

    def refuse(self, problems):
        """Fail before any write; an order problem says how to keep it on purpose."""
        hint = self.SHADOWING_HINT if isinstance(problems[0], lr.OrderProblem) else ""
        self.module.fail_json(msg="; ".join(problems) + hint)

    def create(self, listener_arn, rules, rule_tags, desired, tags, plan):
        """CreateRule at the desired priority, or (automatic) at the lowest
        free one: when another writer takes that first (PriorityInUse),
        re-read the listener and pick again."""
        first_last = lr.validate_range(self.params["priority_range"])
        allow_shadowing, lost = self.params["allow_shadowing"], set()
        for _attempt in range(MAX_PRIORITY_ATTEMPTS):
            priority, problems = lr.placement(rules, rule_tags, desired["conditions"], desired["priority"], None, None,
                                              first_last, allow_shadowing, listener_arn, lost)
            if problems:
                self.refuse(problems)
            diff = {"before": {}, "after": lr.for_diff(dict(desired, priority=priority, tags=tags), plan.after)}
            self.changed = True
            if self.module.check_mode:
                return self.exit(None, priority, diff)
            try:
                rule = elb_utils.create_rule(
                    self.client, listener_arn, lr.to_aws_conditions(desired["conditions"]), priority,
                    ra.to_aws_actions(desired["actions"], plan.send), ansible_dict_to_boto3_tag_list(tags),
                )[0]
                return self.exit(rule["RuleArn"], priority, diff)
            except is_ansible_aws_error_code("PriorityInUse") as e:
                if desired["priority"] is not None:
                    self.priority_taken(e, listener_arn, priority)
                lost.add(priority)
            except AnsibleAWSError as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(
                    e.exception, msg=f"Could not create the rule {self.params['name']!r} on listener {listener_arn}")
            time.sleep(random.uniform(0.05, 0.3))
            try:
                rules, rule_tags = self.read_listener(listener_arn)
            except AnsibleAWSError as e:
                self.module.fail_json_aws(e.exception, msg=f"Could not read the rules of listener {listener_arn}")
        self.module.fail_json(
            msg=f"priority: lost the race for a free priority {MAX_PRIORITY_ATTEMPTS} times on listener {listener_arn}; "
            "run again, or give an explicit priority"
        )

    def absent(self, rule, before):
        if rule is None:
            return self.exit(None, None, {"before": {}, "after": {}})
        self.changed = True
        if not self.module.check_mode:
            try:
                elb_utils.delete_rule(self.client, rule["RuleArn"])  # gone meanwhile is fine
            except AnsibleAWSError as e:
                self.module.fail_json_aws(e.exception, msg=f"Could not delete the rule {rule['RuleArn']}")
        shown = ra.SECRET_HIDDEN if lr.has_oidc(before["actions"]) else None
        return self.exit(None, None, {"before": lr.for_diff(before, shown), "after": {}})

    def exit(self, arn, priority, diff, read=None):
        """read: (rule, tags) as this run read them, when it wrote nothing
        since; otherwise the rule is read again after the writes."""
        # In check mode this is the rule as it is now, before the reported change.
        described = {}
        if arn and read:
            described = lr.described_rule(*read)
        elif arn:
            try:
                found = elb_utils.describe_rules(self.client, RuleArns=[arn])[0]
                described = lr.described_rule(found, elbv2.tags_by_arn(self.client, [arn]).get(arn, {}))
            except is_ansible_aws_error_code("RuleNotFound"):
                pass
            except AnsibleAWSError as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e.exception, msg=f"Could not describe the rule {arn}")
        result = dict(changed=self.changed, rule_arn=arn or "", priority=priority, moved=self.moved, rule=described)
        if self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)


# Types of the action settings that are not strings (rule_actions.CONFIGS
# lists every setting in both forms; the argument spec is made from it).
SETTING_SPECS = {
    "session_timeout": dict(type="int"),
    "authentication_request_extra_params": dict(type="dict"),
    "on_unauthenticated_request": dict(type="str", choices=list(ra.UNAUTHENTICATED_CHOICES)),
    "token_endpoint": dict(type="str", no_log=False),  # an URL, not a token
}


def settings_spec(kind, aws_form):
    """Argument spec of one action type's settings, friendly or AWS names."""
    return {
        (aws if aws_form else friendly): dict(SETTING_SPECS.get(friendly, dict(type="str")))
        for friendly, aws, _default in ra.CONFIGS[kind][1]
    }


TARGET_GROUP = dict(
    target_group_arn=dict(type="str", required=True, aliases=["TargetGroupArn"]),
    weight=dict(type="int", aliases=["Weight"]),
)
STICKINESS = dict(
    enabled=dict(type="bool", aliases=["Enabled"]),
    duration_seconds=dict(type="int", aliases=["DurationSeconds"]),
)
ACTION_OPTIONS = dict(
    type=dict(type="str", required=True, aliases=["Type"], choices=list(ra.ACTION_TYPES)),
    order=dict(type="int", aliases=["Order"]),
    # forward, friendly and AWS form
    target_group_arn=dict(type="str", aliases=["TargetGroupArn"]),
    target_groups=dict(type="list", elements="dict", options=TARGET_GROUP),
    stickiness=dict(type="dict", options=STICKINESS),
    ForwardConfig=dict(type="dict", options=dict(
        TargetGroups=dict(type="list", elements="dict", options=TARGET_GROUP),
        TargetGroupStickinessConfig=dict(type="dict", options=STICKINESS),
    )),
    client_secret=dict(type="str", no_log=True),
)
for _kind in (ra.REDIRECT, ra.FIXED_RESPONSE, ra.OIDC, ra.COGNITO):
    ACTION_OPTIONS.update(settings_spec(_kind, aws_form=False))
    ACTION_OPTIONS[ra.CONFIGS[_kind][0]] = dict(type="dict", options=settings_spec(_kind, aws_form=True))
ACTION_OPTIONS["AuthenticateOidcConfig"]["options"].update(
    ClientSecret=dict(type="str", no_log=True),
    UseExistingClientSecret=dict(type="bool"),
)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            listener_arn=dict(type="str"),
            load_balancer_name=dict(type="str"),
            listener_port=dict(type="int"),
            priority=dict(type="int"),
            priority_range=dict(type="list", elements="int", default=[1, 50000]),
            allow_shadowing=dict(type="bool", default=False),
            conditions=dict(type="list", elements="dict"),
            actions=dict(type="list", elements="dict", options=ACTION_OPTIONS),
            client_secret_update=dict(type="str", choices=["on_change", "always", "on_create"], default="on_change"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        mutually_exclusive=[["listener_arn", "load_balancer_name"]],
        required_one_of=[["listener_arn", "load_balancer_name"]],
        required_together=[["load_balancer_name", "listener_port"]],
        required_if=[["state", "present", ["conditions", "actions"]]],
        supports_check_mode=True,
    )
    RuleManager(module).run()


if __name__ == "__main__":
    main()
