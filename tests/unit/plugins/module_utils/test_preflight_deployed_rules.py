"""The selected services' rules against the rules already on the listener,
before the run's first write: the preflight must refuse what
pocstack.aws.elb_listener_rule would refuse at its own write (same functions),
and derive each service's rule exactly as roles/alb_tls's defaults do."""
import pathlib

import jinja2
import pytest
import yaml

from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import check_deployed_rules
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import rule_settings

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/pocstack/1/2"
ALB_TLS_DEFAULTS = pathlib.Path(__file__).parents[4] / "roles" / "alb_tls" / "defaults" / "main.yml"


def described(owner, priority, *conditions):
    """A rule as elb_listener_rules_info returns it (snake_cased DescribeRules, with tags)."""
    return {"rule_arn": f"{LISTENER}/rule-{owner}", "priority": str(priority), "is_default": False,
            "conditions": list(conditions), "actions": [], "tags": {lr.OWNER_TAG: owner, "pocstack:service": owner}}


def path(*values):
    return {"field": "path-pattern", "path_pattern_config": {"values": list(values)}, "values": list(values)}


def host(*values):
    return {"field": "host-header", "host_header_config": {"values": list(values)}, "values": list(values)}


DEFAULT_RULE = {"rule_arn": f"{LISTENER}/default", "priority": "default", "is_default": True, "conditions": [],
                "actions": [], "tags": {}}
DEPLOYED = {"listener_arn": LISTENER, "rules": [
    described("echo", 10, host("echo.pocstack.localhost")),
    described("plotly", 100, path("*")),
    DEFAULT_RULE,
]}


def test_nothing_is_refused_before_the_listener_exists():
    assert check_deployed_rules({"greedy": {"poc_priority": 1}}, {"listener_arn": "", "rules": []}) == {}


@pytest.mark.parametrize("services", [
    {"plotly": {"poc_priority": 100}},                        # its own rule, unchanged
    {"plotly": {}},                                           # its own rule keeps its priority
    {"echo": {"poc_host": "echo.pocstack.localhost", "poc_priority": 10}},
    {"reports": {"poc_path_patterns": ["/reports*"]}},        # automatic: in front of plotly's catch-all
    {"reports": {"poc_path_patterns": ["/reports*"], "poc_priority": 50}},
    {"greedy": {"poc_priority": 9, "poc_allow_shadowing": True}},
])
def test_rules_that_fit_among_the_deployed_ones_pass(services):
    assert check_deployed_rules(services, DEPLOYED) == {}


def test_a_catch_all_in_front_of_a_deployed_service_names_the_variable_and_that_service():
    found = check_deployed_rules({"greedy": {"poc_priority": 9}}, DEPLOYED)
    assert list(found) == ["greedy"]
    (message,) = found["greedy"]
    assert message.startswith("poc_priority=9, against the rules deployed on the listener: priority: 9 puts this rule "
                              "(path-pattern *) in front of rule 'echo' at priority 10 (host-header echo.pocstack.localhost), "
                              "whose every request it matches"), message
    assert "in front of rule 'plotly' at priority 100 (path-pattern *)" in message, message
    assert message.endswith("or set poc_allow_shadowing: true to keep it there on purpose"), message


def test_an_automatic_catch_all_with_no_room_is_refused():
    (message,) = check_deployed_rules({"greedy": {}}, DEPLOYED)["greedy"]
    assert message.startswith("poc_path_patterns / poc_host_headers / poc_host (automatic priority)"), message
    assert "no priority in [1, 50000]" in message and "'plotly' at 100 (path-pattern *)" in message, message


def test_a_priority_another_rule_holds_names_its_owner():
    (message,) = check_deployed_rules({"reports": {"poc_path_patterns": ["/reports*"], "poc_priority": 100}},
                                      DEPLOYED)["reports"]
    assert "poc_priority=100" in message and "is already used by rule" in message and "(owner: plotly)" in message


def test_a_rule_behind_a_deployed_catch_all_is_refused():
    (message,) = check_deployed_rules({"late": {"poc_path_patterns": ["/late*"], "poc_priority": 200}},
                                      DEPLOYED)["late"]
    assert "behind rule 'plotly' at priority 100 (path-pattern *)" in message, message


def test_role_variables_set_in_the_inventory_win_over_poc_ones():
    services = {"greedy": {"poc_priority": 50, "poc_path_patterns": ["/x*"], "alb_tls_priority": 9,
                           "alb_tls_path_patterns": ["*"]}}
    (message,) = check_deployed_rules(services, DEPLOYED)["greedy"]
    assert message.startswith("alb_tls_priority=9,") and "another alb_tls_priority" in message, message


def test_header_and_query_conditions_of_deployed_rules_are_read():
    deployed = {"listener_arn": LISTENER, "rules": [described(
        "beta", 5, path("*"),
        {"field": "http-header", "http_header_config": {"http_header_name": "X-Beta", "values": ["1"]}},
        {"field": "query-string", "query_string_config": {"values": [{"key": "v", "value": "2"}]}},
    )]}
    # beta's rule matches only some requests: a catch-all behind it is fine, in front of it is not.
    assert check_deployed_rules({"all": {"poc_priority": 6}}, deployed) == {}
    (message,) = check_deployed_rules({"all": {"poc_priority": 4}}, deployed)["all"]
    assert "http-header x-beta 1" in message and "query-string v=2" in message, message


# --- one source: the preflight derives the rule as roles/alb_tls/defaults/main.yml does ----------

def role_default_conditions(poc_vars):
    """Render alb_tls's routing defaults with the given poc_* variables, as Ansible would."""
    defaults = yaml.safe_load(ALB_TLS_DEFAULTS.read_text())
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    values = dict(poc_vars)
    for key in ("alb_tls_host", "alb_tls_host_headers", "alb_tls_path_patterns"):
        value = env.compile_expression(defaults[key].strip()[2:-2])(**values)
        values[key] = value if isinstance(value, str) else list(value)  # jinja2's unique is a generator
    conditions = ([{"field": "path-pattern", "values": values["alb_tls_path_patterns"]}] if values["alb_tls_path_patterns"]
                  else []) + ([{"field": "host-header", "values": values["alb_tls_host_headers"]}]
                              if values["alb_tls_host_headers"] else [])
    return lr.normalize_conditions(conditions)


@pytest.mark.parametrize("poc_vars", [
    {},
    {"poc_host": "a.example.com"},
    {"poc_host_headers": ["b.example.com"]},
    {"poc_host": "a.example.com", "poc_host_headers": ["b.example.com", "a.example.com"]},
    {"poc_path_patterns": ["/api*"]},
    {"poc_path_patterns": ["/api*"], "poc_host": "a.example.com"},
    {"poc_path_patterns": [], "poc_host_headers": ["c.example.com"]},
])
def test_the_rule_is_derived_as_the_role_defaults_derive_it(poc_vars):
    assert rule_settings(poc_vars)["conditions"] == role_default_conditions(poc_vars)
