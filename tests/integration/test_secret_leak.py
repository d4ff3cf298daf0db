"""A secret value given to site.yml appears nowhere but in its SSM SecureString.

One deploy (conftest.plotly_deployment: site.yml -e service=plotly -vvv with
PLOTLY_PASS set to a distinctive value), then a search of: everything it
printed; every file written since it started under the checkout, ~/.ansible
and the temporary directory; the registered task definition; the IAM policy
documents read back (the rendered templates); descriptions and tags of every
resource; the audit's output; and the output of a `--check --diff` run with a
second distinctive value. The SecureString must hold the value, so the search
has something to find.
"""
import json
import os
import secrets
import tempfile
import time

import pytest

from stack_helpers import ROOT
from stack_helpers import ansible_playbook
from stack_helpers import aws

MAX_FILE = 50 * 1024 * 1024


def files_holding(value, roots, since):
    """Files under roots modified at or after `since` (epoch seconds) that
    contain value, and how many files were read. Symbolic links are not followed."""
    needle, found, read = value.encode(), [], 0
    pending = list(roots)
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue  # vanished or unreadable
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                    continue
                info = entry.stat(follow_symlinks=False)
                if not entry.is_file(follow_symlinks=False) or info.st_mtime < since or info.st_size > MAX_FILE:
                    continue
                with open(entry.path, "rb") as fh:
                    read += 1
                    if needle in fh.read():
                        found.append(entry.path)
            except OSError:
                continue
    return sorted(found), read


def everything_described(emulator):
    """Descriptions, tags and settings of every resource of the deployment, as text."""
    ssm, logs, ecs, elb = (aws(emulator, n) for n in ("ssm", "logs", "ecs", "elbv2"))
    ec2, iam, ecr, acm = (aws(emulator, n) for n in ("ec2", "iam", "ecr", "acm"))
    out = {"parameters": ssm.describe_parameters()["Parameters"]}
    out["parameter_tags"] = [ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=p["Name"])["TagList"]
                             for p in out["parameters"]]
    out["log_groups"] = logs.describe_log_groups()["logGroups"]
    out["log_group_tags"] = [logs.list_tags_log_group(logGroupName=g["logGroupName"])["tags"] for g in out["log_groups"]]
    out["clusters"] = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"], include=["TAGS", "SETTINGS"])["clusters"]
    out["services"] = ecs.describe_services(cluster="pocstack", services=["plotly"], include=["TAGS"])["services"]
    lbs = elb.describe_load_balancers()["LoadBalancers"]
    tgs = elb.describe_target_groups()["TargetGroups"]
    listeners = [li for lb in lbs for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]]
    rules = [r for li in listeners for r in elb.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]]
    arns = [lb["LoadBalancerArn"] for lb in lbs] + [tg["TargetGroupArn"] for tg in tgs] + [r["RuleArn"] for r in rules]
    out["elb"] = {"lbs": lbs, "tgs": tgs, "listeners": listeners, "rules": rules,
                  "tags": [elb.describe_tags(ResourceArns=arns[i:i + 20])["TagDescriptions"] for i in range(0, len(arns), 20)]}
    out["security_groups"] = ec2.describe_security_groups()["SecurityGroups"]
    out["roles"] = [iam.get_role(RoleName=r["RoleName"])["Role"] for r in iam.list_roles()["Roles"]]
    out["repositories"] = ecr.describe_repositories()["repositories"]
    out["repository_tags"] = [ecr.list_tags_for_resource(resourceArn=r["repositoryArn"])["tags"] for r in out["repositories"]]
    out["certificates"] = acm.list_certificates()["CertificateSummaryList"]
    return json.dumps(out, default=str)


def service_roles(emulator):
    ecs = aws(emulator, "ecs")
    task_definition = ecs.describe_task_definition(
        taskDefinition=ecs.describe_services(cluster="pocstack", services=["plotly"])["services"][0]["taskDefinition"])
    task_definition = task_definition["taskDefinition"]
    return task_definition, [task_definition["executionRoleArn"], task_definition["taskRoleArn"]]


@pytest.fixture(scope="module")
def check_diff(plotly_deployment, stack_emulator):
    """site.yml --check --diff with a new distinctive value: a change to show, which must not show the value."""
    secret = "LeakCanaryCheck" + secrets.token_hex(12)
    proc = ansible_playbook(stack_emulator, "site.yml", "-e", "service=plotly", "--check", "--diff",
                            env={"PLOTLY_PASS": secret})
    return {"secret": secret, "rc": proc.returncode, "output": proc.stdout + proc.stderr, "ended": time.time()}


def test_the_secure_string_holds_the_value(plotly_deployment, stack_emulator):
    parameter = aws(stack_emulator, "ssm").get_parameter(Name="/pocstack/plotly/PLOTLY_PASS", WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert parameter["Value"] == plotly_deployment["secret"]


def test_not_printed_at_vvv(plotly_deployment):
    output = plotly_deployment["output"]
    assert "parameters | SecureStrings under <prefix>/<service>" in output  # the run did handle the secret
    assert plotly_deployment["secret"] not in output


def test_not_in_the_task_definition(plotly_deployment, stack_emulator):
    task_definition, _ = service_roles(stack_emulator)
    container = task_definition["containerDefinitions"][0]
    assert plotly_deployment["secret"] not in json.dumps(task_definition, default=str)
    assert {s["name"]: s["valueFrom"].rsplit(":parameter", 1)[-1] for s in container["secrets"]} == {
        "PLOTLY_USER": "/pocstack/plotly/PLOTLY_USER", "PLOTLY_PASS": "/pocstack/plotly/PLOTLY_PASS"}
    assert "PLOTLY_PASS" not in {e["name"] for e in container.get("environment", [])}


def test_not_in_the_rendered_policy_documents(plotly_deployment, stack_emulator):
    iam = aws(stack_emulator, "iam")
    documents = []
    for arn in service_roles(stack_emulator)[1]:
        name = arn.rsplit("/", 1)[-1]
        documents.append(iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"])
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            documents.append(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            version = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]["DefaultVersionId"]
            documents.append(iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"])
    assert len(documents) >= 3  # two trust policies and the execution policy
    assert plotly_deployment["secret"] not in json.dumps(documents, default=str)


def test_not_in_descriptions_or_tags(plotly_deployment, stack_emulator):
    described = everything_described(stack_emulator)
    assert "/pocstack/plotly/PLOTLY_PASS" in described
    assert plotly_deployment["secret"] not in described


def test_not_in_the_audit_output(plotly_deployment, plotly_audit):
    assert plotly_deployment["secret"] not in plotly_audit["output"]
    assert plotly_deployment["secret"] not in json.dumps(plotly_audit["report"])


def test_not_in_check_diff_output(plotly_deployment, check_diff, stack_emulator):
    assert check_diff["rc"] == 0, check_diff["output"][-3000:]
    assert "parameters | SecureStrings under <prefix>/<service>" in check_diff["output"]
    assert "******** (new value)" in check_diff["output"]  # the changed secret shows, masked
    for value in (plotly_deployment["secret"], check_diff["secret"]):
        assert value not in check_diff["output"]
    # check mode changed nothing
    parameter = aws(stack_emulator, "ssm").get_parameter(Name="/pocstack/plotly/PLOTLY_PASS", WithDecryption=True)["Parameter"]
    assert parameter["Value"] == plotly_deployment["secret"]


def test_not_in_any_file_the_runs_wrote(plotly_deployment, check_diff, plotly_audit):
    roots = [ROOT, os.path.expanduser("~/.ansible"), tempfile.gettempdir()]
    since = plotly_deployment["started"] - 1  # file times may be a little coarser than time.time()
    for value in (plotly_deployment["secret"], check_diff["secret"]):
        found, read = files_holding(value, roots, since)
        assert found == [], f"{value[:12]}... written to {found}"
    assert read > 0


def test_the_file_search_finds_a_planted_value(tmp_path):
    value = "LeakCanaryPlanted" + secrets.token_hex(8)
    since = time.time() - 1
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "module_args.json").write_text(json.dumps({"value": value}))
    (tmp_path / "other.txt").write_text("nothing")
    assert files_holding(value, [str(tmp_path)], since) == ([str(tmp_path / "sub" / "module_args.json")], 2)
    assert files_holding(value, [str(tmp_path)], time.time() + 60) == ([], 0)
