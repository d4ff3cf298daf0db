"""`ansible-doc` renders every module (plugins/modules and meta/runtime.yml's
action group) and every role (`-t role`, from meta/argument_specs.yml), run
from the checkout as the collection pocstack.aws (ansible.cfg's collections_path)."""
import json
import os
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
if not os.path.exists(ANSIBLE_DOC):
    ANSIBLE_DOC = shutil.which("ansible-doc")


def _modules():
    names = {f[:-3] for f in os.listdir(os.path.join(ROOT, "plugins", "modules"))
             if f.endswith(".py") and not f.startswith("_")}
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as fh:
        runtime = yaml.safe_load(fh)
    for group in (runtime.get("action_groups") or {}).values():
        names.update(m for m in group if isinstance(m, str))
    return sorted(names)


def _roles():
    return sorted(r for r in os.listdir(os.path.join(ROOT, "roles"))
                  if os.path.exists(os.path.join(ROOT, "roles", r, "meta", "argument_specs.yml")))


def _ansible_doc(*args):
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    # one call for all modules, one for all roles: each call costs ~2 s of start-up
    run = subprocess.run([ANSIBLE_DOC, "--json", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, f"ansible-doc {' '.join(args)} failed:\n{run.stderr}"
    return json.loads(run.stdout), run.stderr


def test_every_module_renders():
    modules = _modules()
    assert "elb_listener_rule" in modules and "acm_certificate_request" in modules
    docs, stderr = _ansible_doc(*(f"pocstack.aws.{m}" for m in modules))
    missing = [m for m in modules if not (docs.get(f"pocstack.aws.{m}") or {}).get("doc")]
    assert not missing, f"ansible-doc renders no documentation for {missing}:\n{stderr}"
    for name in modules:
        doc = docs[f"pocstack.aws.{name}"]
        assert doc["doc"].get("short_description"), f"{name}: no short_description"
        assert doc["doc"].get("version_added"), f"{name}: no version_added"
        assert doc.get("examples"), f"{name}: no EXAMPLES"


def test_every_role_renders():
    roles = _roles()
    assert set(roles) >= {"alb_tls", "ecr_image", "fargate_service", "ssm_secrets"}
    docs, stderr = _ansible_doc("-t", "role", *(f"pocstack.aws.{r}" for r in roles))
    missing = [r for r in roles if f"pocstack.aws.{r}" not in docs]
    assert not missing, f"ansible-doc -t role renders nothing for {missing}:\n{stderr}"
    for role in roles:
        main = docs[f"pocstack.aws.{role}"]["entry_points"]["main"]
        assert main.get("short_description"), f"{role}: no short_description"
        assert main.get("options"), f"{role}: no options"


def test_renamed_modules_redirect_with_a_deprecation():
    """Playbooks written for the old names keep working (the plugin loader
    follows meta/runtime.yml's redirect, as for a task) and are told the new one."""
    for old, new in (("elb_target_group", "alb_target_group"), ("ecs_task_definition", "ecs_task_definition_revision")):
        docs, stderr = _ansible_doc(f"pocstack.aws.{old}")
        (doc,) = docs.values()
        assert doc["doc"]["module"] == new, f"pocstack.aws.{old} resolves to {doc['doc']['module']}"
        assert f"pocstack.aws.{old} is now pocstack.aws.{new}" in " ".join(stderr.split()), stderr
