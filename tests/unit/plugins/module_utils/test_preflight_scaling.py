"""poc_autoscaling in the preflight: every mistake named with its allowed values."""
import pytest

from ansible_collections.pocstack.aws.plugins.filter.preflight import role_sources
from ansible_collections.pocstack.aws.plugins.module_utils.preflight import check_service

SHARED = {"pocstack_cluster_name": "pocstack", "pocstack_ssm_prefix": "/pocstack"}
BASE = {"poc_image": {"source": "existing", "repository": "pocstack/plotly", "tag": "v1"}, "poc_desired_count": 1}


def errors(scaling):
    return [e for e in check_service("plotly", {**BASE, "poc_autoscaling": scaling}, SHARED, role_sources()) if "autoscaling" in e]


def test_full_option_is_accepted():
    assert errors({"min": 1, "max": 4, "cpu_target": 60, "requests_per_target": 500,
                   "scale_in_cooldown": 300, "scale_out_cooldown": 60}) == []


@pytest.mark.parametrize("scaling, message", [
    ({"min": 1, "max": 4, "cpu": 60},
     "poc_autoscaling.cpu is not a known key (did you mean cpu_target?); allowed: min, max, cpu_target"),
    ({"min": 1, "max": 6000}, "poc_autoscaling.max=6000 is out of range; allowed: 0-5000 (ECS quota tasks per service)"),
    ({"min": -1, "max": 4}, "poc_autoscaling.min=-1 is out of range; allowed: 0-5000"),
    ({"min": "one", "max": 4}, "poc_autoscaling.min='one' must be a whole number; allowed: 0-5000"),
    ({"max": 4}, "poc_autoscaling needs min and max (whole numbers of tasks, 0-5000); it has max"),
    ({"min": 1, "max": 4, "cpu_target": 0}, "poc_autoscaling.cpu_target=0 is out of range; allowed: 1-100 (percent"),
    ({"min": 1, "max": 4, "cpu_target": "high"}, "poc_autoscaling.cpu_target='high' must be a number; allowed: 1-100"),
    ({"min": 1, "max": 4, "requests_per_target": -5}, "poc_autoscaling.requests_per_target=-5 must be requests per task"),
    ({"min": 1, "max": 4, "scale_in_cooldown": 3601}, "poc_autoscaling.scale_in_cooldown=3601 is out of range; allowed: 0-3600"),
    ({"min": 1, "max": 4, "scale_out_cooldown": True},
     "poc_autoscaling.scale_out_cooldown=True must be a whole number; allowed: 0-3600 (seconds)"),
])
def test_mistakes_are_named(scaling, message):
    found = errors(scaling)
    assert len(found) == 1 and found[0].startswith(message), found
