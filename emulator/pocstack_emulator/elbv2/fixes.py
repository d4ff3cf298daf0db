"""ELBv2 fidelity fixes: where moto 5.2.5 answers otherwise than AWS."""
import collections


def patch_elbv2_alb_default_attributes():
    """ELBv2 DescribeLoadBalancerAttributes.

    AWS: an application load balancer reports every attribute, with its
    default, from the moment it exists (idle_timeout.timeout_seconds 60,
    routing.http2.enabled true, desync mitigation "defensive", cross-zone
    load balancing always true for ALBs, ...).
    moto 5.2.5: returns only access_logs.s3.bucket/prefix,
    deletion_protection.enabled and load_balancing.cross_zone.enabled (false)
    until an attribute is set, so amazon.aws.elb_application_lb with
    `idle_timeout` fails with KeyError 'idle_timeout_timeout_seconds'.
    Fix: new ALBs start with AWS's defaults (values set later still win).
    """
    from moto.elbv2 import models

    defaults = {
        "access_logs.s3.enabled": "false",
        "access_logs.s3.bucket": "",
        "access_logs.s3.prefix": "",
        "client_keep_alive.seconds": "3600",
        "connection_logs.s3.enabled": "false",
        "connection_logs.s3.bucket": "",
        "connection_logs.s3.prefix": "",
        "deletion_protection.enabled": "false",
        "idle_timeout.timeout_seconds": "60",
        "load_balancing.cross_zone.enabled": "true",
        "routing.http.desync_mitigation_mode": "defensive",
        "routing.http.drop_invalid_header_fields.enabled": "false",
        "routing.http.preserve_host_header.enabled": "false",
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
        "routing.http.xff_client_port.enabled": "false",
        "routing.http.xff_header_processing.mode": "append",
        "routing.http2.enabled": "true",
        "waf.fail_open.enabled": "false",
        "zonal_shift.config.enabled": "false",
    }
    original = models.FakeLoadBalancer.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.type == "application":
            self.attrs.update(defaults)

    models.FakeLoadBalancer.__init__ = __init__


def patch_elbv2_set_rule_priorities():
    """ELBv2 SetRulePriorities.

    AWS: applies all given priorities at once and rejects the call only if
    the *resulting* rules of a listener share a priority, so two rules can be
    swapped in one call and setting a rule to its own priority is a no-op.
    moto 5.2.5: checks each new priority against the current ones, including
    the rule being moved, so both of those answer PriorityInUse.
    Fix: validate the listener's final state instead.
    """
    from moto.elbv2 import models
    from moto.elbv2.exceptions import DuplicatePriorityError
    from moto.elbv2.exceptions import PriorityInUseError

    def set_rule_priorities(self, rule_priorities):
        priorities = [rp["Priority"] for rp in rule_priorities]
        for priority in set(priorities):
            if priorities.count(priority) > 1:
                raise DuplicatePriorityError(priority)
        moves = [(self.describe_rules(None, [rp["RuleArn"]])[0], rp["Priority"]) for rp in rule_priorities]
        new = {rule.arn: priority for rule, priority in moves}
        for rule, priority in moves:
            listener = self.describe_listeners(None, [rule.listener_arn])[0]
            for other in listener.rules.values():
                if other.arn != rule.arn and new.get(other.arn, other.priority) == priority:
                    raise PriorityInUseError()
        for rule, priority in moves:
            rule.priority = priority
        return [rule for rule, _ in moves]

    models.ELBv2Backend.set_rule_priorities = set_rule_priorities


ELBV2_ACTION_DEFAULTS = {
    "RedirectConfig": {
        "Protocol": "#{protocol}", "Port": "#{port}", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
    },
    "AuthenticateOidcConfig": {
        "SessionCookieName": "AWSELBAuthSessionCookie", "Scope": "openid", "SessionTimeout": 604800,
        "OnUnauthenticatedRequest": "authenticate",
    },
    "AuthenticateCognitoConfig": {
        "SessionCookieName": "AWSELBAuthSessionCookie", "Scope": "openid", "SessionTimeout": 604800,
        "OnUnauthenticatedRequest": "authenticate",
    },
}


def patch_elbv2_action_shape():
    """ELBv2 rule and listener actions as Describe*/Create*/Modify* return them.

    AWS: never returns an OIDC action's ClientSecret (nor
    UseExistingClientSecret) from any call; fills in what was omitted:
    a redirect's Protocol #{protocol}, Port #{port}, Host #{host},
    Path /#{path}, Query #{query}; an OIDC or Cognito action's
    SessionCookieName AWSELBAuthSessionCookie, Scope openid, SessionTimeout
    604800, OnUnauthenticatedRequest authenticate.
    moto 5.2.5: stores and returns actions exactly as given, so the client
    secret comes back in DescribeRules and omitted settings stay missing.
    Fix: fill AWS's defaults in and keep the secret out of what is stored
    (nothing in the emulator uses it).
    """
    from moto.elbv2 import models

    original = models.FakeAction.__init__

    def __init__(self, data):
        for key, defaults in ELBV2_ACTION_DEFAULTS.items():
            config = data.get(key)
            if isinstance(config, dict):
                for name, value in defaults.items():
                    if config.get(name) is None:
                        config[name] = value
                if key == "AuthenticateOidcConfig":
                    config.pop("ClientSecret", None)
                    config.pop("UseExistingClientSecret", None)
        original(self, data)

    models.FakeAction.__init__ = __init__
def patch_elbv2_target_group_attributes():
    """ELBv2 DescribeTargetGroupAttributes / ModifyTargetGroupAttributes.

    AWS: an HTTP/HTTPS target group reports every attribute with its default
    from the moment it exists, among them stickiness.lb_cookie.duration_seconds
    and stickiness.app_cookie.duration_seconds (86400),
    stickiness.app_cookie.cookie_name ("") and
    load_balancing.algorithm.anomaly_mitigation ("off");
    deregistration_delay.timeout_seconds accepts 0-3600 inclusive.
    moto 5.2.5: leaves those four out until they are set (a module comparing
    the stickiness duration reports a change AWS would not), and rejects 3600
    (it checks range(0, 3600)).
    Fix: new HTTP/HTTPS groups start with those defaults; 3600 is accepted.
    """
    from moto.elbv2 import models

    defaults = {
        "load_balancing.algorithm.anomaly_mitigation": "off",
        "stickiness.app_cookie.cookie_name": "",
        "stickiness.app_cookie.duration_seconds": "86400",
        "stickiness.lb_cookie.duration_seconds": "86400",
    }
    delay = "deregistration_delay.timeout_seconds"
    original_init = models.FakeTargetGroup.__init__
    original_modify = models.ELBv2Backend.modify_target_group_attributes

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.protocol in ("HTTP", "HTTPS"):
            self.attributes.update(defaults)

    def modify_target_group_attributes(self, target_group_arn, attributes):
        if str(attributes.get(delay, "")).strip() != "3600":
            return original_modify(self, target_group_arn, attributes)
        original_modify(self, target_group_arn, {**attributes, delay: "3599"})  # every other check still runs
        self.target_groups[target_group_arn].attributes[delay] = attributes[delay]

    models.FakeTargetGroup.__init__ = __init__
    models.ELBv2Backend.modify_target_group_attributes = modify_target_group_attributes


def forwarding_load_balancers(backend):
    """{target group ARN: [ARNs of the load balancers whose listeners forward to it]}:
    default actions and rules, plain or weighted (weight 0 included), each load
    balancer once. What AWS reports as a group's LoadBalancerArns, and what ECS
    calls the group's "associated load balancer"."""
    users = collections.defaultdict(list)
    for balancer in backend.load_balancers.values():
        for listener in balancer.listeners.values():
            for rule in listener.rules.values():  # the default rule included
                for action in rule.actions:
                    for arn in backend._get_target_group_arns_from(action_data=action.data):
                        if balancer.arn not in users[arn]:
                            users[arn].append(balancer.arn)
    return users


def patch_elbv2_target_group_load_balancer_arns():
    """ELBv2 DescribeTargetGroups LoadBalancerArns.

    AWS: lists the load balancers whose listeners forward to the group now
    (default action or rule, plain or weighted), each once; switching a rule
    to another group or deleting it updates both groups.
    moto 5.2.5: appends the load balancer on CreateRule/CreateListener only
    (once per rule), never on ModifyRule and never removes it, so a group
    a rule was switched to shows no load balancer and the old one still does.
    Fix: work the list out from the listeners whenever groups are described.
    """
    from moto.elbv2 import models

    original = models.ELBv2Backend.describe_target_groups

    def describe_target_groups(self, load_balancer_arn, target_group_arns, names):
        users = forwarding_load_balancers(self)
        for group in self.target_groups.values():
            group.load_balancer_arns = users.get(group.arn, [])
        return original(self, load_balancer_arn, target_group_arns, names)

    models.ELBv2Backend.describe_target_groups = describe_target_groups
