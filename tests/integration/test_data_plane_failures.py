"""Deploys that cannot work on AWS fail here too, in AWS's words, and the run
says why: five broken services deployed in one site.yml run (in parallel, as
a user deploys several), each with one mistake a user makes, on the
emulator's data plane.

- noecr: a permissions boundary without ECR: the execution role may not get
  the registry token (ResourceInitializationError ... AccessDeniedException);
- wrongrepo: the pull grant names another repository than the image's
  (CannotPullContainerError ... 403 Forbidden);
- nossm: no statement for the secrets (AccessDeniedException on
  ssm:GetParameters);
- noegress: tasks in the public subnets without a public IP: no path to the
  image layers in S3 (the interface endpoints' private DNS serves the whole
  VPC, the S3 gateway only the private route table);
- unhealthy: an app whose /health answers 500: the targets turn unhealthy
  with Target.ResponseCodeMismatch, and after the grace period ECS replaces
  the task.
"""
import json
import os

import pytest

from data_plane import clients
from data_plane import data_plane_emulator
from data_plane import eventually
from data_plane import service
from data_plane import tasks
from harness import GOOD_SECRETS
from harness import ROOT
from harness import make_inventory
from harness import results
from harness import run
from harness import task_name

WAIT = "service | Wait for the rollout (tasks running, targets healthy), or say why not"
BOUNDARY = "arn:aws:iam::123456789012:policy/pocstack-test-no-ecr"
STATUS_APP = os.path.join(ROOT, "tests", "integration", "apps", "status")

SERVICES = [
    ("noecr", {"fargate_service_permissions_boundary": BOUNDARY}),
    ("wrongrepo", {"fargate_service_ecr_repository": "pocstack/someone-else"}),
    ("nossm", {"fargate_service_secret_arns": []}),
    ("noegress", {"fargate_service_subnet_ids": "{{ pocstack_subnet_ids }}", "poc_assign_public_ip": False}),
    ("unhealthy", {"poc_image": {"source": "build", "repository": "pocstack/unhealthy", "context": STATUS_APP},
                   "poc_environment": {"HEALTH_STATUS": "500"},
                   "fargate_service_health_check_grace_period": 45, "fargate_service_wait_timeout": 30}),
]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("data-plane-failures")
    emulator = data_plane_emulator(tmp / "emulator")
    aws = clients(emulator.port)
    aws["iam"].create_policy(PolicyName="pocstack-test-no-ecr", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "ecr:*", "Resource": "*"}]}))
    services = [(name, dict(changes, poc_secrets=GOOD_SECRETS)) for name, changes in SERVICES]
    inventory = make_inventory(tmp, services)
    rc, out = run(inventory, emulator.port)
    yield {"rc": rc, "out": out, "aws": aws, "wait": wait_results(out)}
    emulator.stop()


def wait_results(out):
    """{service: result of its rollout wait}."""
    found = {}
    for play in results(out)["plays"]:
        for task in play["tasks"]:
            if task_name(task) == WAIT:
                found.update(task["hosts"])
    return found


def stopped_reason(aws, name):
    stopped = tasks(aws, name, desired_status="STOPPED")
    assert stopped, f"{name}: no stopped task"
    return stopped[0]["stoppedReason"]


def test_the_run_fails_for_each_broken_service(outcome):
    assert outcome["rc"] != 0
    assert sorted(outcome["wait"]) == sorted(name for name, _ in SERVICES)
    assert all(result.get("failed") for result in outcome["wait"].values()), \
        {name: result.get("outcome") for name, result in outcome["wait"].items()}


def test_no_ecr_permission_stops_the_task_with_access_denied(outcome):
    result = outcome["wait"]["noecr"]
    assert result["outcome"] == "failed"  # the circuit breaker, with nothing to roll back to
    reason = stopped_reason(outcome["aws"], "noecr")
    assert reason.startswith("ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                             "retrieval failed: unable to retrieve ecr registry auth")
    assert ("AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/pocstack-noecr-exec/" in reason
            and "is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no permissions "
                "boundary allows the ecr:GetAuthorizationToken action" in reason)
    assert reason.split("\n")[0] in result["msg"]
    assert "Image: check that the image exists" in result["msg"]


def test_a_pull_grant_on_another_repository_cannot_pull(outcome):
    reason = stopped_reason(outcome["aws"], "wrongrepo")
    assert reason.startswith("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
                             "resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/pocstack/wrongrepo@sha256:")
    assert reason.endswith(": 403 Forbidden")
    assert reason in outcome["wait"]["wrongrepo"]["msg"]


def test_no_secrets_statement_stops_the_task_with_access_denied(outcome):
    reason = stopped_reason(outcome["aws"], "nossm")
    assert "unable to retrieve secrets from ssm" in reason
    assert "is not authorized to perform: ssm:GetParameters on resource: " \
           "arn:aws:ssm:us-east-1:123456789012:parameter/pocstack/nossm/PLOTLY_" in reason
    assert "Secrets: the execution role must be allowed ssm:GetParameters" in outcome["wait"]["nossm"]["msg"]


def test_no_path_out_of_the_subnet_stops_the_task_at_the_pull(outcome):
    reason = stopped_reason(outcome["aws"], "noegress")
    assert reason.startswith("CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
                             "resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/pocstack/noegress@sha256:")
    assert "prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com" in reason and "i/o timeout" in reason
    subnets = service(outcome["aws"], "noegress")["networkConfiguration"]["awsvpcConfiguration"]
    assert subnets["assignPublicIp"] == "DISABLED"


def test_an_app_whose_health_answers_500_leaves_its_target_unhealthy_then_is_replaced(outcome):
    aws = outcome["aws"]
    result = outcome["wait"]["unhealthy"]
    assert result["outcome"] == "timeout"
    assert [(t["state"], t["reason"], t["description"]) for t in result["target_health"]] == [
        ("unhealthy", "Target.ResponseCodeMismatch", "Health checks failed with these codes: [500]")]
    assert "Health check answered the wrong HTTP code" in result["msg"]
    # After the grace period ECS stops the task for it, and starts another.
    first = result["pending_tasks"] or []
    stopped = eventually(lambda: tasks(aws, "unhealthy", desired_status="STOPPED"), timeout=120,
                         what="the unhealthy task stopped")
    group = service(aws, "unhealthy")["loadBalancers"][0]["targetGroupArn"]
    assert stopped[0]["stoppedReason"] == f"Task failed ELB health checks in (target-group {group})"
    assert stopped[0]["stopCode"] == "ServiceSchedulerInitiated"
    assert eventually(lambda: tasks(aws, "unhealthy"), what="a replacement task")
    assert not first  # the task was running (its container answering) when the wait ended
