"""The listeners' HTTP/1.1 engine: one asyncio event loop (uvloop's when it is
installed) for every listener, with httptools' C parsers (llhttp, Node.js's
parser) for requests and responses.

Why not a WSGI server: the listeners first ran on werkzeug's threaded server
and http.client, pure Python parsing in a thread per connection; behind it the
PoC kept half its direct throughput at 16 connections on two cores (bench/app).
A load balancer must cost its targets little; here a request is parsed, routed
(ListenerApp.decide, unchanged) and relayed with a few Python calls, and the
bytes of a response go from the target to the client as they arrive.

What it does as ALB does (listeners.py has the routing):
- HTTP/1.1 keep-alive to clients (HTTP/1.0 only with `Connection: keep-alive`),
  requests on one connection answered in order; `Expect: 100-continue` answered
  at once;
- requests relayed over keep-alive connections to the target (a pool per
  target address); a reused connection the target had closed is retried once
  on a new one;
- a target that refuses the connection, resets it or answers garbage before
  its response began: 502; no response within the idle timeout: 504; a
  target that stops mid-response: the client's connection is closed (a cut
  body); one silent mid-response for the idle timeout: the same;
- response bodies stream through with the target's framing (Content-Length),
  or chunked to the client when the target gave none.
"""
import asyncio
import email.utils
import threading
import time

import httptools

_LOOP = None
_LOOP_LOCK = threading.Lock()
NO_BODY = {204, 304}
MAX_IDLE = 64  # idle keep-alive connections kept per target
# Headers of one hop, never relayed (Host is set anew for the target).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade", "host"}


def loop():
    """The event loop every listener runs on (started once, in its own thread)."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            try:
                import uvloop

                new = uvloop.new_event_loop()
            except ImportError:
                new = asyncio.new_event_loop()
            new.set_exception_handler(_quiet)
            threading.Thread(target=new.run_forever, name="listeners", daemon=True).start()
            _LOOP = new
        return _LOOP


def call(coroutine, timeout=30):
    """Run `coroutine` on the listeners' loop from another thread; its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, loop()).result(timeout)


def _quiet(loop_, context):
    """Clients that fail the TLS handshake or drop the connection are not news."""
    exception = context.get("exception")
    if isinstance(exception, (ConnectionError, OSError, asyncio.CancelledError)) or "SSL" in context.get("message", ""):
        return
    loop_.default_exception_handler(context)


_date = [0, b""]


def http_date():
    now = int(time.time())
    if _date[0] != now:
        _date[0], _date[1] = now, email.utils.formatdate(now, usegmt=True).encode()
    return _date[1]


def head_bytes(status, reason, headers):
    lines = [f"HTTP/1.1 {status} {reason}".encode("latin-1")]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


class Incoming:
    """One parsed request from a client."""

    __slots__ = ("method", "url", "headers", "body", "keep_alive", "version")

    def __init__(self, method, url, headers, body, keep_alive, version):
        self.method, self.url, self.headers, self.body = method, url, headers, body
        self.keep_alive, self.version = keep_alive, version


class Client(asyncio.Protocol):
    """A client's connection to a listener: parses its requests and hands them,
    in order, to `server.handle(client, incoming)`."""

    def __init__(self, server):
        self.server = server
        self.transport = None
        self.peer = "127.0.0.1"
        self.parser = httptools.HttpRequestParser(self)
        self.requests = asyncio.Queue()
        self.worker = None
        self.url, self.headers, self.body = b"", [], []

    # -- asyncio ---------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = peer[0] if peer else "127.0.0.1"
        self.server.clients.add(self)
        self.worker = asyncio.ensure_future(self.serve())  # held: the loop keeps only weak references to tasks

    def connection_lost(self, exc):
        self.server.clients.discard(self)
        self.requests.put_nowait(None)

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.requests.put_nowait(None)  # WebSockets are not relayed by this emulator
        except httptools.HttpParserError:
            self.transport.write(self.server.error(400, "Bad Request", keep_alive=False))
            self.transport.close()

    # -- httptools -------------------------------------------------------------
    def on_message_begin(self):
        self.url, self.headers, self.body = b"", [], []

    def on_url(self, url):
        self.url += url

    def on_header(self, name, value):
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self):
        if any(k.lower() == "expect" and v.lower() == "100-continue" for k, v in self.headers):
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body):
        self.body.append(body)

    def on_message_complete(self):
        self.requests.put_nowait(Incoming(
            self.parser.get_method().decode("latin-1"), self.url.decode("latin-1"), self.headers,
            b"".join(self.body), self.parser.should_keep_alive(), self.parser.get_http_version()))

    # -- answering -------------------------------------------------------------
    async def serve(self):
        while True:
            incoming = await self.requests.get()
            if incoming is None or self.transport.is_closing():
                return
            try:
                keep = await self.server.handle(self, incoming)
            except Exception as e:  # never leave a client hanging on our mistake
                print(f"listener: {type(e).__name__}: {e}", flush=True)
                self.write(self.server.error(500, "Internal Server Error", keep_alive=False))
                keep = False
            if not keep:
                self.transport.close()
                return

    def write(self, data):
        if not self.transport.is_closing():
            self.transport.write(data)


class UpstreamClosed(Exception):
    """The target closed, reset or garbled the connection."""


class Exchange:
    """One request relayed to a target: the target's response as it goes to the client."""

    def __init__(self, client, head_request, keep_alive, loop_):
        self.client = client
        self.head_request = head_request
        self.keep_alive = keep_alive  # the client's
        self.headers_written = loop_.create_future()
        self.done = loop_.create_future()
        self.chunked = False
        self.until_close = False  # the target delimits its body by closing
        self.progress = 0
        self.reusable = False
        self.out = []  # bytes for the client, sent at once after each read from the target

    def flush(self):
        if self.out:
            self.client.write(b"".join(self.out))
            self.out.clear()

    def write_head(self, status, reason, headers, target_keep_alive):
        out = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        has_length = any(k.lower() == "content-length" for k, _ in out)
        bodiless = self.head_request or status in NO_BODY or status < 200
        if not bodiless and not has_length:
            if self.keep_alive:
                self.chunked = True
                out.append(("Transfer-Encoding", "chunked"))
            self.until_close = not any(k.lower() == "transfer-encoding" for k, _ in headers)
        if not self.keep_alive or (self.until_close and not self.chunked):
            self.keep_alive = False
            out.append(("Connection", "close"))
        self.out.append(head_bytes(status, reason, out))
        self.reusable = target_keep_alive
        self.headers_written.set_result(True)
        if bodiless:
            self.finish(reusable=False)

    def write_body(self, data):
        self.progress += 1
        if self.chunked:
            self.out.append(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.out.append(data)

    def finish(self, reusable=True):
        if self.done.done():
            return
        if self.chunked:
            self.out.append(b"0\r\n\r\n")
        self.flush()
        self.reusable = self.reusable and reusable
        self.done.set_result(True)

    def fail(self, error):
        for future in (self.headers_written, self.done):
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: no "never retrieved" warning when nobody waits


class Upstream(asyncio.Protocol):
    """A keep-alive connection to one target."""

    def __init__(self):
        self.transport = None
        self.exchange = None
        self.parser = None
        self.closed = False
        self.reason, self.headers = b"", []

    def connection_made(self, transport):
        self.transport = transport
        self.loop = asyncio.get_event_loop()

    def connection_lost(self, exc):
        self.closed = True
        exchange = self.exchange
        if exchange is not None and not exchange.done.done():
            if exchange.headers_written.done() and exchange.until_close:
                exchange.finish(reusable=False)
            else:
                exchange.fail(UpstreamClosed(str(exc or "the target closed the connection")))

    def start(self, client, head_request, keep_alive, raw):
        self.parser = httptools.HttpResponseParser(self)
        self.reason, self.headers = b"", []
        self.exchange = Exchange(client, head_request, keep_alive, self.loop)
        self.transport.write(raw)
        return self.exchange

    def data_received(self, data):
        if self.exchange is None or self.exchange.done.done():
            self.transport.close()  # nothing was asked
            return
        exchange = self.exchange
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            exchange.fail(UpstreamClosed(f"invalid response: {e}"))
            self.transport.close()
        exchange.flush()

    # -- httptools -------------------------------------------------------------
    def on_status(self, reason):
        self.reason += reason

    def on_header(self, name, value):
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self):
        status = self.parser.get_status_code()
        if status < 200:  # 100 Continue and the like: the final response follows
            return
        self.exchange.write_head(status, self.reason.decode("latin-1") or "", self.headers, self.parser.should_keep_alive())

    def on_body(self, body):
        self.exchange.write_body(body)

    def on_message_complete(self):
        if self.parser.get_status_code() < 200:
            self.reason, self.headers = b"", []
            return
        self.exchange.finish(reusable=self.parser.should_keep_alive())


class Pool:
    """Idle keep-alive connections per target address."""

    def __init__(self):
        self.idle = {}

    async def get(self, address, timeout):
        """(connection, reused)"""
        idle = self.idle.get(address)
        while idle:
            upstream = idle.pop()
            if not upstream.closed and not upstream.transport.is_closing():
                return upstream, True
        _, upstream = await asyncio.wait_for(
            asyncio.get_event_loop().create_connection(Upstream, address[0], address[1]), timeout)
        return upstream, False

    def put(self, address, upstream):
        upstream.exchange = None
        idle = self.idle.setdefault(address, [])
        if len(idle) < MAX_IDLE and not upstream.closed:
            idle.append(upstream)
        else:
            upstream.transport.close()

    def close(self):
        for idle in self.idle.values():
            for upstream in idle:
                upstream.transport.close()
        self.idle.clear()


async def within(future, timeout):
    """The result of `future` (which is never cancelled), or TimeoutError after
    `timeout` seconds; lighter than asyncio.wait_for(asyncio.shield(...)),
    which makes a task per call."""
    if not future.done():
        loop_ = future.get_loop()
        waiter = loop_.create_future()

        def wake(_=None):
            if not waiter.done():
                waiter.set_result(None)

        handle = loop_.call_later(timeout, wake)
        future.add_done_callback(wake)
        try:
            await waiter
        finally:
            handle.cancel()
            future.remove_done_callback(wake)
        if not future.done():
            raise asyncio.TimeoutError
    return future.result()


async def relay(pool, client, incoming, address, raw, timeout, connect_timeout):
    """Send `raw` (a request) to the target at `address` and stream its answer to
    `client`. Returns False when the client's connection must close, or the
    (status, reason) of the load balancer's own answer when nothing was relayed."""
    for attempt in (0, 1):
        try:
            upstream, reused = await pool.get(address, min(connect_timeout, timeout))
        except asyncio.TimeoutError:
            return 504, "Gateway Time-out"
        except OSError:
            return 502, "Bad Gateway"
        exchange = upstream.start(client, incoming.method == "HEAD", incoming.keep_alive, raw)
        try:
            await within(exchange.headers_written, timeout)
            break
        except asyncio.TimeoutError:
            upstream.transport.abort()
            return 504, "Gateway Time-out"
        except UpstreamClosed:
            if reused and attempt == 0:
                continue  # the target had closed an idle keep-alive connection: once more on a new one
            return 502, "Bad Gateway"
    while True:
        progress = exchange.progress
        try:
            await within(exchange.done, timeout)
            break
        except asyncio.TimeoutError:
            if exchange.progress == progress:  # silent mid-response for the idle timeout
                upstream.transport.abort()
                return False
        except UpstreamClosed:
            return False  # the target went away mid-response: the client sees a cut body
    if exchange.reusable and not upstream.closed:
        pool.put(address, upstream)
    else:
        upstream.exchange = None
        upstream.transport.close()
    return exchange.keep_alive
