"""poc_capacity_provider_strategy and poc_cpu_architecture in the preflight, and
their role variables for a role used alone: what ECS would refuse, named
before any AWS call."""
import pytest

from ansible_collections.pocstack.aws.plugins.filter.preflight import role_sources
from ansible_collections.pocstack.aws.plugins.module_utils import preflight_roles
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import check_service

SHARED = {"pocstack_cluster_name": "pocstack", "pocstack_ssm_prefix": "/pocstack"}
BASE = {"poc_image": {"source": "existing", "repository": "pocstack/plotly", "tag": "v1"}, "poc_desired_count": 2}
SPOT_SHARE = [{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
              {"capacity_provider": "FARGATE_SPOT", "weight": 3}]


def errors(**poc):
    return [e for e in check_service("plotly", {**BASE, **poc}, SHARED, role_sources())
            if "capacity" in e or "architecture" in e]


def role_errors(**values):
    specs = {"fargate_service": role_sources().options}
    return preflight_roles.check_role_variables(values, specs)


def test_spot_share_and_either_architecture_alone_are_accepted():
    assert errors(poc_capacity_provider_strategy=SPOT_SHARE) == []
    assert errors(poc_cpu_architecture="ARM64") == []
    assert errors(poc_cpu_architecture="ARM64", poc_capacity_provider_strategy=[{"capacity_provider": "FARGATE", "weight": 1}]) == []
    assert errors(poc_capacity_provider_strategy=[{"capacity_provider": "FARGATE_SPOT", "weight": "2"}]) == []


@pytest.mark.parametrize("poc, message", [
    ({"poc_cpu_architecture": "arm64"},
     "poc_cpu_architecture='arm64' is not allowed; allowed: X86_64, ARM64"),
    ({"poc_capacity_provider_strategy": [{"capacity_provider": "SPOT", "weight": 1}]},
     "poc_capacity_provider_strategy[0].capacity_provider='SPOT' is not allowed; allowed: FARGATE, FARGATE_SPOT"),
    ({"poc_capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1001}]},
     "poc_capacity_provider_strategy[0].weight=1001 is out of range; allowed: 0-1000 (ECS capacity provider weight)"),
    ({"poc_capacity_provider_strategy": [{"capacity_provider": "FARGATE", "base": -1, "weight": 1}]},
     "poc_capacity_provider_strategy[0].base=-1 is out of range; allowed: 0-100000"),
    ({"poc_capacity_provider_strategy": {"capacity_provider": "FARGATE"}},
     "poc_capacity_provider_strategy={'capacity_provider': 'FARGATE'} must be a list of dict"),
    ({"poc_capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1},
                                         {"capacity_provider": "FARGATE", "weight": 2}]},
     "poc_capacity_provider_strategy: each capacity provider may appear once"),
    ({"poc_capacity_provider_strategy": [{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                                         {"capacity_provider": "FARGATE_SPOT", "base": 1, "weight": 1}]},
     "poc_capacity_provider_strategy: only one capacity provider may have a base above 0"),
    ({"poc_capacity_provider_strategy": [{"capacity_provider": "FARGATE", "base": 1},
                                         {"capacity_provider": "FARGATE_SPOT"}]},
     "poc_capacity_provider_strategy: with several providers, at least one needs a weight above 0"),
    ({"poc_capacity_provider_strategy": SPOT_SHARE, "poc_cpu_architecture": "ARM64"},
     "poc_capacity_provider_strategy: FARGATE_SPOT does not run ARM64 tasks (poc_cpu_architecture=ARM64); "
     "Fargate Spot runs only X86_64 Linux tasks"),
])
def test_mistakes_are_named_with_what_is_allowed(poc, message):
    found = errors(**poc)
    assert len(found) == 1 and found[0].startswith(message), found


def test_a_role_used_alone_refuses_spot_for_arm64():
    found = role_errors(fargate_service_capacity_provider_strategy=SPOT_SHARE, fargate_service_cpu_architecture="ARM64")
    assert found == ["fargate_service_capacity_provider_strategy: FARGATE_SPOT does not run ARM64 tasks "
                     "(fargate_service_cpu_architecture=ARM64); Fargate Spot runs only X86_64 Linux tasks: use FARGATE "
                     "alone, or X86_64"]
    assert role_errors(fargate_service_capacity_provider_strategy=SPOT_SHARE, fargate_service_cpu_architecture="X86_64") == []


def test_a_misspelt_key_is_named_with_the_one_meant():
    assert errors(poc_capacity_provider_strategy=[{"provider": "FARGATE"}]) == [
        "poc_capacity_provider_strategy[0].provider is not a known key (did you mean capacity_provider?); "
        "allowed: capacity_provider, weight, base",
        "poc_capacity_provider_strategy[0].capacity_provider is required",
    ]


def test_a_build_for_another_platform_than_the_tasks_architecture_is_refused():
    build = {"source": "build", "repository": "pocstack/plotly", "platform": "linux/amd64"}
    found = [e for e in check_service("plotly", {**BASE, "poc_image": build, "poc_cpu_architecture": "ARM64"}, SHARED,
                                      role_sources()) if "platform" in e]
    assert found == ["poc_image.platform='linux/amd64' does not run on poc_cpu_architecture=ARM64; build for "
                     "linux/arm64, or leave poc_image.platform out (it follows poc_cpu_architecture)"]
    assert not [e for e in check_service("plotly", {**BASE, "poc_image": {**build, "platform": "linux/arm64"},
                                                    "poc_cpu_architecture": "ARM64"}, SHARED, role_sources())]
    assert not [e for e in check_service("plotly", {**BASE, "poc_image": build}, SHARED, role_sources())]
