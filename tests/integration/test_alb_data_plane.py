"""The load balancer serves: HTTPS with the local CA's certificate, the HTTP
redirect, listener rules on real requests, ALB's headers and error codes, and
the Dash dashboard in a real browser, after a site.yml deploy of two services
on the emulator's data plane:

- plotly (files/app): path `*`, priority 100;
- echo (tests/integration/apps/status): host `echo.pocstack.localhost`,
  priority 10; it echoes the headers it receives and misbehaves on request.

Requests go to the listeners' loopback ports, with the Host header (and SNI)
a browser would send; nothing leaves 127.0.0.1.
"""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys

import pytest

from data_plane import clients
from data_plane import data_plane_emulator
from data_plane import eventually
from data_plane import service
from harness import ROOT
from harness import failure_message
from harness import make_inventory
from harness import run
from harness import set_service

PASSWORD = "alb-Secret-9"
STATUS_APP = os.path.join(ROOT, "tests", "integration", "apps", "status")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = os.path.join(ROOT, ".pocstack", "screenshots", "plotly-through-the-alb.png")


def distinct_colours(path):
    """How many different pixel colours a PNG (8-bit RGB or RGBA, as Chromium
    writes them) holds: a blank page has one or two."""
    import struct
    import zlib

    with open(path, "rb") as fh:
        data = fh.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks, header = 8, [], None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, colour_type = header[:4]
    assert depth == 8 and colour_type in (2, 6), header
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    colours, previous = set(), bytearray(stride)
    rows = []
    for y in range(height):  # PNG filters reference the previous row: decode every row
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        previous = line
        if y % 4 == 0:
            rows.append(bytes(line))
    for line in rows:
        for x in range(0, stride, channels * 4):
            colours.add(line[x:x + 3])
    return len(colours)


@pytest.fixture(scope="module")
def alb(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alb-data-plane")
    emulator = data_plane_emulator(tmp / "emulator")
    secrets = [{"name": "PLOTLY_USER", "value": "tester"}, {"name": "PLOTLY_PASS", "value": PASSWORD}]
    inventory = make_inventory(tmp, [
        ("plotly", {"poc_secrets": secrets, "poc_priority": 100}),
        ("echo", {"poc_secrets": secrets, "poc_priority": 10, "poc_path_patterns": [],
                  "poc_host_headers": ["echo.pocstack.localhost"], "poc_environment": {"APP_NAME": "echo"},
                  "poc_image": {"source": "build", "repository": "pocstack/echo", "context": STATUS_APP}}),
    ])
    rc, out = run(inventory, emulator.port)
    assert rc == 0, failure_message(out)
    listeners = {item["port"]: item["local_port"] for item in emulator.data_plane()["listeners"]}
    state = os.path.join(os.path.dirname(inventory), "state")
    ca = os.path.join(ROOT, ".pocstack", "local", "ca.crt")
    yield {"emulator": emulator, "inventory": inventory, "https": listeners[443], "http": listeners[80],
           "ca": ca, "aws": clients(emulator.port), "state": state}
    emulator.stop()


def https(alb, path="/", host="localhost", method="GET", body=None, headers=None, context=None, timeout=20):
    context = context or ssl.create_default_context(cafile=alb["ca"])
    conn = http.client.HTTPSConnection("127.0.0.1", alb["https"], context=context, timeout=timeout)
    conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", alb["https"]), timeout=timeout),
                                    server_hostname=host)
    conn.request(method, path, body=body, headers={"Host": f"{host}:{alb['https']}", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def basic(user, password):
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_https_with_a_certificate_the_local_ca_signed_for_the_name_asked(alb):
    for host in ("localhost", "echo.pocstack.localhost"):
        context = ssl.create_default_context(cafile=alb["ca"])  # verifies the chain and the name
        with socket.create_connection(("127.0.0.1", alb["https"]), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
    # The TLS 1.3 policy's minimum is TLS 1.2: older clients are refused.
    old = ssl.create_default_context(cafile=alb["ca"])
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError):
        with socket.create_connection(("127.0.0.1", alb["https"]), timeout=10) as raw:
            old.wrap_socket(raw, server_hostname="localhost").close()


def test_http_redirects_to_https_keeping_host_path_and_query(alb):
    conn = http.client.HTTPConnection("127.0.0.1", alb["http"], timeout=10)
    conn.request("GET", "/some/page?a=1", headers={"Host": f"localhost:{alb['http']}"})
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://localhost:{alb['https']}/some/page?a=1"


def test_the_plotly_rule_forwards_to_the_container_with_its_basic_auth(alb):
    response, body = https(alb, "/health")
    assert response.status == 200 and json.loads(body) == {"status": "ok"}
    assert https(alb, "/")[0].status == 401
    response, body = https(alb, "/", headers=basic("tester", PASSWORD))
    assert response.status == 200 and b"_dash-config" in body


def test_host_rules_go_by_priority_and_alb_adds_its_headers(alb):
    response, body = https(alb, "/headers", host="echo.pocstack.localhost", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status == 200
    seen = json.loads(body)
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "https" and seen["x-forwarded-port"] == "443"
    assert seen["x-amzn-trace-id"].startswith("Root=1-")
    assert seen["host"] == f"echo.pocstack.localhost:{alb['https']}"
    # Another name falls through to the plotly rule (path *, lower priority).
    assert https(alb, "/anything", host="other.pocstack.localhost")[0].status == 401


def test_bodies_pass_through_both_ways(alb):
    payload = os.urandom(300_000)
    response, body = https(alb, "/echo", host="echo.pocstack.localhost", method="POST", body=payload,
                           headers={"Content-Type": "application/octet-stream"})
    assert response.status == 200 and body == payload


def test_a_target_that_fails_mid_request_is_502_and_a_silent_one_504(alb):
    response, body = https(alb, "/close", host="echo.pocstack.localhost")
    assert response.status == 502 and response.getheader("Server") == "awselb/2.0"
    assert b"502 Bad Gateway" in body
    # A short idle timeout for this test only, set as a user would: the browser's
    # page load (4 MB of script on a busy machine) keeps the deployed 30 s.
    elbv2 = alb["aws"]["elbv2"]
    arn = elbv2.describe_load_balancers(Names=["pocstack"])["LoadBalancers"][0]["LoadBalancerArn"]
    attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    deployed = next(a["Value"] for a in attributes if a["Key"] == "idle_timeout.timeout_seconds")
    idle = [{"Key": "idle_timeout.timeout_seconds", "Value": "4"}]
    elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=idle)
    try:
        response, _ = https(alb, "/sleep?s=8", host="echo.pocstack.localhost")
        assert response.status == 504
        response, body = https(alb, "/sleep?s=1", host="echo.pocstack.localhost")
        assert response.status == 200, body
    finally:
        idle[0]["Value"] = deployed
        elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=idle)


def test_a_browser_logs_in_and_sees_the_chart(alb):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_context(http_credentials={"username": "tester", "password": PASSWORD},
                                       ignore_https_errors=True).new_page()
            # What went wrong on the page, for the failure message: failed and refused requests, errors.
            seen = []
            page.on("response", lambda r: r.status >= 400 and seen.append(f"{r.status} {r.request.method} {r.url}"))
            page.on("requestfailed", lambda r: seen.append(f"failed {r.method} {r.url}: {r.failure}"))
            page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
            page.on("console", lambda m: m.type == "error" and seen.append(f"console: {m.text}"))
            response = page.goto(f"https://localhost:{alb['https']}/", wait_until="networkidle", timeout=60000)
            assert response.status == 200
            # Plotly drew the figure, with data in it.
            try:
                page.wait_for_selector("#chart .js-plotly-plot .scatterlayer .trace", timeout=60000)
            except playwright.Error as e:
                events = [event["message"] for event in service(alb["aws"], "plotly")["events"][:5]]
                pytest.fail(f"no chart: {e.message.splitlines()[0]}\non the page: {seen}\nservice events: {events}")
            points = page.evaluate("document.querySelector('#chart .js-plotly-plot').data"
                                   ".reduce((n, trace) => n + (trace.x || []).length, 0)")
            assert points > 0
            os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
            page.screenshot(path=SCREENSHOT)
        finally:
            browser.close()
    assert distinct_colours(SCREENSHOT) > 50  # not a blank page: a chart, axes, text
    assert service(alb["aws"], "plotly")["runningCount"] == 1


RULES_PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/pocstack.aws.aws:
      endpoint_url: {endpoint}
      region: us-east-1
      access_key: testing
      secret_key: testing
  vars:
    echo_tg: "{echo_tg}"
    plotly_tg: "{plotly_tg}"
    rule: {{name: x, load_balancer_name: pocstack, listener_port: 443}}
  tasks:
    - name: header rule
      pocstack.aws.elb_listener_rule:
        name: by-header
        load_balancer_name: pocstack
        listener_port: 443
        priority: 1
        conditions: [{{field: http-header, name: X-Env, values: ["beta*"]}}]
        actions: [{{type: fixed-response, status_code: 200, content_type: text/plain, message_body: beta}}]
    - name: query rule
      pocstack.aws.elb_listener_rule:
        name: by-query
        load_balancer_name: pocstack
        listener_port: 443
        priority: 2
        conditions: [{{field: query-string, values: ["version=v2*"]}}]
        actions: [{{type: fixed-response, status_code: 200, content_type: text/plain, message_body: v2}}]
    - name: method rule
      pocstack.aws.elb_listener_rule:
        name: by-method
        load_balancer_name: pocstack
        listener_port: 443
        priority: 3
        conditions: [{{field: http-request-method, values: [DELETE]}}]
        actions: [{{type: fixed-response, status_code: 405, content_type: text/plain, message_body: no deletes}}]
    - name: source and path rule (both must match)
      pocstack.aws.elb_listener_rule:
        name: by-source
        load_balancer_name: pocstack
        listener_port: 443
        priority: 4
        conditions:
          - {{field: source-ip, values: [127.0.0.0/8]}}
          - {{field: path-pattern, values: [/from-loopback]}}
        actions: [{{type: fixed-response, status_code: 200, content_type: text/plain, message_body: loopback}}]
    - name: redirect rule
      pocstack.aws.elb_listener_rule:
        name: old-path
        load_balancer_name: pocstack
        listener_port: 443
        priority: 5
        conditions: [{{field: path-pattern, values: ["/old/*"]}}]
        actions: [{{type: redirect, path: "/new/#{{path}}", query: "from=old", status_code: HTTP_302}}]
    - name: weighted forward (all weight on echo)
      pocstack.aws.elb_listener_rule:
        name: weighted
        load_balancer_name: pocstack
        listener_port: 443
        priority: 6
        conditions: [{{field: path-pattern, values: ["/weighted*"]}}]
        actions:
          - type: forward
            target_groups:
              - {{target_group_arn: "{{{{ plotly_tg }}}}", weight: 0}}
              - {{target_group_arn: "{{{{ echo_tg }}}}", weight: 1}}
    - name: weighted split 1:3
      pocstack.aws.elb_listener_rule:
        name: split
        load_balancer_name: pocstack
        listener_port: 443
        priority: 8
        conditions: [{{field: path-pattern, values: ["/split*"]}}]
        actions:
          - type: forward
            target_groups:
              - {{target_group_arn: "{{{{ plotly_tg }}}}", weight: 1}}
              - {{target_group_arn: "{{{{ echo_tg }}}}", weight: 3}}
    - name: login rule
      pocstack.aws.elb_listener_rule:
        name: login
        load_balancer_name: pocstack
        listener_port: 443
        priority: 7
        conditions: [{{field: path-pattern, values: ["/login*"]}}]
        actions:
          - {{type: authenticate-cognito, user_pool_arn: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc",
              user_pool_client_id: client, user_pool_domain: pocstack-login}}
          - {{type: forward, target_group_arn: "{{{{ echo_tg }}}}"}}
"""


def run_play(alb, path, text, json_output=False):
    from harness import BIN
    from harness import environment

    path.write_text(text)
    return subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(path)], cwd=ROOT,
                          env=environment(alb["emulator"].port, json_output=json_output,
                                          extra_env={"ANSIBLE_PYTHON_INTERPRETER": sys.executable}),
                          capture_output=True, text=True, timeout=300)


def test_every_kind_of_listener_rule_answers_real_requests(alb, tmp_path):
    aws = alb["aws"]
    echo_tg = service(aws, "echo")["loadBalancers"][0]["targetGroupArn"]
    plotly_tg = service(aws, "plotly")["loadBalancers"][0]["targetGroupArn"]
    proc = run_play(alb, tmp_path / "rules.yml",
                    RULES_PLAY.format(endpoint=alb["emulator"].url, echo_tg=echo_tg, plotly_tg=plotly_tg))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert https(alb, "/x", headers={"X-Env": "Beta-2"})[1] == b"beta"  # header value: wildcard, no case
    assert https(alb, "/x?a=1&VERSION=v2.1")[1] == b"v2"  # query key without case
    response, body = https(alb, "/x", method="DELETE")
    assert (response.status, body) == (405, b"no deletes")
    assert https(alb, "/from-loopback")[1] == b"loopback"  # source 127.0.0.1 and the path
    response, _ = https(alb, "/old/a/b?q=1")
    assert response.status == 302
    assert response.getheader("Location") == f"https://localhost:{alb['https']}/new/old/a/b?from=old"  # #{path}: the whole path
    for _ in range(3):  # weight 0 never gets a request
        response, body = https(alb, "/weighted/x")
        assert (response.status, body) == (200, b"echo /weighted/x\n")
    # 1:3 across the two groups (plotly answers 401 without a login, echo 200): 200 requests, ±12 %.
    to_echo = sum(https(alb, "/split/x")[0].status == 200 for _ in range(200))
    assert 0.63 * 200 <= to_echo <= 0.87 * 200, to_echo
    response, body = https(alb, "/login")
    assert response.status == 501 and b"authenticate-cognito is not emulated" in body
    # Nothing matched: the lower rules (plotly's) still answer.
    assert https(alb, "/health")[0].status == 200


GREEDY_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: a catch-all rule
      pocstack.aws.elb_listener_rule:
        endpoint_url: {endpoint}
        region: us-east-1
        access_key: testing
        secret_key: testing
        name: greedy
        load_balancer_name: pocstack
        listener_port: 443
        state: {state}
        {extra}
        conditions: [{{field: path-pattern, values: ["*"]}}]
        actions: [{{type: fixed-response, status_code: 200, content_type: text/plain, message_body: greedy}}]
"""


def listener_rules(aws):
    [lb] = aws["elbv2"].describe_load_balancers(Names=["pocstack"])["LoadBalancers"]
    [https_listener] = [listener for listener in aws["elbv2"].describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
                        if listener["Port"] == 443]
    return sorted((r["Priority"], r["RuleArn"]) for r in aws["elbv2"].describe_rules(ListenerArn=https_listener["ListenerArn"])["Rules"])


def test_a_rule_that_would_take_another_services_traffic_is_refused_before_it_is_written(alb, tmp_path):
    """A catch-all in front of echo's host rule would take all of echo's
    requests; behind plotly's catch-all it would get none. Both are refused,
    nothing is written, and echo and plotly go on answering; allow_shadowing
    places it on purpose, and the data plane then shows what it does."""
    before = listener_rules(alb["aws"])

    def greedy(extra, state="present"):
        proc = run_play(alb, tmp_path / "greedy.yml", GREEDY_PLAY.format(endpoint=alb["emulator"].url, state=state, extra=extra),
                        json_output=True)
        return proc.returncode, failure_message(proc.stdout) if proc.returncode else ""

    rc, message = greedy("priority: 9")
    assert rc != 0
    assert ("priority: 9 puts this rule (path-pattern *) in front of rule 'echo' at priority 10 "
            "(host-header echo.pocstack.localhost), whose every request it matches") in message, message
    rc, message = greedy("")  # automatic: no priority is both behind echo's rule and in front of plotly's catch-all
    assert rc != 0
    assert "no priority in [1, 50000]" in message and "'plotly' at 100 (path-pattern *)" in message, message
    assert listener_rules(alb["aws"]) == before
    assert https(alb, "/headers", host="echo.pocstack.localhost")[0].status == 200
    assert https(alb, "/health")[1] == b'{"status":"ok"}\n'

    rc, message = greedy("priority: 9\n        allow_shadowing: true")
    assert rc == 0, message
    try:
        assert https(alb, "/headers", host="echo.pocstack.localhost")[1] == b"greedy"
    finally:
        assert greedy("", state="absent")[0] == 0
    assert listener_rules(alb["aws"]) == before
    assert https(alb, "/headers", host="echo.pocstack.localhost")[0].status == 200


def test_a_service_without_targets_is_503_and_unknown_paths_get_the_default_404(alb):
    """Last: it scales echo to 0 and narrows plotly's paths."""
    set_service(alb["inventory"], "echo", {"poc_desired_count": 0})
    rc, out = run(alb["inventory"], alb["emulator"].port, extra=["-e", "service=echo"])
    assert rc == 0, failure_message(out)
    eventually(lambda: https(alb, "/headers", host="echo.pocstack.localhost")[0].status == 503, timeout=90,
               what="503 once echo has no target")
    set_service(alb["inventory"], "plotly", {"poc_path_patterns": ["/health", "/", "/_dash*", "/assets/*"]})
    rc, out = run(alb["inventory"], alb["emulator"].port, extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    response, body = https(alb, "/nothing-here")
    assert response.status == 404  # the listener's default action: a fixed 404
