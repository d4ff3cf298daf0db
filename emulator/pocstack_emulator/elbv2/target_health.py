"""Target health: the emulator health-checks registered targets as an ALB does.

moto 5.2.5 reports every registered target `healthy` the moment it is
registered, and forgets a deregistered one at once. Here, with the data plane
on, every target of a target group some listener forwards to is checked with
the group's own settings (protocol, port or traffic-port, path, matcher,
interval, timeout, healthy and unhealthy thresholds), and DescribeTargetHealth
reports what was seen, with AWS's states and reason codes:

| state | reason | when |
|---|---|---|
| initial | Elb.InitialHealthChecking | registered, thresholds not reached yet |
| healthy | - | HealthyThresholdCount checks in a row answered the matcher's codes |
| unhealthy | Target.ResponseCodeMismatch | UnhealthyThresholdCount checks answered another code |
| unhealthy | Target.Timeout | ... did not answer within HealthCheckTimeoutSeconds |
| unhealthy | Target.FailedHealthChecks | ... refused or reset the connection |
| unused | Target.NotInUse | no listener or rule forwards to the group (no checks run) |
| unused | Target.HealthCheckDisabled | health checks disabled on the group |
| draining | Target.DeregistrationInProgress | deregistered, for the group's deregistration delay |

Checks go only to 127.0.0.1: a target is reachable when the data plane knows
which published port stands for its private IP and port (a task's
container) and the task's security groups accept the load balancers that
forward to the group on that port; any other target is never sent to and
times out, as an address nothing answers at (or a security group drops) would
on AWS.
"""
import concurrent.futures
import http.client
import ssl
import threading
import time

from pocstack_emulator.elbv2.fixes import forwarding_load_balancers

TICK = 0.25
USER_AGENT = "ELB-HealthChecker/2.0"

INITIAL = ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress")
NOT_IN_USE = ("unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer")
DISABLED = ("unused", "Target.HealthCheckDisabled", "Health checks are disabled for the target group")
DRAINING = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
HEALTHY = ("healthy", None, None)


def matcher_accepts(matcher, code):
    """The target group's matcher ("200", "200,202", "200-299") accepts `code`."""
    spec = (matcher or {}).get("HttpCode") or "200"
    for part in str(spec).split(","):
        part = part.strip()
        if "-" in part:
            low, high = part.split("-", 1)
            if int(low) <= code <= int(high):
                return True
        elif part and int(part) == code:
            return True
    return False


def probe(address, group):
    """One health check: (ok, reason, description)."""
    timeout = float(group.health_check_timeout_seconds or 5)
    if address is None:  # nothing on loopback stands for this target: as an address that never answers
        time.sleep(min(timeout, 1.0))
        return False, "Target.Timeout", "Request timed out"
    host, port = address
    path = group.health_check_path or "/"
    try:
        if (group.health_check_protocol or group.protocol) == "HTTPS":
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Connection": "close"})
            code = conn.getresponse().status
        finally:
            conn.close()
    except TimeoutError:
        return False, "Target.Timeout", "Request timed out"
    except OSError:
        return False, "Target.FailedHealthChecks", "Health checks failed"
    except http.client.HTTPException:
        return False, "Target.FailedHealthChecks", "Health checks failed"
    if matcher_accepts(group.matcher, code):
        return True, None, None
    return False, "Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{code}]"


class Probe:
    """What the checker knows of one target of one group."""

    def __init__(self):
        self.state, self.reason, self.description = INITIAL
        self.ok = self.failed = 0
        self.next_at = 0.0
        self.busy = False
        self.last = None  # the last failure (reason, description), reported when unhealthy

    def apply(self, ok, reason, description, group):
        healthy_after = int(group.healthy_threshold_count or 5)
        unhealthy_after = int(group.unhealthy_threshold_count or 2)
        if ok:
            self.ok, self.failed = self.ok + 1, 0
            if self.ok >= healthy_after:
                self.state, self.reason, self.description = HEALTHY
        else:
            self.ok, self.failed = 0, self.failed + 1
            self.last = (reason, description)
            if self.failed >= unhealthy_after:
                self.state, self.reason, self.description = "unhealthy", reason, description


class TargetHealth:
    """The checker: a thread that looks at every target group of every ELBv2
    backend in use, and the answers of DescribeTargetHealth."""

    def __init__(self, lock, resolve, backends):
        self.lock = lock
        self.resolve = resolve  # (target id, port) -> (host, port) on loopback, or None
        self.backends = backends  # () -> [ELBv2 backends]
        self.probes = {}  # (group arn, target id, port) -> Probe
        self.draining = {}  # (group arn, target id, port) -> monotonic deadline
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="health-check")
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="target-health", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def reset(self):
        with self.lock:
            self.probes.clear()
            self.draining.clear()

    # -- what DescribeTargetHealth answers ------------------------------------
    def describe(self, group, target_id, port):
        """(state, reason, description) of a target, or None when it is neither registered nor draining."""
        key = (group.arn, target_id, int(port) if port is not None else None)
        if key in self.draining:
            return DRAINING
        if target_id not in group.targets:
            return None
        if not group.health_check_enabled:
            return DISABLED
        if not self._in_use(group):
            return NOT_IN_USE
        found = self.probes.get(key)
        return (found.state, found.reason, found.description) if found else INITIAL

    def deregistered(self, group, targets):
        """Called (under the lock) as targets leave a group: they drain for its deregistration delay."""
        delay = float(group.attributes.get("deregistration_delay.timeout_seconds", 300))
        for target in targets:
            port = int(target.get("Port") or group.port or 0)
            key = (group.arn, target["Id"], port)
            self.probes.pop(key, None)
            if delay > 0:
                self.draining[key] = time.monotonic() + delay

    def registered(self, group, targets):
        """Called (under the lock) as targets join a group: a draining target registered again is back."""
        for target in targets:
            port = int(target.get("Port") or group.port or 0)
            self.draining.pop((group.arn, target["Id"], port), None)

    def forget_group(self, group_arn):
        """The group is deleted: its health checks and draining targets go with it."""
        for key in [k for k in self.probes if k[0] == group_arn]:
            del self.probes[key]
        for key in [k for k in self.draining if k[0] == group_arn]:
            del self.draining[key]

    def draining_targets(self, group):
        return [(target_id, port) for (arn, target_id, port) in self.draining if arn == group.arn]

    # -- the checker -----------------------------------------------------------
    def _in_use(self, group):
        for backend in self.backends():
            if group.arn in backend.target_groups:
                return group.arn in forwarding_load_balancers(backend)
        return False

    def _loop(self):
        while not self.stopping.wait(TICK):
            try:
                self._tick()
            except Exception as e:  # never let one odd group stop every check
                print(f"target health: {type(e).__name__}: {e}", flush=True)

    def _tick(self):
        now = time.monotonic()
        due = []
        with self.lock:
            for key, deadline in list(self.draining.items()):
                if now >= deadline:
                    del self.draining[key]
            live = set()
            for backend in self.backends():
                users = forwarding_load_balancers(backend)  # group ARN -> ARNs of the load balancers
                for group in backend.target_groups.values():
                    if group.protocol not in ("HTTP", "HTTPS") or not group.health_check_enabled:
                        continue
                    for target in group.targets.values():
                        port = int(target.get("Port") or group.port)
                        key = (group.arn, target["Id"], port)
                        live.add(key)
                        probe_ = self.probes.setdefault(key, Probe())
                        if group.arn not in users:
                            continue
                        if not probe_.busy and now >= probe_.next_at:
                            probe_.busy = True
                            probe_.next_at = now + float(group.health_check_interval_seconds or 30)
                            check_port = port if group.health_check_port in (None, "traffic-port") \
                                else int(group.health_check_port)
                            senders = [backend.load_balancers[arn] for arn in users[group.arn]
                                       if arn in backend.load_balancers]
                            due.append((key, group, self.resolve(target["Id"], check_port, senders)))
            for key in list(self.probes):
                if key not in live:
                    del self.probes[key]
        for key, group, address in due:
            self.pool.submit(self._check, key, group, address)

    def _check(self, key, group, address):
        ok, reason, description = probe(address, group)
        with self.lock:
            found = self.probes.get(key)
            if found is not None:
                found.apply(ok, reason, description, group)
                found.busy = False
