"""A target group the way AWS describes it, for the unit tests."""

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/4aa612a2336e5b66"


def aws_group(arn=ARN, **changes):
    """An HTTP ip group as DescribeTargetGroups returns it, health check as alb_tls sets it."""
    group = {
        "TargetGroupArn": arn, "TargetGroupName": "plotly-8050", "Protocol": "HTTP", "Port": 8050,
        "VpcId": "vpc-1", "HealthCheckProtocol": "HTTP", "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True, "HealthCheckIntervalSeconds": 6, "HealthCheckTimeoutSeconds": 5,
        "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2, "HealthCheckPath": "/health",
        "Matcher": {"HttpCode": "200"}, "LoadBalancerArns": [], "TargetType": "ip",
        "ProtocolVersion": "HTTP1", "IpAddressType": "ipv4",
    }
    group.update(changes)
    return group


def aws_attributes(**changes):
    """Every attribute AWS reports for a new HTTP ip group (its defaults, as strings)."""
    values = {
        "deregistration_delay.timeout_seconds": "300",
        "load_balancing.algorithm.anomaly_mitigation": "off",
        "load_balancing.algorithm.type": "round_robin",
        "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
        "slow_start.duration_seconds": "0",
        "stickiness.app_cookie.cookie_name": "",
        "stickiness.app_cookie.duration_seconds": "86400",
        "stickiness.enabled": "false",
        "stickiness.lb_cookie.duration_seconds": "86400",
        "stickiness.type": "lb_cookie",
        "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
        "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
        "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
        "waf.fail_open.enabled": "false",
    }
    values.update(changes)
    return [{"Key": k, "Value": v} for k, v in values.items()]


def module_params(**overrides):
    """alb_target_group's parameters as AnsibleModule hands them over (unset options None);
    health_check sub-options given merge into the default ones."""
    params = {
        "name": "plotly-8050", "target_group_arn": None, "state": "present", "vpc_id": "vpc-1",
        "protocol": "HTTP", "protocol_version": None, "port": 8050, "target_type": "ip", "ip_address_type": None,
        "health_check": {"enabled": None, "protocol": None, "port": None, "path": "/health", "interval": 6,
                         "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 2, "matcher": "200"},
        "deregistration_delay": None, "slow_start": None, "load_balancing_algorithm": None, "stickiness": None,
        "replace": False, "wait_for_unused": False, "wait_timeout": 60, "tags": None, "purge_tags": True,
    }
    for key, value in overrides.items():
        params[key] = {**params[key], **value} if key == "health_check" and value else value
    return params
