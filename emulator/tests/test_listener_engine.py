"""The listeners' HTTP engine (elbv2/proxy.py) on its own: a ListenerServer on
a loopback port, a fake data plane whose one rule forwards everything to a
small target server here, and plain http.client / raw sockets as clients.
The whole data plane (TLS, rules, real containers) is tested in
tests/integration/test_alb_data_plane.py."""
import http.client
import http.server
import socket
import threading
import time
import types

import pytest

from pocstack_emulator.elbv2.listeners import ListenerServer

GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/engine/0123456789abcdef"


class Target(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/stream"):  # no length: chunked, three pieces
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"one ", b"two ", b"three"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path.startswith("/cut"):  # promises 100 bytes, sends 5, hangs up
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"short")
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.path.startswith("/silent"):
            time.sleep(3)
        body = repr({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "keep-alive")
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def target():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def listener(target_port, idle_timeout=60.0, state="healthy"):
    snapshot = types.SimpleNamespace(
        protocol="HTTP", port=80, rules=[], local_ports={}, idle_timeout=idle_timeout,
        default_actions=[{"Type": "forward", "TargetGroupArn": GROUP}],
        groups={GROUP: [(("127.0.0.1", target_port), state)]})
    plane = types.SimpleNamespace(listeners=types.SimpleNamespace(snapshot=lambda arn: snapshot))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return ListenerServer(plane, "engine", port)


@pytest.fixture
def front(target):
    server = listener(target)
    yield server.local_port
    server.stop()


def test_keep_alive_relays_requests_in_order_with_alb_headers(front):
    conn = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
    seen = []
    for path in ("/a", "/b?x=%20y", "/c"):
        conn.request("GET", path, headers={"Host": "example.test", "X-Forwarded-For": "203.0.113.9"})
        response = conn.getresponse()
        assert response.status == 200
        seen.append(eval(response.read()))  # noqa: S307 (our own repr)
    assert [s["path"] for s in seen] == ["/a", "/b?x=%20y", "/c"], "the raw URL reaches the target"
    headers = seen[0]["headers"]
    assert headers["host"] == "example.test"
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert (headers["x-forwarded-proto"], headers["x-forwarded-port"]) == ("http", "80")
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    conn.close()


def test_bodies_pass_both_ways_and_chunked_uploads_arrive_whole(front):
    conn = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
    conn.request("POST", "/echo", body=b"x" * 200_000)
    response = conn.getresponse()
    assert response.status == 201 and response.read() == b"x" * 200_000
    conn.request("POST", "/echo", body=iter([b"abc", b"def"]), encode_chunked=True)
    response = conn.getresponse()
    assert response.status == 201 and response.read() == b"abcdef"


def test_a_streamed_response_is_relayed_chunked_and_head_has_no_body(front):
    conn = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
    conn.request("GET", "/stream")
    response = conn.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked" and response.read() == b"one two three"
    conn.request("HEAD", "/a")
    response = conn.getresponse()
    assert response.status == 200 and response.read() == b""
    conn.request("GET", "/after-head")
    assert conn.getresponse().status == 200, "the connection still serves after a HEAD"


def test_a_refused_target_is_502():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    refused = listener(closed_port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", refused.local_port, timeout=10)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.status == 502 and response.getheader("Server") == "awselb/2.0"
        assert b"502 Bad Gateway" in response.read()
    finally:
        refused.stop()


def test_silent_target_is_504_after_the_idle_timeout(target):
    slow = listener(target, idle_timeout=1.0)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", slow.local_port, timeout=10)
        started = time.monotonic()
        conn.request("GET", "/silent")
        response = conn.getresponse()
        assert response.status == 504 and b"504 Gateway Time-out" in response.read()
        assert 0.9 <= time.monotonic() - started < 3
    finally:
        slow.stop()


def test_a_target_that_hangs_up_mid_body_cuts_the_client_off(front):
    conn = http.client.HTTPConnection("127.0.0.1", front, timeout=10)
    conn.request("GET", "/cut")
    response = conn.getresponse()
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead):
        response.read()


def test_garbage_from_a_client_is_400_and_stop_frees_the_port(target):
    server = listener(target)
    port = server.local_port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400 Bad Request")
    server.stop()
    again = ListenerServer(server.app.plane, "engine", port)  # the port can be listened on again
    again.stop()
