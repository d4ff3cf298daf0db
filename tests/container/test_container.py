"""The PoC image with a real Docker engine: built from the locally made Debian
base by the ecr_image role, pushed through the emulator (as ECR) into the local
registry, then run: the same HTTP contract as tests/unit/app, non-root, a clean
stop, and no secret in any layer.

Run with `make test-container` (it starts the engine and the registry first).
"""
import base64
import io
import json
import os
import tarfile
import time
import urllib.error
import urllib.request

import boto3
import pytest

from conftest import APP
from conftest import BASE_IMAGE
from conftest import DECOY
from conftest import REGISTRY
from conftest import REPOSITORY
from conftest import changed_tasks
from conftest import docker
from conftest import free_port
from conftest import playbook

USER, PASSWORD = "alice", "s3cret-run-time-only"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def get(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture(scope="module")
def container(deployed):
    """The image running with credentials from the environment, as ECS runs it."""
    port = free_port()
    name = f"pocstack-test-{port}"
    docker("run", "-d", "--name", name, "--network", "host", "-e", f"PORT={port}", "-e", "GUNICORN_WORKERS=2",
           "-e", f"PLOTLY_USER={USER}", "-e", f"PLOTLY_PASS={PASSWORD}", deployed["image"])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            get(base + "/health")
            break
        except (urllib.error.URLError, ConnectionError):
            state = docker("inspect", "--format", "{{.State.Running}}", name).stdout.strip()
            assert state == "true", docker("logs", name).stdout + docker("logs", name).stderr
            assert time.monotonic() < deadline, "the container did not answer within 60 s"
            time.sleep(0.2)
    yield {"name": name, "base": base}
    docker("rm", "-f", name, check=False)


def test_build_context_leaves_ignored_files_out(deployed, context):
    from ansible_collections.pocstack.aws.plugins.module_utils.build_context import context_files
    from ansible_collections.pocstack.aws.plugins.module_utils.build_context import context_hash

    # The decoys are outside what docker is sent, so the tag equals the clean app's.
    assert not {".env", "notes", "notes/credentials.txt"} & set(context_files(context))
    assert context_hash(context)[0] == context_hash(APP)[0]
    assert deployed["tag"] == "ctx-" + context_hash(APP, build_args={"BASE_IMAGE": BASE_IMAGE},
                                                    platform="linux/amd64")[0][:20]


def test_runs_as_non_root_with_healthcheck(deployed):
    config = json.loads(docker("image", "inspect", deployed["image"]).stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    assert config["Healthcheck"]["Test"][0] == "CMD"
    assert config["Cmd"] == ["gunicorn", "--config", "gunicorn.conf.py", "app:server"]
    assert docker("run", "--rm", "--network", "host", "--entrypoint", "id", deployed["image"]).stdout.startswith(
        "uid=10001(app) gid=10001"
    )


def test_http_contract(container):
    base = container["base"]
    assert get(base + "/health") == (200, b'{"status":"ok"}\n')
    assert get(base + "/")[0] == 401
    assert get(base + "/", basic(USER, "wrong"))[0] == 401
    assert get(base + "/_dash-layout")[0] == 401
    status, body = get(base + "/", basic(USER, PASSWORD))
    assert status == 200 and b"pocstack PoC" in body
    assert get(base + "/_dash-layout", basic(USER, PASSWORD))[0] == 200


def test_docker_healthcheck_turns_healthy(container):
    deadline = time.monotonic() + 60
    while (status := docker("inspect", "--format", "{{.State.Health.Status}}", container["name"]).stdout.strip()) != "healthy":
        assert status == "starting" and time.monotonic() < deadline, status
        time.sleep(1)


def test_sigterm_stops_cleanly(container):
    # `docker stop` sends SIGTERM to PID 1, gunicorn, as ECS does.
    docker("stop", "--time", "30", container["name"])
    state = json.loads(docker("inspect", container["name"]).stdout)[0]["State"]
    assert state["ExitCode"] == 0 and not state["OOMKilled"]
    logs = docker("logs", container["name"]).stdout + docker("logs", container["name"]).stderr
    assert "Handling signal: term" in logs and "Shutting down: Master" in logs


def test_missing_variable_stops_the_container_with_one_line(deployed):
    proc = docker("run", "--rm", "--network", "host", "-e", f"PORT={free_port()}", "-e", f"PLOTLY_USER={USER}",
                  deployed["image"], check=False, timeout=120)
    assert proc.returncode == 1
    assert ("app: PLOTLY_PASS is not set: ECS injects it from the SSM parameter "
            "/pocstack/<service>/PLOTLY_PASS; for a local run export it") in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_secret_in_any_layer(deployed, tmp_path):
    image = deployed["image"]
    inspect = json.loads(docker("image", "inspect", image).stdout)[0]
    env = inspect["Config"]["Env"]
    assert not [e for e in env if e.split("=", 1)[0] in ("PLOTLY_USER", "PLOTLY_PASS", "PLOTLY_USERS", "FLASK_SECRET_KEY")]
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    assert DECOY not in history and "PLOTLY_PASS" not in history
    # Every file of every layer: no decoy, no context file that .dockerignore excludes.
    saved = tmp_path / "image.tar"
    docker("save", "-o", str(saved), image)
    names = []
    with tarfile.open(saved) as outer:
        layers = [m for m in outer.getmembers() if m.name.endswith("layer.tar")]
        assert len(layers) >= 2
        for member in layers:
            with tarfile.open(fileobj=io.BytesIO(outer.extractfile(member).read())) as layer:
                for entry in layer.getmembers():
                    names.append(entry.name)
                    if entry.isfile() and entry.size < 50_000_000:
                        assert DECOY.encode() not in layer.extractfile(entry).read(), entry.name
    app_files = sorted(n for n in names if n.startswith("app/"))
    assert app_files == ["app/app.py", "app/gunicorn.conf.py"]
    assert not [n for n in names if n.endswith((".env", "credentials.txt")) or "tmp/build" in n]
    # The wheelhouse stays in the build stage (Debian's own ensurepip wheels are the base's).
    wheelhouse = set(os.listdir(os.path.join(APP, "wheelhouse")))
    assert not [n for n in names if os.path.basename(n) in wheelhouse]


def test_pushed_image_is_pinned_by_the_registry_digest(deployed, emulator):
    uri, digest = deployed["result"]["ecr_image_uri"], deployed["result"]["ecr_image_digest"]
    assert uri == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{REPOSITORY}@{digest}"
    # The registry itself names the pushed tag by that digest...
    req = urllib.request.Request(f"{REGISTRY}/v2/{REPOSITORY}/manifests/{deployed['tag']}", method="HEAD",
                                 headers={"Accept": MANIFEST_V2})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Docker-Content-Digest"] == digest
    # ...and ECR's API returns it, with the manifest whose config is the local image.
    ecr = boto3.client("ecr", endpoint_url=emulator["url"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    found = ecr.batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": deployed["tag"]}])["images"][0]
    assert found["imageId"]["imageDigest"] == digest
    local_id = json.loads(docker("image", "inspect", deployed["image"]).stdout)[0]["Id"]
    assert json.loads(found["imageManifest"])["config"]["digest"] == local_id
    repo = ecr.describe_repositories(repositoryNames=[REPOSITORY])["repositories"][0]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True


def test_unchanged_context_is_neither_rebuilt_nor_pushed(deployed, emulator, context, tmp_path):
    code, output, result = playbook(emulator, tmp_path, {
        "poc_image": {"source": "build", "repository": REPOSITORY, "context": context,
                      "build_args": {"BASE_IMAGE": BASE_IMAGE}},
    })
    assert code == 0, output
    assert changed_tasks(output) == []
    ran = {task["task"]["name"].split(" : ", 1)[-1] for play in output["plays"] for task in play["tasks"]
           if not all(host.get("skipped") for host in task["hosts"].values())}
    assert "build | docker build" not in ran and "build | Push to ECR" not in ran
    assert result == deployed["result"]


def test_image_is_small(deployed):
    size = json.loads(docker("image", "inspect", deployed["image"]).stdout)[0]["Size"]
    print(f"\nimage {deployed['image']}: {size / 1e6:.0f} MB")
    # Debian base (~122 MB) + the venv (~97 MB, mostly plotly): no wheels, pip or caches on top.
    assert size < 260e6
