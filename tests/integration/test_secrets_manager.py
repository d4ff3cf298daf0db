"""A Secrets Manager secret as the plotly PoC's password
(poc_secrets_manager), deployed by site.yml on the emulator's data plane.

The secret is made elsewhere (here: boto3 in the test's emulator, a JSON
{"username", "password"}); the inventory references its ARN and the key
`password`. The user comes from SSM (poc_secrets). One deploy, observed:
the basic-auth login through the HTTPS listener works with the secret's
password and not with another (the value reached the container); the
execution role may read exactly that ARN; a re-run changes nothing;
--check --diff of a version stage shows the container secret's change and
writes nothing; the value is in no output.
"""
import http.client
import json
import os
import socket
import ssl

import pytest

from data_plane import clients
from data_plane import containers_of
from data_plane import data_plane_emulator
from data_plane import eventually
from harness import ROOT
from harness import changed_tasks
from harness import failure_message
from harness import make_inventory
from harness import results
from harness import run
from harness import set_service
from harness import stats
from harness import task_name

PASSWORD = "sm-Pass-word-9c41"
TASK_DEFINITION = "task | Task definition (secrets by valueFrom, awslogs)"
EXECUTION_POLICY = "iam | Execution role policy"
ENDPOINTS = ["ecr.api", "ecr.dkr", "s3", "logs", "ssm", "secretsmanager"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secrets-manager")
    emulator = data_plane_emulator(tmp / "emulator")
    aws = clients(emulator.port, names=("ecs", "iam", "secretsmanager"))
    arn = aws["secretsmanager"].create_secret(
        Name="plotly/login", SecretString=json.dumps({"username": "tester", "password": PASSWORD}))["ARN"]
    other = aws["secretsmanager"].create_secret(Name="plotly/api-token", SecretString="token-of-another-kind")["ARN"]
    entry = {"name": "PLOTLY_PASS", "secret_arn": arn, "json_key": "password"}
    inventory = make_inventory(tmp, [("plotly", {"poc_secrets": [{"name": "PLOTLY_USER", "value": "tester"}],
                                                 "poc_secrets_manager": [entry], "poc_priority": 100})],
                               {"pocstack_vpc_endpoints": ENDPOINTS})
    rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    https = {item["port"]: item["local_port"] for item in emulator.data_plane()["listeners"]}[443]
    yield {"emulator": emulator, "inventory": inventory, "aws": aws, "port": emulator.port, "arn": arn, "entry": entry,
           "other": other,
           "https": https, "ca": os.path.join(ROOT, ".pocstack", "local", "ca.crt"), "deploy": out}
    emulator.stop()
    assert not containers_of(emulator.port, running_only=False), "the emulator left containers behind at exit"


def login(stack, password):
    """The status of GET / through the HTTPS listener with basic auth tester:PASSWORD."""
    import base64

    context = ssl.create_default_context(cafile=stack["ca"])
    conn = http.client.HTTPSConnection("127.0.0.1", stack["https"], context=context, timeout=20)
    conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", stack["https"]), timeout=20),
                                    server_hostname="localhost")
    auth = base64.b64encode(f"tester:{password}".encode()).decode()
    conn.request("GET", "/", headers={"Host": f"localhost:{stack['https']}", "Authorization": f"Basic {auth}"})
    status = conn.getresponse().status
    conn.close()
    return status


def test_the_secret_reaches_the_container(stack):
    assert eventually(lambda: login(stack, PASSWORD) == 200, timeout=60, what="login with the secret's password")
    assert login(stack, "wrong-password") == 401
    definition = stack["aws"]["ecs"].describe_task_definition(taskDefinition="plotly")["taskDefinition"]
    secrets = {s["name"]: s["valueFrom"] for s in definition["containerDefinitions"][0]["secrets"]}
    assert secrets == {"PLOTLY_USER": "arn:aws:ssm:us-east-1:123456789012:parameter/pocstack/plotly/PLOTLY_USER",
                       "PLOTLY_PASS": stack["arn"] + ":password::"}


def test_the_execution_role_reads_exactly_that_secret(stack):
    document = stack["aws"]["iam"].get_role_policy(RoleName="pocstack-plotly-exec", PolicyName="pocstack-execution")
    statements = {s["Sid"]: s for s in document["PolicyDocument"]["Statement"]}
    assert statements["ReadSecretsManagerSecrets"]["Action"] == "secretsmanager:GetSecretValue"
    assert statements["ReadSecretsManagerSecrets"]["Resource"] in ([stack["arn"]], stack["arn"])
    assert "DecryptSecretsManagerSecrets" not in statements  # the AWS managed key needs no grant
    assert not [s for s in statements.values() if "*" in json.dumps(s.get("Resource")) and s["Sid"] != "AuthenticateToEcr"
                and s["Sid"] != "WriteOwnLogs"]


def test_a_rerun_changes_nothing_and_check_diff_shows_a_version_stage_and_a_new_secret(stack, measured):
    rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    assert stats(out)["plotly"]["changed"] == 0, changed_tasks(out, "plotly")
    measured(f"secrets manager re-run: {stats(out)['plotly']}")
    set_service(stack["inventory"], "plotly", {"poc_secrets_manager": [{**stack["entry"], "version_stage": "AWSCURRENT"},
                                                                       {"name": "API_TOKEN", "secret_arn": stack["other"]}]})
    stack["emulator"].calls(reset=True)
    try:
        rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=plotly", "--check", "--diff"])
    finally:
        set_service(stack["inventory"], "plotly", {"poc_secrets_manager": [stack["entry"]]})
    assert rc == 0, failure_message(out)
    assert stack["emulator"].calls()["writes"] == 0, stack["emulator"].calls()["calls"]
    found = {task_name(task): task["hosts"]["plotly"] for play in results(out)["plays"] for task in play["tasks"]
             if task_name(task) in (TASK_DEFINITION, EXECUTION_POLICY) and "plotly" in task["hosts"]}
    result, grant = found[TASK_DEFINITION], found[EXECUTION_POLICY]
    assert result["changed"] and "containerDefinitions[plotly].secrets[PLOTLY_PASS].valueFrom" in result["changes"]
    assert [c for c in result["changes"] if "API_TOKEN" in c], result["changes"]
    # the execution policy's diff: the new ARN granted beside the first, nothing else changed
    assert grant["changed"]
    before, after = ({s["Sid"]: s for s in grant["diff"][side]["pocstack-execution"]["Statement"]} for side in ("before", "after"))
    assert before["ReadSecretsManagerSecrets"]["Resource"] in ([stack["arn"]], stack["arn"])
    assert after["ReadSecretsManagerSecrets"]["Resource"] == [stack["arn"], stack["other"]]
    assert {k: v for k, v in after.items() if k != "ReadSecretsManagerSecrets"} == \
        {k: v for k, v in before.items() if k != "ReadSecretsManagerSecrets"}
    before, after = ({s["name"]: s["valueFrom"] for s in result["diff"][side]["containerDefinitions"][0]["secrets"]}
                     for side in ("before", "after"))
    assert before["PLOTLY_PASS"] == stack["arn"] + ":password::"
    assert after["PLOTLY_PASS"] == stack["arn"] + ":password:AWSCURRENT:"
    assert before["PLOTLY_USER"] == after["PLOTLY_USER"] and after["API_TOKEN"] == stack["other"]
    assert len(stack["aws"]["ecs"].list_task_definitions(familyPrefix="plotly")["taskDefinitionArns"]) == 1
    for output in (stack["deploy"], out):
        assert PASSWORD not in output and "token-of-another-kind" not in output
