"""Fixtures the emulator integration tests share.

emulator: an emptied emulator of the test module's own, as a harness.Emulator.

emulator_url, endpoint, emulator_port: the emulator on $POCSTACK_EMULATOR_PORT
when one answers there, else one of their own on a free port (tests/run.sh
unsets the variable, so that each worker and module has its own).
stack_emulator, plotly_deployment, plotly_audit: the audit and secret leak
tests' own emulator and one plotly deployment (site.yml at -vvv with a
distinctive secret) for the session, so that both test files judge the same
deploy."""
import contextlib
import json
import os
import secrets
import subprocess
import sys
import time

import pytest

from emulator_support import answers as port_answers
from harness import Emulator
from stack_helpers import LAUNCHER
from stack_helpers import ansible_playbook
from stack_helpers import free_port


@contextlib.contextmanager
def running_emulator(tmp_path_factory, name):
    """Port of the emulator on $POCSTACK_EMULATOR_PORT when one answers there,
    else of one of our own on a free port, with its state under `name`,
    stopped afterwards."""
    port = os.environ.get("POCSTACK_EMULATOR_PORT")
    if port and port_answers(port):
        yield int(port)
        return
    emulator = Emulator(tmp_path_factory.mktemp(name))
    try:
        yield emulator.port
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory, request):
    """An emptied emulator of the test module's own (a harness.Emulator, with
    its call counter), stopped after the module."""
    emu = Emulator(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1] + "-emulator"))
    emu.reset()
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def emulator_url(tmp_path_factory):
    """Base URL of a running emulator. Tests that use it reset moto first."""
    with running_emulator(tmp_path_factory, "emulator") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def stack_emulator(tmp_path_factory):
    """An emulator of its own (never the demo's), on a free port, with AWS's
    managed IAM policies (the loose stack attaches some). moto has them only
    with MOTO_IAM_LOAD_MANAGED_POLICIES: they make every reset about a second
    slower, so only this emulator loads them."""
    port = free_port()
    state = str(tmp_path_factory.mktemp("stack-emulator"))
    started = subprocess.run([sys.executable, LAUNCHER, "start", "--port", str(port), "--state-dir", state],
                             env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
                             capture_output=True, text=True, timeout=90)
    assert started.returncode == 0, started.stdout + started.stderr
    yield {"port": port, "url": f"http://127.0.0.1:{port}", "state": state}
    subprocess.run([sys.executable, LAUNCHER, "stop", "--port", str(port), "--state-dir", state],
                   capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def plotly_deployment(stack_emulator):
    """`ansible-playbook site.yml -e service=plotly -vvv` with PLOTLY_PASS set to
    a value that appears nowhere else."""
    secret = "LeakCanary" + secrets.token_hex(12)
    started = time.time()
    proc = ansible_playbook(stack_emulator, "site.yml", "-e", "service=plotly", "-vvv", env={"PLOTLY_PASS": secret})
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return {"secret": secret, "started": started, "output": proc.stdout + proc.stderr}


@pytest.fixture(scope="session")
def plotly_audit(plotly_deployment, stack_emulator, tmp_path_factory):
    """`ansible-playbook playbooks/audit.yml -e service=plotly` on that deployment."""
    report = tmp_path_factory.mktemp("plotly-audit") / "audit.json"
    proc = ansible_playbook(stack_emulator, "playbooks/audit.yml", "-e", "service=plotly",
                            "-e", f"pocstack_audit_report_file={report}")
    assert report.exists(), (proc.stdout + proc.stderr)[-4000:]
    return {"rc": proc.returncode, "output": proc.stdout + proc.stderr, "report": json.loads(report.read_text())}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """URL of the emulator on $POCSTACK_EMULATOR_PORT when it answers, else of
    one of the module's own on a free port (as tests/run.sh runs them). Tests
    using it create uniquely named resources, delete them, and never reset it."""
    with running_emulator(tmp_path_factory, "endpoint-emulator") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def emulator_port(tmp_path_factory):
    """Port of the emulator tests/run.sh started on $POCSTACK_EMULATOR_PORT
    when it answers, else of one of their own on a free port."""
    with running_emulator(tmp_path_factory, "emulator") as port:
        yield port
