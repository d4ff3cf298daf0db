"""One source for each service variable's type, range and form: the role
variable it feeds (its argument spec, RANGES, ALLOWED, FORMS), found from the
roles' defaults. Changing the role's side changes the poc_* check; no list of
poc_* names or keys is kept by hand."""
import copy
import os
import re

import pytest

from ansible_collections.pocstack.aws.plugins.filter.preflight import role_files
from ansible_collections.pocstack.aws.plugins.filter.preflight import role_sources
from ansible_collections.pocstack.aws.plugins.module_utils import preflight
from ansible_collections.pocstack.aws.plugins.module_utils import preflight_roles

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SHARED = {"pocstack_ssm_prefix": "/pocstack", "aws_region": "us-east-1"}
# poc_* words that are no service variable: the inventory group, the audit module.
NOT_VARIABLES = {"poc_services", "poc_audit"}


def service_errors(svc, sources=None):
    return preflight.check_service("plotly", svc, SHARED, sources or role_sources())


def test_feeds_are_read_from_the_defaults():
    sources = role_sources()
    assert sources.feeds["poc_container_port"] == ["alb_tls_container_port", "fargate_service_container_port"]
    assert sources.feeds["poc_health_check_path"] == ["alb_tls_health_check_path"]
    assert sources.feeds["poc_autoscaling"] == ["fargate_service_autoscaling"]
    assert sources.key_feeds["poc_image"]["platform"] == "ecr_image_build_platform"
    assert "poc_host_headers" not in sources.feeds  # through an expression: checked in preflight.check_routing


def test_every_fed_role_variable_has_a_spec():
    sources = role_sources()
    fed = [v for variables in sources.feeds.values() for v in variables]
    fed += [v for keys in sources.key_feeds.values() for v in keys.values()]
    assert fed and [v for v in fed if v not in sources.options] == []


def _read_names(*folders):
    names = set()
    for folder in folders:
        for base, _dirs, files in os.walk(os.path.join(ROOT, folder)):
            for name in files:
                if name.endswith((".yml", ".yaml", ".j2", ".py")):
                    names.update(re.findall(r"\bpoc_[a-z0-9_]+", open(os.path.join(base, name)).read()))
    return names


def test_known_is_every_poc_name_the_roles_defaults_read_and_nothing_else_reads_others():
    sources = role_sources()
    _, raw = role_files()
    in_defaults = {n for value in raw.values() if isinstance(value, str) for n in re.findall(r"\bpoc_\w+", value)}
    assert sources.known == in_defaults
    elsewhere = _read_names("playbooks", "plugins/inventory", "roles") - NOT_VARIABLES
    assert elsewhere <= sources.known, f"read outside the roles' defaults: {sorted(elsewhere - sources.known)}"


def test_a_poc_variable_feeding_two_role_variables_is_reported_once():
    found = [m for m in service_errors({"poc_container_port": 0}) if m.startswith("poc_container_port")]
    assert found == ["poc_container_port=0 is out of range; allowed: 1-65535 (a TCP port)"]


def test_a_range_of_the_role_variable_is_the_range_of_the_poc_variable(monkeypatch):
    assert service_errors({"poc_container_port": 8050}) == []
    monkeypatch.setitem(preflight_roles.RANGES, "alb_tls_container_port", (1, 1023, "a privileged port"))
    assert "poc_container_port=8050 is out of range; allowed: 1-1023 (a privileged port)" in service_errors(
        {"poc_container_port": 8050})


def test_a_range_of_a_dict_key_is_the_range_of_the_poc_key(monkeypatch):
    scaling = {"poc_autoscaling": {"min": 1, "max": 3, "cpu_target": 95}}
    assert service_errors(scaling) == []
    monkeypatch.setitem(preflight_roles.RANGES, "fargate_service_autoscaling.cpu_target", (10, 90, "percent"))
    assert "poc_autoscaling.cpu_target=95 is out of range; allowed: 10-90 (percent)" in service_errors(scaling)


def test_a_form_of_the_role_variable_is_the_form_of_the_poc_variable(monkeypatch):
    assert service_errors({"poc_health_check_path": "/health"}) == []
    monkeypatch.setitem(preflight_roles.FORMS, "alb_tls_health_check_path", (re.compile(r"^/healthz$").match, "/healthz"))
    assert "poc_health_check_path='/health' is not allowed; allowed: /healthz" in service_errors(
        {"poc_health_check_path": "/health"})


def test_choices_and_keys_of_the_spec_are_those_of_the_poc_variable():
    specs, raw = role_files()
    image = {"poc_image": {"source": "existing", "repository": "pocstack/x", "platform": "linux/riscv64"}}
    assert "poc_image.platform='linux/riscv64' is not allowed; allowed: linux/amd64, linux/arm64" in service_errors(image)
    changed = copy.deepcopy(specs)
    changed["ecr_image"]["ecr_image_build_platform"]["choices"].append("linux/riscv64")
    changed["fargate_service"]["fargate_service_autoscaling"]["options"]["step"] = {"type": "int"}
    sources = preflight_roles.RoleSources(changed, raw)
    assert service_errors(image, sources) == []
    assert service_errors({"poc_autoscaling": {"min": 1, "max": 2, "step": 1}}, sources) == []
    assert "poc_autoscaling.step is not a known key; allowed: min, max" in " ".join(
        service_errors({"poc_autoscaling": {"min": 1, "max": 2, "step": 1}}))


def test_a_new_default_reading_a_poc_variable_makes_it_known_and_checked():
    specs, raw = role_files()
    sources = preflight_roles.RoleSources(specs, {**raw, "fargate_service_keep_revisions": "{{ poc_keep | default(5) }}"})
    assert "poc_keep" in sources.known
    assert "poc_keep=2000 is out of range; allowed: 0-1000 (task definition revisions)" in service_errors(
        {"poc_keep": 2000}, sources)
    assert "poc_keep is not a known service variable" in " ".join(service_errors({"poc_keep": 5}))


@pytest.mark.parametrize("svc, message", [
    ({"poc_cpu": "big"}, "poc_cpu='big' must be a whole number; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384"),
    ({"poc_priority": "first"}, "poc_priority='first' must be a whole number; allowed: 1-50000 (listener rule Priority)"),
    ({"poc_assign_public_ip": "yes"}, "poc_assign_public_ip='yes' must be true or false"),
    ({"poc_environment": ["A=1"]}, "poc_environment=['A=1'] must be a dict (a YAML mapping), not a list"),
    ({"poc_image": {"sorce": "build"}}, "poc_image.sorce is not a known key (did you mean source?)"),
    ({"poc_secrets": [{"name": "A", "value": "s3cret-value\n"}]}, "poc_secrets[0].value=(value hidden: no_log) has white space"),
    ({"poc_secrets": [{"value": "s3cret-value"}]}, "poc_secrets[0].name is required"),
    ({"poc_task_policy_statements": {"Effect": "Allow"}}, "poc_task_policy_statements={'Effect': 'Allow'} must be a list of dict"),
])
def test_type_mistakes_come_from_the_role_variables_spec(svc, message):
    found = service_errors(svc)
    assert any(message in m for m in found), found
    assert "s3cret-value" not in " ".join(found)


def test_a_missing_secret_value_is_said_once_with_where_to_get_one():
    found = [m for m in service_errors({"poc_secrets": [{"name": "A"}]}) if m.startswith("poc_secrets")]
    assert found == ["poc_secrets[0] (A) has no value; give one from ansible-vault, the environment or a lookup"]


def test_fargate_cpu_values_are_the_size_table():
    assert preflight_roles.ALLOWED["fargate_service_cpu"][0] == tuple(preflight.FARGATE_SIZES)
