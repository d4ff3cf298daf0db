"""A run that fails half-way: AWS refuses one write (the emulator's fault
injection, as AWS answers a policy that lacks the action) after the run has
changed what the services share. The failure's first line says what the run
changed there; the AWS CLI commands it gives put it back exactly; after the
cause is gone, the run it names converges.

The stages run in order on one emulator of this module's own.
"""
import json
import shlex

import boto3
import pytest
import yaml
from botocore import xform_name

from harness import TWO_SERVICES
from harness import failure_message
from harness import make_inventory
from harness import results
from harness import run
from harness import task_results

REPORT_TASK = "failure | What this run changed in the shared resources, and how to finish or undo it"


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    return make_inventory(tmp_path_factory.mktemp("failed-run"), TWO_SERVICES)


def set_shared(inventory, changes):
    """Add `changes` to the inventory's group_vars/all.yml."""
    path = inventory.rsplit("/", 1)[0] + "/group_vars/all.yml"
    with open(path, "a") as fh:
        fh.write("\n" + yaml.safe_dump(changes))


def client(emulator, service):
    return boto3.client(service, endpoint_url=emulator.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def shared(emulator):
    """What the services share, as AWS describes it: the load balancer's
    security group's rules, its listeners and the HTTPS listener's rules."""
    ec2, elbv2 = client(emulator, "ec2"), client(emulator, "elbv2")
    group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["pocstack-alb"]}])["SecurityGroups"][0]
    lb = elbv2.describe_load_balancers(Names=["pocstack"])["LoadBalancers"][0]
    listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    https = next(li for li in listeners if li["Port"] == 443)
    rules = elbv2.describe_rules(ListenerArn=https["ListenerArn"])["Rules"]
    return {
        "ingress": sorted((p["IpProtocol"], p.get("FromPort"), r["CidrIp"]) for p in group["IpPermissions"]
                          for r in p.get("IpRanges", [])),
        "listeners": sorted((li["Port"], li.get("SslPolicy"), json.dumps(li["DefaultActions"], sort_keys=True))
                            for li in listeners),
        "rules": sorted((r["Priority"], json.dumps(r["Conditions"], sort_keys=True)) for r in rules),
    }


def aws_cli(emulator, command):
    """Run one `aws SERVICE OPERATION --name value ...` command of the report
    through boto3, as the AWS CLI would: operation and parameter names are the
    API's in kebab case, structures and lists are JSON."""
    words = shlex.split(command)
    assert words[0] == "aws", command
    service, operation = words[1], words[2]
    options = dict(zip(words[3::2], words[4::2]))
    assert options.pop("--region") == "us-east-1" and options.pop("--endpoint-url") == emulator.url, command
    api = client(emulator, service)
    name = next(op for op in api.meta.service_model.operation_names if xform_name(op, "-") == operation)
    members = api.meta.service_model.operation_model(name).input_shape.members
    params = {}
    for option, value in options.items():
        member = next(m for m in members if xform_name(m, "-") == option[2:])
        kind = members[member].type_name
        params[member] = json.loads(value) if kind in ("list", "structure") else int(value) if kind == "integer" else value
    getattr(api, xform_name(name))(**params)


def report(out):
    found = [r.get("msg", "") for r in task_results(out, REPORT_TASK) if r.get("failed")]
    assert found, failure_message(out)
    return found[0]


def ran(out, host):
    """Names of the tasks that ran on `host`."""
    return [task["task"]["name"] for play in results(out)["plays"] for task in play["tasks"] if host in task["hosts"]]


def test_a_write_refused_after_a_shared_change_is_reported_first_and_undone_by_its_commands(emulator, inventory):
    emulator.reset()
    rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    before = shared(emulator)
    assert before["ingress"] == [("tcp", 80, "0.0.0.0/0"), ("tcp", 443, "0.0.0.0/0")]

    # the shared play narrows the load balancer's security group, the service's
    # part adds its rule to the HTTPS listener; then ECS refuses CreateService
    set_shared(inventory, {"alb_tls_ingress_cidrs": ["10.0.0.0/8"]})
    emulator.fail("ecs:CreateService")
    emulator.calls(reset=True)
    rc, out = run(inventory, emulator.port, extra=["-e", "service=second"])
    assert rc != 0
    message = report(out)
    first, *rest = message.splitlines()
    assert first.startswith("This run changed shared resources before it failed: "), message
    for change in ("security group pocstack-alb", "ingress tcp 443 from 10.0.0.0/8 added",
                   "ingress tcp 443 from 0.0.0.0/0 removed", "rule of service 'second' at priority"):
        assert change in first, (change, first)
    assert rest[0].startswith("Failed: ") and "AccessDeniedException" in rest[0] and "ecs:CreateService" in rest[0]
    assert rest[1].endswith("ansible-playbook site.yml -e service=second"), message
    commands = [line.strip() for line in rest if line.startswith("  aws ")]
    assert any(" revoke-security-group-ingress " in c for c in commands), commands
    assert any(" authorize-security-group-ingress " in c for c in commands), commands
    assert any(" delete-rule " in c for c in commands), commands
    assert "ecs:CreateService" not in emulator.calls()["calls"]  # refused: nothing was created
    changed = shared(emulator)
    assert changed != before

    # the commands put back exactly what was there
    for command in commands:
        aws_cli(emulator, command)
    assert shared(emulator) == before

    # the cause gone, the run the report names converges
    emulator.clear_faults()
    rc, out = run(inventory, emulator.port, extra=["-e", "service=second"])
    assert rc == 0, failure_message(out)
    assert shared(emulator)["ingress"] == [("tcp", 80, "10.0.0.0/8"), ("tcp", 443, "10.0.0.0/8")]
    assert len(shared(emulator)["rules"]) == len(before["rules"]) + 1


def test_a_failure_in_the_shared_part_stops_every_service_and_is_reported_first(emulator, inventory):
    before = shared(emulator)
    set_shared(inventory, {"alb_tls_ingress_cidrs": ["10.0.0.0/8", "192.0.2.0/24"],
                           "alb_tls_ssl_policy": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"})
    emulator.fail("elasticloadbalancing:ModifyListener")
    rc, out = run(inventory, emulator.port)
    assert rc != 0
    message = report(out)
    first, failed = message.splitlines()[:2]
    assert first.startswith("This run changed shared resources before it failed: "), message
    assert "ingress tcp 443 from 192.0.2.0/24 added" in first and "listener" not in first, first
    assert "AccessDenied" in failed and "elasticloadbalancing:ModifyListener" in failed, failed
    # no service deployed against a half-changed load balancer
    for host in ("plotly", "second"):
        assert not [name for name in ran(out, host) if name.startswith("service |")], host
    commands = [line.strip() for line in message.splitlines() if line.startswith("  aws ")]
    for command in commands:
        aws_cli(emulator, command)
    assert shared(emulator) == before
    emulator.clear_faults()  # (that a re-run converges: the test above)
