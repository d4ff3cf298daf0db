"""Rule order among the selected services in the preflight: a rule in front of
another whose every request it matches takes all of that one's traffic."""
import pytest

from ansible_collections.pocstack.aws.plugins.filter.preflight import role_sources
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import check_rule_order
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import check_service
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import check_services

HOST = {"poc_host_headers": ["hello.pocstack.localhost"], "poc_path_patterns": []}


@pytest.mark.parametrize("services", [
    {"plotly": {"poc_priority": 100}, "hello": {**HOST, "poc_priority": 90}},  # the local inventory
    {"plotly": {"poc_priority": None}, "second": {"poc_priority": None, "poc_path_patterns": ["/second*"]}},  # automatic
    {"api": {"poc_priority": 5, "poc_path_patterns": ["/api/v2*"]}, "v1": {"poc_priority": 6, "poc_path_patterns": ["/api*"]}},
    {"a": {"poc_path_patterns": ["/a*"]}, "b": {"poc_path_patterns": ["/b*"]}},
    {"front": {"poc_priority": 1, "poc_allow_shadowing": True}, "back": {**HOST, "poc_priority": 2}},
])
def test_orders_where_every_rule_gets_its_traffic_pass(services):
    assert check_rule_order(services) == []


def test_a_catch_all_in_front_of_a_host_rule_is_named_on_the_front_service():
    found = check_rule_order({"plotly": {"poc_priority": 1}, "hello": {**HOST, "poc_priority": 90}})
    assert found == [("plotly", "poc_priority=1 puts plotly's rule (path-pattern *) in front of hello's (poc_priority=90; "
                                "host-header hello.pocstack.localhost), whose every request it matches: hello would get "
                                "no traffic; give plotly a priority above 90 or narrower conditions, or set "
                                "poc_allow_shadowing: true")]


def test_the_same_routing_is_named_on_both_services_whatever_the_priorities():
    found = check_rule_order({"a": {"poc_priority": None}, "b": {"poc_priority": 7, "poc_host": None}})
    assert [service for service, _ in found] == ["a", "b"]
    assert "the listener rule of a has the same conditions as b's (path-pattern *)" in found[0][1]


def test_host_case_does_not_make_rules_different():
    found = check_rule_order({"a": {"poc_host": "X.example.com"}, "b": {"poc_host_headers": ["x.example.com"]}})
    assert len(found) == 2


def test_services_with_other_mistakes_are_left_to_those():
    result = check_services({"a": {"poc_cpu": 300}, "b": {}}, {"pocstack_ssm_prefix": "/pocstack"}, role_sources())
    assert not any("same conditions" in message for messages in result.values() for message in messages)


# --- secrets given as plain environment ---------------------------------------------------------

SHARED = {"pocstack_ssm_prefix": "/pocstack", "aws_region": "us-east-1"}
SECRETS = [{"name": "PLOTLY_USER", "value": "tester"}, {"name": "PLOTLY_PASS", "value": "pass-Word-7"}]


def messages(environment, shared=SHARED):
    return [m for m in check_service("plotly", {"poc_secrets": SECRETS, "poc_environment": environment}, shared,
                                     role_sources())
            if m.startswith("poc_environment")]


@pytest.mark.parametrize("environment", [{"PORT": "8050"}, {"API_KEY_ID": "k"}, {"PUBLIC_KEY_URL": "https://x"}, {}])
def test_plain_values_pass(environment):
    assert messages(environment) == []


def test_a_secret_looking_name_is_refused_unless_the_audit_allows_it():
    assert messages({"GITHUB_TOKEN": "ghp"})[0].startswith("poc_environment: GITHUB_TOKEN looks like a secret")
    assert messages({"GITHUB_TOKEN": "ghp"}, {**SHARED, "pocstack_audit_plain_environment_allowed": ["GITHUB_TOKEN"]}) == []


def test_a_secrets_value_in_plain_environment_is_refused_without_showing_it():
    [message] = messages({"DSN": "pass-Word-7"})
    assert "the value of DSN is the value of the secret PLOTLY_PASS (not shown)" in message
    assert "pass-Word-7" not in message
