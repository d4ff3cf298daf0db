"""Application Load Balancer listeners that serve, on loopback (the ALB data plane).

Each listener of an application load balancer in moto gets a socket on
127.0.0.1: the first load balancer's ports come from the port map (default
443 -> 8443, 80 -> 8080: `--listener-ports`), every other listener (and all
of them with `--listener-ports auto`) gets a free port. What a request meets
there is what ALB does with it (after the ELB user guide):

- HTTPS listeners terminate TLS with the listener's ACM certificates (the
  default one, and the others by SNI), no older protocol version than the
  security policy allows; HTTP listeners answer plain HTTP; keep-alive.
- The listener's rules decide, in priority order (elbv2/rules.py), then its
  default actions: `fixed-response`; `redirect` (placeholders filled in; a port
  of this load balancer's listeners is written as its loopback port, so the
  browser follows it here); `forward` to one target group or across several by
  weight, round robin over the healthy targets (all registered ones when none
  is healthy, as ALB fails open; 503 when none is registered);
  `authenticate-oidc`/`authenticate-cognito` answer 501 with a page that says
  the login is not emulated.
- Forwarded requests carry X-Forwarded-For, X-Forwarded-Proto,
  X-Forwarded-Port and X-Amzn-Trace-Id; bodies stream both ways; a target that
  fails mid-request gives 502, one silent past the idle timeout 504, with ALB's
  own error pages (`Server: awselb/2.0`).

Targets are reached only through the loopback address the data plane maps
their private IP and port to; nothing is sent elsewhere. A target whose
security groups do not accept the load balancer on its port is never
connected to: as on AWS, where the connection attempt times out after 10 s,
the request ends in 504 (after at most the idle timeout here).
"""
import asyncio
import hashlib
import http.client
import itertools
import os
import random
import socket
import ssl
import tempfile
import time
import urllib.parse

from pocstack_emulator import HOST
from pocstack_emulator.elbv2 import proxy
from pocstack_emulator.elbv2 import rules
from pocstack_emulator.elbv2.proxy import HOP_BY_HOP

DEFAULT_PORT_MAP = {443: 8443, 80: 8080}
SERVER = "awselb/2.0"
# Security policies: the oldest protocol version each accepts.
_TLS13_ONLY = ("ELBSecurityPolicy-TLS13-1-3-",)
_TLS12 = ("ELBSecurityPolicy-TLS13-1-2-", "ELBSecurityPolicy-TLS-1-2-", "ELBSecurityPolicy-FS-1-2-")
_TLS11 = ("ELBSecurityPolicy-TLS-1-1-", "ELBSecurityPolicy-FS-1-1-")


def parse_port_map(text):
    """'443=8443,80=8080' -> {443: 8443, 80: 8080}; 'auto' -> {} (free ports)."""
    if not text or text == "auto":
        return {}
    found = {}
    for part in text.split(","):
        aws, _, local = part.partition("=")
        found[int(aws)] = int(local)
    return found


def minimum_version(policy):
    policy = policy or ""
    if policy.startswith(_TLS13_ONLY):
        return ssl.TLSVersion.TLSv1_3
    if policy.startswith(_TLS12):
        return ssl.TLSVersion.TLSv1_2
    if policy.startswith(_TLS11):
        return ssl.TLSVersion.TLSv1_1
    return ssl.TLSVersion.TLSv1  # ELBSecurityPolicy-2016-08 and the like


# A target its security groups keep the load balancer from: what pick() hands
# forward() instead of an address. ALB's connection timeout to a target: 10 s.
DROPPED = ("dropped", 0)
CONNECT_TIMEOUT = 10.0


def error_page(code, reason):
    body = (f"<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}"
            "</h1></center>\r\n</body>\r\n</html>\r\n").encode()
    return Reply(code, reason, [("Content-Type", "text/html"), ("Content-Length", str(len(body))),
                                ("Server", SERVER)], body)


def trace_id():
    return f"Root=1-{int(time.time()):08x}-{random.getrandbits(96):024x}"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Snapshot:
    """What one request needs of moto's state, copied under the lock."""

    def __init__(self, listener, balancer, rule_list, groups, idle_timeout, local_ports):
        self.protocol, self.port = listener.protocol, int(listener.port)
        self.default_actions = [a.data for a in listener.default_actions]
        self.rules = rule_list
        self.groups = groups  # group ARN -> [(loopback address or None, state)]
        self.idle_timeout = idle_timeout
        self.local_ports = local_ports  # AWS port -> loopback port, of this load balancer's listeners
        self.balancer = balancer


class Reply:
    """An answer of the load balancer itself (not relayed from a target)."""

    __slots__ = ("status", "reason", "headers", "body")

    def __init__(self, status, reason, headers, body=b""):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body


class Forward:
    """A request to relay: the target's loopback address (or DROPPED) and the snapshot it was picked from."""

    __slots__ = ("address", "snapshot")

    def __init__(self, address, snapshot):
        self.address, self.snapshot = address, snapshot


class ListenerApp:
    """What one listener does with a request: its rules decide (decide()), and
    a forward is relayed by ListenerServer."""

    def __init__(self, plane, listener_arn):
        self.plane = plane
        self.arn = listener_arn
        self.counters = {}  # target group ARN -> itertools.count (round robin)

    def decide(self, request):
        """A Reply, or a Forward."""
        snapshot = self.plane.listeners.snapshot(self.arn)
        if snapshot is None:
            return error_page(503, "Service Temporarily Unavailable")
        actions = rules.select(snapshot.rules, snapshot.default_actions, request)
        action = next((a for a in actions if a.get("Type") in ("forward", "redirect", "fixed-response")), None)
        login = next((a for a in actions if str(a.get("Type", "")).startswith("authenticate-")), None)
        if login is not None:
            return self.not_emulated(login)
        if action is None:
            return error_page(503, "Service Temporarily Unavailable")
        if action["Type"] == "fixed-response":
            return self.fixed(action.get("FixedResponseConfig") or {})
        if action["Type"] == "redirect":
            return self.redirect(action.get("RedirectConfig") or {}, request, snapshot)
        _, address = self.pick(action, snapshot)
        if address is None:
            return error_page(503, "Service Temporarily Unavailable")
        return Forward(address, snapshot)

    # -- actions ------------------------------------------------------------------
    @staticmethod
    def fixed(config):
        body = (config.get("MessageBody") or "").encode()
        code = int(config.get("StatusCode", 200))
        return Reply(code, http.client.responses.get(code, ""), [
            ("Content-Type", config.get("ContentType") or "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))), ("Server", SERVER)], body)

    @staticmethod
    def redirect(config, request, snapshot):
        location = rules.redirect_location(config, request, snapshot.protocol, snapshot.port)
        # A port of this load balancer's listeners means its loopback port here.
        for aws_port, local in snapshot.local_ports.items():
            for scheme in ("https", "http"):
                default = {"https": 443, "http": 80}[scheme]
                host = request.host
                netloc_aws = f"{host}" if aws_port == default else f"{host}:{aws_port}"
                if location.startswith(f"{scheme}://{netloc_aws}/") or location == f"{scheme}://{netloc_aws}":
                    location = f"{scheme}://{host}:{local}" + location[len(f"{scheme}://{netloc_aws}"):]
        code = 301 if config.get("StatusCode", "HTTP_301") == "HTTP_301" else 302
        return Reply(code, http.client.responses[code], [("Location", location), ("Content-Length", "0"),
                                                         ("Server", SERVER)])

    @staticmethod
    def not_emulated(action):
        body = (f"<html><body><h1>{action['Type']} is not emulated</h1><p>On AWS this listener rule sends the "
                "browser to the identity provider's login page before the request reaches the service. The local "
                "emulator has no identity provider: the request stops here.</p></body></html>").encode()
        return Reply(501, "Not Implemented", [("Content-Type", "text/html"), ("Content-Length", str(len(body))),
                                              ("Server", SERVER)], body)

    def pick(self, action, snapshot):
        """(target group ARN, loopback address) for a forward action, or (ARN, None)."""
        config = action.get("ForwardConfig") or {}
        groups = [(g["TargetGroupArn"], int(g.get("Weight", 1))) for g in config.get("TargetGroups") or []]
        if not groups and action.get("TargetGroupArn"):
            groups = [(action["TargetGroupArn"], 1)]
        weighted = [(arn, weight) for arn, weight in groups if weight > 0] or groups
        if len(weighted) == 1:
            arn = weighted[0][0]
        else:
            arn = random.choices([a for a, _ in weighted], [max(w, 1) for _, w in weighted])[0]
        targets = snapshot.groups.get(arn) or []
        healthy = [address for address, state in targets if state == "healthy"]
        # ALB fails open: with no healthy target it routes to every registered one.
        candidates = healthy or [address for address, state in targets if state in ("unhealthy", "initial")]
        if not candidates:
            return arn, None
        turn = next(self.counters.setdefault(arn, itertools.count()))
        return arn, candidates[turn % len(candidates)]


def forwarded_request(incoming, request, snapshot, client_ip):
    """The bytes of `incoming` as the target gets it: hop-by-hop headers gone,
    ALB's X-Forwarded-* and X-Amzn-Trace-Id added, the body with its length."""
    headers = [(k, v) for k, v in request.headers
               if k not in HOP_BY_HOP and k not in ("x-forwarded-for", "content-length", "expect")]
    forwarded = request.header_values("x-forwarded-for")
    headers += [
        ("host", next(iter(request.header_values("host")), "")),
        ("x-forwarded-for", ", ".join(forwarded + [client_ip])),
        ("x-forwarded-proto", snapshot.protocol.lower()),
        ("x-forwarded-port", str(snapshot.port)),
        ("x-amzn-trace-id", trace_id()),
    ]
    if incoming.body or request.header_values("content-length") or request.header_values("transfer-encoding"):
        headers.append(("content-length", str(len(incoming.body))))
    lines = [f"{incoming.method} {incoming.url} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + incoming.body


class Certificates:
    """The listener's ACM certificates as SSL contexts; SNI picks by name."""

    def __init__(self, bundles, policy):
        self.dir = tempfile.mkdtemp(prefix="pocstack-listener-")
        self.contexts = []  # [(names, context)], the default certificate first
        for index, bundle in enumerate(bundles):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = minimum_version(policy)
            pem = bundle.cert.decode() if isinstance(bundle.cert, bytes) else bundle.cert
            chain = bundle.chain.decode() if isinstance(bundle.chain, bytes) else (bundle.chain or "")
            if chain.strip() and chain.strip() != pem.strip() and "BEGIN CERTIFICATE" in chain:
                pem = pem.strip() + "\n" + _own_chain(chain)
            key = bundle.key.decode() if isinstance(bundle.key, bytes) else bundle.key
            cert_file = os.path.join(self.dir, f"{index}.pem")
            key_file = os.path.join(self.dir, f"{index}.key")
            with open(cert_file, "w") as fh:
                fh.write(pem)
            with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as fh:
                fh.write(key)
            context.load_cert_chain(cert_file, key_file)
            self.contexts.append((_names(bundle), context))
        default = self.contexts[0][1]
        default.sni_callback = self._choose
        self.default = default

    def _choose(self, ssl_socket, server_name, _context):
        if not server_name:
            return None
        for names, context in self.contexts:
            if any(rules.wildcard(name, server_name, True) for name in names):
                ssl_socket.context = context
                return None
        return None  # the default certificate, as ALB does for an unknown name


def _own_chain(chain):
    """The imported chain without the fixed Amazon root moto may append."""
    from moto.acm.models import AWS_ROOT_CA

    root = AWS_ROOT_CA.decode() if isinstance(AWS_ROOT_CA, bytes) else AWS_ROOT_CA
    return chain.replace(root, "").strip() + "\n"


def _names(bundle):
    """DNS names of a certificate (its subject alternative names, else its CN)."""
    from cryptography import x509

    pem = bundle.cert if isinstance(bundle.cert, bytes) else bundle.cert.encode()
    cert = x509.load_pem_x509_certificate(pem)
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        return [a.value for a in cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)]


class ListenerServer:
    """One listener's socket, served on the listeners' event loop (proxy.py)."""

    def __init__(self, plane, listener_arn, local_port, certificates=None):
        self.arn = listener_arn
        self.local_port = local_port
        self.certificates = certificates
        self.app = ListenerApp(plane, listener_arn)
        self.pool = proxy.Pool()
        self.clients = set()
        ssl_context = certificates.default if certificates else None
        self.server = proxy.call(proxy.loop().create_server(
            lambda: proxy.Client(self), HOST, local_port, ssl=ssl_context, reuse_address=True, backlog=1024))

    def stop(self):
        async def close():
            self.server.close()
            for client in list(self.clients):
                client.transport.abort()
            self.pool.close()
            await self.server.wait_closed()

        proxy.call(close())

    @staticmethod
    def error(code, reason, keep_alive=True):
        reply = error_page(code, reason)
        return ListenerServer.reply_bytes(reply, keep_alive)

    @staticmethod
    def reply_bytes(reply, keep_alive):
        headers = reply.headers + [("Date", proxy.http_date().decode())]
        if not keep_alive:
            headers.append(("Connection", "close"))
        return proxy.head_bytes(reply.status, reply.reason, headers) + reply.body

    async def handle(self, client, incoming):
        """Answer one request; whether the client's connection stays open."""
        path, _, query = incoming.url.partition("?")
        request = rules.Request(incoming.method, urllib.parse.unquote(path) or "/", query, incoming.headers, client.peer)
        decision = self.app.decide(request)
        if isinstance(decision, Reply):
            client.write(self.reply_bytes(decision, incoming.keep_alive))
            return incoming.keep_alive
        snapshot = decision.snapshot
        if decision.address is DROPPED:  # its security groups drop the load balancer's connection
            await asyncio.sleep(min(CONNECT_TIMEOUT, snapshot.idle_timeout))
            client.write(self.error(504, "Gateway Time-out", incoming.keep_alive))
            return incoming.keep_alive
        raw = forwarded_request(incoming, request, snapshot, client.peer)
        outcome = await proxy.relay(self.pool, client, incoming, decision.address, raw, snapshot.idle_timeout,
                                    CONNECT_TIMEOUT)
        if isinstance(outcome, tuple):  # nothing relayed: the load balancer's own error page
            client.write(self.error(*outcome, keep_alive=incoming.keep_alive))
            return incoming.keep_alive
        return outcome


class Listeners:
    """Keeps one ListenerServer per application load balancer listener in moto
    (reconciled by the data plane's scheduler tick, under its lock)."""

    def __init__(self, plane, port_map):
        self.plane = plane
        self.port_map = port_map
        self.servers = {}  # listener ARN -> (ListenerServer, fingerprint)
        self.mapped_balancer = None  # the load balancer whose listeners get the port map
        self.failed = {}  # listener ARN -> why it could not listen (said once)

    def describe(self):
        """[{load_balancer, dns_name, protocol, port, url}] of the listeners that serve."""
        found = []
        for backend in self.plane.elbv2_backends():
            for balancer in backend.load_balancers.values():
                for listener in balancer.listeners.values():
                    entry = self.servers.get(listener.arn)
                    if entry:
                        scheme = "https" if listener.protocol == "HTTPS" else "http"
                        found.append({"load_balancer": balancer.name, "dns_name": balancer.dns_name,
                                      "protocol": listener.protocol, "port": int(listener.port),
                                      "local_port": entry[0].local_port,
                                      "url": f"{scheme}://localhost:{entry[0].local_port}/"})
        return found

    def _listeners(self):
        for backend in self.plane.elbv2_backends():
            for balancer in backend.load_balancers.values():
                if balancer.type == "application":
                    for listener in balancer.listeners.values():
                        yield backend, balancer, listener

    def reconcile(self):
        wanted = {listener.arn: (backend, balancer, listener) for backend, balancer, listener in self._listeners()}
        for arn in [a for a in self.servers if a not in wanted]:
            self.servers.pop(arn)[0].stop()
        if self.mapped_balancer and not any(b.arn == self.mapped_balancer for _, b, _ in wanted.values()):
            self.mapped_balancer = None
        for arn, (backend, balancer, listener) in wanted.items():
            fingerprint = (listener.protocol, int(listener.port), tuple(listener.certificates or ()),
                           listener.ssl_policy, self._certificate_contents(backend, listener))
            current = self.servers.get(arn)
            if current and current[1] == fingerprint:
                continue
            local_port = current[0].local_port if current else self._port(balancer, listener)
            if current:
                current[0].stop()
                del self.servers[arn]
            try:
                certificates = self._certificates(backend, listener) if listener.protocol == "HTTPS" else None
                self.servers[arn] = (ListenerServer(self.plane, arn, local_port, certificates), fingerprint)
                self.failed.pop(arn, None)
                print(f"data plane: {balancer.name} {listener.protocol}:{listener.port} listens on "
                      f"{HOST}:{local_port}", flush=True)
            except Exception as e:  # a port in use, a certificate ACM does not hold
                why = f"{type(e).__name__}: {e}"
                if self.failed.get(arn) != why:
                    print(f"data plane: {balancer.name} {listener.protocol}:{listener.port} cannot listen on "
                          f"{HOST}:{local_port}: {why}", flush=True)
                self.failed[arn] = why

    def _port(self, balancer, listener):
        if self.mapped_balancer in (None, balancer.arn) and int(listener.port) in self.port_map:
            in_use = {entry[0].local_port for entry in self.servers.values()}
            if self.port_map[int(listener.port)] not in in_use:
                self.mapped_balancer = balancer.arn
                return self.port_map[int(listener.port)]
        return free_port()

    @staticmethod
    def _certificate_contents(backend, listener):
        """Digests of what the listener's certificates hold now. ACM's
        ImportCertificate with the CertificateArn of an imported certificate
        (a renewal) replaces its contents under the same ARN, and the ALB serves
        the new one: the listener is rebuilt then, not only when its ARNs change."""
        from moto.acm.models import acm_backends

        if listener.protocol != "HTTPS":
            return ()
        acm = acm_backends[backend.account_id][backend.region_name]
        contents = []
        for arn in dict.fromkeys([a for a in [listener.certificate, *(listener.certificates or [])] if a]):
            try:
                cert = acm.get_certificate(arn).cert
            except Exception:  # not in ACM: _certificates says so
                contents.append(None)
                continue
            contents.append(hashlib.sha256(cert if isinstance(cert, bytes) else cert.encode()).hexdigest())
        return tuple(contents)

    @staticmethod
    def _certificates(backend, listener):
        from moto.acm.models import acm_backends

        acm = acm_backends[backend.account_id][backend.region_name]
        arns = list(dict.fromkeys([a for a in [listener.certificate, *(listener.certificates or [])] if a]))
        if not arns:
            raise ValueError("the HTTPS listener has no certificate")
        return Certificates([acm.get_certificate(arn) for arn in arns], listener.ssl_policy)

    def snapshot(self, listener_arn):
        with self.plane.lock:
            for backend, balancer, listener in self._listeners():
                if listener.arn != listener_arn:
                    continue
                rule_list = [(r.priority, list(r.conditions or []), [a.data for a in r.actions])
                             for r in listener._non_default_rules.values()]
                groups = {}
                for _, _, actions in rule_list + [(None, None, [a.data for a in listener.default_actions])]:
                    for action in actions:
                        for arn in backend._get_target_group_arns_from(action_data=action):
                            groups[arn] = self._targets(backend, arn, balancer)
                local_ports = {int(other.port): self.servers[other.arn][0].local_port
                               for other in balancer.listeners.values() if other.arn in self.servers}
                idle = float(balancer.attrs.get("idle_timeout.timeout_seconds") or 60)
                return Snapshot(listener, balancer, rule_list, groups, idle, local_ports)
        return None

    def _targets(self, backend, group_arn, balancer):
        group = backend.target_groups.get(group_arn)
        if group is None:
            return []
        found = []
        for target in group.targets.values():
            port = int(target.get("Port") or group.port)
            state = self.plane.health.describe(group, target["Id"], port)
            address = self.plane.resolve(target["Id"], port)
            if address is not None and not self.plane.admitted(target["Id"], port, [balancer]):
                address = DROPPED
            found.append((address, state[0] if state else "unused"))
        return [(address, state) for address, state in found if address is not None]

    def stop(self):
        for server, _ in self.servers.values():
            server.stop()
        self.servers.clear()
