"""A sidecar beside the plotly PoC on the emulator's data plane (issue 22),
deployed by site.yml as a user runs it: poc_sidecars with the hello image
(files/hello, mirrored into its own ECR repository), a plain variable and an
SSM secret of its own, port 8080 private to the task.

The tests run in order on one deployment: deploy → both containers run in one
task, on one localhost → each container sees only its own secrets and
variables → plotly still answers through the load balancer → the execution
role grants exactly both repositories and every parameter → a re-run changes
nothing → --check --diff of a changed sidecar shows the change and writes
nothing → the teardown leaves nothing of the sidecar.
"""
import datetime
import http.client
import json
import os
import socket
import ssl

import docker
import pytest

from data_plane import clients
from data_plane import deploy
from data_plane import engine
from data_plane import eventually
from data_plane import stack_of
from data_plane import tasks
from harness import ROOT
from harness import changed_tasks
from harness import failure_message
from harness import results
from harness import run
from harness import set_service
from harness import stats
from harness import task_name

PASSWORD = "sc-Secret-1"
TOKEN = "sidecar-token-0123456789"
TASK_DEFINITION = "task | Task definition (secrets by valueFrom, awslogs)"
HOLDER = "~internal~ecs~pause"  # the emulator's namespace holder while the first container waits, as ECS's
HEALTHZ = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"


def sidecar(**changes):
    return {"name": "hello", "image": {"source": "mirror", "image": "pocstack/hello:bookworm"}, "ports": [8080],
            "environment": {"HELLO_GREETING": "from-the-sidecar"},
            "secrets": [{"name": "HELLO_TOKEN", "value": TOKEN}],
            "health_check": {"command": ["CMD", "python3", "-c", HEALTHZ], "interval": 5, "timeout": 3, "retries": 3},
            **changes}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from stack_of(tmp_path_factory.mktemp("sidecars"), [("plotly", {
        "poc_secrets": [{"name": "PLOTLY_USER", "value": "tester"}, {"name": "PLOTLY_PASS", "value": PASSWORD}],
        "poc_priority": 100, "poc_sidecars": [sidecar()],
        # the app starts once the sidecar's health check passed (ECS dependsOn)
        "poc_depends_on": [{"container": "hello", "condition": "HEALTHY"}],
        # the image exists only in the local engine (as for inventories/local's hello)
        "ecr_image_mirror_pull": "missing"})])


def task_containers(port):
    """{container name: Docker container} of the one running task of the emulator on `port`."""
    def find():
        found = {}
        for sparse in engine().containers.list(sparse=True, filters={"label": f"pocstack.emulator={port}"}):
            try:
                container = engine().containers.get(sparse.id)
            except docker.errors.NotFound:
                continue
            name = container.labels["com.amazonaws.ecs.container-name"]
            if name != HOLDER:
                found.setdefault(container.labels["com.amazonaws.ecs.task-arn"], {})[name] = container
        return next(iter(found.values())) if len(found) == 1 and len(next(iter(found.values()))) == 2 else None
    return eventually(find, timeout=120, what="one running task with two containers")


def instant(text):
    """A Docker timestamp (RFC 3339, nanoseconds) as a datetime."""
    day, _, rest = text.rstrip("Z").partition("T")
    clock, _, fraction = rest.partition(".")
    return datetime.datetime.fromisoformat(f"{day}T{clock}.{(fraction + '000000')[:6]}")


def environment_of(container):
    return dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])


def test_deploy_runs_the_sidecar_beside_the_app_in_one_task(stack, measured):
    out = deploy(stack, measured, "deploy with a sidecar")
    assert TOKEN not in out  # the sidecar's secret is never printed
    aws = stack["aws"]
    [task] = tasks(aws, "plotly")
    assert sorted((c["name"], c["lastStatus"]) for c in task["containers"]) == [("hello", "RUNNING"), ("plotly", "RUNNING")]
    definition = aws["ecs"].describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    plotly, hello = definition["containerDefinitions"]
    assert (plotly["name"], hello["name"]) == ("plotly", "hello")  # the service's own first
    assert "/pocstack/plotly-hello@sha256:" in hello["image"] and hello["essential"] is True
    assert hello["portMappings"] == [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}]
    assert hello["logConfiguration"]["options"]["awslogs-stream-prefix"] == "ecs"
    # The load balancer sends traffic to the service's own container only.
    [balanced] = aws["ecs"].describe_services(cluster="pocstack", services=["plotly"])["services"][0]["loadBalancers"]
    assert (balanced["containerName"], balanced["containerPort"]) == ("plotly", 8050)
    containers = task_containers(stack["port"])
    assert sorted(containers) == ["hello", "plotly"]
    assert all(c.status == "running" for c in containers.values())
    # One network namespace (awsvpc): the app reaches the sidecar on 127.0.0.1.
    code = ("import urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=5); "
            "print(r.status)")
    exit_code, output = containers["plotly"].exec_run(["python3", "-c", code])
    assert (exit_code, output.decode().strip()) == (0, "200")
    # The sidecar's health check runs (ECS runs the task definition's).
    [task] = tasks(aws, "plotly")
    assert {c["name"]: c.get("healthStatus") for c in task["containers"]}["hello"] == "HEALTHY"
    # poc_depends_on: the app's container started only once the sidecar was healthy. Docker runs a
    # container's first check one interval (5 s) after its start and keeps only the last five results,
    # so the start times tell: without the dependency both would start within a moment.
    assert plotly["dependsOn"] == [{"containerName": "hello", "condition": "HEALTHY"}]
    hello_started, plotly_started = (instant(containers[name].attrs["State"]["StartedAt"]) for name in ("hello", "plotly"))
    assert plotly_started - hello_started >= datetime.timedelta(seconds=4.5), (hello_started, plotly_started)


def test_each_container_sees_only_its_own_secrets_and_variables(stack):
    containers = task_containers(stack["port"])
    hello, plotly = environment_of(containers["hello"]), environment_of(containers["plotly"])
    assert hello["HELLO_TOKEN"] == TOKEN and hello["HELLO_GREETING"] == "from-the-sidecar"
    assert "PLOTLY_PASS" not in hello and "PLOTLY_USER" not in hello
    assert plotly["PLOTLY_PASS"] == PASSWORD
    assert "HELLO_TOKEN" not in plotly and "HELLO_GREETING" not in plotly
    # Stored beside the service's own, as a SecureString of this service.
    ssm = stack["aws"]["ssm"]
    [parameter] = ssm.get_parameters_by_path(Path="/pocstack/plotly/hello")["Parameters"]
    assert (parameter["Name"], parameter["Type"]) == ("/pocstack/plotly/hello/HELLO_TOKEN", "SecureString")


def test_the_app_still_answers_through_the_load_balancer(stack):
    listeners = {item["port"]: item["local_port"] for item in stack["emulator"].data_plane()["listeners"]}
    context = ssl.create_default_context(cafile=os.path.join(ROOT, ".pocstack", "local", "ca.crt"))
    conn = http.client.HTTPSConnection("127.0.0.1", listeners[443], context=context, timeout=20)
    conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", listeners[443]), timeout=20),
                                    server_hostname="localhost")
    import base64

    login = base64.b64encode(f"tester:{PASSWORD}".encode()).decode()
    conn.request("GET", "/", headers={"Host": f"localhost:{listeners[443]}", "Authorization": f"Basic {login}"})
    assert conn.getresponse().status == 200
    conn.close()


def test_the_execution_role_grants_exactly_both_repositories_and_every_parameter(stack):
    aws = stack["aws"]
    document = aws["iam"].get_role_policy(RoleName="pocstack-plotly-exec", PolicyName="pocstack-execution")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    grants = {st["Sid"]: st["Resource"] for st in document["Statement"]}
    account = aws["iam"].get_role(RoleName="pocstack-plotly-exec")["Role"]["Arn"].split(":")[4]
    assert sorted(grants["PullOwnImage"]) == [f"arn:aws:ecr:us-east-1:{account}:repository/pocstack/plotly",
                                              f"arn:aws:ecr:us-east-1:{account}:repository/pocstack/plotly-hello"]
    parameters = aws["ssm"].get_parameters_by_path(Path="/pocstack/plotly", Recursive=True)["Parameters"]
    assert len(parameters) == 3
    assert sorted(grants["ReadOwnSecrets"]) == sorted(p["ARN"] for p in parameters)


def test_a_rerun_changes_nothing_and_check_diff_shows_a_sidecar_change(stack, measured):
    rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    assert stats(out)["plotly"]["changed"] == 0, changed_tasks(out, "plotly")
    set_service(stack["inventory"], "plotly", {"poc_sidecars": [sidecar(environment={"HELLO_GREETING": "changed"})]})
    stack["emulator"].calls(reset=True)
    try:
        rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=plotly", "--check", "--diff"])
    finally:
        set_service(stack["inventory"], "plotly", {"poc_sidecars": [sidecar()]})
    assert rc == 0, failure_message(out)
    assert stack["emulator"].writes() == {}
    assert TOKEN not in out
    [result] = [task["hosts"]["plotly"] for play in results(out)["plays"] for task in play["tasks"]
                if task_name(task) == TASK_DEFINITION]
    assert result["changed"] and result["changes"] == ["containerDefinitions[hello].environment[HELLO_GREETING].value"]
    before, after = ({c["name"]: c for c in result["diff"][side]["containerDefinitions"]}["hello"]["environment"]
                     for side in ("before", "after"))
    assert {"name": "HELLO_GREETING", "value": "from-the-sidecar"} in before
    assert {"name": "HELLO_GREETING", "value": "changed"} in after
    assert len(stack["aws"]["ecs"].list_task_definitions(familyPrefix="plotly")["taskDefinitionArns"]) == 1


def test_the_audit_reads_both_containers(stack, tmp_path):
    report = tmp_path / "audit.json"
    rc, out = run(stack["inventory"], stack["port"], playbook="playbooks/audit.yml",
                  extra=["-e", "service=plotly", "-e", f"pocstack_audit_report_file={report}"])
    found = json.loads(report.read_text())
    assert rc == 0, failure_message(out)
    # Its one finding is the sidecar's: a mirror's repository keeps mutable tags (roles/ecr_image, the
    # source tag may move), low as the task pulls it by digest; nothing else of either container.
    assert [(f["check"], f["severity"], f["resource"]) for f in found["findings"]] == \
        [("ecr-tag-mutable", "low", "repository pocstack/plotly-hello")]
    resources = found["resources"]
    assert sorted(resources["repositories"]) == ["pocstack/plotly", "pocstack/plotly-hello"]
    assert resources["parameters"]["/pocstack/plotly/hello/HELLO_TOKEN"] == "SecureString"
    assert TOKEN not in out


def test_the_teardown_leaves_no_repository_or_parameter_of_the_sidecar(stack):
    rc, out = run(stack["inventory"], stack["port"], playbook="playbooks/teardown.yml", extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    aws = stack["aws"]
    assert aws["ssm"].get_parameters_by_path(Path="/pocstack/plotly", Recursive=True)["Parameters"] == []
    ecr = clients(stack["port"], names=("ecr",))["ecr"]
    names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    assert "pocstack/plotly-hello" not in names and "pocstack/plotly" not in names
