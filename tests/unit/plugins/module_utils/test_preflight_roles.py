"""The roles' own variables in the preflight, checked against the roles' real
argument specs: each mistake named, with what is allowed; good values pass."""
import pytest

from ansible_collections.pocstack.aws.plugins.filter.preflight import role_sources
from ansible_collections.pocstack.aws.plugins.module_utils import preflight_roles
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import Unreadable


def errors(values):
    specs, defaults = role_sources().specs, role_sources().defaults
    return preflight_roles.check_role_variables(values, specs, defaults)


def test_good_values_and_other_variables_pass():
    assert errors({
        "alb_tls_idle_timeout": "60", "alb_tls_scheme": "internal", "alb_tls_ingress_cidrs": ["10.0.0.0/8", "2001:db8::/32"],
        "alb_tls_health_check_interval": 30, "alb_tls_health_check_timeout": 10, "alb_tls_health_check_matcher": 200,
        "alb_tls_drop_invalid_header_fields": False, "alb_tls_certificate_arn": "", "alb_tls_priority": None,
        "fargate_service_autoscaling": {"min": 1, "max": 3, "cpu_target": 55.5},
        "ssm_secrets_secrets": [{"name": "PASS", "value": "x"}],
        "alb_tls__service_groups": "internal, not checked", "poc_cpu": "checked elsewhere", "pocstack_alb_name": "x",
    }) == []


@pytest.mark.parametrize("values, message", [
    ({"alb_tls_idle_timout": 60},
     "alb_tls_idle_timout is not a variable of the role pocstack.aws.alb_tls (the role would ignore it); did you mean "
     "alb_tls_idle_timeout?"),
    ({"fargate_service_zzz": 1}, "fargate_service_zzz is not a variable of the role pocstack.aws.fargate_service"),
    ({"alb_tls_idle_timeout": 0}, "alb_tls_idle_timeout=0 is out of range; allowed: 1-4000"),
    ({"alb_tls_idle_timeout": "soon"}, "alb_tls_idle_timeout='soon' must be a whole number"),
    ({"alb_tls_idle_timeout": 2.5}, "alb_tls_idle_timeout=2.5 must be a whole number"),
    ({"alb_tls_idle_timeout": True}, "alb_tls_idle_timeout=True must be a whole number"),
    ({"alb_tls_healthy_threshold": 11}, "alb_tls_healthy_threshold=11 is out of range; allowed: 2-10"),
    ({"alb_tls_deregistration_delay": 3601}, "allowed: 0-3600"),
    ({"fargate_service_desired_count": 5001}, "fargate_service_desired_count=5001 is out of range; allowed: 0-5000"),
    ({"alb_tls_health_check_timeout": 6}, "alb_tls_health_check_timeout=6 must be less than alb_tls_health_check_interval=6"),
    ({"alb_tls_scheme": "public"}, "alb_tls_scheme='public' is not allowed; allowed: internet-facing, internal"),
    ({"alb_tls_ingress_cidrs": "10.0.0.0/8"},
     "alb_tls_ingress_cidrs='10.0.0.0/8' must be a list of str (a YAML sequence), not a string"),
    ({"alb_tls_ingress_cidrs": ["10.0.0.1/8"]}, "alb_tls_ingress_cidrs[0]='10.0.0.1/8' is not allowed; allowed: CIDR blocks"),
    ({"alb_tls_ingress_cidrs": ["0.0.0.0/33"]}, "alb_tls_ingress_cidrs[0]='0.0.0.0/33' is not allowed"),
    ({"alb_tls_deletion_protection": "false"},
     "alb_tls_deletion_protection='false' must be true or false (a YAML boolean, unquoted)"),
    ({"fargate_service_environment": "A=1"}, "fargate_service_environment='A=1' must be a dict (a YAML mapping), not a string"),
    ({"fargate_service_autoscaling": {"min": 1, "max": 2, "cpu": 50}},
     "fargate_service_autoscaling.cpu is not a known key (did you mean cpu_target?); allowed: min, max, cpu_target"),
    ({"fargate_service_autoscaling": {"min": 1, "max": 2, "cpu_target": "high"}},
     "fargate_service_autoscaling.cpu_target='high' must be a number"),
    ({"ssm_secrets_secrets": [{"value": "x"}]}, "ssm_secrets_secrets[0].name is required"),
    ({"alb_tls_certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc\n"},
     "has white space at its start or end (a block scalar '|' keeps the final newline"),
    ({"alb_tls_certificate_arn": "my-cert.pem"}, "alb_tls_certificate_arn='my-cert.pem' is not allowed; allowed: an ACM certificate ARN"),
    ({"alb_tls_health_check_matcher": "200-600"}, "alb_tls_health_check_matcher='200-600' is not allowed; allowed: HTTP codes 200-499"),
    ({"alb_tls_health_check_path": "/health\n"}, "alb_tls_health_check_path='/health\\n' has white space"),
    ({"alb_tls_health_check_path": "health"}, "alb_tls_health_check_path='health' is not allowed; allowed: a path starting with '/'"),
    ({"alb_tls_name": "a-load-balancer-name-that-is-too-long"}, "allowed: 1-32 letters, digits and '-'"),
    ({"alb_tls_priority_range": [9, 3]}, "alb_tls_priority_range=[9, 3] must be [first, last] with first <= last"),
    ({"alb_tls_priority_range": [0, 3]}, "alb_tls_priority_range[0]=0 is out of range; allowed: 1-50000"),
    ({"ecr_image_source": "pull"}, "ecr_image_source='pull' is not allowed; allowed: existing, build, mirror"),
    ({"fargate_service_log_group": ["/a"]}, "fargate_service_log_group=['/a'] must be a string, not a list"),
    ({"fargate_service_desired_count": Unreadable("fargate_service_desired_count could not be evaluated: 'x' is undefined")},
     "fargate_service_desired_count could not be evaluated: 'x' is undefined"),
])
def test_each_mistake_is_named_with_what_is_allowed(values, message):
    found = errors(values)
    assert any(message in e for e in found), found


def test_no_log_values_are_never_shown():
    found = errors({"ssm_secrets_secrets": [{"name": "PASS", "value": "hunter2-secret\n", "valeu": "x"}]})
    assert any("ssm_secrets_secrets[0].value=(value hidden: no_log) has white space" in e for e in found), found
    assert any("ssm_secrets_secrets[0].valeu is not a known key (did you mean value?)" in e for e in found), found
    assert "hunter2" not in " ".join(found)


def test_every_range_and_form_names_an_option_of_its_role():
    specs = role_sources().specs
    def spec_of(name):
        variable, _, key = name.partition(".")
        role = preflight_roles.role_of(variable)
        spec = specs[role].get(variable)
        assert spec, f"{variable} is not in roles/{role}/meta/argument_specs.yml"
        for part in key.split(".") if key else ():  # a key of a key: fargate_service_sidecars.health_check.interval
            spec = spec["options"][part]
        return spec

    for name in list(preflight_roles.RANGES) + list(preflight_roles.ALLOWED) + list(preflight_roles.FORMS):
        spec_of(name)
    for name in list(preflight_roles.RANGES) + list(preflight_roles.ALLOWED):
        spec = spec_of(name)
        assert {"int", "float"} & {spec.get("type"), spec.get("elements")}, f"{name}: a range on a {spec.get('type')}"
