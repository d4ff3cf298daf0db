"""ecr_image_push and ecr_repository_tags against recorded ECR responses
(botocore Stubber) and a stand-in Docker engine: when they push or write,
and when they must not."""
import base64
import datetime
import json

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import ANY
from botocore.stub import Stubber

from ansible_collections.pocstack.aws.plugins.modules import ecr_image_push
from ansible_collections.pocstack.aws.plugins.modules import ecr_repository_tags
from fake_module import Exited
from fake_module import FakeModule

REPO = "pocstack/plotly"
ARN = f"arn:aws:ecr:us-east-1:123456789012:repository/{REPO}"
URI = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{REPO}"
LOCAL_ID = "sha256:" + "1" * 64
OTHER_ID = "sha256:" + "2" * 64
DIGEST = "sha256:" + "d" * 64
NEW_DIGEST = "sha256:" + "e" * 64


class FakeEngine:
    host = "unix:///fake.sock"

    def __init__(self, image_id=LOCAL_ID):
        self.image_id, self.calls = image_id, []

    def image(self, name):
        self.calls.append(("inspect", name))
        return {"Id": self.image_id} if self.image_id else None

    def tag(self, image, repository, tag):
        self.calls.append(("tag", image, f"{repository}:{tag}"))

    def untag(self, name):
        self.calls.append(("untag", name))

    def push(self, repository, tag, username, password, server):
        self.calls.append(("push", f"{repository}:{tag}", username, password, server))
        return NEW_DIGEST


@pytest.fixture
def aws():
    client = boto3.client("ecr", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff()), stubber
        stubber.assert_no_pending_responses()


def repository(mutability="MUTABLE"):
    return {"repositories": [{"repositoryArn": ARN, "repositoryName": REPO, "repositoryUri": URI,
                              "registryId": "123456789012", "imageTagMutability": mutability}]}


def ecr_has(stubber, mutability="MUTABLE", tagged=None):
    """DescribeRepositories, then DescribeImages of tag v1 (and its manifest when tagged)."""
    stubber.add_response("describe_repositories", repository(mutability), {"repositoryNames": [REPO]})
    if tagged is None:
        stubber.add_client_error("describe_images", "ImageNotFoundException", http_status_code=400)
        return
    stubber.add_response("describe_images", {"imageDetails": [{"imageDigest": DIGEST, "imageTags": ["v1"]}]},
                         {"repositoryName": REPO, "imageIds": [{"imageTag": "v1"}]})
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": tagged}, "layers": []})
    stubber.add_response("batch_get_image", {"images": [{"imageId": {"imageDigest": DIGEST}, "imageManifest": manifest}]},
                         {"repositoryName": REPO, "imageIds": [{"imageDigest": DIGEST}], "acceptedMediaTypes": ANY})


def login(stubber):
    token = base64.b64encode(b"AWS:the-password").decode()
    stubber.add_response("get_authorization_token", {"authorizationData": [{
        "authorizationToken": token, "proxyEndpoint": "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "expiresAt": datetime.datetime(2026, 11, 23, 20, 0, tzinfo=datetime.timezone.utc)}]}, {})


def push(aws, engine, check_mode=False):
    module = FakeModule({"image": "pocstack/plotly:v1", "repository_name": REPO, "tag": "v1",
                         "registry_id": None, "docker_host": None}, check_mode=check_mode)
    try:
        return ecr_image_push.push(aws[0], engine, module)
    except Exited:
        return module.result


def test_pushes_a_new_tag_with_the_token_to_the_proxy_endpoint(aws):
    ecr_has(aws[1])
    login(aws[1])
    engine = FakeEngine()
    result = push(aws, engine)
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert result == {"changed": True, "image_id": LOCAL_ID, "repository_uri": URI, "image_digest": NEW_DIGEST,
                      "pushed_to": f"{registry}/{REPO}:v1"}
    assert engine.calls == [
        ("inspect", "pocstack/plotly:v1"),
        ("tag", LOCAL_ID, f"{registry}/{REPO}:v1"),
        ("push", f"{registry}/{REPO}:v1", "AWS", "the-password", f"https://{registry}"),
        ("untag", f"{registry}/{REPO}:v1"),
    ]
    assert "the-password" not in json.dumps(result)


def test_same_image_under_the_tag_is_no_push(aws):
    ecr_has(aws[1], tagged=LOCAL_ID)  # no GetAuthorizationToken queued: asking for one fails the test
    engine = FakeEngine()
    result = push(aws, engine)
    assert result["changed"] is False and result["image_digest"] == DIGEST
    assert [c[0] for c in engine.calls] == ["inspect"]


def test_moved_tag_is_pushed_again(aws):
    ecr_has(aws[1], tagged=OTHER_ID)
    login(aws[1])
    result = push(aws, FakeEngine())
    assert result["changed"] is True and result["image_digest"] == NEW_DIGEST


def test_immutable_tag_naming_another_image_is_a_clear_error(aws):
    ecr_has(aws[1], mutability="IMMUTABLE", tagged=OTHER_ID)
    engine = FakeEngine()
    result = push(aws, engine)
    assert result["failed"] and "tag='v1' already names another image" in result["msg"]
    assert "immutable" in result["msg"]
    assert [c[0] for c in engine.calls] == ["inspect"]


@pytest.mark.parametrize("tagged", [None, OTHER_ID], ids=["new-tag", "moved-tag"])
def test_check_mode_reports_and_pushes_nothing(aws, tagged):
    ecr_has(aws[1], tagged=tagged)
    engine = FakeEngine()
    result = push(aws, engine, check_mode=True)
    assert result["changed"] is True
    assert [c[0] for c in engine.calls] == ["inspect"]


def test_missing_repository_and_missing_image_are_clear_errors(aws):
    aws[1].add_client_error("describe_repositories", "RepositoryNotFoundException", http_status_code=400)
    result = push(aws, FakeEngine())
    assert result["failed"] and "repository_name='pocstack/plotly': no such ECR repository" in result["msg"]
    aws[1].add_response("describe_repositories", repository(), {"repositoryNames": [REPO]})
    result = push(aws, FakeEngine(image_id=None))
    assert result["failed"] and "image='pocstack/plotly:v1' is not an image of the Docker engine" in result["msg"]


# --- ecr_repository_tags ----------------------------------------------------

def tag_run(aws, tags, purge=False, check_mode=False, before=(), writes=()):
    """ensure_tags with the repository's tags `before`; `writes` are the only writes allowed, in order."""
    aws[1].add_response("describe_repositories", repository(), {"repositoryNames": [REPO]})
    aws[1].add_response("list_tags_for_resource", {"tags": [{"Key": k, "Value": v} for k, v in before]},
                        {"resourceArn": ARN})
    for operation, params in writes:
        aws[1].add_response(operation, {}, params)
    module = FakeModule({"repository_name": REPO, "registry_id": None, "tags": tags, "purge_tags": purge},
                        check_mode=check_mode, diff=True)
    return ecr_repository_tags.ensure_tags(aws[0], module)


def test_tags_added_without_touching_others(aws):
    result = tag_run(aws, {"pocstack:service": "plotly"}, before=[("owner", "me")], writes=[
        ("tag_resource", {"resourceArn": ARN, "tags": [{"Key": "pocstack:service", "Value": "plotly"}]})])
    assert result["changed"] and result["tags"] == {"owner": "me", "pocstack:service": "plotly"}
    assert result["diff"] == {"before": {"tags": {"owner": "me"}},
                              "after": {"tags": {"owner": "me", "pocstack:service": "plotly"}}}


def test_same_tags_no_write(aws):
    result = tag_run(aws, {"a": "1"}, before=[("a", "1"), ("b", "2")])
    assert result["changed"] is False


def test_purge_removes_the_rest(aws):
    result = tag_run(aws, {"a": "1"}, purge=True, before=[("a", "1"), ("b", "2")],
                     writes=[("untag_resource", {"resourceArn": ARN, "tagKeys": ["b"]})])
    assert result["changed"] and result["tags"] == {"a": "1"}


def test_check_mode_reports_the_change_without_writing(aws):
    result = tag_run(aws, {"a": "2"}, check_mode=True, before=[("a", "1")])
    assert result["changed"] and result["tags"] == {"a": "2"}
