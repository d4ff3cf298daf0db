"""What the integration tests share: an emulator of their own, its call
counter, inventories made from the local one, and ansible-playbook runs whose
results are read from the JSON callback."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAUNCHER = os.path.join(ROOT, "emulator", "pocstack-emulator")
BIN = os.path.dirname(sys.executable)
PLOTLY = yaml.safe_load(open(os.path.join(ROOT, "inventories", "local", "host_vars", "plotly.yml")))
# Values that occur in no ARN: Ansible masks a secret value wherever it appears
# in results (a one-letter value garbles every ARN; the preflight refuses it).
# Two services on one load balancer: plotly (the catch-all, automatic
# priority) and a second one on /second* with an image that is only a tag.
TWO_SERVICES = [
    ("plotly", {"poc_priority": None}),
    ("second", {"poc_priority": None, "poc_path_patterns": ["/second*"], "poc_container_port": 3000,
                "poc_image": {"source": "existing", "repository": "pocstack/second", "tag": "v1"},
                "poc_environment": {"PORT": "3000"}}),
]
GOOD_SECRETS = [{"name": "PLOTLY_USER", "value": "tester"}, {"name": "PLOTLY_PASS", "value": "pass-Word-7"}]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REGISTRY = os.environ.get("POCSTACK_EMULATOR_REGISTRY", "")


class Emulator:
    """An emulator on a free port with its own state dir, for one test module.

    data_plane=True: ECS tasks run as containers (emulator/docker-setup.sh must
    have started the engine and the registry, whose URL tests/run.sh exports as
    POCSTACK_EMULATOR_REGISTRY); otherwise it is a control plane only, which is
    all most tests need and what keeps the suite within the CI time."""

    def __init__(self, state_dir, throttle=0.0, data_plane=False):
        self.port = free_port()
        self.state = str(state_dir)
        self.url = f"http://127.0.0.1:{self.port}"
        # Free loopback ports for the listeners: emulators run side by side, and
        # beside the demo's (which has 8443 and 8080).
        args = [sys.executable, LAUNCHER, "start", "--port", str(self.port), "--state-dir", self.state,
                "--data-plane", "auto" if data_plane else "off", "--listener-ports", "auto"]
        if data_plane and REGISTRY:
            args += ["--registry", REGISTRY]
        if throttle:
            args += ["--throttle", str(throttle)]
        assert subprocess.run(args).returncode == 0
        if data_plane:
            found = self.data_plane()
            if not found["enabled"]:
                self.stop()
                raise RuntimeError(f"the emulator runs no containers: {found['reason']} (emulator/docker-setup.sh start)")

    def data_plane(self):
        with urllib.request.urlopen(self.url + "/_pocstack/dataplane", timeout=10) as r:
            return json.load(r)

    def stop(self):
        subprocess.run([sys.executable, LAUNCHER, "stop", "--port", str(self.port), "--state-dir", self.state])

    def _post(self, path, data=None):
        body = json.dumps(data).encode() if data is not None else b""
        with urllib.request.urlopen(urllib.request.Request(self.url + path, method="POST", data=body), timeout=10) as r:
            return r.read()

    def reset(self):
        """Forget every resource and zero the counters."""
        self._post("/moto-api/reset")
        self._post("/_pocstack/calls/reset")

    def calls(self, reset=False):
        if reset:
            return json.loads(self._post("/_pocstack/calls/reset"))
        with urllib.request.urlopen(self.url + "/_pocstack/calls", timeout=10) as r:
            return json.load(r)

    def throttle(self, rate, seed=1):
        return json.loads(self._post("/_pocstack/throttle", {"rate": rate, "seed": seed}))

    def fail(self, call, **settings):
        """Fail `call` ("ecs:CreateService") as AWS denies an action the
        caller's policy lacks (emulator/README.md, "Fault injection")."""
        return json.loads(self._post("/_pocstack/faults", {"call": call, **settings}))["faults"]

    def clear_faults(self):
        return json.loads(self._post("/_pocstack/faults", {"clear": True}))["faults"]

    def writes(self):
        """{call: count} of the mutating calls since the last reset."""
        counted = self.calls()
        return {name: n for name, n in counted["calls"].items()
                if not name.split(":", 1)[-1].startswith(("Describe", "List", "Get", "BatchGet", "Head"))}


def make_inventory(tmp_path, services, shared=None):
    """A copy of inventories/local whose host_vars are `services`: [(name, {poc_var: value})],
    each a plotly with its changes (a value of None removes the variable); when
    several set no routing, each gets the path /<name>/*."""
    inv = tmp_path / "inventory"
    shutil.copytree(os.path.join(ROOT, "inventories", "local"), inv)
    shutil.rmtree(inv / "host_vars")
    (inv / "host_vars").mkdir()
    # Several services with plotly's catch-all `*` would be the same rule many
    # times (one takes all the traffic; the preflight refuses it): each of
    # those gets a path of its own.
    plain = [name for name, changes in services if not {"poc_path_patterns", "poc_host_headers", "poc_host"} & set(changes)]
    for index, (name, changes) in enumerate(services):
        if len(plain) > 1 and name in plain:
            changes = {**changes, "poc_path_patterns": [f"/{name}/*"]}
        svc = {**PLOTLY, "poc_secrets": GOOD_SECRETS, "poc_priority": 1000 + index, **changes}
        svc = {k: v for k, v in svc.items() if v is not None}
        (inv / "host_vars" / f"{name}.yml").write_text(yaml.safe_dump(svc))
    if shared:
        group_vars = inv / "group_vars" / "all.yml"
        group_vars.write_text(group_vars.read_text() + "\n" + yaml.safe_dump(shared))
    (inv / "state").mkdir(exist_ok=True)
    return str(inv / "services.pocstack.yml")


def set_service(inventory, name, changes):
    """Rewrite one service's host_vars file: plotly's variables with `changes`."""
    path = os.path.join(os.path.dirname(inventory), "host_vars", f"{name}.yml")
    current = yaml.safe_load(open(path))
    current.update(changes)
    current = {k: v for k, v in current.items() if v is not None}
    with open(path, "w") as fh:
        fh.write(yaml.safe_dump(current))


def environment(port, json_output=True, extra_env=None):
    env = {**os.environ, "POCSTACK_EMULATOR_PORT": str(port),
           "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "AWS_URL": f"http://127.0.0.1:{port}",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
           "ANSIBLE_NOCOLOR": "1"}
    if json_output:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    env.update(extra_env or {})
    return env


def command(inventory, playbook, extra):
    return [os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook, *extra]


def run(inventory, port, playbook="site.yml", extra=(), json_output=True, extra_env=None, timeout=900):
    """(rc, stdout) of one ansible-playbook run from the checkout."""
    proc = subprocess.run(command(inventory, playbook, extra), cwd=ROOT, env=environment(port, json_output, extra_env),
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + ("" if json_output else proc.stderr)


def run_and_kill(inventory, emulator, call, playbook="site.yml", extra=(), timeout=600):
    """Start a run and SIGKILL it (with every module it started) right after the
    emulator has counted the first `call` (for example "ecs:CreateService").
    Returns True if it was killed there, False if the run ended first."""
    emulator.calls(reset=True)
    proc = subprocess.Popen(command(inventory, playbook, extra), cwd=ROOT, env=environment(emulator.port),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if emulator.calls()["calls"].get(call):
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.05)
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def results(stdout):
    return json.loads(stdout)


def stats(stdout):
    """{host: {"changed": n, "failures": n, ...}} of a JSON-callback run."""
    return results(stdout)["stats"]


def task_name(task):
    """A task's own name: the json callback prefixes tasks of some roles with
    `<role FQCN> : ` (imported ones, not included ones), the playbook never does."""
    return task["task"]["name"].split(" : ", 1)[-1]


def changed_tasks(stdout, host=None):
    """[(task name, host)] of every task that reported a change."""
    found = []
    for play in results(stdout)["plays"]:
        for task in play["tasks"]:
            for name, result in task["hosts"].items():
                if (host is None or name == host) and result.get("changed"):
                    found.append((task_name(task), name))
    return found


def task_results(stdout, wanted, host=None):
    """Results of the tasks called `task_name` (exact name as in the playbook/role)."""
    found = []
    for play in results(stdout)["plays"]:
        for task in play["tasks"]:
            if task_name(task) == wanted:
                found.extend(r for n, r in task["hosts"].items() if host is None or n == host)
    return found


def failure_message(stdout):
    for play in results(stdout)["plays"]:
        for task in play["tasks"]:
            for host in task["hosts"].values():
                if host.get("failed"):
                    return host.get("msg", "")
    return ""
