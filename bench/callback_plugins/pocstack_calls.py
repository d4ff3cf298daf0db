# Bench and tests only (bench/deploy.py and the no-op re-run's regression guard in
# tests/integration/test_lifecycle.py enable it); not part of the collection.
"""Attribute the emulator's AWS API calls, wall time and CPU time to tasks.

With the linear strategy every host finishes a task before the next task
starts, so what the emulator counted between two task starts belongs to the
first task (all its hosts). CPU time is the controller's own plus that of
the worker processes it has reaped (getrusage), so a task's figure can lag
a little behind; the sum over all tasks is the run's total.

Writes JSON to $POCSTACK_CALLS_PROFILE: a list of
{"play", "task", "action", "module", "hosts_ran", "hosts", "wall_s", "cpu_s", "reads", "writes", "calls"}
("hosts": the sorted names of the hosts the task ran on, so a reader can
tell the controller's shared work from the services' own; "module": whether
the action runs a module, i.e. is not one of the controller-side actions that
cost no fork and no interpreter).
"""
import json
import os
import resource
import time
import urllib.request

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: pocstack_calls
    type: aggregate
    short_description: AWS API calls, wall and CPU time per task, from the pocstack emulator's counter
    description:
      - Bench only. Reads GET /_pocstack/calls of the emulator at $AWS_URL at every task start.
    requirements:
      - enabled with ANSIBLE_CALLBACKS_ENABLED=pocstack_calls; POCSTACK_CALLS_PROFILE names the output file
"""

READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Head", "Search", "Lookup")
CONTROLLER_ACTIONS = {"set_fact", "assert", "debug", "fail", "include_role", "include_tasks", "import_tasks",
                      "validate_argument_spec", "meta", "add_host", "group_by", "include_vars", "set_stats"}


def _cpu():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "pocstack_calls"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._url = os.environ.get("AWS_URL", "").rstrip("/") + "/_pocstack/calls"
        self._out = os.environ.get("POCSTACK_CALLS_PROFILE")
        self._play = None
        self._current = None
        self._tasks = []

    def _counted(self):
        try:
            with urllib.request.urlopen(self._url, timeout=10) as response:
                return json.load(response)["calls"]
        except (OSError, ValueError, KeyError):
            return {}

    def _close(self):
        if self._current is None:
            return
        calls0, cpu0, t0 = self._current.pop("_start")
        calls = self._counted()
        diff = {name: n - calls0.get(name, 0) for name, n in calls.items() if n != calls0.get(name, 0)}
        reads = sum(n for name, n in diff.items() if name.split(":", 1)[-1].startswith(READ_PREFIXES))
        self._current.update(wall_s=round(time.monotonic() - t0, 3), cpu_s=round(_cpu() - cpu0, 3),
                             reads=reads, writes=sum(diff.values()) - reads, calls=diff)
        self._tasks.append(self._current)
        self._current = None

    def _start(self, task):
        self._close()
        self._current = {"play": self._play, "task": task.get_name(), "action": task.action,
                         "module": task.action.rsplit(".", 1)[-1] not in CONTROLLER_ACTIONS, "hosts_ran": 0, "hosts": [],
                         "_start": (self._counted(), _cpu(), time.monotonic())}

    def v2_playbook_on_play_start(self, play):
        self._close()
        self._play = play.get_name()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def _ran(self, result):
        if self._current is not None:
            self._current["hosts_ran"] += 1
            self._current["hosts"] = sorted({*self._current["hosts"], result._host.get_name()})

    v2_runner_on_ok = v2_runner_on_failed = v2_runner_on_unreachable = _ran

    def v2_playbook_on_stats(self, stats):
        self._close()
        if self._out:
            with open(self._out, "w") as fh:
                json.dump(self._tasks, fh, indent=1)
