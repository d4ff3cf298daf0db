"""The collection as Galaxy and AWX users get it: built, installed, used from elsewhere.

`ansible-galaxy collection build` must leave out every scratch file (virtual
environments, caches, emulator state, generated keys, earlier tarballs); the
tarball installs offline into an empty collections path with its dependencies
taken from the `ansible` package; and from a separate project directory that
holds nothing but a copy of the local inventory and the ansible.cfg the README
shows, `ansible-playbook pocstack.aws.site -e service=plotly` deploys on the
emulator and every role resolves by its FQCN. execution-environment.yml gives
ansible-builder a valid build context whose collections resolve (offline,
against the versions the tests use) and whose Python requirements are the
collection's own, not the control node's.
"""
import fnmatch
import json
import os
import shutil
import subprocess
import tarfile

import pytest
import yaml

from emulator_support import BIN
from emulator_support import ROOT
from emulator_support import ansible_env
from emulator_support import emulator_call
from emulator_support import failures
from emulator_support import task_results

GALAXY = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"
TARBALL = f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
ROLES = sorted(d for d in os.listdir(os.path.join(ROOT, "roles")) if not d.startswith("."))
MODULES = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "plugins", "modules")) if f.endswith(".py"))

# Scratch a checkout accumulates: none of it may reach the tarball.
SCRATCH = [
    ".venv/bin/python", "files/app/.venv/lib/x.py", ".collections/ansible_collections/pocstack/aws/x",
    ".pocstack/local/tls.key", ".pocstack/test-emulator/emulator-4567.log", "plugins/modules/__pycache__/x.cpython-311.pyc",
    "tests/unit/__pycache__/conftest.cpython-311.pyc", "plugins/module_utils/stray.pyc", ".pytest_cache/v/cache/nodeids",
    "tests/.pytest_cache/README.md", ".ruff_cache/0.1/x", ".mypy_cache/3.11/x.json", ".ansible/collections/x",
    ".cache/x", ".tox/py311/x", "extensions/molecule/site/.molecule/state.yml", "changelogs/.plugin-cache.yaml",
    "tests/output/junit/x.xml", "context/Containerfile", "bench/results/run.json", "site.retry",
    f"{GALAXY['namespace']}-{GALAXY['name']}-0.0.1.tar.gz", "build/pocstack-aws-0.0.1.tar.gz", ".coverage",
    "htmlcov/index.html",
]
# Bad names whatever the path: the same rules as a pattern list.
FORBIDDEN = ["*.pyc", "*.tar.gz", "*.retry", "*.log", "*.pid", "changelogs/.plugin-cache.yaml", "tests/output*", "bench*",
             "context/*"]
FORBIDDEN_PARTS = {".venv", ".collections", ".pocstack", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache",
                   ".ansible", ".cache", ".tox", ".molecule", ".git", "htmlcov"}


def run(argv, cwd, env=None, timeout=300):
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def build(source, output):
    proc = run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(output),
                str(source)], cwd=source)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    path = os.path.join(output, TARBALL)
    assert os.path.isfile(path)
    with tarfile.open(path) as tar:
        return path, {m.name for m in tar.getmembers() if m.isfile()}


def scratch_in(members):
    return sorted(m for m in members if FORBIDDEN_PARTS & set(m.split("/"))
                  or any(fnmatch.fnmatch(m, pattern) for pattern in FORBIDDEN))


def tracked_files():
    proc = run(["git", "ls-files", "-z"], cwd=ROOT)
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    return [f for f in proc.stdout.split("\0") if f and os.path.isfile(os.path.join(ROOT, f))]


@pytest.fixture(scope="module")
def checkout_build(tmp_path_factory):
    return build(ROOT, tmp_path_factory.mktemp("dist"))


def test_tarball_of_the_checkout_has_what_users_need_and_no_scratch(checkout_build):
    _path, members = checkout_build
    assert scratch_in(members) == []
    assert {"MANIFEST.json", "FILES.json", "meta/runtime.yml", "playbooks/site.yml", "README.md",
            "inventories/local/services.pocstack.yml", "inventories/local/bootstrap.yml"} <= members
    assert {f"plugins/modules/{m}.py" for m in MODULES} <= members
    assert {f"roles/{r}/meta/argument_specs.yml" for r in ROLES} <= members
    # nothing git ignores (the checkout's own scratch, whatever it is today)
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=ROOT, input="\n".join(sorted(members)),
                          capture_output=True, text=True)
    assert proc.returncode in (0, 1) and proc.stdout.split() == [], proc.stdout


def test_build_ignore_leaves_out_every_kind_of_scratch(tmp_path):
    """A copy of the tracked files plus planted scratch builds to exactly the tracked files."""
    tracked = tracked_files()
    source = tmp_path / "src"
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), source / name)
    for name in SCRATCH:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("scratch\n")
    _path, members = build(source, tmp_path / "dist")
    assert sorted(set(SCRATCH) & members) == []
    assert members - {"MANIFEST.json", "FILES.json"} <= set(tracked)
    left_out = sorted(set(tracked) - members)
    # every tracked file left out is left out on purpose (build_ignore, or galaxy.yml, which Galaxy never ships)
    on_purpose = GALAXY["build_ignore"] + ["galaxy.yml"]
    assert [f for f in left_out if not any(fnmatch.fnmatch(f, p) or fnmatch.fnmatch(f, p + "/*") for p in on_purpose)] == []


# ------------------------------------------------------------------ installed
PROJECT_CFG = """\
[defaults]
collections_path = {collections}
inventory = inventory/services.pocstack.yml
interpreter_python = auto_silent
forks = 10

[inventory]
enable_plugins = pocstack.aws.poc_services, ansible.builtin.yaml, ansible.builtin.ini, ansible.builtin.host_list
"""


@pytest.fixture(scope="module")
def project(checkout_build, tmp_path_factory):
    """An installed collection and a project directory that only has an inventory and ansible.cfg."""
    tarball, _ = checkout_build
    base = tmp_path_factory.mktemp("galaxy-user")
    collections = base / "collections"
    collections.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    proc = run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections), tarball],
               cwd=base, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{FQCN}:{GALAXY['version']} was installed successfully" in proc.stdout
    for dependency in GALAXY["dependencies"]:  # satisfied by the collections of the `ansible` package
        assert f"'{dependency}:" in proc.stdout and "is already installed" in proc.stdout, proc.stdout
    installed = collections / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    assert (installed / "MANIFEST.json").is_file()

    work = base / "project"
    work.mkdir()
    # another layout than the checkout's inventories/local: nothing may depend on it
    shutil.copytree(os.path.join(ROOT, "inventories", "local"), work / "inventory")
    (work / "ansible.cfg").write_text(PROJECT_CFG.format(collections=collections))
    return {"base": base, "dir": work, "installed": installed}


def test_every_role_and_module_resolves_by_fqcn_from_the_installed_collection(project, emulator_port):
    env = ansible_env(emulator_port)
    env.pop("ANSIBLE_STDOUT_CALLBACK")
    roles = run([os.path.join(BIN, "ansible-doc"), "-t", "role", "--json"] + [f"{FQCN}.{r}" for r in ROLES],
                cwd=project["dir"], env=env)
    assert roles.returncode == 0, roles.stderr
    docs = json.loads(roles.stdout)
    assert sorted(docs) == [f"{FQCN}.{r}" for r in ROLES]
    for name, doc in docs.items():
        assert doc["path"] == str(project["installed"]), name
        assert doc["entry_points"]["main"]["short_description"], name
    modules = run([os.path.join(BIN, "ansible-doc"), "--list", "--json", FQCN], cwd=project["dir"], env=env)
    assert modules.returncode == 0, modules.stderr
    assert sorted(json.loads(modules.stdout)) == [f"{FQCN}.{m}" for m in MODULES]


def test_site_playbook_runs_from_a_project_with_only_an_inventory(project, emulator_port):
    emulator_call(emulator_port, "/moto-api/reset", post=True)
    before = sorted(os.listdir(project["base"]))
    proc = run([os.path.join(BIN, "ansible-playbook"), f"{FQCN}.site", "-e", "service=plotly"], cwd=project["dir"],
               env=ansible_env(emulator_port), timeout=600)
    assert proc.returncode == 0, "\n".join(failures(proc.stdout)) + proc.stderr[-3000:]
    summary = task_results(proc.stdout)["summary | What exists for the service"]["msg"]
    assert summary[0].startswith("plotly: https://") and "ECS service:    arn:aws:ecs:" in summary[5]
    # generated key material and the demo password stay in the project, never in the installed collection
    assert sorted(os.listdir(project["dir"] / ".pocstack" / "local")) == ["ca.crt", "ca.key", "plotly_pass", "tls.crt", "tls.key"]
    assert sorted(os.listdir(project["base"])) == before
    assert not (project["installed"] / ".pocstack").exists()
    assert not (project["dir"] / "inventory" / ".pocstack").exists()


def test_the_installed_emulator_launcher_keeps_its_state_in_the_project(project):
    """An installed collection may be read-only: the launcher's default state dir is the current directory's."""
    launcher = project["installed"] / "emulator" / "pocstack-emulator"
    proc = run([os.path.join(BIN, "python"), str(launcher), "stop", "--port", "9"], cwd=project["dir"])
    assert proc.returncode == 0
    assert f"emulator not running from {project['dir'] / '.pocstack' / 'emulator'} on port 9" in proc.stdout


def test_without_the_inventory_plugin_site_says_what_to_enable(project, emulator_port):
    env = ansible_env(emulator_port, ANSIBLE_INVENTORY_ENABLED="ansible.builtin.yaml,ansible.builtin.ini")
    proc = run([os.path.join(BIN, "ansible-playbook"), f"{FQCN}.site", "-e", "service=plotly"], cwd=project["dir"], env=env)
    assert proc.returncode != 0
    [message] = failures(proc.stdout)
    assert "service=plotly is not a PoC service of this inventory" in message
    assert "enable_plugins must list pocstack.aws.poc_services or auto" in message


# ------------------------------------------------------------------ execution environment
def pins(path):
    found = {}
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[name.split("[", 1)[0].lower()] = version
    return found


def test_execution_environment_build_context(checkout_build, tmp_path):
    tarball, _ = checkout_build
    definition = yaml.safe_load(open(os.path.join(ROOT, "execution-environment.yml")))
    assert definition["version"] == 3
    assert definition["additional_build_files"] == [{"src": TARBALL, "dest": "collections"}]
    control_node = pins(os.path.join(ROOT, "requirements.txt"))
    assert definition["dependencies"]["ansible_core"]["package_pip"] == f"ansible-core=={control_node['ansible-core']}"
    ee_pins = pins(os.path.join(ROOT, definition["dependencies"]["python"]))
    assert ee_pins == {name: control_node[name] for name in ("boto3", "botocore")}

    shutil.copy(os.path.join(ROOT, "execution-environment.yml"), tmp_path)
    shutil.copytree(os.path.join(ROOT, "execution-environment"), tmp_path / "execution-environment")
    shutil.copy(tarball, tmp_path / TARBALL)  # what `ansible-galaxy collection build` leaves beside it
    proc = run([os.path.join(BIN, "ansible-builder"), "create", "--file", "execution-environment.yml",
                "--context", "context", "--output-filename", "Containerfile"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    context = tmp_path / "context"
    build_files = sorted(str(p.relative_to(context)) for p in context.rglob("*") if p.is_file())
    assert build_files == sorted([
        "Containerfile", f"_build/collections/{TARBALL}", "_build/requirements.txt", "_build/requirements.yml",
        *(f"_build/scripts/{s}" for s in ("assemble", "check_ansible", "check_galaxy", "entrypoint",
                                          "install-from-bindep", "introspect.py", "pip_install")),
    ])
    containerfile = (context / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    assert f"ansible-core=={control_node['ansible-core']}" in containerfile
    assert "COPY _build /build\nWORKDIR /build" in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile

    # The galaxy stage, offline: the tarball path resolves from /build, and the pinned
    # dependencies are exactly the versions installed with `ansible` (what the tests run).
    collections = tmp_path / "ee-collections"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    galaxy = run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "-r", "requirements.yml",
                  "-p", str(collections)], cwd=context / "_build", env=env)
    assert galaxy.returncode == 0, galaxy.stdout + galaxy.stderr
    assert f"{FQCN}:{GALAXY['version']} was installed successfully" in galaxy.stdout

    # The builder stage's introspection: the collection asks for its own modules' needs
    # (meta/execution-environment.yml), never the control node's moto, dash or ansible pins.
    introspect = run([os.path.join(BIN, "python"), str(context / "_build" / "scripts" / "introspect.py"), "introspect",
                      "--user-pip", str(context / "_build" / "requirements.txt"), str(collections)], cwd=tmp_path)
    assert introspect.returncode == 0, introspect.stdout + introspect.stderr
    python = yaml.safe_load(introspect.stdout)["python"]
    assert sorted(python) == sorted([
        f"boto3>=1.34.0  # from collection {FQCN}", f"botocore>=1.34.0  # from collection {FQCN}",
        f"boto3=={ee_pins['boto3']}  # from collection user", f"botocore=={ee_pins['botocore']}  # from collection user",
    ])
