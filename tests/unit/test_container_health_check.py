"""The container health check (issue 22): validated before any write, as the
role variable and as poc_health_check, by the role's argument spec plus
ECS's limits; its default for images built from files/app is the
Dockerfile's own HEALTHCHECK, kept in step here."""
import json
import os
import re

import pytest
import yaml

from ansible_collections.pocstack.aws.plugins.filter.preflight import role_sources
from ansible_collections.pocstack.aws.plugins.module_utils import preflight
from ansible_collections.pocstack.aws.plugins.module_utils import preflight_roles

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOOD = {"command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"], "interval": 10, "timeout": 3,
        "retries": 2, "start_period": 20}


def role_errors(value):
    sources = role_sources()
    return preflight_roles.check_role_variables({"fargate_service_container_health_check": value}, sources.specs,
                                                sources.defaults)


def service_errors(value):
    return preflight.check_service("plotly", {"poc_health_check": value},
                                   {"pocstack_ssm_prefix": "/pocstack", "aws_region": "us-east-1"}, role_sources())


def test_poc_health_check_feeds_the_role_variable():
    assert role_sources().feeds["poc_health_check"] == ["fargate_service_container_health_check"]


@pytest.mark.parametrize("value", [
    GOOD, {}, {"command": ["CMD", "true"]}, {"command": ["CMD", "python3", "-c", "print(1)"], "interval": "5"},
    dict(GOOD, interval=300, timeout=60, retries=10, start_period=300), dict(GOOD, interval=5, timeout=2, retries=1,
                                                                              start_period=0),
], ids=["all-keys", "none", "command-only", "interval-as-string", "highest", "lowest"])
def test_good_checks_pass(value):
    assert role_errors(value) == []
    assert service_errors(value) == []


# Each: (value, message about fargate_service_container_health_check; poc_health_check gets the same)
BAD = [
    (dict(GOOD, interval=4), "fargate_service_container_health_check.interval=4 is out of range; allowed: 5-300"),
    (dict(GOOD, interval=301), "fargate_service_container_health_check.interval=301 is out of range; allowed: 5-300"),
    (dict(GOOD, timeout=1), "fargate_service_container_health_check.timeout=1 is out of range; allowed: 2-60"),
    (dict(GOOD, timeout=61), "fargate_service_container_health_check.timeout=61 is out of range; allowed: 2-60"),
    (dict(GOOD, retries=0), "fargate_service_container_health_check.retries=0 is out of range; allowed: 1-10"),
    (dict(GOOD, retries=11), "fargate_service_container_health_check.retries=11 is out of range; allowed: 1-10"),
    (dict(GOOD, start_period=-1), "fargate_service_container_health_check.start_period=-1 is out of range; "
                                  "allowed: 0-300"),
    (dict(GOOD, start_period=301), "fargate_service_container_health_check.start_period=301 is out of range"),
    (dict(GOOD, interval="often"), "fargate_service_container_health_check.interval='often' must be a whole number"),
    (dict(GOOD, startPeriod=10), "fargate_service_container_health_check.startPeriod is not a known key (did you mean "
                                 "start_period?)"),
    (dict(GOOD, command="curl -f http://localhost/"),
     "fargate_service_container_health_check.command='curl -f http://localhost/' must be a list of str"),
    ({"command": ["curl", "-f", "http://localhost/"]},
     "fargate_service_container_health_check.command=['curl', '-f', 'http://localhost/'] must start with CMD "
     "(the command's words follow, run directly) or CMD-SHELL (one string follows"),
    ({"command": ["CMD-SHELL"]}, "fargate_service_container_health_check.command=['CMD-SHELL'] must start with CMD"),
    ({"command": []}, "fargate_service_container_health_check.command=[] must start with CMD"),
    ({"interval": 10}, "fargate_service_container_health_check.command is required once another key is set "
                       "({} for no health check)"),
    ("CMD-SHELL exit 0", "fargate_service_container_health_check='CMD-SHELL exit 0' must be a dict"),
]


@pytest.mark.parametrize("value, message", BAD, ids=[f"{i}-{m.split('=')[0].split('.')[-1][:20]}"
                                                     for i, (_, m) in enumerate(BAD)])
def test_each_mistake_is_named_with_what_ecs_allows(value, message):
    found = role_errors(value)
    assert any(message in m for m in found), found
    poc = [m for m in service_errors(value) if m.startswith("poc_health_check")]
    assert any(message.replace("fargate_service_container_health_check", "poc_health_check", 1) in m for m in poc), poc


def _dockerfile_healthcheck():
    """files/app/Dockerfile's HEALTHCHECK: ({option: seconds or count}, exec-form command)."""
    text = open(os.path.join(ROOT, "files", "app", "Dockerfile")).read().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("HEALTHCHECK "))
    options = dict(re.findall(r"--([a-z-]+)=(\w+)", line))
    command = json.loads(line.split(" CMD ", 1)[1])
    return options, command


def test_the_default_for_files_app_is_the_dockerfile_s_own_healthcheck():
    options, command = _dockerfile_healthcheck()
    mirror = yaml.safe_load(open(os.path.join(ROOT, "roles", "fargate_service", "vars", "main.yml")))[
        "fargate_service__app_health_check"]
    assert mirror == {"command": ["CMD", *command], "interval": int(options["interval"].rstrip("s")),
                      "timeout": int(options["timeout"].rstrip("s")), "retries": int(options["retries"]),
                      "start_period": int(options["start-period"].rstrip("s"))}
    assert role_errors(mirror) == []
