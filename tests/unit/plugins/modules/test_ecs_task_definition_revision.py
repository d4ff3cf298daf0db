"""ecs_task_definition_revision flows against recorded ECS responses (botocore Stubber, no network).

Each test queues exactly the calls AWS should see; a mutating call that is not
queued fails the test, so "no write" is asserted by the Stubber itself.
"""
import pytest

from ansible_collections.pocstack.aws.plugins.modules import ecs_task_definition_revision as module
from ecs_fixtures import container
from ecs_fixtures import described
from fake_module import Exited
from fake_module import manager
from fake_module import stubbed_client

PREFIX = "arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:"


def arn(revision):
    return f"{PREFIX}{revision}"


def params(**overrides):
    base = {
        "family": "plotly", "containers": [container()], "cpu": "256", "memory": "512",
        "network_mode": "awsvpc", "launch_type": None, "requires_compatibilities": None,
        "execution_role_arn": "arn:aws:iam::123456789012:role/pocstack-plotly-exec",
        "task_role_arn": "arn:aws:iam::123456789012:role/pocstack-plotly-task",
        "runtime_platform": None, "volumes": None, "ephemeral_storage_gib": None,
        "keep_revisions": 5, "delete_inactive": False, "state": "present",
        "tags": {"pocstack:service": "plotly"}, "purge_tags": True,
    }
    base.update(overrides)
    return base


TAGS = [{"key": "pocstack:service", "value": "plotly"}]


@pytest.fixture
def aws():
    with stubbed_client("ecs") as client_and_stubber:
        yield client_and_stubber


def run(aws, check_mode=False, diff=True, **overrides):
    wanted = params(**overrides)
    mgr = manager(module.TaskDefinitionManager, aws[0], wanted, check_mode, diff, family=wanted["family"])
    with pytest.raises(Exited):
        mgr.run()
    return mgr.module.result


def listed(stubber, revisions, status="ACTIVE"):
    stubber.add_response("list_task_definitions", {"taskDefinitionArns": [arn(r) for r in revisions]},
                         {"familyPrefix": "plotly", "status": status})


def latest_is(stubber, revision, tags=TAGS, **overrides):
    stubber.add_response(
        "describe_task_definition",
        {"taskDefinition": described(taskDefinitionArn=arn(revision), revision=revision, **overrides), "tags": tags},
        {"taskDefinition": arn(revision), "include": ["TAGS"]},
    )


def registers(stubber, revision, tags=TAGS):
    expected = module.td.desired_definition(params())
    stubber.add_response(
        "register_task_definition",
        {"taskDefinition": described(taskDefinitionArn=arn(revision), revision=revision)},
        dict(expected, tags=tags),
    )


def test_first_revision_is_registered_with_the_normalised_definition(aws):
    _client, stubber = aws
    listed(stubber, [])
    registers(stubber, 1)
    result = run(aws)
    assert result["changed"] and result["registered"] and result["revision"] == 1
    assert result["task_definition_arn"] == arn(1) and result["deregistered"] == []
    assert result["task_definition"]["tags"] == {"pocstack:service": "plotly"}
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["cpu"] == "256"


def test_aws_description_of_the_same_definition_is_no_change(aws):
    _client, stubber = aws
    listed(stubber, [1, 3, 2])
    latest_is(stubber, 3)
    result = run(aws)
    assert result["changed"] is False and result["registered"] is False and result["changes"] == []
    assert result["revision"] == 3 and result["diff"]["before"] == result["diff"]["after"]


def test_change_registers_and_deregisters_beyond_keep_revisions(aws):
    _client, stubber = aws
    listed(stubber, [1, 2, 3, 4, 5, 6])
    latest_is(stubber, 6, memory="1024")
    registers(stubber, 7)
    for revision in (1, 2):
        stubber.add_response("deregister_task_definition",
                             {"taskDefinition": described(taskDefinitionArn=arn(revision), status="INACTIVE")},
                             {"taskDefinition": arn(revision)})
    result = run(aws)
    assert result["changed"] and result["registered"] and result["revision"] == 7
    assert result["changes"] == ["memory"]
    assert result["deregistered"] == [arn(1), arn(2)]
    assert result["diff"]["before"]["memory"] == "1024" and result["diff"]["after"]["memory"] == "512"


def test_check_mode_reports_the_revision_it_would_register_and_writes_nothing(aws):
    _client, stubber = aws
    listed(stubber, [4, 5])
    latest_is(stubber, 5, cpu="512", memory="1024")
    listed(stubber, [1, 2, 3, 6], status="INACTIVE")
    listed(stubber, [], status="DELETE_IN_PROGRESS")
    result = run(aws, check_mode=True, keep_revisions=2)
    assert result["changed"] and result["registered"]
    assert result["revision"] == 7 and result["task_definition_arn"] == arn(7)
    assert result["deregistered"] == [arn(4)]
    assert result["task_definition"]["revision"] == 5  # as it is now
    assert result["changes"] == ["cpu", "memory"]


def test_check_mode_on_an_empty_account(aws):
    _client, stubber = aws
    for status in ("ACTIVE", "INACTIVE", "DELETE_IN_PROGRESS"):
        listed(stubber, [], status=status)
    result = run(aws, check_mode=True)
    assert result["changed"] and result["revision"] == 1 and result["task_definition_arn"] == ""
    assert result["task_definition"] == {}


APP_CHECK = {"command": ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/health')"],
             "interval": 10, "timeout": 3, "retries": 3, "startPeriod": 10}


def with_check(check):
    """The described revision's containers with this healthCheck, as AWS returns it."""
    found = described()["containerDefinitions"][0]
    return [dict(found, healthCheck=check)]


def test_a_health_check_aws_describes_as_sent_is_no_change(aws):
    _client, stubber = aws
    listed(stubber, [3])
    latest_is(stubber, 3, containerDefinitions=with_check(APP_CHECK))
    result = run(aws, containers=[container(healthCheck=dict(APP_CHECK, interval="10"))])
    assert result["changed"] is False and result["changes"] == []


def test_check_mode_shows_a_health_check_change_in_the_diff_and_writes_nothing(aws):
    _client, stubber = aws
    listed(stubber, [3])
    latest_is(stubber, 3, containerDefinitions=with_check(APP_CHECK))
    listed(stubber, [], status="INACTIVE")
    listed(stubber, [], status="DELETE_IN_PROGRESS")
    result = run(aws, check_mode=True, containers=[container(healthCheck=dict(APP_CHECK, retries=5))])
    assert result["changed"] and result["registered"] and result["revision"] == 4
    assert result["changes"] == ["containerDefinitions[plotly].healthCheck.retries"]
    before, after = (result["diff"][side]["containerDefinitions"][0]["healthCheck"] for side in ("before", "after"))
    assert before["retries"] == 3 and after == dict(APP_CHECK, retries=5)


def test_diff_shows_containers_with_secret_sources_not_values(aws):
    _client, stubber = aws
    listed(stubber, [3])
    latest_is(stubber, 3)
    image = "pocstack/plotly@sha256:" + "b" * 64
    listed(stubber, [], status="INACTIVE")
    listed(stubber, [], status="DELETE_IN_PROGRESS")
    result = run(aws, check_mode=True, containers=[container(image=image)])
    assert result["changes"] == ["containerDefinitions[plotly].image"]
    after = result["diff"]["after"]["containerDefinitions"][0]
    assert after["image"] == image and result["diff"]["before"]["containerDefinitions"][0]["image"] != image
    assert after["secrets"][0] == {"name": "PLOTLY_PASS", "valueFrom": container()["secrets"][1]["valueFrom"]}
    assert list(result["diff"]["after"]) == sorted(result["diff"]["after"])


def test_no_diff_key_without_diff_mode(aws):
    _client, stubber = aws
    listed(stubber, [3])
    latest_is(stubber, 3)
    assert "diff" not in run(aws, diff=False)


def test_tags_only_change_tags_the_latest_revision(aws):
    _client, stubber = aws
    listed(stubber, [3])
    latest_is(stubber, 3, tags=[{"key": "old", "value": "1"}])
    stubber.add_response("tag_resource", {}, {"resourceArn": arn(3), "tags": TAGS})
    stubber.add_response("untag_resource", {}, {"resourceArn": arn(3), "tagKeys": ["old"]})
    latest_is(stubber, 3)
    result = run(aws)
    assert result["changed"] and not result["registered"] and result["revision"] == 3
    assert result["diff"]["before"]["tags"] == {"old": "1"} and result["diff"]["after"]["tags"] == {"pocstack:service": "plotly"}


def test_new_revision_carries_the_tags_when_none_are_given(aws):
    _client, stubber = aws
    listed(stubber, [3])
    latest_is(stubber, 3, memory="1024", tags=[{"key": "team", "value": "data"}])
    registers(stubber, 4, tags=[{"key": "team", "value": "data"}])
    result = run(aws, tags=None)
    assert result["registered"] and result["task_definition"]["tags"] == {"team": "data"}


def test_absent_deregisters_every_active_revision(aws):
    _client, stubber = aws
    listed(stubber, [2, 1])
    for revision in (1, 2):
        stubber.add_response("deregister_task_definition", {"taskDefinition": described(status="INACTIVE")},
                             {"taskDefinition": arn(revision)})
    result = run(aws, state="absent", containers=None)
    assert result["changed"] and result["deregistered"] == [arn(1), arn(2)] and result["deleted"] == []
    assert result["task_definition_arn"] == "" and result["revision"] is None
    assert result["diff"] == {"before": {"active_revisions": [arn(1), arn(2)]}, "after": {"active_revisions": []}}


def test_revisions_are_listed_from_every_page(aws):
    # ListTaskDefinitions pages (nextToken); the botocore paginator reads them all.
    _client, stubber = aws
    stubber.add_response("list_task_definitions", {"taskDefinitionArns": [arn(2)], "nextToken": "page-2"},
                         {"familyPrefix": "plotly", "status": "ACTIVE"})
    stubber.add_response("list_task_definitions", {"taskDefinitionArns": [arn(1)]},
                         {"familyPrefix": "plotly", "status": "ACTIVE", "nextToken": "page-2"})
    for revision in (1, 2):
        stubber.add_response("deregister_task_definition", {"taskDefinition": described(status="INACTIVE")},
                             {"taskDefinition": arn(revision)})
    result = run(aws, state="absent", containers=None)
    assert result["deregistered"] == [arn(1), arn(2)]


def test_absent_with_nothing_left_is_no_change(aws):
    _client, stubber = aws
    listed(stubber, [])
    result = run(aws, state="absent", containers=None)
    assert result["changed"] is False and result["deregistered"] == []


def test_absent_check_mode_writes_nothing(aws):
    _client, stubber = aws
    listed(stubber, [1])
    listed(stubber, [], status="INACTIVE")
    result = run(aws, check_mode=True, state="absent", delete_inactive=True)
    assert result["changed"] and result["deregistered"] == [arn(1)] and result["deleted"] == [arn(1)]


def test_absent_deletes_inactive_revisions_too(aws):
    _client, stubber = aws
    listed(stubber, [3])
    listed(stubber, [1, 2], status="INACTIVE")
    stubber.add_response("deregister_task_definition", {"taskDefinition": described(status="INACTIVE")},
                         {"taskDefinition": arn(3)})
    stubber.add_response("delete_task_definitions", {"taskDefinitions": [
        described(taskDefinitionArn=arn(r), status="DELETE_IN_PROGRESS") for r in (1, 2, 3)], "failures": []},
        {"taskDefinitions": [arn(1), arn(2), arn(3)]})
    result = run(aws, state="absent", delete_inactive=True)
    assert result["changed"] and result["deleted"] == [arn(1), arn(2), arn(3)]
    assert result["diff"]["before"]["inactive_revisions"] == [arn(1), arn(2)]


def test_absent_deletes_in_batches_of_ten(aws):
    _client, stubber = aws
    listed(stubber, [])
    listed(stubber, list(range(1, 13)), status="INACTIVE")
    for batch in (range(1, 11), range(11, 13)):
        stubber.add_response("delete_task_definitions", {"taskDefinitions": [
            described(taskDefinitionArn=arn(r), status="DELETE_IN_PROGRESS") for r in batch], "failures": []},
            {"taskDefinitions": [arn(r) for r in batch]})
    result = run(aws, state="absent", delete_inactive=True)
    assert len(result["deleted"]) == 12


def test_a_revision_aws_refuses_to_delete_fails_with_its_reason(aws):
    _client, stubber = aws
    listed(stubber, [])
    listed(stubber, [1], status="INACTIVE")
    stubber.add_response("delete_task_definitions", {"taskDefinitions": [], "failures": [
        {"arn": arn(1), "reason": "The specified task definition is still in ACTIVE status."}]},
        {"taskDefinitions": [arn(1)]})
    result = run(aws, state="absent", delete_inactive=True)
    assert result["failed"]
    assert result["msg"] == f"Could not delete every revision of 'plotly': {arn(1)}: The specified task definition is still in ACTIVE status."


def test_aws_error_names_what_failed(aws):
    _client, stubber = aws
    listed(stubber, [])
    stubber.add_client_error("register_task_definition", "ClientException", "Invalid 'cpu' setting for task.", 400)
    result = run(aws)
    assert result["failed"] and result["msg"] == "Could not register a new revision (task definition family 'plotly')"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"keep_revisions": -1}, "keep_revisions: -1 must be 0 (keep all) or more"),
        ({"cpu": "300"}, "cpu: 300 is not a Fargate CPU value"),
        ({"containers": [container(portMappings=[{"containerPort": 8050, "hostPort": 80}])]},
         "containers[0].portMappings[0].hostPort: must equal containerPort"),
        ({"family": "a b"}, "family: 'a b' is not allowed"),
        ({"containers": [container(healthCheck={"command": ["CMD-SHELL", "exit 0"], "timeout": 90})]},
         "containers[0].healthCheck.timeout: 90 is out of range; allowed: 2-60"),
        ({"containers": [container(healthCheck={"command": ["exit 0"]})]},
         "containers[0].healthCheck.command: ['exit 0'] must be a list starting with CMD"),
    ],
    ids=["keep", "cpu", "host-port", "family", "health-timeout", "health-command"],
)
def test_invalid_input_fails_before_any_call(aws, overrides, message):
    result = run(aws, **overrides)
    assert result["failed"] and result["msg"].startswith(message)
