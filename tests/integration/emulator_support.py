"""Helpers for the integration tests that drive the emulator (conftest.py's
emulator_port fixture, and the tests themselves)."""
import json
import os
import socket
import sys
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAUNCHER = os.path.join(ROOT, "emulator", "pocstack-emulator")
BIN = os.path.dirname(sys.executable)
# The head of a play that runs the collection's modules against the emulator at
# {endpoint} (a str.format template: double any other braces after it).
LOCAL_PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/pocstack.aws.aws:
      endpoint_url: {endpoint}
      region: us-east-1
      access_key: testing
      secret_key: testing
"""


def answers(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_pocstack/health", timeout=2) as resp:
            return json.load(resp).get("status") == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def emulator_call(port, path, post=False):
    """GET (or POST) one of the emulator's own endpoints (/_pocstack/..., /moto-api/...)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST" if post else "GET",
                                 data=b"" if post else None)
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
    return json.loads(body) if body.strip().startswith(b"{") else body


def ansible_env(port, **extra):
    """The environment of an ansible command run by a test: our venv's Python, the
    emulator's port, JSON output, and nothing from the caller's ANSIBLE_*/AWS_* but the
    strategy (ANSIBLE_STRATEGY=mitogen_linear runs the suite under mitogen)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "AWS_")) or k in ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS")}
    env.update(POCSTACK_EMULATOR_PORT=str(port), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.update(extra)
    return env


def task_results(stdout):
    """{task name: result on its (one) host} from the ansible.posix.json callback's output."""
    found = {}
    for play in json.loads(stdout)["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                found[task["task"]["name"].split(" : ", 1)[-1]] = result
    return found


def failures(stdout):
    """Messages of the failed tasks, for assertion messages."""
    try:
        return [f"{name}: {r.get('msg')}" for name, r in task_results(stdout).items() if r.get("failed")]
    except ValueError:
        return [stdout[-3000:]]
