"""Fargate Spot shares and the CPU architecture (issue 22), deployed through
site.yml on the emulator's data plane and observed on the tasks ECS runs:
which capacity provider each task is on, the app answering; and what AWS
would refuse or fail to run (Spot for ARM64, an ARM64 task of an image without
an arm64 variant) stopped before the service changes."""
import base64
import hashlib
import json
import urllib.request

import pytest

from data_plane import clients
from data_plane import containers_of
from data_plane import data_plane_emulator
from data_plane import eventually
from data_plane import http_status
from data_plane import published
from data_plane import service
from data_plane import tasks
from harness import failure_message
from harness import make_inventory
from harness import run
from harness import set_service

SECRETS = [{"name": "PLOTLY_USER", "value": "tester"}, {"name": "PLOTLY_PASS", "value": "cap-Secret-1"}]
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX = "application/vnd.oci.image.index.v1+json"
SPOT_SHARE = [{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
              {"capacity_provider": "FARGATE_SPOT", "weight": 3}]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("capacity")
    emulator = data_plane_emulator(tmp / "emulator")
    inventory = make_inventory(tmp, [
        ("spotty", {"poc_secrets": SECRETS, "poc_desired_count": 5, "poc_capacity_provider_strategy": SPOT_SHARE}),
        ("graviton", {"poc_secrets": SECRETS, "poc_cpu_architecture": "ARM64",
                      "poc_image": {"source": "existing", "repository": "pocstack/graviton", "tag": "multi"}}),
    ])
    yield {"emulator": emulator, "inventory": inventory, "aws": clients(emulator.port, names=("ecs", "ecr")),
           "port": emulator.port}
    emulator.stop()


def test_a_spot_share_runs_the_base_on_fargate_and_the_rest_by_weight(stack, measured):
    rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=spotty"])
    assert rc == 0, failure_message(out)
    measured(f"deploy: {json.loads(out)['stats']['spotty']}")
    aws = stack["aws"]
    spotty = service(aws, "spotty")
    assert not spotty.get("launchType")
    assert sorted((s["capacityProvider"], s["weight"], s["base"]) for s in spotty["capacityProviderStrategy"]) == [
        ("FARGATE", 1, 1), ("FARGATE_SPOT", 3, 0)]
    running = eventually(lambda: (lambda found: found if len(found) == 5 else None)(tasks(aws, "spotty")),
                         timeout=180, what="five running spotty tasks")
    # the base's one on FARGATE, the other four shared 1:3
    assert sorted(t["capacityProviderName"] for t in running) == [
        "FARGATE", "FARGATE", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE_SPOT"]
    assert all({"name": "ecs.cpu-architecture", "value": "x86_64"} in
               [{k: a[k] for k in ("name", "value")} for a in t.get("attributes", [])] for t in running)
    # each one a container that serves
    containers = containers_of(stack["port"])
    assert sorted(containers) == sorted(t["taskArn"] for t in running)
    assert all(http_status(published(c) + "/health") == 200 for c in containers.values())
    # X86_64 states no platform in the task definition (AWS's default), as before the option existed
    definition = aws["ecs"].describe_task_definition(taskDefinition="spotty")["taskDefinition"]
    assert not definition.get("runtimePlatform")

    rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=spotty"])
    assert rc == 0 and json.loads(out)["stats"]["spotty"]["changed"] == 0, failure_message(out)


def test_fargate_spot_for_arm64_is_refused_before_any_write(stack):
    set_service(stack["inventory"], "spotty", {"poc_cpu_architecture": "ARM64"})
    stack["emulator"].calls(reset=True)
    rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=spotty"], json_output=False)
    set_service(stack["inventory"], "spotty", {"poc_cpu_architecture": None})
    assert rc != 0
    assert ("poc_capacity_provider_strategy: FARGATE_SPOT does not run ARM64 tasks (poc_cpu_architecture=ARM64)"
            in out), out[-3000:]
    assert stack["emulator"].writes() == {}


def test_an_arm64_task_of_an_image_whose_index_lists_no_arm64_is_refused(stack):
    """An image index that names linux/amd64 only (as `docker buildx --platform
    linux/amd64` pushes one): an ARM64 task of it could not run on AWS."""
    aws = stack["aws"]
    repository = "pocstack/spotty"
    [detail] = aws["ecr"].describe_images(repositoryName=repository, filter={"tagStatus": "TAGGED"})["imageDetails"][:1]
    [image] = aws["ecr"].batch_get_image(repositoryName=repository, imageIds=[{"imageDigest": detail["imageDigest"]}],
                                         acceptedMediaTypes=["application/vnd.docker.distribution.manifest.v2+json",
                                                             "application/vnd.oci.image.manifest.v1+json"])["images"]
    body = image["imageManifest"]
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": json.loads(body).get("mediaType", "application/vnd.oci.image.manifest.v1+json"),
                       "digest": detail["imageDigest"], "size": len(body.encode()),
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    })
    aws["ecr"].put_image(repositoryName=repository, imageManifest=index, imageTag="amd64-only",
                         imageManifestMediaType="application/vnd.oci.image.index.v1+json")
    before = service(aws, "spotty")["taskDefinition"]
    set_service(stack["inventory"], "spotty", {
        "poc_image": {"source": "existing", "repository": repository, "tag": "amd64-only"},
        "poc_cpu_architecture": "ARM64", "poc_capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1}]})
    rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=spotty"], json_output=False)
    assert rc != 0
    assert ("fargate_service_cpu_architecture=ARM64 (poc_cpu_architecture): the image" in out
            and "is made for amd64 only; build or mirror a linux/arm64 variant" in out), out[-3000:]
    service_now = service(aws, "spotty")
    assert service_now["taskDefinition"] == before  # no new revision deployed
    assert sorted(s["capacityProvider"] for s in service_now["capacityProviderStrategy"]) == ["FARGATE", "FARGATE_SPOT"]


def _registry(port, method, path, body=b"", content_type=None):
    """One call to the registry behind the emulator's ECR, as `docker` makes it."""
    token = base64.b64encode(b"AWS:123456789012-auth-token").decode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body if method != "GET" else None,
                                     method=method, headers={"Authorization": f"Basic {token}",
                                                             **({"Content-Type": content_type} if content_type else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.headers, response.read()


def test_an_arm64_service_of_a_multi_platform_image_runs_with_its_platform_recorded(stack, measured):
    """An ARM64 task of an image index that lists linux/arm64 (as a multi-platform
    build pushes one). This machine runs only amd64 code: the index names the
    same amd64 image for both platforms, so that the engine, which pulls the
    host's variant, can run it; what is checked is the platform ECS records and
    that the service deploys and serves, not arm64 code."""
    aws, port = stack["aws"], stack["port"]
    [detail] = aws["ecr"].describe_images(repositoryName="pocstack/spotty",
                                          filter={"tagStatus": "TAGGED"})["imageDetails"][:1]
    [image] = aws["ecr"].batch_get_image(repositoryName="pocstack/spotty", imageIds=[{"imageDigest": detail["imageDigest"]}],
                                         acceptedMediaTypes=[MANIFEST])["images"]
    body = image["imageManifest"].encode()
    aws["ecr"].create_repository(repositoryName="pocstack/graviton")
    manifest = json.loads(body)
    for blob in [manifest["config"]] + manifest["layers"]:  # mounted from spotty's repository, as docker does
        status, _, _ = _registry(port, "POST", f"/v2/pocstack/graviton/blobs/uploads/?mount={blob['digest']}"
                                               "&from=pocstack/spotty")
        assert status == 201
    _registry(port, "PUT", f"/v2/pocstack/graviton/manifests/{detail['imageDigest']}", body, MANIFEST)
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [
        {"mediaType": MANIFEST, "digest": detail["imageDigest"], "size": len(body),
         "platform": {"architecture": architecture, "os": "linux"}} for architecture in ("amd64", "arm64")]}).encode()
    _registry(port, "PUT", "/v2/pocstack/graviton/manifests/multi", index, INDEX)

    rc, out = run(stack["inventory"], port, extra=["-e", "service=graviton"])
    assert rc == 0, failure_message(out)
    measured(f"deploy: {json.loads(out)['stats']['graviton']}")
    [task] = eventually(lambda: tasks(aws, "graviton") or None, timeout=120, what="a running graviton task")
    definition = aws["ecs"].describe_task_definition(taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    assert definition["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert definition["containerDefinitions"][0]["image"].endswith("@sha256:" + hashlib.sha256(index).hexdigest())
    assert {"name": "ecs.cpu-architecture", "value": "arm64"} in [
        {k: a[k] for k in ("name", "value")} for a in task.get("attributes", [])]
    assert service(aws, "graviton")["launchType"] == "FARGATE"
    container = containers_of(port)[task["taskArn"]]
    assert http_status(published(container) + "/health") == 200


def test_an_arm64_task_of_an_image_made_for_amd64_fails_as_on_aws(stack):
    """What the role cannot see before it deploys (a single image's manifest
    does not say its platform), or is told to deploy anyway: on AWS an ARM64
    task of an amd64 image stops with "Essential container in task exited",
    exit code 1 and "exec format error" in its log; of an index without an arm64
    variant, it fails its pull. The emulator's tasks of the graviton service's
    definition with such images, started by ECS's API alone, do the same."""
    aws, port = stack["aws"], stack["port"]
    logs = clients(port, names=("logs",))["logs"]
    graviton = service(aws, "graviton")
    definition = aws["ecs"].describe_task_definition(taskDefinition=graviton["taskDefinition"])["taskDefinition"]
    [detail] = [d for d in aws["ecr"].describe_images(repositoryName="pocstack/graviton")["imageDetails"]
                if d.get("imageManifestMediaType") == MANIFEST]
    [image] = aws["ecr"].batch_get_image(repositoryName="pocstack/graviton", acceptedMediaTypes=[MANIFEST],
                                         imageIds=[{"imageDigest": detail["imageDigest"]}])["images"]
    body = image["imageManifest"].encode()
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [
        {"mediaType": MANIFEST, "digest": detail["imageDigest"], "size": len(body),
         "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
    _registry(port, "PUT", "/v2/pocstack/graviton/manifests/amd64-only", index, INDEX)
    repository = definition["containerDefinitions"][0]["image"].split("@")[0]
    images = {"single": f"{repository}@{detail['imageDigest']}",
              "index": f"{repository}@sha256:{hashlib.sha256(index).hexdigest()}"}
    keep = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "requiresCompatibilities", "cpu", "memory",
            "runtimePlatform")
    for name, uri in images.items():
        containers = [dict(definition["containerDefinitions"][0], image=uri)]
        arn = aws["ecs"].register_task_definition(**{k: definition[k] for k in keep if k in definition},
                                                  containerDefinitions=containers)["taskDefinition"]["taskDefinitionArn"]
        aws["ecs"].create_service(cluster="pocstack", serviceName=f"mismatch-{name}", taskDefinition=arn,
                                  desiredCount=1, launchType="FARGATE",
                                  networkConfiguration=graviton["networkConfiguration"])

    def stopped(name):
        arns = aws["ecs"].list_tasks(cluster="pocstack", serviceName=f"mismatch-{name}", desiredStatus="STOPPED")["taskArns"]
        return aws["ecs"].describe_tasks(cluster="pocstack", tasks=arns[:1])["tasks"] if arns else None

    try:
        [single] = eventually(lambda: stopped("single"), timeout=120, what="the task of the amd64 image stopped")
        [index_task] = eventually(lambda: stopped("index"), timeout=120, what="the task of the amd64 index stopped")
    finally:
        for name in images:
            aws["ecs"].delete_service(cluster="pocstack", service=f"mismatch-{name}", force=True)
    assert single["stoppedReason"] == "Essential container in task exited"
    assert single["stopCode"] == "EssentialContainerExited"
    assert [c["exitCode"] for c in single["containers"]] == [1]
    stream = f"ecs/graviton/{single['taskArn'].rsplit('/', 1)[-1]}"
    messages = eventually(lambda: [e["message"] for e in logs.get_log_events(
        logGroupName="/pocstack/graviton", logStreamName=stream)["events"]] or None, timeout=30, what="the log")
    assert any(m.endswith(": exec format error") and m.startswith("exec ") for m in messages), messages
    assert index_task["stopCode"] == "TaskFailedToStart"
    assert index_task["stoppedReason"].startswith("CannotPullContainerError: ")
    assert "no match for platform linux/arm64" in index_task["stoppedReason"]


def test_an_arm64_task_with_a_sidecar_image_without_arm64_is_refused(stack):
    """A sidecar's image is checked as the service's own: its index (made in the
    test above) lists linux/amd64 only, so the ARM64 service does not change."""
    aws = stack["aws"]
    before = service(aws, "graviton")["taskDefinition"]
    set_service(stack["inventory"], "graviton", {"poc_sidecars": [
        {"name": "helper", "image": {"source": "existing", "repository": "pocstack/graviton", "tag": "amd64-only"}}]})
    try:
        rc, out = run(stack["inventory"], stack["port"], extra=["-e", "service=graviton"], json_output=False)
    finally:
        set_service(stack["inventory"], "graviton", {"poc_sidecars": None})
    assert rc != 0
    assert ("fargate_service_cpu_architecture=ARM64 (poc_cpu_architecture): the image of the sidecar helper is made "
            "for amd64 only; build or mirror a linux/arm64 variant, or choose X86_64" in out), out[-3000:]
    assert service(aws, "graviton")["taskDefinition"] == before
