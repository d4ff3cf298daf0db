"""pocstack.aws.role_variables: a role used alone checks its own variables as
the site playbook's preflight does, at each entry point, before its first AWS
call."""
import os

import pytest
import yaml
from ansible.errors import AnsibleError

from ansible_collections.pocstack.aws.plugins.filter.preflight import ROLES_DIR
from ansible_collections.pocstack.aws.plugins.filter.preflight import role_outputs
from ansible_collections.pocstack.aws.plugins.filter.preflight import role_variables
from ansible_collections.pocstack.aws.plugins.module_utils import preflight_roles


class Variables(dict):
    """A task's `vars` whose `broken` names fail to evaluate, as ansible-core's lazy templating does."""

    def __init__(self, values, broken=()):
        super().__init__(values)
        self.broken = set(broken)

    def __getitem__(self, key):
        if key in self.broken:
            raise RuntimeError(f"'{key.upper()}' is undefined")
        return super().__getitem__(key)


def test_good_variables_other_roles_internal_names_and_outputs_pass():
    assert role_variables(Variables({
        "alb_tls_health_check_interval": 30, "alb_tls_priority": None, "alb_tls_tags": {"team": "data"},
        "alb_tls__service_groups": {"resources": []},  # internal
        "alb_tls_target_group_arn": "arn:aws:elasticloadbalancing:...",  # set by the role for the next ones
        "fargate_service_cpu": 300, "poc_cpu": "x", "inventory_hostname": "plotly",
    }), "alb_tls", "service") == []


def test_a_mistake_is_named_with_what_is_allowed_and_unknown_names_get_a_hint():
    found = role_variables(Variables({"alb_tls_health_check_interval": 3, "alb_tls_idle_timout": 5}), "alb_tls")
    assert "alb_tls_health_check_interval=3 is out of range; allowed: 5-300 (target group HealthCheckIntervalSeconds)" in found
    assert ("alb_tls_idle_timout is not a variable of the role pocstack.aws.alb_tls (the role would ignore it); "
            "did you mean alb_tls_idle_timeout?") in found


def test_only_the_entry_points_options_are_evaluated():
    variables = Variables({"alb_tls_health_check_interval": 3, "alb_tls_vpc_id": "vpc-1"}, broken={"alb_tls_subnet_ids"})
    variables["alb_tls_subnet_ids"] = None
    # target_groups_prune has no health check nor subnets: neither is looked at there
    assert role_variables(variables, "alb_tls", "target_groups_prune") == []
    assert role_variables(variables, "alb_tls", "shared") == [
        "alb_tls_subnet_ids could not be evaluated: 'ALB_TLS_SUBNET_IDS' is undefined"]


def test_pairs_and_no_log_values_as_the_role_sees_them():
    found = role_variables(Variables({"fargate_service_cpu": 256, "fargate_service_memory": 4096,
                                      "fargate_service_autoscaling": {"min": 1, "max": 6000}}), "fargate_service", "service")
    assert "fargate_service_memory=4096 does not fit fargate_service_cpu=256; allowed memory (MiB): 512, 1024, 2048" in found
    assert "fargate_service_autoscaling.max=6000 is out of range; allowed: 0-5000 (ECS quota tasks per service)" in found
    found = role_variables(Variables({"ssm_secrets_secrets": [{"name": "A", "value": "hunter2-s3cret "}]}), "ssm_secrets")
    assert found == ["ssm_secrets_secrets[0].value=(value hidden: no_log) has white space at its start or end (a block "
                     "scalar '|' keeps the final newline: use '>-' or a plain scalar)"]


@pytest.mark.parametrize("role, entry_point, message", [
    ("alb_tsl", "main", "'alb_tsl' is not a role of pocstack.aws"),
    ("alb_tls", "cluster", "alb_tls has no entry point 'cluster'; entry points: main, shared, service, target_groups_prune"),
])
def test_a_wrong_role_or_entry_point_is_an_error(role, entry_point, message):
    with pytest.raises(AnsibleError, match=message):
        role_variables({}, role, entry_point)


def test_outputs_are_what_the_roles_set_for_the_next_ones():
    assert {"alb_tls_target_group_arn", "alb_tls_serving_target_group_arns", "alb_tls_changeover_pending"} <= role_outputs("alb_tls")
    assert role_outputs("ecr_image") == {"ecr_image_uri", "ecr_image_digest", "ecr_image_architectures"}
    assert "alb_tls_health_check_interval" not in role_outputs("alb_tls")


def _tasks(role, name):
    with open(os.path.join(ROLES_DIR, role, "tasks", f"{name}.yml")) as fh:
        return yaml.safe_load(fh)


@pytest.mark.parametrize("role", preflight_roles.ROLES)
def test_every_entry_point_checks_its_variables_first(role):
    with open(os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml")) as fh:
        entry_points = yaml.safe_load(fh)["argument_specs"]
    for entry_point, spec in entry_points.items():
        assert f"{role}_validate" in spec["options"], f"{role} {entry_point}: no {role}_validate option"
        first = _tasks(role, entry_point)[0]
        if "ansible.builtin.include_tasks" in first:  # ecr_image: validate.yml first
            first = _tasks(role, first["ansible.builtin.include_tasks"].removesuffix(".yml"))[0]
        assert f"pocstack.aws.role_variables('{role}', '{entry_point}')" in str(first.get("vars")), (role, entry_point)
        assert f"{role}_validate | bool" in str(first.get("when")) or f"{role}_validate | bool" in str(first.get("vars"))
