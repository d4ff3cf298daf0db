"""Automatic priorities: the choice, and the retry when another writer wins."""
import botocore.exceptions
import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import listener_rules as lr
from ansible_collections.pocstack.aws.plugins.modules import elb_listener_rule as module
from fake_module import Exited
from fake_module import FakeModule

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/abc"


def rule(arn, priority):
    return {"RuleArn": arn, "Priority": str(priority), "IsDefault": False, "Conditions": [], "Actions": []}


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

    def describe_tags(self, ResourceArns, **_):
        return {"TagDescriptions": [{"ResourceArn": a, "Tags": []} for a in ResourceArns]}

    def create_rule(self, Priority, **kwargs):
        if self.losses:
            self.losses -= 1
            # another writer took it between our read and our create
            self.rules.append(rule(f"arn:other{Priority}", Priority))
            raise botocore.exceptions.ClientError({"Error": {"Code": "PriorityInUse", "Message": "in use"}}, "CreateRule")
        new = rule(f"arn:ours{Priority}", Priority)
        self.rules.append(new)
        self.created.append(Priority)
        return {"Rules": [new]}


def manager(client, check_mode=False):
    params = {"name": "plotly", "priority_range": [1, 50], "tags": None, "purge_tags": True}
    mgr = module.RuleManager.__new__(module.RuleManager)
    mgr.module, mgr.client, mgr.params = FakeModule(params), client, params
    mgr.module.check_mode = check_mode
    mgr.changed = mgr.moved = False
    return mgr


OWNED = {lr.OWNER_TAG: "plotly"}


def desired():
    return lr.desired_rule(None, [{"field": "path-pattern", "values": ["/x"]}], [{"type": "forward", "target_group_arn": TG}])


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(module.time, "sleep", lambda _s: None)


@pytest.mark.parametrize("losses, won", [(0, 2), (1, 3), (3, 5)])
def test_lost_races_re_read_and_pick_again(losses, won):
    client = FakeClient(losses)
    mgr = manager(client)
    with pytest.raises(Exited):
        mgr.create_automatic("arn:listener", client.describe_rules()["Rules"], desired(), OWNED, lr.SecretPlan())
    assert mgr.module.result["changed"] is True
    assert mgr.module.result["priority"] == won
    assert client.created == [won]


def test_gives_up_after_the_attempt_limit():
    client = FakeClient(module.MAX_PRIORITY_ATTEMPTS)
    mgr = manager(client)
    with pytest.raises(Exited):
        mgr.create_automatic("arn:listener", client.describe_rules()["Rules"], desired(), OWNED, lr.SecretPlan())
    assert mgr.module.result["failed"]
    assert "lost the race for a free priority 10 times" in mgr.module.result["msg"]
    assert client.created == []


def test_check_mode_makes_no_create_call():
    client = FakeClient(0)
    mgr = manager(client, check_mode=True)
    with pytest.raises(Exited):
        mgr.create_automatic("arn:listener", client.describe_rules()["Rules"], desired(), OWNED, lr.SecretPlan())
    assert mgr.module.result["changed"] and mgr.module.result["priority"] == 2
    assert client.created == [] and len(client.rules) == 1


def test_full_range_is_a_clear_error():
    client = FakeClient(0)
    client.rules = [rule(f"arn:{p}", p) for p in range(1, 51)]
    mgr = manager(client)
    with pytest.raises(Exited):
        mgr.create_automatic("arn:listener", client.rules, desired(), OWNED, lr.SecretPlan())
    assert "priority_range: no free priority in [1, 50]" in mgr.module.result["msg"]
