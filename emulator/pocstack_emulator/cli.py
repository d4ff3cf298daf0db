"""The emulator's command line: start|stop|status|run.

    emulator/pocstack-emulator start|stop|status|run [--port 4566] [--state-dir DIR] [--throttle 0.1] [--registry URL]
                               [--strict on|off]

`start` runs `run` in the background (pid and log in DIR, default
.pocstack/emulator), waits until it answers and returns; it does nothing when
the emulator already answers. `stop` ends it (SIGTERM, then SIGKILL after
30 s) and is not an error when nothing runs. `status` exits 0 if it answers,
3 if not; both print whether strict mode (AWS's parameter validation) is on.
`run` serves in the foreground. The port defaults to
$POCSTACK_EMULATOR_PORT or 4566; only 127.0.0.1 is ever bound.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from pocstack_emulator import HOST
from pocstack_emulator.ecr.registry import REGISTRY_ENV
from pocstack_emulator.strict import STRICT_ENV
from pocstack_emulator.strict import strict_default

DEFAULT_PORT = int(os.environ.get("POCSTACK_EMULATOR_PORT") or 4566)
# The launcher script beside the package (what `start` runs in the background).
LAUNCHER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pocstack-emulator")
_SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A checkout keeps the state in its own .pocstack/emulator. An installed
# collection (no galaxy.yml: Galaxy does not ship it) may sit in a read-only
# path, so there it is .pocstack/emulator of the current directory.
DEFAULT_STATE_DIR = (
    os.path.join(_SOURCE_ROOT, ".pocstack", "emulator")
    if os.path.isfile(os.path.join(_SOURCE_ROOT, "galaxy.yml"))
    else os.path.join(".pocstack", "emulator")
)
START_TIMEOUT = 60
# The data plane removes its containers on the way out: a few seconds.
STOP_TIMEOUT = 30
NOT_RUNNING = 3
DEFAULT_LISTENER_PORTS = os.environ.get("POCSTACK_EMULATOR_LISTENER_PORTS") or "443=8443,80=8080"


def answers(port, timeout=1.0):
    """True if our emulator (not just anything) answers on 127.0.0.1:port."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/_pocstack/health", timeout=timeout) as resp:
            return json.load(resp).get("status") == "ok"
    except (urllib.error.URLError, OSError, ValueError, AttributeError):
        return False


def _ask(port, path):
    """The JSON an endpoint of ours answers, or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=5) as resp:
            return json.load(resp)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def data_plane_line(port):
    """One line: whether ECS tasks run as containers, and if not, why."""
    found = _ask(port, "/_pocstack/dataplane")
    if found is None:
        return "data plane: unknown (the emulator did not say)"
    if found.get("enabled"):
        registry = found.get("registry") or "none (ECR images cannot be pulled; start with --registry)"
        lines = [f"data plane: ECS tasks run as containers on {found.get('engine')}; ECR registry {registry}"]
        for listener in found.get("listeners") or []:
            lines.append(f"  load balancer {listener['load_balancer']} {listener['protocol']}:{listener['port']} -> "
                         f"{listener['url']}")
        for task in found.get("tasks") or []:
            ports = ", ".join(f"{port} -> http://{address}" for port, address in sorted(task["ports"].items()))
            lines.append(f"  task {task['task'][:12]} of {task['cluster']}/{task['service']} ({task['private_ip']}): "
                         f"{task['last_status']}" + (f"; container port {ports}" if ports else ""))
        return "\n".join(lines)
    return f"data plane off: {found.get('reason')}; ECS services get no tasks (control plane only)"


def strict_line(port):
    """One line: whether requests are validated as AWS does, and how many were rejected."""
    found = _ask(port, "/_pocstack/strict")
    if found is None:
        return "strict mode: unknown (the emulator did not say)"
    if not found.get("enabled"):
        return "strict mode off: requests reach moto unvalidated"
    return (f"strict mode on: AWS's parameter validation; {found.get('rejected', 0)} request(s) rejected "
            "since the last reset")


def _paths(state_dir, port):
    return (os.path.join(state_dir, f"emulator-{port}.pid"), os.path.join(state_dir, f"emulator-{port}.log"))


def _read_pid(pid_file):
    try:
        with open(pid_file) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid):
    """True if pid runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_ours(pid):
    """True if pid is this launcher's `run` (so a reused pid is never signalled)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return _alive(pid)  # no /proc (macOS): trust the pid file
    return any(os.path.basename(a) == b"pocstack-emulator" for a in argv) and b"run" in argv


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError:
        return ""


def start(port, state_dir, throttle=0.0, registry="", data_plane="auto", listener_ports=DEFAULT_LISTENER_PORTS,
          strict="on"):
    endpoint = f"http://{HOST}:{port}"
    if answers(port):
        print(f"emulator already running at {endpoint}")
        print(data_plane_line(port))
        print(strict_line(port))
        return 0
    os.makedirs(state_dir, exist_ok=True)
    pid_file, log_file = _paths(state_dir, port)
    pid = _read_pid(pid_file)
    proc = None
    if not (pid and _alive(pid) and _is_ours(pid)):  # else: another start is still starting it
        with open(log_file, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, LAUNCHER, "run", "--port", str(port), "--throttle", str(throttle),
                 "--data-plane", data_plane, "--listener-ports", listener_ports, "--strict", strict,
                 *(["--registry", registry] if registry else [])],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True,
            )
        pid = proc.pid
        with open(pid_file, "w") as fh:
            fh.write(f"{pid}\n")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if answers(port):
            print(f"emulator running at {endpoint} (pid {pid}, log {log_file})")
            print(data_plane_line(port))
            print(strict_line(port))
            return 0
        if (proc.poll() is not None) if proc else not _alive(pid):
            break
        time.sleep(0.2)
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    if _read_pid(pid_file) == pid:
        os.unlink(pid_file)
    print(f"emulator did not start at {endpoint} within {START_TIMEOUT} s; end of {log_file}:\n{_tail(log_file)}",
          file=sys.stderr)
    return 1


def stop(port, state_dir):
    pid_file, _ = _paths(state_dir, port)
    pid = _read_pid(pid_file)
    if pid is None:
        note = " (but something answers there, not started from this state dir)" if answers(port) else ""
        print(f"emulator not running from {state_dir} on port {port}{note}")
        return 0
    if not (_alive(pid) and _is_ours(pid)):
        print(f"emulator (pid {pid}) was not running; removed stale {pid_file}")
        os.unlink(pid_file)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        print(f"emulator (pid {pid}) did not stop within {STOP_TIMEOUT} s; killed it")
    else:
        print(f"emulator (pid {pid}) on port {port} stopped")
    os.unlink(pid_file)
    return 0


def status(port):
    if answers(port):
        print(f"emulator running at http://{HOST}:{port}")
        print(data_plane_line(port))
        print(strict_line(port))
        return 0
    print(f"emulator not running at http://{HOST}:{port}")
    return NOT_RUNNING


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "run"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="port on 127.0.0.1 (default: $POCSTACK_EMULATOR_PORT or 4566)")
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help="pid and log files (default: %(default)s)")
    parser.add_argument("--throttle", type=float, default=float(os.environ.get("POCSTACK_EMULATOR_THROTTLE") or 0),
                        help="share of AWS calls answered with a throttling error, 0 to below 1 "
                             "(default: $POCSTACK_EMULATOR_THROTTLE or 0); POST /_pocstack/throttle changes it")
    parser.add_argument("--registry", default=os.environ.get(REGISTRY_ENV, ""),
                        help="forward the Docker registry API (/v2/) to this registry, e.g. http://127.0.0.1:5000 "
                             f"(default: ${REGISTRY_ENV}; none)")
    parser.add_argument("--data-plane", choices=["auto", "off"],
                        default=os.environ.get("POCSTACK_EMULATOR_DATA_PLANE") or "auto",
                        help="auto: run ECS tasks as containers when a Docker engine answers; off: never "
                             "(default: $POCSTACK_EMULATOR_DATA_PLANE or auto)")
    parser.add_argument("--listener-ports", default=DEFAULT_LISTENER_PORTS,
                        help="loopback ports of the first load balancer's listeners, AWS=LOCAL pairs "
                             "(default: $POCSTACK_EMULATOR_LISTENER_PORTS or %(default)s); auto: free ports for all")
    parser.add_argument("--strict", default=strict_default(),
                        help="on: refuse, as AWS does, requests whose parameters break the service model's "
                             "constraints (length, pattern, enum, range, required); off: hand them to moto "
                             f"(default: ${STRICT_ENV} or on)")
    args = parser.parse_args(argv)
    if args.strict not in ("on", "off"):
        parser.error(f"--strict (or ${STRICT_ENV}) must be on or off, got {args.strict!r}")
    if not 0 <= args.throttle < 1:
        parser.error(f"--throttle must be at least 0 and below 1, got {args.throttle}")
    if args.registry:
        from urllib.parse import urlsplit

        url = urlsplit(args.registry)
        if url.scheme not in ("http", "https") or not url.hostname:
            parser.error(f"--registry (or ${REGISTRY_ENV}) must be a URL such as http://127.0.0.1:5000, "
                         f"got {args.registry!r}")
    if args.command == "run":
        from pocstack_emulator.server import run

        return run(args.port, args.throttle, args.registry, args.data_plane, args.listener_ports,
                   strict=args.strict == "on")
    if args.command == "start":
        return start(args.port, os.path.abspath(args.state_dir), args.throttle, args.registry, args.data_plane,
                     args.listener_ports, args.strict)
    if args.command == "stop":
        return stop(args.port, os.path.abspath(args.state_dir))
    return status(args.port)


if __name__ == "__main__":
    sys.exit(main())
