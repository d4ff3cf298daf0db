#!/usr/bin/env python3
"""The embedded local AWS emulator: a moto server on 127.0.0.1 with fidelity fixes.

    python tests/emulator/pocstack_emulator.py start|stop|status|run [--port 4566] [--state-dir DIR]

`start` runs `run` in the background, waits until it answers and returns;
`stop` ends it (SIGTERM, then SIGKILL after 10 s); `status` exits 0 if it
answers, 3 if not. The port defaults to $POCSTACK_EMULATOR_PORT or 4566.

Besides moto's API the server answers:
  GET  /_pocstack/health        {"status": "ok"} (how start/status recognise it)
  GET  /_pocstack/calls         {"reads": n, "writes": m, "calls": {"ecs:CreateService": k}}
  POST /_pocstack/calls/reset   zero the counters
  POST /moto-api/reset          forget every resource (moto's own)

Each fix in PATCHES makes moto answer as AWS does where our roles depend on
it; tests/emulator/README.md lists them and tests/integration/emulator tests them.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

DEFAULT_PORT = int(os.environ.get("POCSTACK_EMULATOR_PORT", "4566"))
DEFAULT_STATE_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".pocstack", "emulator")
)
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Head", "Search", "Lookup")


# --------------------------------------------------------------------------- fixes
def patch_elbv2_default_attributes():
    """AWS returns every load balancer attribute from DescribeLoadBalancerAttributes,
    with its default value, from the moment an ALB exists (idle_timeout 60,
    http2 on, ...). moto 5.2.5 leaves several out until they are set, and
    amazon.aws.elb_application_lb then fails with KeyError
    'idle_timeout_timeout_seconds' when asked for an idle timeout."""
    from moto.elbv2 import models

    defaults = {
        "access_logs.s3.enabled": "false",
        "access_logs.s3.bucket": "",
        "access_logs.s3.prefix": "",
        "deletion_protection.enabled": "false",
        "idle_timeout.timeout_seconds": "60",
        "routing.http2.enabled": "true",
        "routing.http.drop_invalid_header_fields.enabled": "false",
        "routing.http.desync_mitigation_mode": "defensive",
        "routing.http.preserve_host_header.enabled": "false",
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
        "routing.http.xff_client_port.enabled": "false",
        "routing.http.xff_header_processing.mode": "append",
        "waf.fail_open.enabled": "false",
        "client_keep_alive.seconds": "3600",
    }
    original = models.FakeLoadBalancer.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.type == "application":
            for key, value in defaults.items():
                self.attrs.setdefault(key, value)

    models.FakeLoadBalancer.__init__ = __init__


def patch_ecs_service_deployment_configuration():
    """AWS stores CreateService's deploymentConfiguration and
    healthCheckGracePeriodSeconds and returns them from CreateService,
    UpdateService and DescribeServices (defaults when not given: maximum 200 %,
    minimum healthy 100 %, circuit breaker off; grace period 0). moto 5.2.5
    accepts and drops them on create (UpdateService already keeps them)."""
    from moto.ecs import responses

    original = responses.EC2ContainerServiceResponse.create_service

    def create_service(self):
        result = original(self)
        service = self.ecs_backend._get_service(
            self._get_param("cluster", "default"), self._get_param("serviceName")
        )
        given = self._get_param("deploymentConfiguration") or {}
        service.deployment_configuration = {
            "deploymentCircuitBreaker": {"enable": False, "rollback": False},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            **given,
        }
        service.health_check_grace_period_seconds = self._get_int_param("healthCheckGracePeriodSeconds") or 0
        return result

    responses.EC2ContainerServiceResponse.create_service = create_service


def patch_ecs_service_default_security_group():
    """AWS runs awsvpc tasks in the VPC's default security group when
    awsvpcConfiguration has no securityGroups; moto 5.2.5 answers HTTP 500."""
    from moto.ec2.models import ec2_backends
    from moto.ecs import models

    original = models.EC2ContainerServiceBackend.create_service

    def create_service(self, *args, **kwargs):
        conf = (kwargs.get("network_configuration") or {}).get("awsvpcConfiguration")
        if conf and conf.get("subnets") and not conf.get("securityGroups"):
            ec2 = ec2_backends[self.account_id][self.region_name]
            vpc_id = ec2.get_subnet(conf["subnets"][0]).vpc_id
            default = ec2.get_security_group_from_name("default", vpc_id=vpc_id)
            conf["securityGroups"] = [default.id]
        return original(self, *args, **kwargs)

    models.EC2ContainerServiceBackend.create_service = create_service


PATCHES = [
    patch_elbv2_default_attributes,
    patch_ecs_service_deployment_configuration,
    patch_ecs_service_default_security_group,
]


# ------------------------------------------------------------------ call counting
class CallCounter:
    """WSGI middleware counting AWS API calls by service:Action, split into
    reads and writes, so tests can prove that nothing was changed."""

    _scope = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.calls = collections.Counter()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/_pocstack/health":
            return self._json(start_response, {"status": "ok"})
        if path == "/_pocstack/calls":
            if environ["REQUEST_METHOD"] == "POST":
                with self.lock:
                    self.calls.clear()
            return self._json(start_response, self.snapshot())
        if path == "/_pocstack/calls/reset":
            with self.lock:
                self.calls.clear()
            return self._json(start_response, self.snapshot())
        if not path.startswith("/moto-api"):
            name = self._call_name(environ)
            with self.lock:
                self.calls[name] += 1
        return self.app(environ, start_response)

    def snapshot(self):
        with self.lock:
            calls = dict(sorted(self.calls.items()))
        reads = sum(n for k, n in calls.items() if k.split(":", 1)[1].startswith(READ_PREFIXES))
        return {"reads": reads, "writes": sum(calls.values()) - reads, "calls": calls}

    def _call_name(self, environ):
        match = self._scope.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = match.group(1) if match else "unknown"
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return f"{service}:{target.rsplit('.', 1)[-1]}"
        action = self._query_action(environ)
        if action:
            return f"{service}:{action}"
        # REST protocols: name the call by method (GET/HEAD read, others write).
        method = environ["REQUEST_METHOD"]
        return f"{service}:{'Get' if method in ('GET', 'HEAD') else method.title()}{environ.get('PATH_INFO', '')}"

    @staticmethod
    def _query_action(environ):
        from urllib.parse import parse_qs

        found = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
        if found:
            return found[0]
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            # Put the body back for moto.
            import io

            environ["wsgi.input"] = io.BytesIO(body)
            found = parse_qs(body.decode("utf-8", "replace")).get("Action")
            return found[0] if found else None
        return None

    @staticmethod
    def _json(start_response, data):
        body = json.dumps(data).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


# ------------------------------------------------------------------------- server
def run(port):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    for patch in PATCHES:
        patch()
    app = CallCounter(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"pocstack emulator serving on http://127.0.0.1:{port}", flush=True)
    server.serve_forever()
    return 0


def answers(port, timeout=1.0):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_pocstack/health", timeout=timeout) as resp:
            return json.load(resp).get("status") == "ok"
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _files(state_dir, port):
    os.makedirs(state_dir, exist_ok=True)
    return (os.path.join(state_dir, f"emulator-{port}.pid"), os.path.join(state_dir, f"emulator-{port}.log"))


def start(port, state_dir):
    endpoint = f"http://127.0.0.1:{port}"
    if answers(port):
        print(f"emulator already running at {endpoint}")
        return 0
    pid_file, log_file = _files(state_dir, port)
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "run", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    with open(pid_file, "w") as fh:
        fh.write(str(proc.pid))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if answers(port):
            print(f"emulator running at {endpoint} (pid {proc.pid}, log {log_file})")
            return 0
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    with open(log_file, errors="replace") as fh:
        tail = fh.readlines()[-20:]
    print(f"emulator did not start at {endpoint}; last lines of {log_file}:\n{''.join(tail)}", file=sys.stderr)
    if proc.poll() is None:
        proc.kill()
    os.unlink(pid_file)
    return 1


def stop(port, state_dir):
    pid_file, _ = _files(state_dir, port)
    try:
        with open(pid_file) as fh:
            pid = int(fh.read().strip())
    except (OSError, ValueError):
        print(f"no emulator started from {state_dir} on port {port}")
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
        print(f"emulator (pid {pid}) did not stop in 10 s; killed")
    except ProcessLookupError:
        print(f"emulator (pid {pid}) stopped")
    os.unlink(pid_file)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "run"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR)
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.port)
    if args.command == "start":
        return start(args.port, args.state_dir)
    if args.command == "stop":
        return stop(args.port, args.state_dir)
    running = answers(args.port)
    print(f"emulator {'running at' if running else 'not running at'} http://127.0.0.1:{args.port}")
    return 0 if running else 3


if __name__ == "__main__":
    sys.exit(main())
