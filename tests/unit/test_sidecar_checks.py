"""Sidecar containers (issue 22): poc_sidecars and poc_depends_on validated
before any write, as the inventory's variables and as the fargate_service
role's own (used alone); the task definition's containers and the execution
policy's grants as Ansible renders them from roles/fargate_service."""
import json
import os

import pytest

from ansible_collections.pocstack.aws.plugins.filter.preflight import role_sources
from ansible_collections.pocstack.aws.plugins.module_utils import preflight
from ansible_collections.pocstack.aws.plugins.module_utils import preflight_roles
from rendering import ROOT
from rendering import load
from rendering import named_task
from rendering import render
from rendering import trusted

SHARED = {"pocstack_ssm_prefix": "/pocstack", "aws_region": "us-east-1"}
HELLO = {"source": "mirror", "image": "pocstack/hello:bookworm"}
CHECK = {"command": ["CMD", "python3", "-c", "1"], "interval": 5}
ACCOUNT = "123456789012"
URI = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/pocstack/plotly-hello@sha256:" + "a" * 64


def good(**changes):
    return {"name": "hello", "image": HELLO, "ports": [8080], "environment": {"GREETING": "hi"},
            "secrets": [{"name": "HELLO_TOKEN", "value": "a-long-enough-value"}], "health_check": CHECK, **changes}


def service_errors(sidecars, **svc):
    return preflight.check_service("plotly", {"poc_sidecars": sidecars, **svc}, SHARED, role_sources())


def role_errors(sidecars, **values):
    sources = role_sources()
    values = {"fargate_service_sidecars": sidecars, "fargate_service_name": "plotly",
              "fargate_service_container_port": 8050, **values}
    return preflight_roles.check_role_variables(values, sources.specs, sources.defaults)


def test_poc_sidecars_feeds_the_role_variable_and_ssm_secrets_reads_it():
    sources = role_sources()
    assert sources.feeds["poc_sidecars"] == ["fargate_service_sidecars"]
    assert sources.feeds["poc_depends_on"] == ["fargate_service_depends_on"]
    assert "poc_sidecars" in sources.known


def test_a_good_sidecar_passes():
    assert service_errors([good()], poc_depends_on=[{"container": "hello", "condition": "HEALTHY"}]) == []
    assert service_errors([good(essential=False, health_check={}), good(name="init", ports=[], essential=False)],
                          poc_depends_on=[{"container": "init", "condition": "SUCCESS"}]) == []
    assert role_errors([dict(good(image=URI), secrets=[])]) == []


# Each: (sidecars, other service variables, a message the preflight gives)
BAD = [
    ([good(name="plotly")], {}, "poc_sidecars[0].name='plotly' is the service's own container's name"),
    ([good(name="a b")], {}, "poc_sidecars[0].name='a b' is not a container name; allowed: 1-255 letters, digits"),
    ([good(), good(ports=[9090])], {}, "poc_sidecars[1].name='hello' is listed twice; container names must be unique"),
    ([good(ports=[8050])], {}, "poc_sidecars[0].ports[0]=8050 is also the port of the service's container"),
    ([good(), good(name="other", ports=[8080])], {}, "poc_sidecars[1].ports[0]=8080 is also the port of poc_sidecars[0]"),
    ([good(ports=[70000])], {}, "poc_sidecars[0].ports[0]=70000 is out of range; allowed: 1-65535"),
    ([good(essential="yes")], {}, "poc_sidecars[0].essential='yes' must be true or false"),
    ([good(bogus=1)], {}, "poc_sidecars[0].bogus is not a known key; allowed: name, image, essential, ports"),
    ([good(image="nginx:1.27")], {}, "poc_sidecars[0].image must be a dict of the shape of poc_image"),
    ([good(image={"source": "mirror"})], {}, "poc_sidecars[0].image.image is required with source 'mirror'"),
    ([good(image={"source": "copy"})], {}, "poc_sidecars[0].image.source='copy' is not allowed; allowed: existing, build, mirror"),
    ([good(image={"source": "existing", "repository": "Bad Name"})], {}, "poc_sidecars[0].image.repository='Bad Name' is not allowed"),
    ([good(secrets=[{"name": "1X", "value": "a-long-enough-value"}])], {},
     "poc_sidecars[0].secrets[0].name='1X' is not an environment variable name"),
    ([good(secrets=[{"name": "T"}])], {}, "poc_sidecars[0].secrets[0] (T) has no value"),
    ([good(secrets=[{"name": "GREETING", "value": "a-long-enough-value"}])], {},
     "poc_sidecars[0].secrets[0].name='GREETING' is also in poc_sidecars[0].environment"),
    ([good(health_check={"interval": 1, "command": ["CMD", "true"]})], {},
     "poc_sidecars[0].health_check.interval=1 is out of range; allowed: 5-300"),
    ([good(health_check={"command": ["true"]})], {}, "poc_sidecars[0].health_check.command=['true'] must start with CMD"),
    ([good(cpu=512)], {}, "poc_sidecars[0].cpu=512 is more than the task's poc_cpu=256"),
    ([good(memory=4)], {}, "poc_sidecars[0].memory=4 is out of range; allowed: 6-122880"),
    ([good(memory=400), good(name="b", ports=[], memory=400)], {},
     "poc_sidecars: the containers' memory adds up to 800 MiB, more than the task's poc_memory=512"),
    ([good(depends_on=[{"container": "nope", "condition": "START"}])], {},
     "poc_sidecars[0].depends_on[0].container='nope' is not a container of the task; allowed: plotly"),
    ([good(depends_on=[{"container": "hello", "condition": "START"}])], {},
     "poc_sidecars[0].depends_on[0].container='hello' is the container itself"),
    ([good(depends_on=[{"container": "plotly", "condition": "BAD"}])], {},
     "poc_sidecars[0].depends_on[0].condition='BAD' is not allowed; allowed: START, COMPLETE, SUCCESS, HEALTHY"),
    ([good(depends_on=[{"container": "plotly", "condition": "SUCCESS"}])], {},
     "poc_sidecars[0].depends_on[0].condition=SUCCESS on the essential container plotly: this condition can't be set "
     "on an essential container"),
    ([good(health_check={})], {"poc_depends_on": [{"container": "hello", "condition": "HEALTHY"}]},
     "poc_depends_on[0].condition=HEALTHY needs a health check on hello (poc_sidecars[0])"),
    ([good(health_check={}, depends_on=[{"container": "plotly", "condition": "HEALTHY"}])], {"poc_health_check": {}},
     "poc_sidecars[0].depends_on[0].condition=HEALTHY needs a health check on plotly (the service's container)"),
    ([good(depends_on=[{"container": "plotly", "condition": "START"}])],
     {"poc_depends_on": [{"container": "hello", "condition": "START"}]},
     "poc_depends_on makes a cycle of dependencies: plotly -> hello -> plotly"),
    ([good()], {"poc_depends_on": [{"container": "hello"}]}, "poc_depends_on[0].condition is required"),
]


@pytest.mark.parametrize("sidecars, svc, message", BAD, ids=[f"{i}-{m[:40]}" for i, (_, _, m) in enumerate(BAD)])
def test_each_mistake_is_named_with_what_is_allowed(sidecars, svc, message):
    found = service_errors(sidecars, **svc)
    assert any(message in m for m in found), found


def test_a_secret_value_is_never_shown():
    found = service_errors([good(secrets=[{"name": "X", "value": 42}], bogus=1)])
    assert found and not any("42" in m for m in found), found


@pytest.mark.parametrize("sidecars, values, message", [
    ([good(image=URI, ports=[8050])], {}, "fargate_service_sidecars[0].ports[0]=8050 is also the port of the service's"),
    ([good(image=URI, depends_on=[{"container": "x", "condition": "START"}])], {},
     "fargate_service_sidecars[0].depends_on[0].container='x' is not a container of the task"),
    ([good(image=URI)], {"fargate_service_depends_on": [{"container": "hello", "condition": "COMPLETE"}]},
     "fargate_service_depends_on[0].condition=COMPLETE on the essential container hello"),
    ([good(image=URI, cpu=300)], {"fargate_service_cpu": 256}, "fargate_service_sidecars[0].cpu=300 is more than the "
                                                                "task's fargate_service_cpu=256"),
])
def test_the_role_used_alone_checks_its_own_variables(sidecars, values, message):
    found = role_errors(sidecars, **values)
    assert any(message in m for m in found), found


# ---------------------------------------------------------------- rendering
ROLE_VARS = trusted(load("roles", "fargate_service", "vars", "main.yml"))
SIDECAR_ARN = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/pocstack/plotly/hello/HELLO_TOKEN"


def variables(sidecars, **extra):
    return dict(ROLE_VARS, aws_region="us-east-1", fargate_service_cluster="pocstack", fargate_service_name="plotly",
                fargate_service_cluster_arn=f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/pocstack",
                fargate_service_log_group="/pocstack/plotly", fargate_service_sidecars=sidecars,
                fargate_service_sidecar_secrets={"hello": [{"name": "HELLO_TOKEN", "valueFrom": SIDECAR_ARN}]},
                fargate_service_sidecar_secrets_fingerprints={"hello": "0123456789abcdef"},
                **{"fargate_service_depends_on": [], "fargate_service_secrets_manager": [], **extra})


def test_the_sidecars_container_definitions():
    sidecar = {"name": "hello", "image": URI, "ports": [8080], "environment": {"GREETING": "hi"},
               "secrets": [{"name": "HELLO_TOKEN", "value": "hidden"}], "command": ["python3", "-m", "http.server"],
               "memory": 128, "health_check": {"command": ["CMD", "true"], "interval": 5, "start_period": 0},
               "depends_on": [{"container": "plotly", "condition": "START"}]}
    init = {"name": "init", "image": "busybox:1.36", "essential": False}
    rendered = render("{{ fargate_service__sidecar_containers }}", variables([sidecar, init]))
    log = {"logDriver": "awslogs", "options": {"awslogs-group": "/pocstack/plotly", "awslogs-region": "us-east-1",
                                               "awslogs-stream-prefix": "ecs"}}
    assert rendered == [
        {"name": "hello", "image": URI, "essential": True, "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
         "environment": [{"name": "GREETING", "value": "hi"},
                         {"name": "POCSTACK_SECRETS_FINGERPRINT", "value": "0123456789abcdef"}],
         "secrets": [{"name": "HELLO_TOKEN", "valueFrom": SIDECAR_ARN}], "logConfiguration": log,
         "command": ["python3", "-m", "http.server"], "memory": 128,
         "healthCheck": {"command": ["CMD", "true"], "interval": 5, "timeout": 5, "retries": 3},
         "dependsOn": [{"containerName": "plotly", "condition": "START"}]},
        {"name": "init", "image": "busybox:1.36", "essential": False, "portMappings": [], "environment": [], "secrets": [],
         "logConfiguration": log},
    ]
    assert "hidden" not in json.dumps(rendered)
    assert render("{{ fargate_service__depends_on }}", variables([], fargate_service_depends_on=[
        {"container": "hello", "condition": "HEALTHY"}])) == [{"containerName": "hello", "condition": "HEALTHY"}]


def policy(sidecars, image, secret_arns):
    with open(os.path.join(ROOT, "roles", "fargate_service", "templates", "execution-policy.json.j2")) as fh:
        text = fh.read()
    values = variables(sidecars, fargate_service_image=image, fargate_service_ecr_repository="",
                       fargate_service_secret_arns=secret_arns, fargate_service__kms_key_arn="")
    values["fargate_service__log_group_arn"] = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/pocstack/plotly"
    names = named_task(load("roles", "fargate_service", "tasks", "service_present.yml"), "service | Names and ARNs")
    repository = render(names["ansible.builtin.set_fact"]["fargate_service__repository_arn"], values)
    values["fargate_service__repository_arn"] = repository
    return {st["Sid"]: st["Resource"] for st in json.loads(render(text, values))["Statement"]}


def test_the_execution_policy_grants_every_containers_repository_and_parameters_exactly():
    main = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/pocstack/plotly@sha256:" + "b" * 64
    other = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/shared/proxy@sha256:" + "c" * 64
    arns = [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/pocstack/plotly/PLOTLY_PASS", SIDECAR_ARN]
    grants = policy([{"name": "hello", "image": URI}, {"name": "proxy", "image": other},
                     {"name": "hub", "image": "docker.io/library/nginx:1.27"}], main, arns)
    assert grants["PullOwnImage"] == [f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/pocstack/plotly",
                                      f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/pocstack/plotly-hello",
                                      "arn:aws:ecr:eu-west-1:210987654321:repository/shared/proxy"]
    assert grants["ReadOwnSecrets"] == arns
    # Without sidecars the document is as before (one repository, as a string): no change on upgrade.
    assert policy([], main, arns[:1])["PullOwnImage"] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/pocstack/plotly"
