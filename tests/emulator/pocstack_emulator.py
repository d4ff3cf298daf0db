#!/usr/bin/env python3
"""The embedded local AWS emulator: a moto server on 127.0.0.1 with fidelity fixes.

    python tests/emulator/pocstack_emulator.py start|stop|status|run [--port 4566] [--state-dir DIR]

`start` runs `run` in the background (pid and log in DIR, default
.pocstack/emulator), waits until it answers and returns; it does nothing when
the emulator already answers. `stop` ends it (SIGTERM, then SIGKILL after
10 s) and is not an error when nothing runs. `status` exits 0 if it answers,
3 if not. `run` serves in the foreground. The port defaults to
$POCSTACK_EMULATOR_PORT or 4566; only 127.0.0.1 is ever bound.

Besides moto's API the server answers:
  GET  /_pocstack/health        {"status": "ok"} (how start/status recognise it)
  GET  /_pocstack/calls         {"reads": n, "writes": m, "calls": {"ecs:CreateService": k}}
  POST /_pocstack/calls/reset   zero the counters
  POST /moto-api/reset          forget every resource (moto's own)

Each fix in PATCHES makes moto answer as AWS does where the project depends
on it; tests/emulator/README.md lists them, tests/integration/emulator tests them.
Standard library, moto and werkzeug only.
"""
from __future__ import annotations

import argparse
import collections
import inspect
import io
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
from urllib.parse import parse_qs

HOST = "127.0.0.1"
DEFAULT_PORT = int(os.environ.get("POCSTACK_EMULATOR_PORT") or 4566)
DEFAULT_STATE_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".pocstack", "emulator")
)
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Head", "Search", "Lookup")
START_TIMEOUT = 60
STOP_TIMEOUT = 10
NOT_RUNNING = 3


# ------------------------------------------------------------------------ fixes
# Each fix is small, says what AWS really returns, and is tested in
# tests/integration/emulator/test_emulator.py. Never bend role logic to moto.

def patch_elbv2_alb_default_attributes():
    """ELBv2 DescribeLoadBalancerAttributes.

    AWS: an application load balancer reports every attribute, with its
    default, from the moment it exists (idle_timeout.timeout_seconds 60,
    routing.http2.enabled true, desync mitigation "defensive", cross-zone
    load balancing always true for ALBs, ...).
    moto 5.2.5: returns only access_logs.s3.bucket/prefix,
    deletion_protection.enabled and load_balancing.cross_zone.enabled (false)
    until an attribute is set, so amazon.aws.elb_application_lb with
    `idle_timeout` fails with KeyError 'idle_timeout_timeout_seconds'.
    Fix: new ALBs start with AWS's defaults (values set later still win).
    """
    from moto.elbv2 import models

    defaults = {
        "access_logs.s3.enabled": "false",
        "access_logs.s3.bucket": "",
        "access_logs.s3.prefix": "",
        "client_keep_alive.seconds": "3600",
        "connection_logs.s3.enabled": "false",
        "connection_logs.s3.bucket": "",
        "connection_logs.s3.prefix": "",
        "deletion_protection.enabled": "false",
        "idle_timeout.timeout_seconds": "60",
        "load_balancing.cross_zone.enabled": "true",
        "routing.http.desync_mitigation_mode": "defensive",
        "routing.http.drop_invalid_header_fields.enabled": "false",
        "routing.http.preserve_host_header.enabled": "false",
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
        "routing.http.xff_client_port.enabled": "false",
        "routing.http.xff_header_processing.mode": "append",
        "routing.http2.enabled": "true",
        "waf.fail_open.enabled": "false",
        "zonal_shift.config.enabled": "false",
    }
    original = models.FakeLoadBalancer.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.type == "application":
            self.attrs.update(defaults)

    models.FakeLoadBalancer.__init__ = __init__


def patch_elbv2_set_rule_priorities():
    """ELBv2 SetRulePriorities.

    AWS: applies all given priorities at once and rejects the call only if
    the *resulting* rules of a listener share a priority, so two rules can be
    swapped in one call and setting a rule to its own priority is a no-op.
    moto 5.2.5: checks each new priority against the current ones, including
    the rule being moved, so both of those answer PriorityInUse.
    Fix: validate the listener's final state instead.
    """
    from moto.elbv2 import models
    from moto.elbv2.exceptions import DuplicatePriorityError, PriorityInUseError

    def set_rule_priorities(self, rule_priorities):
        priorities = [rp["Priority"] for rp in rule_priorities]
        for priority in set(priorities):
            if priorities.count(priority) > 1:
                raise DuplicatePriorityError(priority)
        moves = [(self.describe_rules(None, [rp["RuleArn"]])[0], rp["Priority"]) for rp in rule_priorities]
        new = {rule.arn: priority for rule, priority in moves}
        for rule, priority in moves:
            listener = self.describe_listeners(None, [rule.listener_arn])[0]
            for other in listener.rules.values():
                if other.arn != rule.arn and new.get(other.arn, other.priority) == priority:
                    raise PriorityInUseError()
        for rule, priority in moves:
            rule.priority = priority
        return [rule for rule, _ in moves]

    models.ELBv2Backend.set_rule_priorities = set_rule_priorities


ECS_DEPLOYMENT_DEFAULTS = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def patch_ecs_service_deployment_fields():
    """ECS deploymentConfiguration and healthCheckGracePeriodSeconds.

    AWS: CreateService stores both and CreateService, UpdateService and
    DescribeServices return them. deploymentConfiguration defaults to
    maximumPercent 200, minimumHealthyPercent 100 and circuit breaker
    {enable: false, rollback: false}; healthCheckGracePeriodSeconds defaults
    to 0 for a service behind a load balancer (a service without one and
    without the parameter does not report it).
    moto 5.2.5: CreateService accepts and drops both; UpdateService replaces
    deploymentConfiguration wholesale (community.aws.ecs_service sends {} when
    none is configured, which erased it).
    Fix: store both on create with AWS's defaults; UpdateService merges the
    given deploymentConfiguration keys into the stored ones.
    """
    from moto.ecs import responses

    cls = responses.EC2ContainerServiceResponse
    original_create, original_update = cls.create_service, cls.update_service

    def merged(current, given):
        result = {**ECS_DEPLOYMENT_DEFAULTS, **(current or {}), **(given or {})}
        result["deploymentCircuitBreaker"] = {
            **ECS_DEPLOYMENT_DEFAULTS["deploymentCircuitBreaker"],
            **((current or {}).get("deploymentCircuitBreaker") or {}),
            **((given or {}).get("deploymentCircuitBreaker") or {}),
        }
        return result

    def create_service(self):
        result = original_create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        service.deployment_configuration = merged(None, self._get_param("deploymentConfiguration"))
        grace = self._get_param("healthCheckGracePeriodSeconds")
        if grace is None and service.load_balancers:
            grace = 0
        service.health_check_grace_period_seconds = None if grace is None else int(grace)
        return result

    def update_service(self):
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
        current = getattr(service, "deployment_configuration", None)
        result = original_update(self)
        given = self._get_param("deploymentConfiguration")
        service.deployment_configuration = merged(current, given)
        return result

    cls.create_service, cls.update_service = create_service, update_service


def patch_ecs_service_awsvpc_defaults():
    """ECS awsvpcConfiguration without securityGroups / assignPublicIp.

    AWS: a service whose awsvpcConfiguration names no securityGroups runs its
    tasks in the VPC's default security group and reports that group;
    assignPublicIp defaults to DISABLED and is always reported.
    moto 5.2.5: CreateService answers HTTP 500 (KeyError 'securityGroups');
    assignPublicIp is reported only when given.
    Fix: fill in the default group of the first subnet's VPC and DISABLED,
    on CreateService and UpdateService.
    """
    from moto.ec2.models import ec2_backends
    from moto.ecs import models

    def fill(backend, network_configuration):
        conf = (network_configuration or {}).get("awsvpcConfiguration")
        if not conf or not conf.get("subnets"):
            return
        if not conf.get("securityGroups"):
            ec2 = ec2_backends[backend.account_id][backend.region_name]
            vpc_id = ec2.get_subnet(conf["subnets"][0]).vpc_id
            conf["securityGroups"] = [ec2.get_security_group_from_name("default", vpc_id=vpc_id).id]
        conf.setdefault("assignPublicIp", "DISABLED")

    backend_cls = models.EC2ContainerServiceBackend
    original_create, original_update = backend_cls.create_service, backend_cls.update_service

    def create_service(self, *args, **kwargs):
        fill(self, kwargs.get("network_configuration"))
        return original_create(self, *args, **kwargs)

    def update_service(self, service_properties):
        fill(self, service_properties.get("network_configuration"))
        return original_update(self, service_properties)

    backend_cls.create_service, backend_cls.update_service = create_service, update_service


def patch_acm_imported_certificate_chain():
    """ACM GetCertificate for an imported certificate.

    AWS: CertificateChain is the chain that was imported; a certificate
    imported without a chain returns the certificate itself as its chain.
    community.aws.acm_certificate relies on exactly that to find a re-import
    unchanged (its own integration tests against AWS assert `not changed`).
    moto 5.2.5: appends a fixed Amazon root CA to the given chain, or returns
    that root alone, so every re-import of the same certificate reports
    `changed` and overwrites it.
    Fix: imported certificates return the imported chain, else the certificate.
    """
    from moto.acm import models

    original = models.CertBundle.__init__
    signature = inspect.signature(original)

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.type == "IMPORTED":
            given = signature.bind(self, *args, **kwargs).arguments
            chain = given.get("chain")
            self.chain = chain.strip() + b"\n" if chain else given["certificate"]

    models.CertBundle.__init__ = __init__


def patch_acm_reimport_keeps_tags():
    """ACM ImportCertificate with CertificateArn (re-import).

    AWS: re-importing into an existing ARN replaces the certificate but keeps
    the ARN, its tags and its associations (AWS does not take tags on a
    re-import at all).
    moto 5.2.5: replaces the whole record, so every tag (e.g. the Name tag
    acm_certificate finds its certificate by) is lost.
    Fix: carry the old tags and in-use list over to the new record.
    """
    from moto.acm import models

    backend_cls = models.AWSCertificateManagerBackend
    original = backend_cls.import_certificate

    def import_certificate(self, certificate, private_key, chain, arn, tags):
        old = self._certificates.get(arn) if arn else None
        result = original(self, certificate, private_key, chain, arn, tags)
        if old is not None:
            new = self._certificates[result]
            kept = old.tags.copy()
            kept.update(new.tags)
            new.tags.clear()
            new.tags.update(kept)
            new.in_use_by = old.in_use_by
        return result

    backend_cls.import_certificate = import_certificate


PATCHES = [
    patch_elbv2_alb_default_attributes,
    patch_elbv2_set_rule_priorities,
    patch_ecs_service_deployment_fields,
    patch_ecs_service_awsvpc_defaults,
    patch_acm_imported_certificate_chain,
    patch_acm_reimport_keeps_tags,
]


def apply_patches():
    for patch in PATCHES:
        patch()


# ---------------------------------------------------------------- call counting
class CallCounter:
    """WSGI middleware counting AWS API calls as service:Action, split into
    reads (Describe/List/Get/...) and writes, so tests can prove that nothing
    was changed. Serves /_pocstack/*; /moto-api/* and /_pocstack/* are not
    counted."""

    _scope = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.calls = collections.Counter()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_pocstack/"):
            if path == "/_pocstack/health" and method in ("GET", "HEAD"):
                return self._json(start_response, {"status": "ok"})
            if path == "/_pocstack/calls" and method in ("GET", "HEAD"):
                return self._json(start_response, self.snapshot())
            if path == "/_pocstack/calls/reset" and method == "POST":
                with self.lock:
                    self.calls.clear()
                return self._json(start_response, self.snapshot())
            return self._json(start_response, {"error": f"no {method} {path}"}, "404 Not Found")
        if not path.startswith("/moto-api") and path != "/favicon.ico":
            name = self.call_name(environ)
            with self.lock:
                self.calls[name] += 1
        return self.app(environ, start_response)

    def snapshot(self):
        with self.lock:
            calls = dict(sorted(self.calls.items()))
        reads = sum(n for name, n in calls.items() if is_read(name))
        return {"reads": reads, "writes": sum(calls.values()) - reads, "calls": calls}

    def call_name(self, environ):
        match = self._scope.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = match.group(1) if match else "unknown"
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:  # JSON protocols: "AmazonEC2ContainerServiceV20141113.CreateCluster"
            return f"{service}:{target.rsplit('.', 1)[-1]}"
        action = self._query_action(environ)
        if action:  # query protocols (EC2, ELBv2, IAM, STS): Action=...
            return f"{service}:{action}"
        # REST protocols: no action name on the wire; GET/HEAD count as reads.
        method = environ.get("REQUEST_METHOD", "GET")
        verb = {"GET": "Get", "HEAD": "Head"}.get(method, method.title())
        return f"{service}:{verb} {environ.get('PATH_INFO', '')}"

    @staticmethod
    def _query_action(environ):
        found = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
        if found:
            return found[0]
        if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if length <= 0:
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads the body after us
        found = parse_qs(body.decode("utf-8", "replace")).get("Action")
        return found[0] if found else None

    @staticmethod
    def _json(start_response, data, status="200 OK"):
        body = json.dumps(data).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def is_read(name):
    """'ecs:DescribeServices' -> True; 'ecs:CreateService' -> False."""
    return name.split(":", 1)[-1].startswith(READ_PREFIXES)


def make_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return CallCounter(DomainDispatcherApplication(create_backend_app))


# ----------------------------------------------------------------------- server
def run(port):
    """Serve in the foreground until SIGTERM/SIGINT (exit 0)."""
    os.environ.setdefault("MOTO_PORT", str(port))  # as moto_server does: moto's self-references
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    apply_patches()
    app = make_app()

    def interrupt(*_):
        raise KeyboardInterrupt  # werkzeug's serve_forever catches it and closes the socket

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    print(f"pocstack emulator on http://{HOST}:{port}, fixes: {', '.join(p.__name__ for p in PATCHES)}", flush=True)
    run_simple(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    print("pocstack emulator stopped", flush=True)
    return 0


def answers(port, timeout=1.0):
    """True if our emulator (not just anything) answers on 127.0.0.1:port."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/_pocstack/health", timeout=timeout) as resp:
            return json.load(resp).get("status") == "ok"
    except (urllib.error.URLError, OSError, ValueError, AttributeError):
        return False


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
    return any(os.path.basename(a) == b"pocstack_emulator.py" for a in argv) and b"run" in argv


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError:
        return ""


def start(port, state_dir):
    endpoint = f"http://{HOST}:{port}"
    if answers(port):
        print(f"emulator already running at {endpoint}")
        return 0
    os.makedirs(state_dir, exist_ok=True)
    pid_file, log_file = _paths(state_dir, port)
    pid = _read_pid(pid_file)
    proc = None
    if not (pid and _alive(pid) and _is_ours(pid)):  # else: another start is still starting it
        with open(log_file, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "run", "--port", str(port)],
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
        return 0
    print(f"emulator not running at http://{HOST}:{port}")
    return NOT_RUNNING


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "run"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="port on 127.0.0.1 (default: $POCSTACK_EMULATOR_PORT or 4566)")
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help="pid and log files (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.port)
    if args.command == "start":
        return start(args.port, os.path.abspath(args.state_dir))
    if args.command == "stop":
        return stop(args.port, os.path.abspath(args.state_dir))
    return status(args.port)


if __name__ == "__main__":
    sys.exit(main())
