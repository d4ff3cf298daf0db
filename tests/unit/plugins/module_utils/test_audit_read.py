"""audit_read against recorded responses (botocore Stubber, no network): what
a missing resource reads as, now that amazon.aws's iam and ec2 helpers read it."""
from ansible_collections.pocstack.aws.plugins.module_utils import audit_read
from fake_module import stubbed_client

POLICY_ARN = "arn:aws:iam::123456789012:policy/gone"


def test_a_managed_policy_that_is_gone_has_no_document():
    with stubbed_client("iam") as (iam, stubber):
        stubber.add_client_error("get_policy", "NoSuchEntity", expected_params={"PolicyArn": POLICY_ARN})
        assert audit_read.managed_policy_document(iam, POLICY_ARN) is None


def test_a_managed_policy_reads_its_default_version():
    with stubbed_client("iam") as (iam, stubber):
        stubber.add_response("get_policy", {"Policy": {"Arn": POLICY_ARN, "DefaultVersionId": "v2"}},
                             {"PolicyArn": POLICY_ARN})
        stubber.add_response("get_policy_version", {"PolicyVersion": {"Document": '{"Statement": []}'}},
                             {"PolicyArn": POLICY_ARN, "VersionId": "v2"})
        assert audit_read.managed_policy_document(iam, POLICY_ARN) == {"Statement": []}


def test_missing_security_groups_are_left_out_one_by_one():
    with stubbed_client("ec2") as (ec2, stubber):
        stubber.add_client_error("describe_security_groups", "InvalidGroup.NotFound",
                                 expected_params={"GroupIds": ["sg-1", "sg-2"]})
        stubber.add_response("describe_security_groups", {"SecurityGroups": [{"GroupId": "sg-1"}]},
                             {"GroupIds": ["sg-1"]})
        stubber.add_client_error("describe_security_groups", "InvalidGroup.NotFound",
                                 expected_params={"GroupIds": ["sg-2"]})
        assert audit_read.describe_security_groups(ec2, ["sg-1", "sg-2"]) == {"sg-1": {"GroupId": "sg-1"}}
