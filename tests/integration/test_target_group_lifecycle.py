"""pocstack.aws.alb_target_group against the emulator, with real ELBv2 calls.

One ansible-playbook run takes a group through its life: check mode on an
empty account, create, a second run, an update, a check-mode update with
--diff, the delete, a second delete.
After every step the playbook reads the emulator's call counter (a
controller-side lookup, no module run), which gives each step's writes.

Each modifiable setting on its own, tags, check mode on a deployed group,
settings AWS cannot change, a delete while a rule or a listener forwards to
the group (real and check mode), the bounded wait, replace and delete by ARN run the module's main() in this process (argument spec,
check and diff flags as Ansible passes them; one module start costs about a
second of CPU, so the playbook keeps to the steps that need Ansible itself).

Uses the emulator of tests/integration/conftest.py (the one tests/run.sh
starts, or its own).
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import urllib.request

import boto3
import pytest
import yaml
from ansible.module_utils import basic

from ansible_collections.pocstack.aws.plugins.modules import alb_target_group

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TAGS = {"pocstack:service": "it", "pocstack:managed-by": "pocstack.aws"}
HEALTH = {"path": "/health", "interval": 6, "timeout": 5, "healthy_threshold": 2, "unhealthy_threshold": 2, "matcher": "200"}


def client(url, name):
    return boto3.client(name, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def writes(calls):
    """{write call: count} from the emulator's counter."""
    return {name: n for name, n in calls["calls"].items()
            if not name.split(":", 1)[1].startswith(("Describe", "List", "Get"))}


def counter(url):
    with urllib.request.urlopen(url + "/_pocstack/calls", timeout=5) as resp:
        return writes(json.load(resp))


def delta(before, after):
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


def merge(base, overrides):
    """base with overrides; health_check sub-options merge, everything else is replaced."""
    out = dict(base)
    for key, value in overrides.items():
        out[key] = {**out.get(key, {}), **value} if key == "health_check" else value
    return out


@pytest.fixture(scope="module")
def world(emulator_url):
    emulator = emulator_url
    urllib.request.urlopen(urllib.request.Request(emulator + "/moto-api/reset", method="POST", data=b""), timeout=5)
    ec2, elb = client(emulator, "ec2"), client(emulator, "elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(["us-east-1a", "us-east-1b"])]
    lb = elb.create_load_balancer(Name="tgtest", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    l80 = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]
    held = elb.create_target_group(Name="held-80", Protocol="HTTP", Port=80, VpcId=vpc,
                                   TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    l8080 = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=8080, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": held}])["Listeners"][0]["ListenerArn"]
    return {"url": emulator, "elb": elb, "vpc": vpc, "l80": l80, "l8080": l8080, "held": held}


# ------------------------------------------------------ through ansible-playbook
def group_task(args, **options):
    return {"pocstack.aws.alb_target_group": args, **options}


def playbook(url, tmp_path, steps):
    """Run [(name, task)] on localhost; returns {name: (result, {write call: count})}.
    Each step's result is also registered as r_<name> for later steps."""
    calls = f"{{{{ lookup('ansible.builtin.url', '{url}/_pocstack/calls', split_lines=False) }}}}"
    tasks = [{"name": "calls start", "ansible.builtin.set_fact": {"calls": calls}}]
    for name, task in steps:
        tasks.append({"name": f"step {name}", "register": "r_" + name.replace("-", "_"), **task})
        tasks.append({"name": f"calls {name}", "ansible.builtin.set_fact": {"calls": calls}})
    play = [{
        "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/pocstack.aws.aws": {
            "endpoint_url": url, "region": "us-east-1", "access_key": "testing", "secret_key": "testing"}},
        "tasks": tasks,
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-c", "local", str(tmp_path / "play.yml")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results, counts, previous = {}, {}, None
    for task in json.loads(proc.stdout)["plays"][0]["tasks"]:
        kind, name = task["task"]["name"].split(" ", 1)
        host = task["hosts"]["localhost"]
        if kind == "step":
            results[name] = host
        else:
            now = writes(json.loads(host["ansible_facts"]["calls"]))
            if previous is not None:
                counts[name] = delta(previous, now)
            previous = now
    return {name: (results[name], counts[name]) for name in results}


@pytest.fixture(scope="module")
def life(world, tmp_path_factory):
    base = {"name": "it-8050", "vpc_id": world["vpc"], "protocol": "HTTP", "port": 8050, "target_type": "ip",
            "health_check": HEALTH, "deregistration_delay": 30, "tags": dict(TAGS)}
    updated = merge(base, {"health_check": {"path": "/ready", "interval": 30, "timeout": 10, "matcher": "200-299"},
                           "deregistration_delay": 3600, "stickiness": {"enabled": True, "duration": 600},
                           "tags": {**TAGS, "owner": "data"}})
    steps = [
        ("check-create", group_task(base, check_mode=True, diff=True)),
        ("create", group_task(base)),
        ("again", group_task(base)),
        ("update", group_task(updated)),
        ("update-check-diff", group_task(merge(updated, {"health_check": {"path": "/check"}}), check_mode=True, diff=True)),
        ("absent", group_task({"name": "it-8050", "state": "absent"}, diff=True)),
        ("absent-again", group_task({"name": "it-8050", "state": "absent"})),
    ]
    return playbook(world["url"], tmp_path_factory.mktemp("life"), steps)


def test_check_mode_on_an_empty_account_reports_the_creation_with_zero_writes(life):
    result, counted = life["check-create"]
    assert result["changed"] is True and result["operation"] == "created" and result["target_group_arn"] == ""
    assert counted == {}
    assert result["diff"]["before"] == {} and result["diff"]["after"]["health_check"]["path"] == "/health"
    assert life["create"][0]["operation"] == "created"  # so the check run created nothing


def test_create_is_one_create_and_one_attributes_call(life):
    result, counted = life["create"]
    assert result["changed"] and ":targetgroup/it-8050/" in result["target_group_arn"]
    assert counted == {"elasticloadbalancing:CreateTargetGroup": 1, "elasticloadbalancing:ModifyTargetGroupAttributes": 1}
    group = result["target_group"]
    assert (group["target_group_name"], group["port"], group["target_type"]) == ("it-8050", 8050, "ip")
    assert group["health_check_path"] == "/health" and group["health_check_interval_seconds"] == 6
    assert group["attributes"]["deregistration_delay.timeout_seconds"] == "30"
    assert group["tags"] == TAGS


def test_a_second_run_makes_zero_writes(life):
    result, counted = life["again"]
    assert result["changed"] is False and result["operation"] == "none" and counted == {}


def test_update_calls_each_api_once_and_reads_back(life, world):
    result, counted = life["update"]
    assert result["changed"] and result["operation"] == "updated"
    assert counted == {"elasticloadbalancing:ModifyTargetGroup": 1, "elasticloadbalancing:ModifyTargetGroupAttributes": 1,
                       "elasticloadbalancing:AddTags": 1}
    assert result["changes"] == [
        "attributes.deregistration_delay.timeout_seconds", "attributes.stickiness.enabled",
        "attributes.stickiness.lb_cookie.duration_seconds", "health_check.interval", "health_check.matcher",
        "health_check.path", "health_check.timeout", "tags.owner"]
    group = result["target_group"]
    assert (group["health_check_path"], group["health_check_interval_seconds"], group["health_check_timeout_seconds"],
            group["matcher"]) == ("/ready", 30, 10, {"http_code": "200-299"})
    assert group["attributes"]["deregistration_delay.timeout_seconds"] == "3600"
    assert group["tags"] == {**TAGS, "owner": "data"}


def test_check_mode_update_shows_the_change_and_writes_nothing(life):
    result, counted = life["update-check-diff"]
    assert result["changed"] and result["changes"] == ["health_check.path"] and counted == {}
    assert result["diff"]["before"]["health_check"]["path"] == "/ready"
    assert result["diff"]["after"]["health_check"]["path"] == "/check"
    assert result["target_group"]["health_check_path"] == "/ready"


def test_delete_then_delete_again(life, world):
    result, counted = life["absent"]
    assert result["changed"] and counted == {"elasticloadbalancing:DeleteTargetGroup": 1}
    assert result["diff"]["before"]["port"] == 8050 and result["diff"]["after"] == {}
    again, counted = life["absent-again"]
    assert again["changed"] is False and again["operation"] == "none" and counted == {}
    names = {g["TargetGroupName"] for g in world["elb"].describe_target_groups()["TargetGroups"]}
    assert "it-8050" not in names and "held-80" in names


# ----------------------------------------------------- the module in-process
def run_module(url, args, check=False):
    """The module's main() as Ansible runs it (argument spec, defaults, check and
    diff flags); returns its result and the writes the emulator saw."""
    payload = {**args, "endpoint_url": url, "region": "us-east-1", "access_key": "testing", "secret_key": "testing",
               "_ansible_check_mode": check, "_ansible_diff": True}
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode()
    basic._ANSIBLE_PROFILE = "legacy"
    before, out = counter(url), io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        alb_target_group.main()
    return json.loads(out.getvalue()), delta(before, counter(url))


# (label, what changes, the one write it needs, AWS's own field or attribute key -> value read back)
SETTINGS = [
    ("path", {"health_check": {"path": "/ready"}}, "ModifyTargetGroup", {"HealthCheckPath": "/ready"}),
    ("port", {"health_check": {"port": "8081"}}, "ModifyTargetGroup", {"HealthCheckPort": "8081"}),
    ("protocol", {"health_check": {"protocol": "HTTPS"}}, "ModifyTargetGroup", {"HealthCheckProtocol": "HTTPS"}),
    ("interval", {"health_check": {"interval": 30}}, "ModifyTargetGroup", {"HealthCheckIntervalSeconds": 30}),
    ("timeout", {"health_check": {"timeout": 10}}, "ModifyTargetGroup", {"HealthCheckTimeoutSeconds": 10}),
    ("healthy", {"health_check": {"healthy_threshold": 5}}, "ModifyTargetGroup", {"HealthyThresholdCount": 5}),
    ("unhealthy", {"health_check": {"unhealthy_threshold": 3}}, "ModifyTargetGroup", {"UnhealthyThresholdCount": 3}),
    ("matcher", {"health_check": {"matcher": "200,302"}}, "ModifyTargetGroup", {"Matcher": {"HttpCode": "200,302"}}),
    ("traffic-port", {"health_check": {"port": "traffic-port"}}, "ModifyTargetGroup", {"HealthCheckPort": "traffic-port"}),
    ("deregistration", {"deregistration_delay": 3600}, "ModifyTargetGroupAttributes",
     {"deregistration_delay.timeout_seconds": "3600"}),
    ("slow-start", {"slow_start": 60}, "ModifyTargetGroupAttributes", {"slow_start.duration_seconds": "60"}),
    ("algorithm", {"load_balancing_algorithm": "least_outstanding_requests"}, "ModifyTargetGroupAttributes",
     {"load_balancing.algorithm.type": "least_outstanding_requests"}),
    ("sticky", {"stickiness": {"enabled": True, "duration": 600}}, "ModifyTargetGroupAttributes",
     {"stickiness.enabled": "true", "stickiness.lb_cookie.duration_seconds": "600"}),
    ("app-cookie", {"stickiness": {"enabled": True, "type": "app_cookie", "cookie_name": "sid", "duration": 120}},
     "ModifyTargetGroupAttributes", {"stickiness.type": "app_cookie", "stickiness.app_cookie.cookie_name": "sid",
                                     "stickiness.app_cookie.duration_seconds": "120"}),
    ("sticky-off", {"stickiness": {"enabled": False}}, "ModifyTargetGroupAttributes",
     {"stickiness.enabled": "false", "stickiness.type": "lb_cookie"}),
    ("tag-added", {"tags": {**TAGS, "owner": "data"}}, "AddTags", {"tags": {**TAGS, "owner": "data"}}),
    ("tag-purged", {"tags": TAGS}, "RemoveTags", {"tags": TAGS}),
]


@pytest.fixture(scope="module")
def settings(world):
    """Create ip-8050, then change one setting per run, each on top of the last."""
    url, elb = world["url"], world["elb"]
    args = {"name": "ip-8050", "vpc_id": world["vpc"], "protocol": "HTTP", "port": 8050, "health_check": HEALTH,
            "tags": TAGS}
    created, _ = run_module(url, args)
    steps = {}
    for label, change, _call, _readback in SETTINGS:
        args = merge(args, change)
        result, counted = run_module(url, args)
        group = elb.describe_target_groups(Names=["ip-8050"])["TargetGroups"][0]
        group["attributes"] = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(
            TargetGroupArn=group["TargetGroupArn"])["Attributes"]}
        group["tags"] = {t["Key"]: t["Value"] for t in elb.describe_tags(
            ResourceArns=[group["TargetGroupArn"]])["TagDescriptions"][0]["Tags"]}
        steps[label] = (result, counted, group)
    steps["again"] = run_module(url, args) + (None,)
    steps["again-check"] = run_module(url, args, check=True) + (None,)
    steps["tags-omitted"] = run_module(url, {k: v for k, v in args.items() if k != "tags"}) + (None,)
    steps["tags-no-purge"] = run_module(url, {**args, "tags": {"pocstack:service": "it"}, "purge_tags": False}) + (None,)
    steps["bad-timeout"] = run_module(url, merge(args, {"health_check": {"timeout": 30}})) + (None,)
    steps["fixed-port"] = run_module(url, {**args, "port": 8051}) + (None,)
    steps["fixed-vpc"] = run_module(url, {**args, "vpc_id": "vpc-0000000000000000f"}) + (None,)
    return created, steps


@pytest.mark.parametrize("label, change, call, readback", SETTINGS, ids=[s[0] for s in SETTINGS])
def test_each_setting_alone_is_changed_in_place_with_one_call(settings, label, change, call, readback):
    result, counted, group = settings[1][label]
    assert result["changed"] and result["operation"] == "updated", result
    assert counted == {f"elasticloadbalancing:{call}": 1}
    for key, value in readback.items():
        if key in ("tags",):
            assert group["tags"] == value
        elif "." in key:
            assert group["attributes"][key] == value, key
        else:
            assert group[key] == value, key


@pytest.mark.parametrize("step", ["again", "again-check", "tags-omitted", "tags-no-purge"])
def test_unchanged_and_omitted_settings_make_zero_writes(settings, step):
    result, counted, _ = settings[1][step]
    assert result["changed"] is False and counted == {}


def test_check_mode_on_a_deployed_group_shows_equal_sides(settings):
    diff = settings[1]["again-check"][0]["diff"]
    assert diff["before"] == diff["after"] and diff["before"]["tags"] == dict(sorted(TAGS.items()))


def test_delete_while_a_rule_forwards_fails_naming_the_rule(world):
    args = {"name": "used-80", "vpc_id": world["vpc"], "protocol": "HTTP", "port": 80}
    arn = run_module(world["url"], args)[0]["target_group_arn"]
    # the rule as pocstack.aws.elb_listener_rule makes it, owner tag included
    rule = world["elb"].create_rule(
        ListenerArn=world["l80"], Priority=10, Actions=[{"Type": "forward", "TargetGroupArn": arn}],
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
        Tags=[{"Key": "pocstack:rule-name", "Value": "used"}])["Rules"][0]["RuleArn"]
    result, counted = run_module(world["url"], {"name": "used-80", "state": "absent"})
    assert result["failed"] and "is still in use by" in result["msg"]
    assert f"rule {rule} (listener port 80, priority 10, pocstack:rule-name used)" in result["msg"]
    assert counted == {"elasticloadbalancing:DeleteTargetGroup": 1}  # refused by AWS
    world["elb"].delete_rule(RuleArn=rule)
    result, counted = run_module(world["url"], {"name": "used-80", "state": "absent"})
    assert result["operation"] == "deleted" and counted == {"elasticloadbalancing:DeleteTargetGroup": 1}


def test_timeout_not_below_the_current_interval_fails_before_any_write(settings):
    result, counted, _ = settings[1]["bad-timeout"]
    assert result["failed"] and "health_check.timeout: 30 must be smaller than health_check.interval (30)" in result["msg"]
    assert counted == {}


@pytest.mark.parametrize("step, named", [("fixed-port", "port 8050 -> 8051"),
                                         ("fixed-vpc", "vpc_id '{vpc}' -> 'vpc-0000000000000000f'")])
def test_a_setting_aws_cannot_change_fails_clearly_with_zero_writes(settings, world, step, named):
    result, counted, _ = settings[1][step]
    assert result["failed"] and named.format(vpc=world["vpc"]) in result["msg"] and "must be replaced" in result["msg"]
    assert "new name" in result["msg"] and "replace=true" in result["msg"] and counted == {}


def test_check_mode_delete_while_in_use_warns_and_writes_nothing(world):
    result, counted = run_module(world["url"], {"name": "held-80", "state": "absent"}, check=True)
    assert result["changed"] and result["operation"] == "deleted" and counted == {}
    # in-process, Ansible 2.19 hands warnings over as structured events
    warned = [w["event"]["msg"] if isinstance(w, dict) else w for w in result["warnings"]]
    assert any(f"listener {world['l8080']} (port 8080, default action)" in w for w in warned), warned


def test_wait_for_unused_is_bounded_and_names_the_listener(world):
    result, counted = run_module(world["url"], {"name": "held-80", "state": "absent", "wait_for_unused": True,
                                                "wait_timeout": 1})
    assert result["failed"] and "still in use after waiting 1 seconds" in result["msg"]
    assert f"listener {world['l8080']} (port 8080, default action)" in result["msg"]
    assert counted == {"elasticloadbalancing:DeleteTargetGroup": 2}  # at once, then when the time is up


def test_replace_recreates_an_unused_group_then_delete_by_arn(world):
    args = {"name": "rep-80", "vpc_id": world["vpc"], "protocol": "HTTP", "port": 80, "tags": {"keep": "me"}}
    old = run_module(world["url"], args)[0]["target_group_arn"]
    checked, counted = run_module(world["url"], {**args, "port": 81, "replace": True}, check=True)
    assert checked["changed"] and checked["operation"] == "replaced" and counted == {}
    result, counted = run_module(world["url"], {**args, "port": 81, "replace": True})
    assert result["operation"] == "replaced" and result["changes"] == ["port"] and result["target_group_arn"] != old
    assert counted == {"elasticloadbalancing:DeleteTargetGroup": 1, "elasticloadbalancing:CreateTargetGroup": 1}
    assert result["target_group"]["port"] == 81 and result["target_group"]["tags"] == {"keep": "me"}
    gone, counted = run_module(world["url"], {"target_group_arn": result["target_group_arn"], "state": "absent"})
    assert gone["changed"] and counted == {"elasticloadbalancing:DeleteTargetGroup": 1}
