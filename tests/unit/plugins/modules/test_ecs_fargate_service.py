"""ecs_fargate_service flows against recorded ECS responses (botocore Stubber, no network).

Each test queues exactly the calls AWS should see; a mutating call that is not
queued fails the test, so "no write" is asserted by the Stubber itself. Waits
use recorded DescribeServices answers (tasks still running, DRAINING) that the
emulator never gives.
"""
import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.pocstack.aws.plugins.module_utils import ecs_services as es
from ansible_collections.pocstack.aws.plugins.modules import ecs_fargate_service as module
from ecs_fixtures import TG
from ecs_fixtures import service_params as params
from fake_module import Exited
from fake_module import manager
from fake_module import stubbed_client

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:3"
ARN = "arn:aws:ecs:us-east-1:123456789012:service/pocstack/plotly"
NET = {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED"}
DEPLOY = {"maximumPercent": 200, "minimumHealthyPercent": 75, "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
COUNT = es.DESIRED_COUNT_TAG


def service(tags=None, **overrides):
    """The service as DescribeServices (include TAGS) returns it on AWS."""
    svc = {
        "serviceArn": ARN, "serviceName": "plotly", "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/pocstack",
        "loadBalancers": [{"targetGroupArn": TG, "containerName": "plotly", "containerPort": 8050}],
        "status": "ACTIVE", "desiredCount": 1, "runningCount": 1, "pendingCount": 0, "launchType": "FARGATE",
        "platformVersion": "LATEST", "taskDefinition": TD, "deploymentConfiguration": DEPLOY, "deployments": [],
        "events": [{"id": "e1", "message": "(service plotly) has reached a steady state."}],
        "networkConfiguration": {"awsvpcConfiguration": NET}, "healthCheckGracePeriodSeconds": 60,
        "schedulingStrategy": "REPLICA", "propagateTags": "SERVICE", "enableExecuteCommand": False,
        "tags": [{"key": k, "value": v} for k, v in (tags or {"pocstack:service": "plotly", COUNT: "1"}).items()],
    }
    svc.update(overrides)
    return svc


@pytest.fixture
def aws(monkeypatch):
    slept = []
    monkeypatch.setattr(module.time, "sleep", slept.append)
    with stubbed_client("ecs") as (client, stubber):
        yield client, stubber, slept


def run(aws, check_mode=False, diff=True, **overrides):
    wanted = params(**overrides)
    mgr = manager(module.ServiceManager, aws[0], wanted, check_mode, diff, cluster=wanted["cluster"], name=wanted["name"])
    with pytest.raises(Exited):
        mgr.run()
    mgr.module.result["warnings"] = mgr.module.warnings
    return mgr.module.result


def describes(stubber, svc):
    found = {"services": [svc], "failures": []} if svc else {
        "services": [], "failures": [{"arn": ARN, "reason": "MISSING"}]}
    stubber.add_response("describe_services", found, {"cluster": "pocstack", "services": ["plotly"], "include": ["TAGS"]})


def updates(stubber, **request):
    stubber.add_response("update_service", {"service": service()}, {"cluster": "pocstack", "service": "plotly", **request})


def test_create_sends_every_option_and_records_the_desired_count(aws):
    stubber = aws[1]
    describes(stubber, None)
    stubber.add_response("create_service", {"service": service()}, {
        "cluster": "pocstack", "serviceName": "plotly", "taskDefinition": "plotly:3", "desiredCount": 1,
        "launchType": "FARGATE", "platformVersion": "LATEST", "networkConfiguration": {"awsvpcConfiguration": NET},
        "loadBalancers": [{"targetGroupArn": TG, "containerName": "plotly", "containerPort": 8050}],
        "deploymentConfiguration": DEPLOY, "healthCheckGracePeriodSeconds": 60, "enableExecuteCommand": False,
        "propagateTags": "SERVICE",
        "tags": [{"key": "pocstack:desired-count", "value": "1"}, {"key": "pocstack:service", "value": "plotly"}],
    })
    describes(stubber, service())
    result = run(aws)
    assert result["changed"] and result["created"] and result["changes"] == []
    assert result["service"]["service_name"] == "plotly" and "events" not in result["service"]
    assert result["service"]["tags"] == {"pocstack:service": "plotly", COUNT: "1"}
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["desired_count"] == 1 and result["diff"]["after"]["tags"][COUNT] == "1"


def test_same_service_is_no_change_and_no_write(aws):
    stubber = aws[1]
    describes(stubber, service())
    result = run(aws)
    assert result["changed"] is False and result["changes"] == []
    assert result["diff"]["before"] == result["diff"]["after"]
    assert list(result["diff"]["before"]) == sorted(result["diff"]["before"])
    assert result["service"]["deployment_configuration"]["minimum_healthy_percent"] == 75


FAILED_PRIMARY = [{"id": "ecs-svc/2", "status": "PRIMARY", "taskDefinition": TD, "rolloutState": "FAILED",
                   "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start."}]


def test_a_failed_deployment_is_retried_once_the_cause_may_be_fixed(aws):
    # ECS never retries a deployment its circuit breaker failed (nothing to roll
    # back to): a re-run after fixing IAM, a secret or the network must.
    stubber = aws[1]
    describes(stubber, service(deployments=FAILED_PRIMARY))
    updates(stubber, forceNewDeployment=True)
    describes(stubber, service())
    result = run(aws)
    assert result["changed"] and result["changes"] == ["failed_deployment"]


@pytest.mark.parametrize("deployments, overrides", [
    (FAILED_PRIMARY, {"retry_failed_deployment": False}),
    ([dict(FAILED_PRIMARY[0], status="ACTIVE"), {"id": "ecs-svc/3", "status": "PRIMARY", "taskDefinition": TD,
                                                 "rolloutState": "COMPLETED"}], {}),
], ids=["turned-off", "rolled-back"])
def test_a_failed_deployment_is_left_alone_when_told_or_rolled_back(aws, deployments, overrides):
    stubber = aws[1]
    describes(stubber, service(deployments=deployments))
    result = run(aws, **overrides)
    assert result["changed"] is False and result["changes"] == []


def test_a_new_task_definition_deploys_without_a_second_forced_deployment(aws):
    stubber = aws[1]
    describes(stubber, service(deployments=FAILED_PRIMARY))
    updates(stubber, taskDefinition="plotly:4")
    describes(stubber, service())
    result = run(aws, task_definition="plotly:4")
    assert result["changes"] == ["task_definition"]


def test_one_field_changed_is_the_only_one_sent(aws):
    stubber = aws[1]
    describes(stubber, service())
    updates(stubber, networkConfiguration={"awsvpcConfiguration": dict(NET, securityGroups=["sg-2"])})
    describes(stubber, service())
    result = run(aws, security_groups=["sg-2"])
    assert result["changed"] and result["changes"] == ["security_groups"]
    assert result["diff"]["before"]["security_groups"] == ["sg-1"] and result["diff"]["after"]["security_groups"] == ["sg-2"]


def test_count_set_by_autoscaling_is_kept_when_the_inventory_did_not_change(aws):
    stubber = aws[1]
    describes(stubber, service(desiredCount=4, runningCount=4))
    result = run(aws, desired_count=1)
    assert result["changed"] is False
    assert result["diff"]["after"]["desired_count"] == 4


def test_count_changed_in_the_inventory_is_applied_and_recorded(aws):
    stubber = aws[1]
    describes(stubber, service(desiredCount=4))
    updates(stubber, desiredCount=3)
    stubber.add_response("tag_resource", {}, {"resourceArn": ARN, "tags": [{"key": COUNT, "value": "3"}]})
    describes(stubber, service(desiredCount=3))
    result = run(aws, desired_count=3)
    assert result["changed"] and result["changes"] == ["desired_count", "tags"]
    assert result["diff"]["before"]["desired_count"] == 4 and result["diff"]["after"]["desired_count"] == 3


def test_force_desired_count_undoes_autoscaling(aws):
    stubber = aws[1]
    describes(stubber, service(desiredCount=4))
    updates(stubber, desiredCount=1)
    describes(stubber, service())
    result = run(aws, force_desired_count=True)
    assert result["changes"] == ["desired_count"]


def test_purge_keeps_the_recorded_count_tag(aws):
    stubber = aws[1]
    describes(stubber, service(tags={"pocstack:service": "plotly", COUNT: "1", "old": "x"}))
    stubber.add_response("untag_resource", {}, {"resourceArn": ARN, "tagKeys": ["old"]})
    describes(stubber, service())
    result = run(aws, desired_count=None)
    assert result["changes"] == ["tags"] and result["diff"]["after"]["tags"] == {"pocstack:service": "plotly", COUNT: "1"}


def test_check_mode_reports_changes_and_writes_nothing(aws):
    stubber = aws[1]
    describes(stubber, service(desiredCount=4))
    result = run(aws, check_mode=True, desired_count=2, deployment_minimum_healthy_percent=100, tags={"a": "b"})
    assert result["changed"]
    assert result["changes"] == ["deployment_minimum_healthy_percent", "desired_count", "tags"]
    assert result["service"]["desired_count"] == 4  # as it is now


def test_check_mode_on_an_empty_account_reports_a_create(aws):
    stubber = aws[1]
    stubber.add_client_error("describe_services", "ClusterNotFoundException", "Cluster not found.", 400)
    result = run(aws, check_mode=True, security_groups=["sg-check-mode"])
    assert result["changed"] and result["created"] and result["service"] == {}
    assert result["diff"]["after"]["task_definition"] == "plotly:3"


def test_missing_cluster_is_named(aws):
    stubber = aws[1]
    stubber.add_client_error("describe_services", "ClusterNotFoundException", "Cluster not found.", 400)
    result = run(aws)
    assert result["failed"] and result["msg"] == "cluster: no ECS cluster 'pocstack'; create it first or fix the name"


def test_create_without_what_aws_needs_fails_before_writing(aws):
    stubber = aws[1]
    describes(stubber, None)
    result = run(aws, subnets=None)
    assert result["failed"] and result["msg"] == "subnets: required to create the service 'plotly' in cluster 'pocstack'"


def test_switch_to_capacity_providers_fails_before_writing(aws):
    stubber = aws[1]
    describes(stubber, service())
    result = run(aws, launch_type=None, capacity_provider_strategy=[{"capacity_provider": "FARGATE_SPOT", "weight": 1, "base": 0}])
    assert result["failed"] and result["msg"].startswith("capacity_provider_strategy: the service runs with launch_type FARGATE")


def test_a_draining_service_is_awaited_then_created_again(aws):
    stubber, slept = aws[1], aws[2]
    describes(stubber, service(status="DRAINING"))
    describes(stubber, service(status="DRAINING"))
    describes(stubber, service(status="INACTIVE"))
    stubber.add_response("create_service", {"service": service()}, {
        "cluster": "pocstack", "serviceName": "plotly", "taskDefinition": "plotly:3", "desiredCount": 1,
        "launchType": "FARGATE", "platformVersion": "LATEST", "networkConfiguration": {"awsvpcConfiguration": NET},
        "tags": [{"key": COUNT, "value": "1"}]})
    describes(stubber, service())
    result = run(aws, load_balancers=None, deployment_maximum_percent=None, deployment_minimum_healthy_percent=None,
                 deployment_circuit_breaker_enable=None, deployment_circuit_breaker_rollback=None,
                 health_check_grace_period_seconds=None, enable_execute_command=None, propagate_tags=None, tags=None)
    assert result["created"] and slept == [module.POLL]


def test_absent_scales_to_zero_waits_for_the_tasks_then_deletes(aws):
    stubber, slept = aws[1], aws[2]
    describes(stubber, service(desiredCount=2, runningCount=2))
    updates(stubber, desiredCount=0)
    describes(stubber, service(desiredCount=0, runningCount=1))
    describes(stubber, service(desiredCount=0, runningCount=0))
    stubber.add_response("delete_service", {"service": service(status="DRAINING")},
                         {"cluster": "pocstack", "service": "plotly", "force": False})
    result = run(aws, state="absent")
    assert result["changed"] and result["deleted"] and result["service"] == {}
    assert slept == [module.POLL] and result["warnings"] == []
    assert result["diff"]["after"] == {} and result["diff"]["before"]["desired_count"] == 2


def test_absent_forces_the_delete_when_autoscaling_raised_the_count_again(aws):
    stubber = aws[1]
    describes(stubber, service(desiredCount=0, runningCount=0))
    describes(stubber, service(desiredCount=0, runningCount=0))
    stubber.add_client_error("delete_service", "InvalidParameterException",
                             "The service cannot be stopped while it is scaled above 0.", 400)
    stubber.add_response("delete_service", {"service": service(status="DRAINING")},
                         {"cluster": "pocstack", "service": "plotly", "force": True})
    assert run(aws, state="absent")["deleted"]


def test_absent_deletes_anyway_when_tasks_outlast_the_timeout(aws):
    stubber = aws[1]
    describes(stubber, service(desiredCount=1))
    updates(stubber, desiredCount=0)
    describes(stubber, service(desiredCount=0, runningCount=1))
    stubber.add_response("delete_service", {"service": service(status="DRAINING")},
                         {"cluster": "pocstack", "service": "plotly", "force": False})
    result = run(aws, state="absent", wait_timeout=0)
    assert result["deleted"]
    assert result["warnings"] == [
        "The service 'plotly' in cluster 'pocstack' still had running tasks (deleted all the same) after 0 s (wait_timeout)"]


def test_absent_with_wait_waits_until_inactive(aws):
    stubber, slept = aws[1], aws[2]
    describes(stubber, service(desiredCount=0, runningCount=0))
    describes(stubber, service(desiredCount=0, runningCount=0))
    stubber.add_response("delete_service", {"service": service(status="DRAINING")},
                         {"cluster": "pocstack", "service": "plotly", "force": False})
    describes(stubber, service(status="DRAINING", desiredCount=0, runningCount=0))
    describes(stubber, service(status="INACTIVE", desiredCount=0, runningCount=0))
    assert run(aws, state="absent", wait=True)["deleted"] and slept == [module.POLL]


@pytest.mark.parametrize("found", [None, service(status="INACTIVE"), service(status="DRAINING")],
                         ids=["missing", "inactive", "draining"])
def test_absent_when_already_gone_or_going_is_no_change(aws, found):
    describes(aws[1], found)
    result = run(aws, state="absent")
    assert result["changed"] is False and result["deleted"] is False


def test_absent_in_a_missing_cluster_is_no_change(aws):
    aws[1].add_client_error("describe_services", "ClusterNotFoundException", "Cluster not found.", 400)
    assert run(aws, state="absent")["changed"] is False


def test_absent_check_mode_writes_nothing(aws):
    describes(aws[1], service(desiredCount=2))
    result = run(aws, check_mode=True, state="absent")
    assert result["changed"] and result["deleted"] and result["service"]["desired_count"] == 2


def test_aws_error_names_the_service(aws):
    stubber = aws[1]
    describes(stubber, service())
    stubber.add_client_error("update_service", "InvalidParameterException", "Unable to assume the service linked role.", 400)
    result = run(aws, task_definition="plotly:4")
    assert result["failed"] and result["msg"] == "Could not update the service 'plotly' in cluster 'pocstack'"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"task_definition": "plotly"}, "task_definition: 'plotly' is not a task definition revision"),
        ({"desired_count": -2}, "desired_count: -2 must be 0 or more"),
        ({"tags": {COUNT: "9"}}, "tags: pocstack:desired-count is set by this module"),
        ({"deployment_minimum_healthy_percent": 150}, "deployment_minimum_healthy_percent: 150 is out of range"),
        ({"name": "plotly/x"}, "name: 'plotly/x' is not allowed"),
    ],
    ids=["task-definition", "count", "owned-tag", "minimum", "name"],
)
def test_invalid_input_fails_before_any_call(aws, overrides, message):
    result = run(aws, **overrides)
    assert result["failed"] and result["msg"].startswith(message)


def validated(**options):
    raw = {"cluster": "pocstack", "name": "plotly", **options}
    return ArgumentSpecValidator(module.ARGUMENT_SPEC, mutually_exclusive=module.MUTUALLY_EXCLUSIVE).validate(raw)


def test_the_argument_spec_takes_aws_key_names_and_makes_the_port_an_int():
    found = validated(load_balancers=[{"targetGroupArn": TG, "containerName": "plotly", "containerPort": "8050"}],
                      capacity_provider_strategy=[{"capacityProvider": "FARGATE_SPOT", "weight": "2"}])
    assert not found.error_messages
    lbs = found.validated_parameters["load_balancers"]
    assert [{k: lb[k] for k in ("target_group_arn", "container_name", "container_port")} for lb in lbs] == [
        {"target_group_arn": TG, "container_name": "plotly", "container_port": 8050}]
    strategy = found.validated_parameters["capacity_provider_strategy"]
    assert [(s["capacity_provider"], s["weight"], s["base"]) for s in strategy] == [("FARGATE_SPOT", 2, 0)]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"load_balancers": [{"target_group_arn": TG, "container_name": "plotly", "container_port": "http"}]},
         "argument 'container_port' is of type str found in 'load_balancers'"),
        ({"load_balancers": ["tg"]}, "dictionary requested"),
        ({"load_balancers": [{"container_name": "plotly", "container_port": 80}]},
         "missing required arguments: target_group_arn found in load_balancers"),
        ({"capacity_provider_strategy": [{"capacity_provider": "SPOT"}]},
         "value of capacity_provider must be one of: FARGATE, FARGATE_SPOT, got: SPOT found in capacity_provider_strategy"),
        ({"capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": "much"}]},
         "argument 'weight' is of type str found in 'capacity_provider_strategy'"),
        ({"launch_type": "FARGATE", "capacity_provider_strategy": [{"capacity_provider": "FARGATE"}]},
         "parameters are mutually exclusive: launch_type|capacity_provider_strategy"),
    ],
    ids=["port-text", "lb-not-a-dict", "lb-no-target-group", "provider", "weight-text", "launch-type-and-strategy"],
)
def test_the_argument_spec_refuses_wrong_types(options, message):
    errors = validated(**options).error_messages
    assert any(message in error for error in errors), errors
