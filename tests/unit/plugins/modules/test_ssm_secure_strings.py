"""ssm_secure_strings flows against recorded SSM responses (botocore Stubber, no network).

Each test queues exactly the calls AWS should see: a write that is not queued
fails the test, so "no write in check mode" is asserted by the Stubber itself.
"""
import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import Stubber

from ansible_collections.pocstack.aws.plugins.modules import ssm_secure_strings as module
from fake_module import Exited
from fake_module import FakeModule
from fake_module import stubbed_client

PATH = "/pocstack/plotly"
ARN = "arn:aws:ssm:us-east-1:123456789012:parameter" + PATH
SECRET = "Zq8-distinctive-secret"


def params(**overrides):
    base = {
        "path": PATH,
        "parameters": [{"name": "PLOTLY_USER", "value": "admin", "description": None},
                       {"name": "PLOTLY_PASS", "value": SECRET, "description": None}],
        "description": "{name} of plotly", "key_id": "alias/aws/ssm", "purge": True, "state": "present",
        "tags": None, "purge_tags": True, "owner_tags": None, "adopt": False, "child_paths": False,
    }
    base.update(overrides)
    return base


def stored(name, value, version=1, type_="SecureString"):
    return {"Name": f"{PATH}/{name}", "Type": type_, "Value": value, "Version": version, "ARN": f"{ARN}/{name}"}


def meta(name, description=None, key="alias/aws/ssm"):
    return {"Name": f"{PATH}/{name}", "Type": "SecureString", "KeyId": key,
            "Description": description or f"{name} of plotly", "Version": 1}


@pytest.fixture
def aws():
    with stubbed_client("ssm") as pair:
        yield pair


def expect_read(stubber, parameters, metas=None):
    stubber.add_response("get_parameters_by_path", {"Parameters": parameters},
                         {"Path": PATH, "Recursive": False, "WithDecryption": True})
    if parameters:
        stubber.add_response("describe_parameters", {"Parameters": metas or []},
                             {"ParameterFilters": [{"Key": "Path", "Option": "OneLevel", "Values": [PATH]}]})


def run(aws, check_mode=False, diff=True, **overrides):
    client, _ = aws
    fake = FakeModule(params(**overrides), check_mode=check_mode, diff=diff)
    fake.region = "us-east-1"
    fake.client = lambda *a, **k: pytest.fail("no other client expected")
    manager = module.SecureStrings(fake, RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff()))
    with pytest.raises(Exited):
        manager.run()
    assert SECRET not in repr(fake.result)
    return fake.result


BOTH = [stored("PLOTLY_PASS", SECRET, 3), stored("PLOTLY_USER", "admin", 1)]
BOTH_META = [meta("PLOTLY_PASS"), meta("PLOTLY_USER")]


def test_unchanged_makes_no_write_and_keeps_the_fingerprint(aws):
    expect_read(aws[1], BOTH, BOTH_META)
    result = run(aws)
    assert result["changed"] is False
    assert result["fingerprint"] == module.ssm.fingerprint({"PLOTLY_PASS": 3, "PLOTLY_USER": 1})
    assert result["container_secrets"] == [{"name": "PLOTLY_PASS", "valueFrom": f"{ARN}/PLOTLY_PASS"},
                                           {"name": "PLOTLY_USER", "valueFrom": f"{ARN}/PLOTLY_USER"}]
    assert result["diff"]["before"] == result["diff"]["after"]


def test_changed_value_in_check_mode_writes_nothing_and_masks_it(aws):
    expect_read(aws[1], [stored("PLOTLY_PASS", "old-value", 3), stored("PLOTLY_USER", "admin")], BOTH_META)
    result = run(aws, check_mode=True)
    assert result["changed"] is True and result["updated"] == ["PLOTLY_PASS"]
    assert result["fingerprint"] == "unknown"
    assert result["diff"]["after"]["PLOTLY_PASS"]["value"] == "******** (new value)"
    assert result["diff"]["after"]["PLOTLY_USER"]["value"] == "********"
    assert "old-value" not in repr(result)


def test_changed_value_is_overwritten_and_the_fingerprint_moves(aws):
    stubber = aws[1]
    expect_read(stubber, [stored("PLOTLY_PASS", "old-value", 3), stored("PLOTLY_USER", "admin")], BOTH_META)
    stubber.add_response("put_parameter", {"Version": 4}, {
        "Name": f"{PATH}/PLOTLY_PASS", "Value": SECRET, "Type": "SecureString", "KeyId": "alias/aws/ssm",
        "Description": "PLOTLY_PASS of plotly", "Overwrite": True})
    expect_read(stubber, [stored("PLOTLY_PASS", SECRET, 4), stored("PLOTLY_USER", "admin")], BOTH_META)
    result = run(aws)
    assert result["changed"] is True
    assert result["fingerprint"] == module.ssm.fingerprint({"PLOTLY_PASS": 4, "PLOTLY_USER": 1})
    assert {"name": "PLOTLY_PASS", "arn": f"{ARN}/PLOTLY_PASS", "version": 4} in result["parameters"]


def test_new_path_creates_with_tags_and_purges_nothing(aws):
    stubber = aws[1]
    expect_read(stubber, [])
    for name, value in (("PLOTLY_PASS", SECRET), ("PLOTLY_USER", "admin")):
        stubber.add_response("put_parameter", {"Version": 1}, {
            "Name": f"{PATH}/{name}", "Value": value, "Type": "SecureString", "KeyId": "alias/aws/ssm",
            "Description": f"{name} of plotly", "Overwrite": False,
            "Tags": [{"Key": "pocstack:service", "Value": "plotly"}]})
    expect_read(stubber, [stored("PLOTLY_PASS", SECRET), stored("PLOTLY_USER", "admin")], BOTH_META)
    result = run(aws, tags={"pocstack:service": "plotly"})
    assert result["created"] == ["PLOTLY_PASS", "PLOTLY_USER"] and result["deleted"] == []


def test_check_mode_on_a_new_path_reads_the_account_for_arns(aws):
    expect_read(aws[1], [])
    client, _ = aws
    fake = FakeModule(params(), check_mode=True, diff=True)
    fake.region = "eu-west-1"
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(sts) as sts_stub:
        sts_stub.add_response("get_caller_identity", {
            "Account": "210987654321", "Arn": "arn:aws-cn:iam::210987654321:user/x", "UserId": "AIDAEXAMPLE"})
        fake.client = lambda name, **kw: RetryingBotoClientWrapper(sts, AWSRetry.jittered_backoff())
        with pytest.raises(Exited):
            module.SecureStrings(fake, RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff())).run()
    assert fake.result["container_secrets"][0] == {
        "name": "PLOTLY_PASS", "valueFrom": "arn:aws-cn:ssm:eu-west-1:210987654321:parameter/pocstack/plotly/PLOTLY_PASS"}
    assert [p["version"] for p in fake.result["parameters"]] == [None, None]


def test_renamed_secret_removes_the_old_parameter(aws):
    stubber = aws[1]
    expect_read(stubber, BOTH + [stored("OLD_TOKEN", "zzz")], BOTH_META + [meta("OLD_TOKEN")])
    stubber.add_response("delete_parameters", {"DeletedParameters": [f"{PATH}/OLD_TOKEN"]},
                         {"Names": [f"{PATH}/OLD_TOKEN"]})
    expect_read(stubber, BOTH, BOTH_META)
    result = run(aws)
    assert result["deleted"] == ["OLD_TOKEN"] and result["changed"] is True
    assert "OLD_TOKEN" in result["diff"]["before"] and "OLD_TOKEN" not in result["diff"]["after"]


def test_plain_string_is_replaced_by_a_secure_string(aws):
    stubber = aws[1]
    expect_read(stubber, [stored("PLOTLY_PASS", SECRET, type_="String"), stored("PLOTLY_USER", "admin")], BOTH_META)
    stubber.add_response("delete_parameters", {}, {"Names": [f"{PATH}/PLOTLY_PASS"]})
    stubber.add_response("put_parameter", {"Version": 1}, {
        "Name": f"{PATH}/PLOTLY_PASS", "Value": SECRET, "Type": "SecureString", "KeyId": "alias/aws/ssm",
        "Description": "PLOTLY_PASS of plotly", "Overwrite": False})
    expect_read(stubber, BOTH, BOTH_META)
    result = run(aws)
    assert result["created"] == ["PLOTLY_PASS"] and result["deleted"] == []


def test_tags_only_change_does_not_change_the_fingerprint(aws):
    stubber = aws[1]
    expect_read(stubber, BOTH, BOTH_META)
    for name in ("PLOTLY_PASS", "PLOTLY_USER"):
        stubber.add_response("list_tags_for_resource", {"TagList": [{"Key": "old", "Value": "1"}]},
                             {"ResourceType": "Parameter", "ResourceId": f"{PATH}/{name}"})
    result = run(aws, check_mode=True, tags={"pocstack:service": "plotly"})
    assert result["changed"] is True and result["updated"] == []
    assert result["fingerprint"] == module.ssm.fingerprint({"PLOTLY_PASS": 3, "PLOTLY_USER": 1})
    assert result["diff"]["after"]["PLOTLY_USER"]["tags"] == {"pocstack:service": "plotly"}


def test_absent_deletes_everything_under_the_path_in_batches_of_ten(aws):
    stubber = aws[1]
    names = [f"P{i:02d}" for i in range(12)]
    expect_read(stubber, [stored(n, "x") for n in names], [meta(n) for n in names])
    stubber.add_response("delete_parameters", {}, {"Names": [f"{PATH}/{n}" for n in names[:10]]})
    stubber.add_response("delete_parameters", {}, {"Names": [f"{PATH}/{n}" for n in names[10:]]})
    stubber.add_response("get_parameters_by_path", {"Parameters": []},
                         {"Path": PATH, "Recursive": False, "WithDecryption": True})
    result = run(aws, state="absent")
    assert result["deleted"] == names and result["changed"] is True and result["container_secrets"] == []


def test_absent_on_an_empty_path_is_unchanged(aws):
    expect_read(aws[1], [])
    result = run(aws, state="absent")
    assert result["changed"] is False and result["deleted"] == [] and result["fingerprint"] == ""


def test_write_error_names_the_path_not_the_value(aws):
    stubber = aws[1]
    expect_read(stubber, [stored("PLOTLY_PASS", "old", 3), stored("PLOTLY_USER", "admin")], BOTH_META)
    stubber.add_client_error("put_parameter", "AccessDeniedException", "not allowed to kms:Encrypt")
    result = run(aws)
    assert result["failed"] and result["msg"] == f"Could not write the parameters under {PATH}"


def test_bad_input_fails_before_any_call(aws):
    result = run(aws, parameters=[{"name": "BAD-NAME", "value": SECRET, "description": None}])
    assert result["failed"] and result["msg"].startswith("parameters[0].name: 'BAD-NAME' is not allowed")


# --- parameters another tool owns ----------------------------------------------------------------

OWNER = {"pocstack:service": "plotly", "pocstack:managed-by": "pocstack.aws"}


def expect_tags(stubber, tags_by_name):
    for name, tags in sorted(tags_by_name.items()):
        stubber.add_response("list_tags_for_resource", {"TagList": [{"Key": k, "Value": v} for k, v in tags.items()]},
                             {"ResourceType": "Parameter", "ResourceId": f"{PATH}/{name}"})


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_listed_parameter_another_tool_made_is_refused_before_any_write(aws, check_mode):
    stubber = aws[1]
    expect_read(stubber, [stored("PLOTLY_PASS", "theirs", 4)], [meta("PLOTLY_PASS")])
    expect_tags(stubber, {"PLOTLY_PASS": {"team": "data"}})
    result = run(aws, check_mode=check_mode, tags=OWNER, owner_tags=OWNER)
    stubber.assert_no_pending_responses()  # and no write was stubbed: any would have failed the run
    assert result["failed"] is True
    assert result["msg"].startswith(f"parameters: {PATH}/PLOTLY_PASS already exist without the tags "
                                    "pocstack:managed-by=pocstack.aws, pocstack:service=plotly"), result["msg"]
    assert "nothing was written" in result["msg"] and "adopt=true" in result["msg"]


def test_an_unlisted_parameter_another_tool_made_is_not_purged(aws):
    stubber = aws[1]
    expect_read(stubber, BOTH + [stored("DB_URL", "theirs")], BOTH_META + [meta("DB_URL")])
    expect_tags(stubber, {"PLOTLY_PASS": OWNER, "PLOTLY_USER": OWNER, "DB_URL": {}})
    result = run(aws, tags=OWNER, owner_tags=OWNER)
    assert result["failed"] is True and f"{PATH}/DB_URL" in result["msg"] and "PLOTLY" not in result["msg"]


def test_adopt_takes_another_tools_parameter_over(aws):
    stubber = aws[1]
    expect_read(stubber, [stored("PLOTLY_PASS", SECRET, 4), stored("PLOTLY_USER", "admin")], BOTH_META)
    expect_tags(stubber, {"PLOTLY_PASS": {"team": "data"}, "PLOTLY_USER": OWNER})
    result = run(aws, check_mode=True, tags=OWNER, owner_tags=OWNER, adopt=True)
    assert result.get("failed") is not True and result["changed"] is True  # the owner tags would be set
    assert result["diff"]["after"]["PLOTLY_PASS"]["tags"] == OWNER


def test_own_parameters_pass(aws):
    stubber = aws[1]
    expect_read(stubber, BOTH, BOTH_META)
    expect_tags(stubber, {"PLOTLY_PASS": OWNER, "PLOTLY_USER": OWNER})
    result = run(aws, tags=OWNER, owner_tags=OWNER)
    assert result.get("failed") is not True and result["changed"] is False


def test_owner_tags_without_tags_leave_the_tags_alone_in_the_diff(aws):
    stubber = aws[1]
    expect_read(stubber, BOTH, BOTH_META)
    expect_tags(stubber, {"PLOTLY_PASS": OWNER, "PLOTLY_USER": {**OWNER, "team": "data"}})
    result = run(aws, owner_tags=OWNER)
    assert result["changed"] is False
    assert result["diff"]["after"] == result["diff"]["before"]
    assert result["diff"]["after"]["PLOTLY_USER"]["tags"] == {**OWNER, "team": "data"}


def test_purged_tags_keep_the_aws_keys_in_the_diff(aws):
    stubber = aws[1]
    expect_read(stubber, BOTH, BOTH_META)
    stack = {"aws:cloudformation:stack-name": "poc"}
    expect_tags(stubber, {"PLOTLY_PASS": {**OWNER, **stack, "team": "data"}, "PLOTLY_USER": {**OWNER, **stack}})
    result = run(aws, check_mode=True, tags=OWNER, purge_tags=True)
    assert result["changed"] is True  # team=data would go
    assert result["diff"]["after"]["PLOTLY_PASS"]["tags"] == dict(sorted({**OWNER, **stack}.items()))
    assert result["diff"]["after"]["PLOTLY_USER"] == result["diff"]["before"]["PLOTLY_USER"]


def test_child_paths_lists_the_paths_below_in_the_same_one_read_and_leaves_them_alone(aws):
    below = [stored("proxy/TOKEN", "other-secret"), stored("proxy/OTHER", "x"), stored("auth/deep/KEY", "y")]
    aws[1].add_response("get_parameters_by_path", {"Parameters": BOTH + below},
                        {"Path": PATH, "Recursive": True, "WithDecryption": True})
    aws[1].add_response("describe_parameters", {"Parameters": BOTH_META},
                        {"ParameterFilters": [{"Key": "Path", "Option": "OneLevel", "Values": [PATH]}]})
    result = run(aws, child_paths=True)
    assert result["child_paths"] == ["auth", "proxy"]
    # purge stays directly under the path, and nothing of below is returned
    assert result["changed"] is False and result["deleted"] == []
    assert [p["name"] for p in result["parameters"]] == ["PLOTLY_PASS", "PLOTLY_USER"]
    assert "other-secret" not in repr(result)
