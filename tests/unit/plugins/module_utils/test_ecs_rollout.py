"""ecs_service_wait's rollout logic against recorded ECS and ELBv2 answers.

Every outcome is judged here on recorded responses, without a network (the
emulator's data plane runs them for real in tests/integration/test_data_plane*):
each scenario under fixtures/ecs_rollout/ is the sequence of calls AWS
answered, in order, replayed with botocore's Stubber.
A call the code makes that the recording does not hold fails the test, and
so does a recorded call it never makes: the number of polls and the
diagnosis calls are asserted by the Stubber itself. A fake clock makes the
waits instant; `sleeps` records what the loop asked for.
"""
import datetime
import os

import boto3
import pytest
import yaml
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import Stubber

from ansible_collections.pocstack.aws.plugins.module_utils import ecs_rollout
from fake_clock import FakeClock

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "ecs_rollout")
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/6d0ecf831eec9f09"
NEW = "ecs-svc/7349011417468390817"


def replay(name, with_logs=False, **overrides):
    """Run wait_for_rollout against the recording `name` (or a loaded one),
    with a CloudWatch Logs client when `with_logs`; return (result, clock)."""
    recording = name
    if isinstance(name, str):
        with open(os.path.join(FIXTURES, name + ".yml")) as fh:
            recording = yaml.safe_load(fh)
    params = {"task_definition": None, "target_group_arns": None, "timeout": 600, "poll_interval": 10, "last_events": 5}
    params.update(recording["params"], **overrides)
    clients = {n: boto3.client(n, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
               for n in ("ecs", "elbv2", "logs")}
    stubbers = {n: Stubber(c) for n, c in clients.items()}
    for call in recording["calls"]:
        stubber = stubbers[call.get("client", "ecs")]
        for _ in range(call.get("repeat", 1)):
            if "error" in call:
                error = call["error"]
                stubber.add_client_error(call["method"], service_error_code=error["code"],
                                         service_message=error["message"], http_status_code=error.get("status", 400),
                                         expected_params=call.get("expected_params"))
            else:
                stubber.add_response(call["method"], call["response"], call.get("expected_params"))
    clock = FakeClock(5000.0)
    retry = AWSRetry.jittered_backoff()
    for stubber in stubbers.values():
        stubber.activate()
    try:
        logs = RetryingBotoClientWrapper(clients["logs"], retry) if with_logs else None
        result = ecs_rollout.wait_for_rollout(RetryingBotoClientWrapper(clients["ecs"], retry),
                                              RetryingBotoClientWrapper(clients["elbv2"], retry),
                                              params, clock=clock, sleep=clock.sleep, logs=logs)
        for stubber in stubbers.values():
            stubber.assert_no_pending_responses()
    finally:
        for stubber in stubbers.values():
            stubber.deactivate()
    return result, clock


def task_ids(tasks):
    return [t["task_arn"].rsplit("/", 1)[1] for t in tasks]


# ---------------------------------------------------------------- scenarios


def test_success_after_a_few_polls():
    result, clock = replay("success_after_polls")
    assert not result["failed"]
    assert result["outcome"] == "completed"
    assert result["polls"] == 4 and clock.sleeps == [10, 10, 10] and result["elapsed"] == 30.0
    assert result["deployment"]["id"] == NEW and result["deployment"]["rollout_state"] == "COMPLETED"
    # The old task's target drains; it neither blocks nor counts as healthy.
    assert [(t["target_id"], t["state"]) for t in result["target_health"]] == [("10.0.1.57", "healthy"), ("10.0.2.191", "draining")]
    assert result["stopped_tasks"] == [] and result["hints"] == []
    assert [e["message"] for e in result["events"]][:2] == [
        "(service plotly) has reached a steady state.",
        f"(service plotly) (deployment {NEW}) deployment completed."]
    assert len(result["events"]) == 3  # last_events
    assert result["msg"].startswith("ECS service plotly (cluster pocstack) is steady after 30 s.")


def test_circuit_breaker_rollback_stops_at_once_and_names_the_crash():
    result, clock = replay("circuit_breaker_rollback")
    assert result["failed"] and result["outcome"] == "rolled_back"
    assert result["polls"] == 2 and clock.sleeps == [10]  # not the 600 s timeout
    assert result["deployment"]["id"] == NEW and result["deployment"]["rollout_state"] == "FAILED"
    assert result["circuit_breaker"] == {
        "enabled": True, "rollback": True, "failed_tasks": 3, "threshold": 3,
        "verdict": "triggered after 3 failed task(s): ECS deployment circuit breaker: tasks failed to start.; rollback on"}
    # Newest first, and the older deployment's stopped task left out.
    assert task_ids(result["stopped_tasks"]) == ["a3c5e7f9b1d34f6a8c0e2b4d6f8a0c2e", "b4d6f8a0c2e44a7b9d1f3c5e7a9b1d3f",
                                                 "c5e7a9b1d3f54b8c0e2a4d6f8b0c2e4a"]
    assert result["pending_tasks"] == []  # the running task belongs to the rollback deployment
    msg = result["msg"]
    assert msg.splitlines()[0] == (
        "ECS service plotly (cluster pocstack) was rolled back by the deployment circuit breaker (after 10 s): "
        f"deployment {NEW} (plotly:8) FAILED: ECS deployment circuit breaker: tasks failed to start.; "
        "ECS rolled back to plotly:7.")
    assert "task a3c5e7f9b1d34f6a8c0e2b4d6f8a0c2e (plotly:8) EssentialContainerExited: Essential container in task exited" in msg
    assert "      container plotly: exit code 1" in msg
    assert "  - task c5e7a9b1d3f54b8c0e2a4d6f8b0c2e4a (plotly:8) EssentialContainerExited: " \
           "the same as task a3c5e7f9b1d34f6a8c0e2b4d6f8a0c2e" in msg
    assert "d6f8b0c2e4a65c9d1f3b5e7a9c1d3f5b" not in msg
    assert "(service plotly) rolling back to deployment ecs-svc/4283920194650133211." in msg
    assert "The container exits by itself" in msg and "log stream" in msg
    assert "Target health (plotly-8050):\n  - 10.0.2.191:8050 healthy" in msg


def load(name):
    with open(os.path.join(FIXTURES, name + ".yml")) as fh:
        return yaml.safe_load(fh)


def test_the_diagnosis_quotes_the_last_log_lines_of_the_newest_task_that_ran():
    recording = load("circuit_breaker_rollback")
    task = "a3c5e7f9b1d34f6a8c0e2b4d6f8a0c2e"
    definition = {"family": "plotly", "containerDefinitions": [
        {"name": "plotly", "image": "x", "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/pocstack/plotly", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}}},
        {"name": "sidecar", "image": "y", "logConfiguration": {"logDriver": "json-file"}}]}
    recording["calls"] += [
        {"method": "describe_task_definition", "response": {"taskDefinition": definition},
         "expected_params": {"taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:8"}},
        {"client": "logs", "method": "get_log_events",
         "response": {"events": [{"timestamp": 1, "message": "Traceback (most recent call last):"},
                                 {"timestamp": 2, "message": "KeyError: 'PLOTLY_PASS'\n"}]},
         "expected_params": {"logGroupName": "/pocstack/plotly", "logStreamName": f"ecs/plotly/{task}",
                             "limit": ecs_rollout.LOG_LINES, "startFromHead": False}},
    ]
    result, _ = replay(recording, with_logs=True)
    assert result["logs"] == [{"task_arn": f"arn:aws:ecs:us-east-1:123456789012:task/pocstack/{task}",
                               "container": "plotly", "log_group": "/pocstack/plotly",
                               "log_stream": f"ecs/plotly/{task}",
                               "lines": ["Traceback (most recent call last):", "KeyError: 'PLOTLY_PASS'"]}]
    assert (f"Last log lines of task {task}, container plotly (/pocstack/plotly ecs/plotly/{task}):\n"
            "    | Traceback (most recent call last):\n    | KeyError: 'PLOTLY_PASS'") in result["msg"]


def test_a_missing_log_stream_is_said_not_fatal():
    recording = load("circuit_breaker_rollback")
    definition = {"family": "plotly", "containerDefinitions": [{"name": "plotly", "image": "x", "logConfiguration": {
        "logDriver": "awslogs", "options": {"awslogs-group": "/g", "awslogs-stream-prefix": "ecs"}}}]}
    recording["calls"] += [
        {"method": "describe_task_definition", "response": {"taskDefinition": definition}},
        {"client": "logs", "method": "get_log_events",
         "error": {"code": "ResourceNotFoundException", "message": "The specified log stream does not exist."}},
    ]
    result, _ = replay(recording, with_logs=True)
    assert result["failed"] and result["logs"][0]["error"] == "the stream does not exist (the container never started)"
    assert "container plotly (/g ecs/plotly/a3c5e7f9b1d34f6a8c0e2b4d6f8a0c2e): could not be read: the stream" in result["msg"]


@pytest.mark.parametrize("options, expected", [
    ({"awslogs-group": "/g", "awslogs-stream-prefix": "ecs"}, [("web", "/g", "ecs/web/abc")]),
    ({"awslogs-group": "/g"}, []),  # no prefix: the stream is named after the container ID
    ({"awslogs-stream-prefix": "ecs"}, []),
])
def test_awslogs_streams(options, expected):
    definition = {"containerDefinitions": [{"name": "web", "logConfiguration": {"logDriver": "awslogs", "options": options}}]}
    assert ecs_rollout.awslogs_streams(definition, "arn:aws:ecs:us-east-1:1:task/c/abc") == expected


def test_image_pull_failure_without_rollback_fails_the_deployment():
    result, _ = replay("image_pull_failure")
    assert result["failed"] and result["outcome"] == "failed"
    assert result["polls"] == 1
    assert result["circuit_breaker"]["rollback"] is False
    assert "rollback off, the service stays on the failed deployment" in result["circuit_breaker"]["verdict"]
    task = result["stopped_tasks"][0]
    assert task["stop_code"] == "TaskFailedToStart"
    assert task["containers"][0]["exit_code"] is None
    assert task["containers"][0]["reason"].startswith("CannotPullContainerError:")
    msg = result["msg"]
    assert "the deployment circuit breaker failed the rollout" in msg
    assert "TaskFailedToStart: CannotPullContainerError: pull image manifest has been retried" in msg
    assert msg.count("CannotPullContainerError") == 1  # three identical failures, told once
    assert "      container plotly: exit code -\n" in msg
    assert "TaskFailedToStart: the same as task 2c4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b" in msg
    assert msg.splitlines()[0].startswith("ECS service plotly (cluster pocstack): the deployment circuit breaker "
                                          "failed the rollout (at the first poll): deployment")
    assert "Image: check that the image exists" in msg and "ecr:BatchGetImage" in msg
    assert "Secrets:" not in msg


def test_secret_access_denied_is_seen_without_an_expected_task_definition():
    result, _ = replay("secret_access_denied")
    assert result["failed"] and result["outcome"] == "rolled_back"
    assert result["deployment"]["rollout_state"] == "FAILED"
    reason = result["stopped_tasks"][0]["stopped_reason"]
    assert reason.startswith("ResourceInitializationError: unable to pull secrets or registry auth")
    msg = result["msg"]
    assert "is not authorized to perform: ssm:GetParameters on resource: " \
           "arn:aws:ssm:us-east-1:123456789012:parameter/pocstack/plotly/PLOTLY_PASS" in msg
    assert "Secrets: the execution role must be allowed ssm:GetParameters" in msg
    assert "Network:" not in msg and "Image:" not in msg


def test_health_check_failure_times_out_with_target_reasons():
    result, clock = replay("health_check_failure")
    assert result["failed"] and result["outcome"] == "timeout"
    assert result["polls"] == 4 and sum(clock.sleeps) == 60
    assert result["circuit_breaker"]["verdict"] == "not triggered: 2 failed task(s) so far, it acts at 3; rollback on"
    assert [(t["state"], t["reason"], t["description"]) for t in result["target_health"]] == [
        ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [401]"),
        ("healthy", None, None)]
    assert task_ids(result["stopped_tasks"]) == ["e7a9c1d3f5b74d0e2a4c6e8b0d2f4a6c", "f8b0d2f4a6c85e1f3b5d7f9c1e3a5b7d"]
    assert result["pending_tasks"] == []  # the new task runs; its target is what fails
    msg = result["msg"]
    assert msg.splitlines()[0] == (
        "ECS service plotly (cluster pocstack) did not reach a steady state within 60 s (4 polls). "
        "Still waiting for: the 1 older deployment(s) to drain; rollout state COMPLETED (now IN_PROGRESS); "
        "1 healthy target(s) in plotly-8050 (1 healthy; unhealthy: Target.ResponseCodeMismatch).")
    assert f"ServiceSchedulerInitiated: Task failed ELB health checks in (target-group {TG})" in msg
    assert "  - 10.0.3.44:8050 unhealthy Target.ResponseCodeMismatch (Health checks failed with these codes: [401])" in msg
    assert "/health must answer 200 without login; 401 means it sits behind basic auth" in msg
    assert "Health checks: the target group's health check path (/health)" in msg


def test_timeout_with_a_task_pending_forever():
    result, clock = replay("timeout_pending")
    assert result["failed"] and result["outcome"] == "timeout"
    assert result["polls"] == 4 and clock.sleeps == [10, 10, 10] and result["elapsed"] == 30.0
    assert result["stopped_tasks"] == []
    assert [(t["last_status"], t["pull_started_at"], t["pull_stopped_at"]) for t in result["pending_tasks"]] == [
        ("PENDING", "2026-05-04T10:02:31.007000+00:00", None)]
    msg = result["msg"]
    assert "did not reach a steady state within 30 s (4 polls). Still waiting for: 0 of 1 task(s) of plotly:8 " \
           "running, 1 pending; rollout state COMPLETED (now IN_PROGRESS); 1 healthy target(s) in plotly-8050 (none registered)." in msg
    assert f"Stopped tasks of deployment {NEW}: none." in msg
    assert "task 0a1b2c3d4e5f40718293a4b5c6d7e8f9 (plotly:8) PENDING, image pull started 2026-05-04T10:02:31.007000+00:00" in msg
    assert "Target health (plotly-8050): no registered targets." in msg
    assert "Tasks stay pending and none has stopped" in msg


@pytest.mark.parametrize("timeout, poll_interval, sleeps", [(25, 10, [10, 10, 5]), (3, 10, [3])])
def test_the_last_sleep_ends_at_the_deadline(timeout, poll_interval, sleeps):
    """The recording holds 4 polls; a shorter wait must leave the extra ones unasked."""
    assert ecs_rollout.validate({"timeout": timeout, "poll_interval": poll_interval, "last_events": 5}) == []
    with open(os.path.join(FIXTURES, "timeout_pending.yml")) as fh:
        recording = yaml.safe_load(fh)
    recording["calls"][0]["repeat"] = len(sleeps) + 1
    result, clock = replay(recording, timeout=timeout, poll_interval=poll_interval)
    assert clock.sleeps == sleeps and result["elapsed"] == timeout and result["outcome"] == "timeout"


@pytest.mark.parametrize("name, expected", [
    ("service_missing", "Service plotly does not exist in cluster pocstack."),
    ("service_inactive", "Service plotly in cluster pocstack is INACTIVE (deleted or being deleted)."),
    ("cluster_missing", "Cluster pocstack does not exist."),
])
def test_service_not_found_fails_at_once(name, expected):
    result, clock = replay(name)
    assert result["failed"] and result["outcome"] == "not_found"
    assert result["msg"] == expected and result["polls"] == 1 and clock.sleeps == []


def test_zero_desired_count_succeeds_without_reading_targets():
    result, clock = replay("zero_desired")
    assert not result["failed"] and result["outcome"] == "completed"
    assert result["polls"] == 1 and clock.sleeps == []
    assert result["target_group_arns"] == [TG] and result["target_health"] == []


def test_given_target_groups_replace_the_services():
    other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-blue/0a9b8c7d6e5f4a3b"
    result, _ = replay("zero_desired", target_group_arns=[other])
    assert result["target_group_arns"] == [other]
    result, _ = replay("timeout_pending", target_group_arns=[other])
    assert result["target_group_arns"] == [other]
    assert "Target health (plotly-blue): no registered targets." in result["msg"]
    assert "plotly-8050" not in result["msg"]


# ---------------------------------------------------------------- pure parts


def service(deployments, desired=1, running=1, breaker=None):
    return {"desiredCount": desired, "runningCount": running, "deployments": deployments,
            "deploymentConfiguration": {"deploymentCircuitBreaker": breaker or {"enable": True, "rollback": True}}}


def deployment(td="plotly:8", status="PRIMARY", state="COMPLETED", running=1, desired=1, reason=None, id_=NEW):
    d = {"id": id_, "status": status, "taskDefinition": f"arn:aws:ecs:us-east-1:123456789012:task-definition/{td}",
         "desiredCount": desired, "runningCount": running, "pendingCount": desired - running, "rolloutState": state}
    if reason:
        d["rolloutStateReason"] = reason
    return d


def test_superseded_when_primary_runs_another_task_definition_without_a_failure():
    outcome, reasons = ecs_rollout.assess(service([deployment(td="plotly:9")]), "plotly:8")
    assert outcome == "superseded"
    assert reasons == [f"the PRIMARY deployment {NEW} runs plotly:9, not plotly:8: "
                       "the service was rolled back or updated by someone else"]


def test_a_failed_deployment_of_an_earlier_run_does_not_fail_this_one():
    old_failure = deployment(td="plotly:7", status="ACTIVE", state="FAILED", id_="ecs-svc/1", running=0, desired=0)
    outcome, reasons = ecs_rollout.assess(service([deployment(state="IN_PROGRESS", running=0), old_failure], running=0),
                                          "plotly:8")
    assert outcome == "waiting"
    assert reasons[0] == "0 of 1 task(s) of plotly:8 running, 1 pending"


@pytest.mark.parametrize("state, outcome", [("COMPLETED", "ecs_steady"), (None, "ecs_steady"), ("IN_PROGRESS", "waiting")])
def test_rollout_state_counts_where_reported(state, outcome):
    d = deployment(state=state)
    if state is None:
        del d["rolloutState"]
    assert ecs_rollout.assess(service([d]))[0] == outcome


@pytest.mark.parametrize("states, desired, waiting", [
    (["healthy"], 1, False),
    (["healthy", "draining"], 1, False),
    (["draining"], 1, True),
    (["healthy", "initial"], 1, True),
    (["healthy"], 2, True),
    ([], 1, True),
    (["healthy", "healthy"], 2, False),
    (["unused"], 1, True),
])
def test_targets_must_all_be_healthy_and_enough(states, desired, waiting):
    health = {TG: [{"Target": {"Id": f"10.0.0.{i}", "Port": 8050}, "TargetHealth": {"State": s, "Reason": "X"}}
                   for i, s in enumerate(states)]}
    assert bool(ecs_rollout.targets_waiting(health, desired)) is waiting


@pytest.mark.parametrize("breaker, desired, threshold", [
    ({}, 1, 3), ({}, 6, 3), ({}, 7, 4), ({}, 10, 5), ({}, 1000, 200),
    ({"thresholdConfiguration": {"type": "COUNT", "value": 1}}, 10, 1),
    ({"thresholdConfiguration": {"type": "UNBOUNDED_PERCENT", "value": 50}}, 1, 1),
    ({"thresholdConfiguration": {"type": "BOUNDED_PERCENT", "value": 100}}, 10, 10),
])
def test_failure_threshold(breaker, desired, threshold):
    assert ecs_rollout.failure_threshold(breaker, desired) == threshold


def test_circuit_breaker_disabled_says_only_the_timeout_ends_it():
    verdict = ecs_rollout.circuit_breaker(service([deployment()], breaker={"enable": False, "rollback": False}), deployment())
    assert verdict["enabled"] is False and "only the timeout ends the wait" in verdict["verdict"]


ASM = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
       "unable to retrieve secret from asm: service call has been retried 1 time(s): ")


@pytest.mark.parametrize("reason, container_reason, stop_code, keys", [
    ("CannotPullContainerError: pull image manifest has been retried 5 time(s): not found", None, "TaskFailedToStart", ["image"]),
    ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
     "unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: User: x "
     "is not authorized to perform: ecr:GetAuthorizationToken", None, "TaskFailedToStart", ["image"]),
    ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
     "unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException: "
     "is not authorized to perform: ssm:GetParameters", None, "TaskFailedToStart", ["secrets_permission"]),
    ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
     "unable to retrieve secrets from ssm: service call has been retried 1 time(s): InvalidParameters: "
     "{ /pocstack/plotly/PLOTLY_PASS }", None, "TaskFailedToStart", ["secret_missing"]),
    ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
     "unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed "
     "caused by: Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp 52.46.1.1:443: i/o timeout",
     None, "TaskFailedToStart", ["network"]),
    (ASM + "failed to fetch secret arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf from secrets manager: "
     "AccessDeniedException: User: x is not authorized to perform: secretsmanager:GetSecretValue", None,
     "TaskFailedToStart", ["secrets_permission"]),
    (ASM + "failed to fetch secret arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf from secrets manager: "
     "AccessDeniedException: Access to KMS is not allowed", None, "TaskFailedToStart", ["secrets_permission"]),
    (ASM + "failed to fetch secret arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf from secrets manager: "
     "ResourceNotFoundException: Secrets Manager can't find the specified secret.", None, "TaskFailedToStart",
     ["secret_missing"]),
    (ASM + "retrieved secret from Secrets Manager did not contain json key password", None, "TaskFailedToStart",
     ["secret_json_key"]),
    (ASM.replace("1 time(s)", "5 time(s)") + "failed to fetch secret arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf "
     "from secrets manager: RequestCanceled: request context canceled caused by: context deadline exceeded. Please "
     "check your task network configuration.", None, "TaskFailedToStart", ["network"]),
    ("Task failed ELB health checks in (target-group arn:...)", None, "ServiceSchedulerInitiated", ["health"]),
    ("Task failed container health checks", None, "ServiceSchedulerInitiated", ["container_health"]),
    ("Essential container in task exited", None, "EssentialContainerExited", ["exited"]),
    ("Essential container in task exited", "CannotStartContainerError: Error response from daemon",
     "EssentialContainerExited", ["start"]),
    ("Scaling activity initiated by (deployment ecs-svc/1)", None, "ServiceSchedulerInitiated", []),
])
def test_classify_stopped_task(reason, container_reason, stop_code, keys):
    task = {"stopped_reason": reason, "stop_code": stop_code, "containers": [{"reason": container_reason}]}
    assert ecs_rollout.classify_task(task) == keys


def test_an_exec_format_error_in_the_log_points_at_the_cpu_architecture():
    exited = {"stopped_reason": "Essential container in task exited", "stop_code": "EssentialContainerExited",
              "containers": [{"reason": None, "exit_code": 1}]}
    result = {"outcome": "failed", "stopped_tasks": [exited],
              "logs": [{"container": "app", "lines": ["exec /usr/local/bin/python3: exec format error"]}]}
    assert ecs_rollout.hints(result) == [ecs_rollout.HINTS["architecture"]]
    result["logs"][0]["lines"] = ["Traceback (most recent call last):"]
    assert ecs_rollout.hints(result) == [ecs_rollout.HINTS["exited"]]


def test_hints_fall_back_to_the_general_list():
    assert ecs_rollout.hints({"outcome": "timeout", "deployment": {"running_count": 1, "pending_count": 0}}) == [
        ecs_rollout.HINTS["generic"]]


@pytest.mark.parametrize("params, message", [
    ({"timeout": 0}, "timeout=0 is out of range; allowed: 1-86400"),
    ({"timeout": 86401}, "timeout=86401 is out of range; allowed: 1-86400"),
    ({"poll_interval": 0}, "poll_interval=0 is out of range; allowed: 1-300"),
    ({"last_events": -1}, "last_events=-1 is out of range; allowed: 0-100"),
    ({"task_definition": "plotly"}, "task_definition='plotly' is neither a task definition ARN nor family:revision"),
    ({"task_definition": "arn:aws:ecs:us-east-1:123456789012:service/pocstack/plotly"}, "is neither a task definition ARN"),
    ({"target_group_arns": ["plotly-8050"]}, "target_group_arns: 'plotly-8050' is not a target group ARN"),
])
def test_validation_names_the_option_and_what_is_allowed(params, message):
    base = {"timeout": 600, "poll_interval": 10, "last_events": 5, "task_definition": None, "target_group_arns": None}
    errors = ecs_rollout.validate({**base, **params})
    assert len(errors) == 1 and message in errors[0]


@pytest.mark.parametrize("value", ["plotly:8", "arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:8",
                                   "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task-definition/my_app-2:120"])
def test_validation_accepts_task_definitions(value):
    base = {"timeout": 600, "poll_interval": 10, "last_events": 5, "task_definition": value, "target_group_arns": [TG]}
    assert ecs_rollout.validate(base) == []


def test_summaries_turn_times_into_iso_strings():
    when = datetime.datetime(2026, 5, 4, 10, 2, 11, tzinfo=datetime.timezone.utc)
    assert ecs_rollout.summarise_deployment({"id": "x", "createdAt": when})["created_at"] == "2026-05-04T10:02:11+00:00"
