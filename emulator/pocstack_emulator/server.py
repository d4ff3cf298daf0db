"""The emulator's WSGI application: moto's server behind the ECR registry
proxy, strict mode (AWS's parameter validation, `strict/`), a call counter
with throttling and fault injection, and the /_pocstack/ endpoints; `run`
serves it in the foreground."""
import collections
import json
import os
import random
import re
import signal
import threading
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from pocstack_emulator import ACM_VALIDATION_WAIT
from pocstack_emulator import HOST
from pocstack_emulator.ecr.registry import REGISTRY_ENV
from pocstack_emulator.ecr.registry import registry_proxy
from pocstack_emulator.ecr.registry import registry_url
from pocstack_emulator.fixes import PATCHES
from pocstack_emulator.fixes import apply_patches
from pocstack_emulator.strict import REJECTED
from pocstack_emulator.strict import StrictValidation
from pocstack_emulator.strict import read_body

READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Head", "Search", "Lookup")


class CallCounter:
    """WSGI middleware counting AWS API calls as service:Action, split into
    reads (Describe/List/Get/...) and writes, so tests can prove that nothing
    was changed; optionally answers a share of them with a throttling error
    (see Throttle). Calls that strict mode refused (`strict`, the
    StrictValidation inside, or None when it is off) are counted apart
    (GET /_pocstack/strict): they changed nothing. Serves /_pocstack/*; /moto-api/* and
    /_pocstack/* are neither counted nor throttled."""

    _scope = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")

    def __init__(self, app, throttle_rate=0.0, throttle_seed=None, strict=None):
        self.app = app
        self.strict = strict
        self.lock = threading.Lock()
        self.calls = collections.Counter()
        self.throttled = collections.Counter()
        self.rejected = collections.Counter()
        self.throttle = Throttle(throttle_rate, throttle_seed)
        self.faults = Faults()

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
                    self.throttled.clear()
                    self.rejected.clear()
                return self._json(start_response, self.snapshot())
            if path == "/_pocstack/strict" and method in ("GET", "HEAD"):
                return self._json(start_response, self.strict_snapshot())
            if path == "/_pocstack/dataplane" and method in ("GET", "HEAD"):
                from pocstack_emulator import dataplane

                plane = dataplane.PLANE
                return self._json(start_response, plane.describe() if plane else
                                  {"enabled": False, "reason": "not started", "engine": None, "registry": None,
                                   "tasks": [], "listeners": []})
            if path == "/_pocstack/throttle" and method == "POST":
                try:
                    settings = json.loads(self._body(environ) or b"{}")
                    self.throttle.configure(settings.get("rate", 0.0), settings.get("seed"))
                except (ValueError, TypeError, AttributeError) as e:
                    return self._json(start_response, {"error": str(e)}, "400 Bad Request")
                return self._json(start_response, self.snapshot())
            if path == "/_pocstack/faults" and method in ("GET", "HEAD"):
                return self._json(start_response, self.faults.describe())
            if path == "/_pocstack/faults" and method == "POST":
                try:
                    self.faults.configure(json.loads(self._body(environ) or b"{}"))
                except (ValueError, TypeError, AttributeError, KeyError) as e:
                    return self._json(start_response, {"error": str(e)}, "400 Bad Request")
                return self._json(start_response, self.faults.describe())
            if path == "/_pocstack/acm/hold":
                return self._acm_hold(environ, start_response, method)
            return self._json(start_response, {"error": f"no {method} {path}"}, "404 Not Found")
        if not path.startswith("/moto-api") and path != "/favicon.ico":
            name = self.call_name(environ)
            signed = self._scope.search(environ.get("HTTP_AUTHORIZATION", "")) is not None
            if signed and self.throttle.hit():
                with self.lock:
                    self.throttled[name] += 1
                return self.throttle.respond(environ, start_response, name)
            fault = self.faults.hit(name) if signed else None
            if fault:
                return fault.respond(environ, start_response, name)
            try:
                return self.app(environ, start_response)
            finally:
                with self.lock:
                    (self.rejected if environ.get(REJECTED) else self.calls)[name] += 1
        return self.app(environ, start_response)

    def _acm_hold(self, environ, start_response, method):
        """GET: the domain names whose ACM validation records do not resolve;
        POST {"domain_names": [...]}: set them ([] releases all)."""
        from pocstack_emulator.acm.fixes import HELD

        if method == "POST":
            try:
                names = json.loads(self._body(environ) or b"{}")["domain_names"]
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise ValueError("domain_names must be a list of domain names")
            except (ValueError, TypeError, KeyError) as e:
                return self._json(start_response, {"error": f"bad hold: {e}"}, "400 Bad Request")
            HELD.clear()
            HELD.update(n.lower().rstrip(".") for n in names)
        return self._json(start_response, {"domain_names": sorted(HELD)})

    def snapshot(self):
        with self.lock:
            calls = dict(sorted(self.calls.items()))
            throttled = dict(sorted(self.throttled.items()))
        reads = sum(n for name, n in calls.items() if is_read(name))
        return {
            "reads": reads,
            "writes": sum(calls.values()) - reads,
            "calls": calls,
            "throttled": sum(throttled.values()),
            "throttled_calls": throttled,
            "throttle_rate": self.throttle.rate,
        }

    def strict_snapshot(self):
        """GET /_pocstack/strict: whether strict mode is on, what it refused
        since the last reset (POST /_pocstack/calls/reset), and the model
        patterns it cannot check."""
        with self.lock:
            rejected = dict(sorted(self.rejected.items()))
        found = {"enabled": self.strict is not None, "rejected": sum(rejected.values()), "rejected_calls": rejected}
        found.update(self.strict.describe() if self.strict else {"patterns_skipped": []})
        return found

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
        body = CallCounter._body(environ)
        if not body:
            return None
        found = parse_qs(body.decode("utf-8", "replace")).get("Action")
        return found[0] if found else None

    @staticmethod
    def _body(environ):
        """The request body, left readable for moto (which reads it after us)."""
        return read_body(environ)

    @staticmethod
    def _json(start_response, data, status="200 OK"):
        body = json.dumps(data).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


class Throttle:
    """Answers a share of AWS API calls as AWS does when a caller exceeds its
    request rate, so that tests can prove every call is retried.

    AWS's throttling errors, by protocol (what botocore's retry handler and
    amazon.aws's AWSRetry recognise):
    - JSON protocols (X-Amz-Target: ECS, SSM, ECR, ACM, CloudWatch Logs,
      Application Auto Scaling): HTTP 400, {"__type": "ThrottlingException"}.
    - EC2's query protocol: HTTP 503, <Response><Errors><Error> with code
      RequestLimitExceeded.
    - other query and REST-XML protocols (ELBv2, IAM, STS, Route 53): HTTP
      400, <ErrorResponse><Error> with code Throttling.
    - S3 (REST-XML): HTTP 503, <Error> with code SlowDown ("Please reduce
      your request rate.", S3 API Reference, "Error responses"); a HEAD
      request's answer has no body, so botocore sees only the 503, which it
      retries as a transient error. Throttled as the others were (400 with a
      body), a HEAD request failed as "400 Bad Request", which nothing retries.
    The calls hit are drawn from a seeded generator: a run is repeatable.
    """

    def __init__(self, rate=0.0, seed=None):
        self.lock = threading.Lock()
        self.configure(rate, seed)

    def configure(self, rate, seed=None):
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"throttle rate must be at least 0 and below 1, got {rate}")
        with self.lock:
            self.rate = rate
            self.random = random.Random(seed)

    def hit(self):
        with self.lock:
            return self.rate > 0 and self.random.random() < self.rate

    @staticmethod
    def respond(environ, start_response, name):
        if environ.get("HTTP_X_AMZ_TARGET"):
            return aws_error(environ, start_response, name, "ThrottlingException", "Rate exceeded", 400)
        if name.startswith("ec2:"):
            return aws_error(environ, start_response, name, "RequestLimitExceeded", "Request limit exceeded.", 503)
        if name.startswith("s3:"):
            return aws_error(environ, start_response, name, "SlowDown", "Please reduce your request rate.", 503)
        return aws_error(environ, start_response, name, "Throttling", "Rate exceeded", 400)


def aws_error(environ, start_response, name, code, message, status):
    """An error answer in the shape of the call's protocol: JSON protocols
    (X-Amz-Target) {"__type", "message"}; EC2's query protocol
    <Response><Errors><Error>; S3's <Error> (none for HEAD, as S3 sends);
    other query and REST-XML protocols <ErrorResponse><Error>."""
    request_id = "00000000-0000-4000-8000-000000000000"
    reason = {400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error", 503: "Service Unavailable"}
    if environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = "application/x-amz-json-1.1"
    elif name.startswith("ec2:"):
        body = (f"<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
                f"</Errors><RequestID>{request_id}</RequestID></Response>").encode()
        content_type = "text/xml"
    elif name.startswith("s3:"):
        body = b"" if environ.get("REQUEST_METHOD") == "HEAD" else (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{escape(code)}</Code><Message>{escape(message)}"
            f"</Message><RequestId>{request_id}</RequestId></Error>").encode()
        content_type = "application/xml"
    else:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code><Message>{escape(message)}"
                f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        content_type = "text/xml"
    start_response(f"{status} {reason.get(status, 'Error')}", [
        ("Content-Type", content_type), ("Content-Length", str(len(body))), ("x-amzn-RequestId", request_id)])
    return [body]


class Fault:
    """One call to fail: `call` ("ecs:CreateService") after `after` of them
    passed, `times` times (0: every one from then on), with `code`, `message`
    and HTTP `status` (default: AWS's answer to a caller whose policy lacks
    the action, in the protocol's words)."""

    def __init__(self, call, after=0, times=1, code=None, message=None, status=None):
        if not isinstance(call, str) or ":" not in call:
            raise ValueError(f"call must be service:Action such as ecs:CreateService, got {call!r}")
        self.call = call
        self.after, self.times = int(after), int(times)
        if self.after < 0 or self.times < 0:
            raise ValueError("after and times must be 0 or more")
        service, action = call.split(":", 1)
        denied = {"ecs": "AccessDeniedException", "ssm": "AccessDeniedException", "ecr": "AccessDeniedException",
                  "logs": "AccessDeniedException", "acm": "AccessDeniedException",
                  "application-autoscaling": "AccessDeniedException", "ec2": "UnauthorizedOperation"}
        self.code = code or denied.get(service, "AccessDenied")
        self.status = int(status or (400 if self.code == "AccessDeniedException" else 403))
        who = "arn:aws:sts::123456789012:assumed-role/pocstack-deployer/session"
        words = (f"User: {who} is not authorized to perform: {service}:{action} on resource: * "
                 f"because no identity-based policy allows the {service}:{action} action")
        self.message = message or (f"You are not authorized to perform this operation. {words}"
                                   if self.code == "UnauthorizedOperation" else words)
        self.seen = self.failed = 0

    def describe(self):
        return {"call": self.call, "after": self.after, "times": self.times, "code": self.code,
                "message": self.message, "status": self.status, "seen": self.seen, "failed": self.failed}

    def respond(self, environ, start_response, name):
        return aws_error(environ, start_response, name, self.code, self.message, self.status)


class Faults:
    """The calls to fail (POST /_pocstack/faults {"call": ..., ...} adds one,
    {"clear": true} forgets them all); a failed call never reaches moto and is
    counted under `failed` of its fault, not as a call."""

    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []

    def configure(self, settings):
        with self.lock:
            if settings.get("clear"):
                self.faults = []
            if settings.get("call"):
                self.faults.append(Fault(**{k: v for k, v in settings.items() if k != "clear"}))

    def describe(self):
        with self.lock:
            return {"faults": [f.describe() for f in self.faults]}

    def hit(self, name):
        with self.lock:
            for fault in self.faults:
                if fault.call != name:
                    continue
                fault.seen += 1
                if fault.seen > fault.after and (fault.times == 0 or fault.failed < fault.times):
                    fault.failed += 1
                    return fault
            return None


def is_read(name):
    """'ecs:DescribeServices' -> True; 'ecs:CreateService' -> False."""
    return name.split(":", 1)[-1].startswith(READ_PREFIXES)


class Serialized:
    """WSGI middleware: one moto call at a time, under the data plane's lock, so
    that its threads (tasks, scheduler, health checks) and the API never see a
    half-made change of each other's. moto answers in milliseconds; the
    registry's streamed /v2/ traffic is outside (RegistryProxy wraps this)."""

    def __init__(self, app, lock):
        self.app = app
        self.lock = lock

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


def make_app(throttle_rate=0.0, throttle_seed=None, lock=None, strict=True):
    """The middleware chain, outermost first: CallCounter (our endpoints,
    counting, throttling: AWS throttles before it reads a request) ->
    StrictValidation (AWS's parameter validation; not with strict=False) ->
    RegistryProxy (/v2/) -> Serialized (the data plane's lock) -> moto."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.moto_server.werkzeug_app import create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    if lock is not None:
        app = Serialized(app, lock)
    app = registry_proxy(app, lock)
    validation = StrictValidation(app) if strict else None
    return CallCounter(validation or app, throttle_rate, throttle_seed, strict=validation)


# ----------------------------------------------------------------------- server
def run(port, throttle=0.0, registry="", data_plane="auto", listener_ports="443=8443,80=8080", strict=True):
    """Serve in the foreground until SIGTERM/SIGINT (exit 0)."""
    if registry:
        os.environ[REGISTRY_ENV] = registry
    os.environ.setdefault("MOTO_PORT", str(port))  # as moto_server does: moto's self-references
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", str(ACM_VALIDATION_WAIT))  # read when moto is imported
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    apply_patches()
    from pocstack_emulator import dataplane

    plane = dataplane.start(port, registry_url(), data_plane, listener_ports)
    app = make_app(throttle, lock=plane.lock, strict=strict)

    def interrupt(*_):
        raise KeyboardInterrupt  # werkzeug's serve_forever catches it and closes the socket

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    print(f"pocstack emulator on http://{HOST}:{port}, throttle rate {throttle}, "
          f"strict mode {'on' if strict else 'off'}, "
          f"ACM validation wait {os.environ['MOTO_ACM_VALIDATION_WAIT']} s, "
          f"fixes: {', '.join(p.__name__ for p in PATCHES)}", flush=True)
    if registry_url():
        print(f"ECR registry: /v2/ forwarded to {registry_url()}", flush=True)
    if plane.enabled:
        print(f"data plane: ECS tasks run as containers on {plane.engine}", flush=True)
    else:
        print(f"data plane off: {plane.reason}; ECS services get no tasks (control plane only)", flush=True)
    try:
        run_simple(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    finally:
        if plane.enabled:
            plane.stop()
    print("pocstack emulator stopped", flush=True)
    return 0
