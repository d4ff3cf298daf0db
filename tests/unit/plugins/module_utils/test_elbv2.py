"""module_utils/elbv2: what it adds to amazon.aws elb_utils, against a stubbed client."""
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.elb_utils import AnsibleELBv2Error

from ansible_collections.pocstack.aws.plugins.module_utils import elbv2
from fake_module import stubbed_client

LISTENER = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/pocstack/1/2"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{}/1"


def test_every_page_of_rules_is_read():
    with stubbed_client("elbv2") as (client, stubber):
        stubber.add_response("describe_rules", {"Rules": [{"RuleArn": "r1"}], "NextMarker": "m"}, {"ListenerArn": LISTENER})
        stubber.add_response("describe_rules", {"Rules": [{"RuleArn": "r2"}]}, {"ListenerArn": LISTENER, "Marker": "m"})
        assert [r["RuleArn"] for r in elbv2.get_listener_rules(client, LISTENER)] == ["r1", "r2"]


def test_listener_rules_errors_are_elb_utils_errors():
    with stubbed_client("elbv2") as (client, stubber):
        stubber.add_client_error("describe_rules", "ListenerNotFound", "no such listener", 400)
        with pytest.raises(AnsibleELBv2Error, match="Failed to describe rules"):
            elbv2.get_listener_rules(client, LISTENER)


def test_tags_are_read_20_arns_at_a_time():
    arns = [f"arn:r{i}" for i in range(21)]
    with stubbed_client("elbv2") as (client, stubber):
        for part in (arns[:20], arns[20:]):
            stubber.add_response("describe_tags", {"TagDescriptions": [
                {"ResourceArn": a, "Tags": [{"Key": "k", "Value": a}]} for a in part]}, {"ResourceArns": part})
        assert elbv2.tags_by_arn(client, arns) == {a: {"k": a} for a in arns}
        assert elbv2.tags_by_arn(client, []) == {}  # no call


def test_missing_target_groups_are_left_out():
    a, b = TG.format("a"), TG.format("b")
    with stubbed_client("elbv2") as (client, stubber):
        stubber.add_client_error("describe_target_groups", "TargetGroupNotFound", "one is missing", 400)
        stubber.add_response("describe_target_groups", {"TargetGroups": [{"TargetGroupArn": a}]}, {"TargetGroupArns": [a]})
        stubber.add_client_error("describe_target_groups", "TargetGroupNotFound", "missing", 400)
        assert elbv2.target_groups_by_arn(client, [a, b]) == {a: {"TargetGroupArn": a}}
        stubber.add_client_error("describe_target_groups", "TargetGroupNotFound", "missing", 400)
        assert elbv2.describe_target_group(client, Names=["b"]) is None
