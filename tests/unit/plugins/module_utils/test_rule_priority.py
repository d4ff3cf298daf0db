"""Automatic priorities: the choice, and the retry when another writer wins."""
from types import SimpleNamespace

import botocore.exceptions
import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr
from ansible_collections.pocstack.aws.plugins.modules import elb_listener_rule as module
from fake_module import Exited
from fake_module import FakeModule

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/abc"


def rule(arn, priority, paths=("/theirs",), hosts=()):
    conditions = [{"Field": "path-pattern", "Values": list(paths)}] if paths else []
    conditions += [{"Field": "host-header", "Values": list(hosts)}] if hosts else []
    return {"RuleArn": arn, "Priority": str(priority), "IsDefault": False, "Conditions": conditions, "Actions": []}


@pytest.mark.parametrize(
    "used, rng, taken, expected",
    [
        ([], (1, 50000), (), 1),
        ([1, 2, 4], (1, 10), (), 3),
        ([1, 2, 3], (1, 3), (), None),
        ([100], (100, 105), (101,), 102),
        ([5], (1, 10), (1, 2), 3),
    ],
)
def test_free_priority(used, rng, taken, expected):
    rules = [rule(f"arn:{p}", p) for p in used] + [{"RuleArn": "d", "Priority": "default", "IsDefault": True}]
    assert lr.free_priority(rules, rng, taken) == expected


@pytest.mark.parametrize("bad", [[0, 10], [10, 5], [1, 50001], ["a", 2], [1]])
def test_priority_range_is_validated(bad):
    with pytest.raises(lr.RuleError, match="priority_range"):
        lr.validate_range(bad)


def test_automatic_priority_keeps_an_existing_rules_priority():
    want = lr.desired_rule(None, [{"field": "path-pattern", "values": ["/x"]}], [{"type": "forward", "target_group_arn": TG}])
    have = lr.current_rule({**rule("arn:1", 42), "Conditions": [{"Field": "path-pattern", "Values": ["/x"]}],
                            "Actions": [{"Type": "forward", "TargetGroupArn": TG}]})
    assert lr.rule_differences(want, have) == []





class FakeClient:
    """A listener on which other writers keep winning the first `losses` priorities."""

    def __init__(self, losses):
        self.rules = [rule("arn:theirs", 1)]
        self.losses = losses
        self.created = []

    def describe_rules(self, **kwargs):
        if "RuleArns" in kwargs:
            return {"Rules": [r for r in self.rules if r["RuleArn"] in kwargs["RuleArns"]]}
        return {"Rules": list(self.rules)}

    def get_paginator(self, operation):
        """One page: what botocore's paginator builds from a reply without NextMarker."""
        call = getattr(self, operation)
        return SimpleNamespace(paginate=lambda **kwargs: SimpleNamespace(build_full_result=lambda: call(**kwargs)))

    def describe_tags(self, ResourceArns, **_):
        return {"TagDescriptions": [{"ResourceArn": a, "Tags": []} for a in ResourceArns]}

    def create_rule(self, Priority, **kwargs):
        if self.losses:
            self.losses -= 1
            # another writer took it between our read and our create
            self.rules.append(rule(f"arn:other{Priority}", Priority))
            raise botocore.exceptions.ClientError({"Error": {"Code": "PriorityInUse", "Message": "in use"}}, "CreateRule")
        new = {**rule(f"arn:ours{Priority}", Priority), "Conditions": kwargs.get("Conditions", [])}
        self.rules.append(new)
        self.created.append(Priority)
        return {"Rules": [new]}


def manager(client, check_mode=False):
    params = {"name": "plotly", "priority_range": [1, 50], "tags": None, "purge_tags": True, "allow_shadowing": False}
    mgr = module.RuleManager.__new__(module.RuleManager)
    mgr.module, mgr.client, mgr.params = FakeModule(params), client, params
    mgr.module.check_mode = check_mode
    mgr.changed = mgr.moved = False
    return mgr


OWNED = {lr.OWNER_TAG: "plotly"}


def desired(paths=("/x",), priority=None, hosts=()):
    conditions = [{"field": "path-pattern", "values": list(paths)}] if paths else []
    conditions += [{"field": "host-header", "values": list(hosts)}] if hosts else []
    return lr.desired_rule(priority, conditions, [{"type": "forward", "target_group_arn": TG}])


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(module.time, "sleep", lambda _s: None)


@pytest.mark.parametrize("losses, won", [(0, 2), (1, 3), (3, 5)])
def test_lost_races_re_read_and_pick_again(losses, won):
    client = FakeClient(losses)
    mgr = manager(client)
    with pytest.raises(Exited):
        mgr.create("arn:listener", client.describe_rules()["Rules"], {}, desired(), OWNED, lr.SecretPlan())
    assert mgr.module.result["changed"] is True
    assert mgr.module.result["priority"] == won
    assert client.created == [won]


def test_gives_up_after_the_attempt_limit():
    client = FakeClient(module.MAX_PRIORITY_ATTEMPTS)
    mgr = manager(client)
    with pytest.raises(Exited):
        mgr.create("arn:listener", client.describe_rules()["Rules"], {}, desired(), OWNED, lr.SecretPlan())
    assert mgr.module.result["failed"]
    assert "lost the race for a free priority 10 times" in mgr.module.result["msg"]
    assert client.created == []


def test_check_mode_makes_no_create_call():
    client = FakeClient(0)
    mgr = manager(client, check_mode=True)
    with pytest.raises(Exited):
        mgr.create("arn:listener", client.describe_rules()["Rules"], {}, desired(), OWNED, lr.SecretPlan())
    assert mgr.module.result["changed"] and mgr.module.result["priority"] == 2
    assert client.created == [] and len(client.rules) == 1


def test_full_range_is_a_clear_error():
    client = FakeClient(0)
    client.rules = [rule(f"arn:{p}", p) for p in range(1, 51)]
    mgr = manager(client)
    with pytest.raises(Exited):
        mgr.create("arn:listener", client.rules, {}, desired(), OWNED, lr.SecretPlan())
    assert "priority_range: no free priority in [1, 50]" in mgr.module.result["msg"]


# --- rule order: a rule must not take every request of another ------------------------------------

def conditions(paths=(), hosts=()):
    found = [{"field": "path-pattern", "values": list(paths)}] if paths else []
    return lr.normalize_conditions(found + ([{"field": "host-header", "values": list(hosts)}] if hosts else []))


@pytest.mark.parametrize("earlier, later, expected", [
    (conditions(["*"]), conditions(["/api*"]), True),
    (conditions(["/*"]), conditions(["/api*"], ["a.example.com"]), True),  # every path starts with /
    (conditions(["/api*"]), conditions(["/api/v1/*", "/api"]), True),
    (conditions(["/api*"]), conditions(["/ap?"]), False),  # /apx is not under /api
    (conditions(["/api/*"]), conditions(["/api"]), False),
    (conditions(["/api*"]), conditions(["*"]), False),
    (conditions(hosts=["*.example.com"]), conditions(["/x"], ["a.example.com"]), True),
    (conditions(hosts=["*.example.com"]), conditions(["/x"]), False),  # the later rule takes any host
    (conditions(["/x"], ["a.example.com"]), conditions(["/x"]), False),
    (conditions(["/x"]), conditions(["/x"]), True),
    (conditions(["/a*", "/b*"]), conditions(["/a1", "/b2"]), True),
    (conditions(["/a*"]), conditions(["/a1", "/b2"]), False),
])
def test_covers(earlier, later, expected):
    assert lr.covers(earlier, later) is expected


def listener(*rules_):
    client = FakeClient(0)
    client.rules = list(rules_)
    return client


@pytest.mark.parametrize("existing, paths, hosts, expected", [
    # A catch-all goes last: behind every rule, with room for narrower ones in front.
    ([rule("arn:a", 10, ["/a*"])], ["*"], [], 50),
    ([], ["/*"], [], 50),
    # A narrower rule goes in front of a catch-all.
    ([rule("arn:all", 5, ["*"])], ["/a/b*"], [], 1),
    ([rule("arn:all", 5, ["*"]), rule("arn:b", 1, ["/b*"])], ["/a/x*"], [], 2),
    ([rule("arn:a", 10, ["/a*"])], ["/b*"], [], 1),  # unrelated: the lowest free priority
    ([rule("arn:h", 3, ["/x"], ["a.example.com"])], ["/x"], [], 4),  # /x for any host covers /x on a.example.com
])
def test_automatic_priority_keeps_rules_in_an_order_where_each_gets_its_traffic(existing, paths, hosts, expected):
    client = listener(*existing)
    mgr = manager(client)
    with pytest.raises(Exited):
        mgr.create("arn:listener", client.rules, {}, desired(paths, hosts=hosts), OWNED, lr.SecretPlan())
    assert mgr.module.result.get("priority") == expected, mgr.module.result
    assert client.created == [expected]


def test_automatic_priority_between_a_covered_and_a_covering_rule_is_refused():
    client = listener(rule("arn:narrow", 10, ["/a/b"]), rule("arn:all", 5, ["*"]))
    mgr = manager(client)
    tags = {"arn:narrow": {lr.OWNER_TAG: "reports"}, "arn:all": {lr.OWNER_TAG: "catchall"}}
    with pytest.raises(Exited):
        mgr.create("arn:listener", client.rules, tags, desired(["/a*"]), OWNED, lr.SecretPlan())
    message = mgr.module.result["msg"]
    assert "no priority in [1, 50]" in message and "'reports' at 10 (path-pattern /a/b)" in message
    assert "'catchall' at 5 (path-pattern *)" in message and "allow_shadowing=true" in message
    assert client.created == []


def test_narrower_rules_fit_in_front_of_a_catch_all_placed_first():
    client = listener()
    for name, paths in (("catchall", ["*"]), ("api", ["/api*"]), ("v2", ["/api/v2*"])):
        mgr = manager(client)
        mgr.params["name"] = name
        with pytest.raises(Exited):
            mgr.create("arn:listener", client.rules, {}, desired(paths), {lr.OWNER_TAG: name}, lr.SecretPlan())
    # /api/v2* would be shadowed behind /api* (at 1): refused, not placed where it gets no traffic.
    assert client.created == [50, 1]
    assert "no priority in [1, 50]" in mgr.module.result["msg"]


def test_allow_shadowing_takes_the_lowest_free_priority():
    client = listener(rule("arn:a", 10, ["/a*"]))
    mgr = manager(client)
    mgr.params["allow_shadowing"] = True
    with pytest.raises(Exited):
        mgr.create("arn:listener", client.rules, {}, desired(["*"]), OWNED, lr.SecretPlan())
    assert client.created == [1]


@pytest.mark.parametrize("priority, fragment", [
    (1, "priority: 1 puts this rule (path-pattern *) in front of rule 'api' at priority 10 (path-pattern /api*), "
        "whose every request it matches: that rule would get no traffic"),
    (20, "priority: 20 puts this rule (path-pattern *) behind rule 'everything' at priority 15 (path-pattern /*), "
         "which matches its every request: this rule would get no traffic"),
])
def test_explicit_priority_that_shadows_or_is_shadowed_fails_before_any_write(priority, fragment):
    client = listener(rule("arn:api", 10, ["/api*"]), rule("arn:all", 15, ["/*"]))
    tags = {"arn:api": {lr.OWNER_TAG: "api"}, "arn:all": {lr.OWNER_TAG: "everything"}}
    wanted = desired(["*"], priority=priority)
    mgr = manager(client)
    with pytest.raises(Exited):
        mgr.refuse(lr.position_problems(client.rules, tags, wanted["conditions"], priority, None, None, False, "L"))
    assert fragment in mgr.module.result["msg"], mgr.module.result["msg"]
    assert mgr.module.result["msg"].endswith("or set allow_shadowing=true to keep it there on purpose")
    # allowed on purpose
    assert lr.position_problems(client.rules, tags, wanted["conditions"], priority, None, None, True, "L") == []
