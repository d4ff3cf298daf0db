"""Fixtures of the container tests (`make test-container`): a real Docker engine,
a local registry and the emulator as ECR (started with --registry)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
APP = os.path.join(ROOT, "files", "app")
LAUNCHER = os.path.join(ROOT, "emulator", "pocstack-emulator")
REGISTRY = os.environ.get("POCSTACK_REGISTRY", "http://127.0.0.1:5000")
BASE_IMAGE = os.environ.get("POCSTACK_BASE_IMAGE", "pocstack/python-base:bookworm")
REPOSITORY = "pocstack/plotly-container-test"
# Decoys in the build context: .dockerignore must keep them out of the image.
DECOY = "decoy-3f9c1e7a-never-in-an-image"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def docker(*args, check=True, timeout=600):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session", autouse=True)
def docker_side():
    """The engine, the registry and the base image must be there (emulator/docker-setup.sh start)."""
    hint = "run `emulator/docker-setup.sh start` first (make test-container does)"
    assert shutil.which("docker"), f"no docker command; {hint}"
    assert docker("info", check=False).returncode == 0, f"no Docker engine answers; {hint}"
    try:
        urllib.request.urlopen(REGISTRY + "/v2/", timeout=5).read()
    except OSError as e:
        raise AssertionError(f"no registry answers at {REGISTRY} ({e}); {hint}") from None
    assert docker("image", "inspect", BASE_IMAGE, check=False).returncode == 0, f"no base image {BASE_IMAGE}; {hint}"


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    port = free_port()
    state = str(tmp_path_factory.mktemp("emulator"))
    run = [sys.executable, LAUNCHER]
    started = subprocess.run([*run, "start", "--port", str(port), "--state-dir", state, "--registry", REGISTRY],
                             capture_output=True, text=True, timeout=90)
    assert started.returncode == 0, started.stdout + started.stderr
    yield {"port": port, "url": f"http://127.0.0.1:{port}"}
    subprocess.run([*run, "stop", "--port", str(port), "--state-dir", state], timeout=30, check=True)


def playbook(emulator, tmp_path, extra):
    """Run tests/container/deploy_image.yml; (return code, JSON callback output, role result)."""
    result_file = tmp_path / "result.json"
    env = {**os.environ, "POCSTACK_EMULATOR_PORT": str(emulator["port"]),
           "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg")}
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "tests/container/deploy_image.yml",
         "-e", json.dumps({**extra, "result_file": str(result_file)})],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.startswith("{") else proc.stdout, result


def changed_tasks(output):
    return [task["task"]["name"].split(" : ", 1)[-1] for play in output["plays"] for task in play["tasks"]
            if any(host.get("changed") for host in task["hosts"].values())]


@pytest.fixture(scope="session")
def context(tmp_path_factory):
    """A copy of files/app with things that must never reach an image."""
    root = tmp_path_factory.mktemp("context") / "app"
    shutil.copytree(APP, root)
    (root / ".env").write_text(f"PLOTLY_USER=admin\nPLOTLY_PASS={DECOY}\n")
    (root / "notes").mkdir()
    (root / "notes" / "credentials.txt").write_text(DECOY + "\n")
    return str(root)


@pytest.fixture(scope="session")
def deployed(emulator, context, tmp_path_factory):
    """The app built from the decoy context and pushed by the ecr_image role."""
    code, output, result = playbook(emulator, tmp_path_factory.mktemp("deploy"), {
        "poc_image": {"source": "build", "repository": REPOSITORY, "context": context,
                      "build_args": {"BASE_IMAGE": BASE_IMAGE}},
    })
    assert code == 0, output
    sys.path.insert(0, os.path.join(ROOT, ".collections"))
    from ansible_collections.pocstack.aws.plugins.module_utils.build_context import context_hash

    # What the role hashes: the context, its build arguments and the platform (ecr_image_build_platform).
    tag = "ctx-" + context_hash(context, build_args={"BASE_IMAGE": BASE_IMAGE}, platform="linux/amd64")[0][:20]
    return {"output": output, "result": result, "tag": tag, "image": f"{REPOSITORY}:{tag}"}
