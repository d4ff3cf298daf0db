"""The emulator launcher: start/stop/status, call counting, and each fidelity fix.

One emulator per session on a free port with its own state dir; every test
starts from an empty moto (POST /moto-api/reset).
"""
import datetime
import json
import os
import socket
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

LAUNCHER = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "pocstack-emulator"))
BIN = os.path.dirname(sys.executable)


def launcher(*args, env=None):
    return subprocess.run([sys.executable, LAUNCHER, *args], capture_output=True, text=True, timeout=90, env=env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running(pid):
    """False once pid has exited (an exited child not yet reaped by init is a zombie: gone too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    port = free_port()
    state = str(tmp_path_factory.mktemp("emulator-state"))
    # No wait: a requested certificate turns ISSUED as soon as its DNS records exist.
    started = launcher("start", "--port", str(port), "--state-dir", state,
                       env={**os.environ, "MOTO_ACM_VALIDATION_WAIT": "0"})
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"emulator running at http://127.0.0.1:{port} (pid " in started.stdout
    assert "ACM validation wait 0 s" in open(os.path.join(state, f"emulator-{port}.log")).read()
    pid_file = os.path.join(state, f"emulator-{port}.pid")
    pid = int(open(pid_file).read())
    yield {"port": port, "state": state, "url": f"http://127.0.0.1:{port}", "pid": pid, "pid_file": pid_file}

    stopped = launcher("stop", "--port", str(port), "--state-dir", state)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "stopped" in stopped.stdout and "killed" not in stopped.stdout  # SIGTERM sufficed
    assert not os.path.exists(pid_file)
    assert not running(pid)
    assert launcher("status", "--port", str(port)).returncode == 3


@pytest.fixture(autouse=True)
def empty_moto(request):
    if "emulator" in request.fixturenames:
        http(request.getfixturevalue("emulator"), "/moto-api/reset", "POST", parse=False)


def client(emulator, name):
    return boto3.client(name, endpoint_url=emulator["url"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def http(emulator, path, method="GET", parse=True, data=None, timeout=60):
    body = json.dumps(data).encode() if data is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(emulator["url"] + path, method=method, data=body)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        body = resp.read()
    return json.loads(body) if parse else body


def playbook(emulator, tmp_path, tasks, files=()):
    """Run tasks on localhost with every AWS module pointed at the emulator; returns (rc, output)."""
    for name, content in files:
        (tmp_path / name).write_bytes(content)
    play = textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          module_defaults:
            group/aws: {endpoint_url: "%s", region: us-east-1, access_key: testing, secret_key: testing}
          tasks:
        """) % emulator["url"] + textwrap.indent(textwrap.dedent(tasks), "    ")
    (tmp_path / "play.yml").write_text(play)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "AWS_"))}
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", "play.yml"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def network(emulator):
    ec2 = client(emulator, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
               for i, az in enumerate(["us-east-1a", "us-east-1b"])]
    sg = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    default_sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                       {"Name": "group-name", "Values": ["default"]}])
    return {"vpc": vpc, "subnets": subnets, "sg": sg, "default_sg": default_sg["SecurityGroups"][0]["GroupId"]}


def self_signed(cn, issuer=None):
    """(cert PEM, key PEM); signed by issuer=(cert, key) objects if given."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_cert, issuer_key = issuer or (None, key)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name)
            .issuer_name(issuer_cert.subject if issuer_cert else name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .sign(issuer_key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    return pem, key_pem, cert, key


# ------------------------------------------------------------------ launcher
def test_health_start_twice_and_status(emulator):
    assert http(emulator, "/_pocstack/health") == {"status": "ok"}
    with pytest.raises(urllib.error.HTTPError) as unknown:
        http(emulator, "/_pocstack/nothing")
    assert unknown.value.code == 404
    again = launcher("start", "--port", str(emulator["port"]), "--state-dir", emulator["state"])
    assert again.returncode == 0
    assert again.stdout.splitlines()[0] == f"emulator already running at {emulator['url']}"
    assert again.stdout.splitlines()[1].startswith("data plane")
    assert int(open(emulator["pid_file"]).read()) == emulator["pid"]
    status = launcher("status", "--port", str(emulator["port"]))
    assert status.returncode == 0 and emulator["url"] in status.stdout


def test_stop_and_status_when_not_running(tmp_path):
    port = str(free_port())
    assert launcher("status", "--port", port).returncode == 3
    stopped = launcher("stop", "--port", port, "--state-dir", str(tmp_path))
    assert stopped.returncode == 0 and "not running" in stopped.stdout
    # a stale pid file (pid of a process that is not the emulator) is removed, nothing is signalled
    (tmp_path / f"emulator-{port}.pid").write_text(f"{os.getpid()}\n")
    stale = launcher("stop", "--port", port, "--state-dir", str(tmp_path))
    assert stale.returncode == 0 and "stale" in stale.stdout
    assert not (tmp_path / f"emulator-{port}.pid").exists()


def test_port_from_environment(emulator):
    env = {**os.environ, "POCSTACK_EMULATOR_PORT": str(emulator["port"])}
    status = subprocess.run([sys.executable, LAUNCHER, "status"], capture_output=True, text=True, env=env, timeout=30)
    assert status.returncode == 0 and emulator["url"] in status.stdout


def test_moto_reset_still_works(emulator):
    ecs = client(emulator, "ecs")
    ecs.create_cluster(clusterName="forgotten")
    http(emulator, "/moto-api/reset", "POST", parse=False)
    assert ecs.list_clusters()["clusterArns"] == []


NO_CALLS = {"reads": 0, "writes": 0, "calls": {}, "throttled": 0, "throttled_calls": {}, "throttle_rate": 0.0}


def test_calls_are_counted_as_reads_and_writes(emulator):
    assert http(emulator, "/_pocstack/calls/reset", "POST") == NO_CALLS
    vpcs = client(emulator, "ec2").describe_vpcs()["Vpcs"]  # query protocol: Action in the form body
    client(emulator, "ecs").create_cluster(clusterName="counted")  # JSON protocol: X-Amz-Target
    assert vpcs and vpcs[0]["IsDefault"]  # moto still read the form body after the counter did
    # moto's own API is not counted; it dumps every backend (EC2's is large: seconds on a busy machine)
    http(emulator, "/moto-api/data.json", parse=False, timeout=120)
    assert http(emulator, "/_pocstack/calls") == dict(
        NO_CALLS, reads=1, writes=1, calls={"ec2:DescribeVpcs": 1, "ecs:CreateCluster": 1})
    http(emulator, "/_pocstack/calls/reset", "POST")
    assert http(emulator, "/_pocstack/calls") == NO_CALLS


# ----------------------------------------------------------------- throttling
@pytest.fixture
def throttled(emulator):
    """Throttling on for one test (rate given by the test), always off after it."""
    def set_rate(rate, seed=1):
        return http(emulator, "/_pocstack/throttle", "POST", data={"rate": rate, "seed": seed})
    http(emulator, "/_pocstack/calls/reset", "POST")
    yield set_rate
    set_rate(0)


def no_retry_client(emulator, name):
    from botocore.config import Config

    return boto3.client(name, endpoint_url=emulator["url"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


@pytest.mark.parametrize("service, call, code", [
    ("ecs", lambda c: c.list_clusters(), "ThrottlingException"),          # JSON protocol
    ("ssm", lambda c: c.describe_parameters(), "ThrottlingException"),
    ("ec2", lambda c: c.describe_vpcs(), "RequestLimitExceeded"),         # EC2 query protocol
    ("elbv2", lambda c: c.describe_load_balancers(), "Throttling"),       # query protocol
    ("iam", lambda c: c.list_roles(), "Throttling"),
    ("route53", lambda c: c.list_hosted_zones(), "Throttling"),           # REST-XML
    ("s3", lambda c: c.list_buckets(), "SlowDown"),                       # S3's REST-XML: 503
    # A HEAD answer has no body: botocore sees the 503 alone (a transient error).
    ("s3", lambda c: c.head_bucket(Bucket="any"), "503"),
])
def test_throttling_error_of_each_protocol_is_one_botocore_retries(emulator, throttled, service, call, code):
    # botocore's own retries are what every call gets (amazon.aws's AWSRetry
    # knows Throttling and RequestLimitExceeded but not the JSON protocols'
    # ThrottlingException), hence AWS_MAX_ATTEMPTS in the playbooks.
    from botocore.retries.standard import RetryContext
    from botocore.retries.standard import ThrottledRetryableChecker
    from botocore.retries.standard import TransientRetryableChecker

    throttled(0.999)
    with pytest.raises(ClientError) as caught:
        call(no_retry_client(emulator, service))
    assert caught.value.response["Error"]["Code"] == code
    checker = TransientRetryableChecker() if code == "503" else ThrottledRetryableChecker()
    context = RetryContext(attempt_number=1, parsed_response=caught.value.response,
                           http_response=type("Answer", (), {"status_code": caught.value.response["ResponseMetadata"]["HTTPStatusCode"]})())
    assert checker.is_retryable(context)
    assert http(emulator, "/_pocstack/calls")["throttled"] == 1


# ---------------------------------------------------------------------- faults
@pytest.fixture
def faults(emulator):
    """Fault injection for one test, always cleared after it."""
    def add(**fault):
        return http(emulator, "/_pocstack/faults", "POST", data=fault)
    http(emulator, "/_pocstack/calls/reset", "POST")
    yield add
    add(clear=True)


@pytest.mark.parametrize("service, call, name, code, status", [
    ("ecs", lambda c: c.create_cluster(clusterName="denied"), "ecs:CreateCluster", "AccessDeniedException", 400),
    ("ec2", lambda c: c.create_security_group(GroupName="denied", Description="d"), "ec2:CreateSecurityGroup",
     "UnauthorizedOperation", 403),
    ("elbv2", lambda c: c.create_target_group(Name="denied", TargetType="lambda"), "elasticloadbalancing:CreateTargetGroup",
     "AccessDenied", 403),
])
def test_an_injected_fault_fails_the_call_as_aws_denies_it_and_changes_nothing(emulator, faults, service, call, name,
                                                                                code, status):
    faults(call=name, after=1 if service == "ecs" else 0)
    client_ = no_retry_client(emulator, service)
    if service == "ecs":
        client_.create_cluster(clusterName="allowed")  # `after`: the first passes
    with pytest.raises(ClientError) as caught:
        call(client_)
    error = caught.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    action = name.split(":", 1)[1]
    assert f"is not authorized to perform: {name.split(':')[0]}:{action}" in error["Error"]["Message"]
    seen = http(emulator, "/_pocstack/calls")
    assert seen["calls"].get(name, 0) == (1 if service == "ecs" else 0)  # the refused call reached nothing
    if service == "ecs":
        assert [c.rsplit("/", 1)[-1] for c in client_.list_clusters()["clusterArns"]] == ["allowed"]
    else:
        call(client_)  # times=1: the next call passes
    assert http(emulator, "/_pocstack/faults")["faults"][0]["failed"] == 1


def test_a_fault_with_an_unknown_setting_is_refused(emulator, faults):
    with pytest.raises(urllib.error.HTTPError) as caught:
        faults(call="ecs:CreateCluster", when="later")
    assert caught.value.code == 400
    assert http(emulator, "/_pocstack/faults") == {"faults": []}


def test_throttled_calls_are_retried_and_counted(emulator, throttled):
    assert throttled(0.3, seed=42)["throttle_rate"] == 0.3
    from botocore.config import Config

    # what the playbooks set through AWS_MAX_ATTEMPTS
    ecs = boto3.client("ecs", endpoint_url=emulator["url"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing",
                       config=Config(retries={"mode": "standard", "max_attempts": 10}))
    for index in range(20):
        ecs.create_cluster(clusterName=f"c{index}")
    assert len(ecs.list_clusters()["clusterArns"]) == 20
    seen = http(emulator, "/_pocstack/calls")
    assert seen["throttled"] > 0
    assert seen["calls"]["ecs:CreateCluster"] == 20  # only calls that reached moto are counted
    assert seen["throttled_calls"]["ecs:CreateCluster"] + 20 >= 21
    throttled(0)
    assert http(emulator, "/_pocstack/calls")["throttle_rate"] == 0.0


def test_throttle_rate_is_validated(emulator):
    with pytest.raises(urllib.error.HTTPError) as caught:
        http(emulator, "/_pocstack/throttle", "POST", data={"rate": 1.5})
    assert caught.value.code == 400
    assert launcher("start", "--throttle", "2", "--port", "1").returncode == 2


# --------------------------------------------------------------------- ELBv2
def test_alb_reports_aws_default_attributes(emulator, network):
    elb = client(emulator, "elbv2")
    arn = elb.create_load_balancer(Name="attrs", Subnets=network["subnets"],
                                   SecurityGroups=[network["sg"]])["LoadBalancers"][0]["LoadBalancerArn"]
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}
    assert attrs.items() >= {
        "idle_timeout.timeout_seconds": "60",
        "deletion_protection.enabled": "false",
        "routing.http2.enabled": "true",
        "routing.http.drop_invalid_header_fields.enabled": "false",
        "routing.http.desync_mitigation_mode": "defensive",
        "access_logs.s3.enabled": "false",
        "access_logs.s3.bucket": "",
        "access_logs.s3.prefix": "",
        "routing.http.preserve_host_header.enabled": "false",
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
        "routing.http.xff_client_port.enabled": "false",
        "routing.http.xff_header_processing.mode": "append",
        "waf.fail_open.enabled": "false",
        "client_keep_alive.seconds": "3600",
        "load_balancing.cross_zone.enabled": "true",
    }.items()
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn,
                                        Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "30"}])
    attrs = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]}
    assert attrs["idle_timeout.timeout_seconds"] == "30" and attrs["routing.http2.enabled"] == "true"


def test_elb_application_lb_module_sets_idle_timeout_idempotently(emulator, network, tmp_path):
    rc, out = playbook(emulator, tmp_path, f"""\
        - &alb
          amazon.aws.elb_application_lb:
            name: idle
            subnets: {json.dumps(network["subnets"])}
            security_groups: ["{network["sg"]}"]
            idle_timeout: 30
          register: first
        - <<: *alb
          register: second
        - assert:
            that: [first is changed, second is not changed, second.idle_timeout_timeout_seconds == "30"]
        """)
    assert rc == 0, out


def http_listener(emulator, network, name, default_action):
    """(elbv2 client, target group ARN, ARN of an HTTP listener with `default_action`)."""
    elb = client(emulator, "elbv2")
    lb = elb.create_load_balancer(Name=name, Subnets=network["subnets"])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=network["vpc"],
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[default_action])
    return elb, tg, listener["Listeners"][0]["ListenerArn"]


def test_listener_rule_tags_and_set_rule_priorities(emulator, network):
    elb, tg, listener = http_listener(emulator, network, "rules", {
        "Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}})

    def rule(priority, path, **kwargs):
        return elb.create_rule(ListenerArn=listener, Priority=priority,
                               Actions=[{"Type": "forward", "TargetGroupArn": tg}],
                               Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": [path]}}],
                               **kwargs)["Rules"][0]["RuleArn"]

    a = rule(10, "/a/*", Tags=[{"Key": "pocstack:service", "Value": "a"}])
    b = rule(20, "/b/*")
    elb.add_tags(ResourceArns=[b], Tags=[{"Key": "pocstack:service", "Value": "b"}])
    tags = {d["ResourceArn"]: d["Tags"] for d in elb.describe_tags(ResourceArns=[a, b])["TagDescriptions"]}
    assert tags == {a: [{"Key": "pocstack:service", "Value": "a"}], b: [{"Key": "pocstack:service", "Value": "b"}]}

    def priorities():
        return {r["RuleArn"]: r["Priority"] for r in elb.describe_rules(ListenerArn=listener)["Rules"]
                if not r["IsDefault"]}

    elb.set_rule_priorities(RulePriorities=[{"RuleArn": a, "Priority": 30}])
    assert priorities() == {a: "30", b: "20"}
    elb.set_rule_priorities(RulePriorities=[{"RuleArn": a, "Priority": 30}])  # own priority: a no-op on AWS
    swapped = elb.set_rule_priorities(RulePriorities=[{"RuleArn": a, "Priority": 20}, {"RuleArn": b, "Priority": 30}])
    assert {r["RuleArn"]: r["Priority"] for r in swapped["Rules"]} == {a: "20", b: "30"}
    assert priorities() == {a: "20", b: "30"}
    with pytest.raises(ClientError) as taken:
        elb.set_rule_priorities(RulePriorities=[{"RuleArn": a, "Priority": 30}])
    assert taken.value.response["Error"]["Code"] == "PriorityInUse"
    assert priorities() == {a: "20", b: "30"}
    assert elb.describe_tags(ResourceArns=[a])["TagDescriptions"][0]["Tags"] == [
        {"Key": "pocstack:service", "Value": "a"}]


def test_rule_actions_come_back_as_aws_describes_them(emulator, network):
    """No OIDC client secret in any answer; the defaults AWS fills in are there."""
    elb, tg, listener = http_listener(emulator, network, "actions", {
        "Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}})
    oidc = {"Issuer": "https://idp.example.com", "AuthorizationEndpoint": "https://idp.example.com/a",
            "TokenEndpoint": "https://idp.example.com/t", "UserInfoEndpoint": "https://idp.example.com/u",
            "ClientId": "pocstack"}
    auth_defaults = {"SessionCookieName": "AWSELBAuthSessionCookie", "Scope": "openid", "SessionTimeout": 604800,
                     "OnUnauthenticatedRequest": "authenticate"}
    created = elb.create_rule(ListenerArn=listener, Priority=1, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a*"]}}], Actions=[
        {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {**oidc, "ClientSecret": "s3cr3t"}},
        {"Type": "forward", "Order": 2, "TargetGroupArn": tg}])["Rules"][0]
    cognito = elb.create_rule(ListenerArn=listener, Priority=2, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/b*"]}}], Actions=[
        {"Type": "authenticate-cognito", "Order": 1, "AuthenticateCognitoConfig": {
            "UserPoolArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_x",
            "UserPoolClientId": "c", "UserPoolDomain": "d", "Scope": "openid email"}},
        {"Type": "redirect", "Order": 2, "RedirectConfig": {"Path": "/new/#{path}", "Query": "", "StatusCode": "HTTP_302"}}],
    )["Rules"][0]
    modified = elb.modify_rule(RuleArn=created["RuleArn"], Actions=[
        {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {**oidc, "UseExistingClientSecret": True}},
        {"Type": "forward", "Order": 2, "TargetGroupArn": tg}])["Rules"][0]

    described = {r["Priority"]: r for r in elb.describe_rules(ListenerArn=listener)["Rules"]}
    for answer in (created, modified, described["1"]):
        assert answer["Actions"][0]["AuthenticateOidcConfig"] == {**oidc, **auth_defaults}
    assert "s3cr3t" not in json.dumps(elb.describe_rules(RuleArns=[created["RuleArn"]]))
    assert described["2"]["Actions"][0]["AuthenticateCognitoConfig"]["Scope"] == "openid email"  # given wins
    assert described["2"]["Actions"][0]["AuthenticateCognitoConfig"]["SessionTimeout"] == 604800
    assert described["2"]["Actions"][1]["RedirectConfig"] == {
        "Protocol": "#{protocol}", "Port": "#{port}", "Host": "#{host}", "Path": "/new/#{path}", "Query": "",
        "StatusCode": "HTTP_302"}
    assert cognito["Actions"][1]["RedirectConfig"]["Host"] == "#{host}"
    assert described["default"]["Actions"][0]["RedirectConfig"] == {
        "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
        "StatusCode": "HTTP_301"}


def test_target_group_reports_aws_default_attributes_and_accepts_3600(emulator, network):
    elb = client(emulator, "elbv2")
    arn = elb.create_target_group(Name="defaults", Protocol="HTTP", Port=80, VpcId=network["vpc"],
                                  TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]

    def attributes():
        return {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]}

    assert attributes().items() >= {
        "deregistration_delay.timeout_seconds": "300",
        "stickiness.enabled": "false",
        "stickiness.type": "lb_cookie",
        "stickiness.lb_cookie.duration_seconds": "86400",
        "stickiness.app_cookie.cookie_name": "",
        "stickiness.app_cookie.duration_seconds": "86400",
        "load_balancing.algorithm.type": "round_robin",
        "load_balancing.algorithm.anomaly_mitigation": "off",
        "slow_start.duration_seconds": "0",
    }.items()
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "3600"},
        {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "60"}])
    assert attributes()["deregistration_delay.timeout_seconds"] == "3600"
    assert attributes()["stickiness.lb_cookie.duration_seconds"] == "60"
    with pytest.raises(ClientError) as too_long:
        elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "3601"}])
    assert too_long.value.response["Error"]["Code"] == "ValidationError"


def test_target_group_load_balancer_arns_follow_the_rules(emulator, network):
    elb = client(emulator, "elbv2")
    lb = elb.create_load_balancer(Name="users", Subnets=network["subnets"])["LoadBalancers"][0]["LoadBalancerArn"]
    old, new = (elb.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=network["vpc"], TargetType="ip")
                ["TargetGroups"][0]["TargetGroupArn"] for name in ("old", "new"))
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]

    def users():
        return {g["TargetGroupName"]: g["LoadBalancerArns"] for g in elb.describe_target_groups()["TargetGroups"]}

    def rule(priority, tg):
        return elb.create_rule(ListenerArn=listener, Priority=priority, Actions=[{"Type": "forward", "TargetGroupArn": tg}],
                               Conditions=[{"Field": "path-pattern", "Values": [f"/{priority}/*"]}])["Rules"][0]["RuleArn"]

    first, second = rule(1, old), rule(2, old)
    assert users() == {"old": [lb], "new": []}  # once, not once per rule
    for arn in (first, second):  # the switch to the new group
        elb.modify_rule(RuleArn=arn, Actions=[{"Type": "forward", "TargetGroupArn": new}])
    assert users() == {"old": [], "new": [lb]}
    assert [g["TargetGroupName"] for g in elb.describe_target_groups(LoadBalancerArn=lb)["TargetGroups"]] == ["new"]
    elb.delete_target_group(TargetGroupArn=old)  # unused now
    elb.delete_rule(RuleArn=first)
    elb.delete_rule(RuleArn=second)
    assert users() == {"new": []}


# ----------------------------------------------------------------------- ECS
def _fargate(emulator, name):
    ecs = client(emulator, "ecs")
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512", containerDefinitions=[{"name": "c", "image": "x"}])
    return ecs


def test_deleted_service_is_no_longer_listed_nor_found_by_tag(emulator, network):
    ecs = _fargate(emulator, "gone")
    net = {"awsvpcConfiguration": {"subnets": network["subnets"], "securityGroups": [network["sg"]]}}
    for name in ("kept", "deleted"):
        ecs.create_service(cluster="gone", serviceName=name, taskDefinition="gone", desiredCount=0,
                           launchType="FARGATE", networkConfiguration=net, tags=[{"key": "svc", "value": name}])
    ecs.delete_service(cluster="gone", service="deleted")
    # still described, as on AWS, but INACTIVE
    assert ecs.describe_services(cluster="gone", services=["deleted"])["services"][0]["status"] == "INACTIVE"
    assert [a.rsplit("/", 1)[1] for a in ecs.list_services(cluster="gone")["serviceArns"]] == ["kept"]
    tagging = client(emulator, "resourcegroupstaggingapi")
    found = tagging.get_resources(TagFilters=[{"Key": "svc"}], ResourceTypeFilters=["ecs:service"])
    assert [m["ResourceARN"].rsplit("/", 1)[1] for m in found["ResourceTagMappingList"]] == ["kept"]


def test_tagged_ecr_repositories_are_found_by_tag_until_deleted(emulator):
    ecr = client(emulator, "ecr")
    ecr.create_repository(repositoryName="team/app-proxy", tags=[{"Key": "svc", "Value": "app"}])
    ecr.create_repository(repositoryName="team/other", tags=[{"Key": "svc", "Value": "other"}])
    arn = ecr.describe_repositories(repositoryNames=["team/app-proxy"])["repositories"][0]["repositoryArn"]
    tagging = client(emulator, "resourcegroupstaggingapi")
    for types in (["ecr:repository"], ["ecr"], []):
        found = tagging.get_resources(TagFilters=[{"Key": "svc", "Values": ["app"]}], ResourceTypeFilters=types)
        assert [(m["ResourceARN"], m["Tags"]) for m in found["ResourceTagMappingList"]] == \
            [(arn, [{"Key": "svc", "Value": "app"}])]
    ecr.delete_repository(repositoryName="team/app-proxy", force=True)
    assert tagging.get_resources(TagFilters=[{"Key": "svc", "Values": ["app"]}])["ResourceTagMappingList"] == []


def test_service_keeps_deployment_configuration_and_grace_period(emulator, network):
    ecs = _fargate(emulator, "deploy")
    net = {"awsvpcConfiguration": {"subnets": network["subnets"], "securityGroups": [network["sg"]],
                                   "assignPublicIp": "DISABLED"}}
    wanted = {"maximumPercent": 150, "minimumHealthyPercent": 50,
              "deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    created = ecs.create_service(cluster="deploy", serviceName="s", taskDefinition="deploy", desiredCount=1,
                                 launchType="FARGATE", networkConfiguration=net, deploymentConfiguration=wanted,
                                 healthCheckGracePeriodSeconds=60)["service"]
    described = ecs.describe_services(cluster="deploy", services=["s"])["services"][0]
    for svc in (created, described):
        assert svc["deploymentConfiguration"] == wanted
        assert svc["healthCheckGracePeriodSeconds"] == 60

    updated = ecs.update_service(cluster="deploy", service="s", healthCheckGracePeriodSeconds=30,
                                 deploymentConfiguration={"minimumHealthyPercent": 100})["service"]
    described = ecs.describe_services(cluster="deploy", services=["s"])["services"][0]
    for svc in (updated, described):
        assert svc["healthCheckGracePeriodSeconds"] == 30
        assert svc["deploymentConfiguration"] == {**wanted, "minimumHealthyPercent": 100}
    # community.aws.ecs_service sends an empty deploymentConfiguration when none is configured
    ecs.update_service(cluster="deploy", service="s", desiredCount=2, deploymentConfiguration={})
    svc = ecs.describe_services(cluster="deploy", services=["s"])["services"][0]
    assert svc["deploymentConfiguration"] == {**wanted, "minimumHealthyPercent": 100}
    assert svc["healthCheckGracePeriodSeconds"] == 30 and svc["desiredCount"] == 2


def test_service_defaults_match_aws(emulator, network):
    ecs = _fargate(emulator, "defaults")
    elb, tg_arn, listener = http_listener(emulator, network, "defaults", {"Type": "fixed-response",
                                                                          "FixedResponseConfig": {"StatusCode": "404"}})
    # ECS takes only a group a load balancer forwards to.
    elb.create_rule(ListenerArn=listener, Priority=1, Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
    tg = {"TargetGroupArn": tg_arn}
    behind_lb = ecs.create_service(
        cluster="defaults", serviceName="web", taskDefinition="defaults", desiredCount=1, launchType="FARGATE",
        loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "c", "containerPort": 80}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": network["subnets"]}})["service"]
    plain = ecs.create_service(
        cluster="defaults", serviceName="worker", taskDefinition="defaults", desiredCount=1, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": network["subnets"]}})["service"]
    described = {s["serviceName"]: s for s in ecs.describe_services(cluster="defaults",
                                                                      services=["web", "worker"])["services"]}
    for svc in (behind_lb, plain, described["web"], described["worker"]):
        assert svc["deploymentConfiguration"] == {"maximumPercent": 200, "minimumHealthyPercent": 100,
                                                  "deploymentCircuitBreaker": {"enable": False, "rollback": False}}
        # no securityGroups given: AWS uses the VPC's default group (moto answered HTTP 500)
        assert svc["networkConfiguration"]["awsvpcConfiguration"] == {
            "subnets": network["subnets"], "securityGroups": [network["default_sg"]], "assignPublicIp": "DISABLED"}
    assert behind_lb["healthCheckGracePeriodSeconds"] == described["web"]["healthCheckGracePeriodSeconds"] == 0
    assert "healthCheckGracePeriodSeconds" not in plain and "healthCheckGracePeriodSeconds" not in described["worker"]


def test_service_target_groups_need_a_load_balancer_and_a_change_starts_a_deployment(emulator, network):
    """ECS refuses a group no listener forwards to, as AWS does (moto stored any ARN); weight 0 counts."""
    ecs = _fargate(emulator, "groups")
    elb = client(emulator, "elbv2")
    lb = elb.create_load_balancer(Name="groups", Subnets=network["subnets"])["LoadBalancers"][0]["LoadBalancerArn"]
    attached, spare = (elb.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=network["vpc"], TargetType="ip")
                       ["TargetGroups"][0]["TargetGroupArn"] for name in ("attached", "spare"))
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": attached}])["Listeners"][0]["ListenerArn"]
    net = {"awsvpcConfiguration": {"subnets": network["subnets"], "securityGroups": [network["sg"]]}}

    def entry(arn):
        return {"targetGroupArn": arn, "containerName": "c", "containerPort": 80}

    with pytest.raises(ClientError) as refused:
        ecs.create_service(cluster="groups", serviceName="web", taskDefinition="groups", desiredCount=0,
                           launchType="FARGATE", networkConfiguration=net, loadBalancers=[entry(spare)])
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert refused.value.response["Error"]["Message"] == (
        f"The target group with targetGroupArn {spare} does not have an associated load balancer.")
    assert ecs.describe_services(cluster="groups", services=["web"])["failures"]

    ecs.create_service(cluster="groups", serviceName="web", taskDefinition="groups", desiredCount=0,
                       launchType="FARGATE", networkConfiguration=net, loadBalancers=[entry(attached)])
    with pytest.raises(ClientError) as refused:
        ecs.update_service(cluster="groups", service="web", loadBalancers=[entry(attached), entry(spare)])
    assert "does not have an associated load balancer" in refused.value.response["Error"]["Message"]
    [svc] = ecs.describe_services(cluster="groups", services=["web"])["services"]
    assert [lb["targetGroupArn"] for lb in svc["loadBalancers"]] == [attached], "a refused update changes nothing"

    # Held at weight 0 in a weighted forward, the group has its load balancer: ECS takes it.
    elb.modify_listener(ListenerArn=listener, DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": attached, "Weight": 1}, {"TargetGroupArn": spare, "Weight": 0}]}}])
    svc = ecs.update_service(cluster="groups", service="web", loadBalancers=[entry(attached), entry(spare)])["service"]
    assert sorted(lb["targetGroupArn"] for lb in svc["loadBalancers"]) == sorted([attached, spare])


def test_create_service_keeps_exec_and_capacity_provider_strategy(emulator, network):
    ecs = _fargate(emulator, "compute")
    net = {"awsvpcConfiguration": {"subnets": network["subnets"], "securityGroups": [network["sg"]]}}
    strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}]
    spot = ecs.create_service(cluster="compute", serviceName="spot", taskDefinition="compute", desiredCount=1,
                              capacityProviderStrategy=strategy, networkConfiguration=net)["service"]
    execd = ecs.create_service(cluster="compute", serviceName="exec", taskDefinition="compute", desiredCount=1,
                               launchType="FARGATE", enableExecuteCommand=True, networkConfiguration=net)["service"]
    plain = ecs.create_service(cluster="compute", serviceName="plain", taskDefinition="compute", desiredCount=1,
                               launchType="FARGATE", networkConfiguration=net)["service"]
    described = {s["serviceName"]: s for s in ecs.describe_services(
        cluster="compute", services=["spot", "exec", "plain"])["services"]}
    for svc in (spot, described["spot"]):
        # a strategy replaces the launch type (moto reported launchType EC2 and no strategy)
        assert svc["capacityProviderStrategy"] == strategy and "launchType" not in svc
    assert "launchType" not in described["spot"]["deployments"][0]
    for svc in (execd, described["exec"]):
        assert svc["enableExecuteCommand"] is True and svc["launchType"] == "FARGATE"
    for svc in (plain, described["plain"]):
        assert svc["enableExecuteCommand"] is False  # always reported (moto left it out)


def test_task_definition_revisions_are_never_reused_and_a_family_means_its_latest_active(emulator, network):
    ecs = client(emulator, "ecs")

    def register():
        return ecs.register_task_definition(family="revs", containerDefinitions=[{"name": "c", "image": "x", "memory": 128}]
                                            )["taskDefinition"]["revision"]

    assert [register() for _ in range(3)] == [1, 2, 3]
    ecs.deregister_task_definition(taskDefinition="revs:3")
    assert ecs.describe_task_definition(taskDefinition="revs")["taskDefinition"]["revision"] == 2
    ecs.create_cluster(clusterName="revs")
    svc = ecs.create_service(cluster="revs", serviceName="s", taskDefinition="revs", desiredCount=0)["service"]
    assert svc["taskDefinition"].endswith("task-definition/revs:2")
    ecs.delete_task_definitions(taskDefinitions=["revs:3"])
    assert register() == 4  # a teardown that deleted the newest revisions does not make the next deploy reuse them
    for revision in (1, 2, 4):
        ecs.deregister_task_definition(taskDefinition=f"revs:{revision}")
    with pytest.raises(ClientError) as none_active:
        ecs.describe_task_definition(taskDefinition="revs")
    assert none_active.value.response["Error"]["Code"] == "ClientException"
    assert ecs.describe_task_definition(taskDefinition="revs:4")["taskDefinition"]["status"] == "INACTIVE"
# ---------------------------------------------------- Application Auto Scaling
SCALING_DIMENSION = "ecs:service:DesiredCount"


def _scaled_services(emulator, network, cluster, counts):
    """ECS services named after `counts` ({name: desired count}) in a new cluster;
    returns (ecs, application-autoscaling) clients."""
    ecs = _fargate(emulator, cluster)
    for name, count in counts.items():
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=cluster, desiredCount=count,
                           launchType="FARGATE",
                           networkConfiguration={"awsvpcConfiguration": {"subnets": network["subnets"]}})
    return ecs, client(emulator, "application-autoscaling")


def _target(cluster, service):
    return {"ServiceNamespace": "ecs", "ResourceId": f"service/{cluster}/{service}", "ScalableDimension": SCALING_DIMENSION}


def _cpu_policy(scaling, ids, name):
    return scaling.put_scaling_policy(PolicyName=name, PolicyType="TargetTrackingScaling", **ids,
                                      TargetTrackingScalingPolicyConfiguration={
                                          "TargetValue": 50.0,
                                          "PredefinedMetricSpecification": {
                                              "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})


def test_scaling_objects_that_are_missing_and_deregistering(emulator, network):
    _ecs, scaling = _scaled_services(emulator, network, "missing", {"web": 1})
    web = _target("missing", "web")
    for call in (lambda: _cpu_policy(scaling, web, "cpu"),  # no scalable target registered yet
                 lambda: scaling.deregister_scalable_target(**web),
                 lambda: scaling.delete_scaling_policy(PolicyName="cpu", **web)):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "ObjectNotFoundException"
    scaling.register_scalable_target(MinCapacity=1, MaxCapacity=2, **web)
    _cpu_policy(scaling, web, "cpu")
    _cpu_policy(scaling, web, "cpu2")
    assert len(client(emulator, "cloudwatch").describe_alarms()["MetricAlarms"]) == 4
    scaling.deregister_scalable_target(**web)  # deletes the target's policies and their alarms, as on AWS
    assert scaling.describe_scaling_policies(**web)["ScalingPolicies"] == []
    assert client(emulator, "cloudwatch").describe_alarms()["MetricAlarms"] == []


def test_scaling_policies_are_filtered_exactly(emulator, network):
    _ecs, scaling = _scaled_services(emulator, network, "filters", {"web": 1, "web-api": 1})
    web, api = _target("filters", "web"), _target("filters", "web-api")
    for ids in (web, api):
        scaling.register_scalable_target(MinCapacity=1, MaxCapacity=2, **ids)
    _cpu_policy(scaling, web, "web-cpu")
    _cpu_policy(scaling, web, "web-other")
    assert scaling.describe_scaling_policies(**api)["ScalingPolicies"] == []  # moto: web's policies (substring)
    assert [p["PolicyName"] for p in scaling.describe_scaling_policies(PolicyNames=["web-other"], **web)[
        "ScalingPolicies"]] == ["web-other"]
    assert len(scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]) == 2


def test_registering_moves_the_desired_count_into_the_range(emulator, network):
    ecs, scaling = _scaled_services(emulator, network, "bounds", {"big": 5, "idle": 0, "mid": 2})

    def desired(name):
        return ecs.describe_services(cluster="bounds", services=[name])["services"][0]["desiredCount"]

    for name in ("big", "idle", "mid"):
        scaling.register_scalable_target(MinCapacity=1, MaxCapacity=3, **_target("bounds", name))
    assert (desired("big"), desired("idle"), desired("mid")) == (3, 1, 2)
    scaling.register_scalable_target(MinCapacity=2, MaxCapacity=4, **_target("bounds", "mid"))  # inside: unchanged
    assert desired("mid") == 2
    scaling.register_scalable_target(MinCapacity=4, MaxCapacity=6, **_target("bounds", "mid"))  # update raises it
    assert desired("mid") == 4


def test_scalable_target_tags(emulator, network):
    _ecs, scaling = _scaled_services(emulator, network, "tagged", {"web": 1})
    web = _target("tagged", "web")
    arn = scaling.register_scalable_target(MinCapacity=1, MaxCapacity=2, Tags={"pocstack:service": "web"},
                                           **web)["ScalableTargetARN"]
    assert scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]["ScalableTargetARN"] == arn
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"pocstack:service": "web"}
    scaling.tag_resource(ResourceARN=arn, Tags={"team": "data"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["pocstack:service"])
    scaling.register_scalable_target(MinCapacity=1, MaxCapacity=3, Tags={"ignored": "on update"}, **web)
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"team": "data"}
    with pytest.raises(ClientError) as caught:
        # another target's ARN: the last character changed (to "0", or "1" when it is "0")
        scaling.list_tags_for_resource(ResourceARN=arn[:-1] + ("1" if arn.endswith("0") else "0"))
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


# ----------------------------------------------------------------------- ACM
def test_acm_returns_the_imported_chain(emulator):
    acm = client(emulator, "acm")
    cert, key, _, _ = self_signed("alone.pocstack.test")
    alone = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    got = acm.get_certificate(CertificateArn=alone)
    assert got["CertificateChain"].strip() == got["Certificate"].strip() == cert.decode().strip()

    ca_pem, _, ca_cert, ca_key = self_signed("ca.pocstack.test")
    leaf, leaf_key, _, _ = self_signed("leaf.pocstack.test", issuer=(ca_cert, ca_key))
    chained = acm.import_certificate(Certificate=leaf, PrivateKey=leaf_key, CertificateChain=ca_pem,
                                     Tags=[{"Key": "Name", "Value": "chained"}])["CertificateArn"]
    assert acm.get_certificate(CertificateArn=chained)["CertificateChain"].strip() == ca_pem.decode().strip()

    # re-import into the same ARN keeps the ARN and the tags
    leaf2, leaf2_key, _, _ = self_signed("leaf.pocstack.test", issuer=(ca_cert, ca_key))
    again = acm.import_certificate(CertificateArn=chained, Certificate=leaf2, PrivateKey=leaf2_key,
                                   CertificateChain=ca_pem)["CertificateArn"]
    assert again == chained
    assert acm.list_tags_for_certificate(CertificateArn=chained)["Tags"] == [{"Key": "Name", "Value": "chained"}]
    assert acm.get_certificate(CertificateArn=chained)["Certificate"].strip() == leaf2.decode().strip()


def test_acm_certificate_module_reimport_is_unchanged(emulator, tmp_path):
    cert, key, _, _ = self_signed("module.pocstack.test")
    rc, out = playbook(emulator, tmp_path, """\
        - &cert
          community.aws.acm_certificate:
            name_tag: pocstack-test
            certificate: "{{ lookup('file', 'cert.pem') }}"
            private_key: "{{ lookup('file', 'key.pem') }}"
          register: first
        - <<: *cert
          register: second
        - assert:
            that: [first is changed, second is not changed, first.certificate.arn == second.certificate.arn]
        """, files=[("cert.pem", cert), ("key.pem", key)])
    assert rc == 0, out


def test_acm_import_refuses_a_key_that_is_not_the_certificates(emulator):
    acm = client(emulator, "acm")
    cert, key, _, _ = self_signed("pair.pocstack.test")
    _, other_key, _, _ = self_signed("other.pocstack.test")
    before = acm.list_certificates()["CertificateSummaryList"]
    with pytest.raises(ClientError) as caught:
        acm.import_certificate(Certificate=cert, PrivateKey=other_key, Tags=[{"Key": "Name", "Value": "mismatch"}])
    assert caught.value.response["Error"] == {"Code": "ValidationException", "Message": (
        "The public key certificate and the private key do not match.")}
    assert acm.list_certificates()["CertificateSummaryList"] == before  # nothing stored

    # a re-import with the wrong key is refused too, and the imported certificate stays
    arn = acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    cert2, _, _, _ = self_signed("pair.pocstack.test")
    with pytest.raises(ClientError) as again:
        acm.import_certificate(CertificateArn=arn, Certificate=cert2, PrivateKey=other_key)
    assert again.value.response["Error"]["Code"] == "ValidationException"
    assert acm.get_certificate(CertificateArn=arn)["Certificate"].strip() == cert.decode().strip()
    # a key that does not parse keeps moto's own message
    with pytest.raises(ClientError) as garbage:
        acm.import_certificate(Certificate=cert, PrivateKey=b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert garbage.value.response["Error"]["Message"] == "The private key is not PEM-encoded or is not valid."
    acm.delete_certificate(CertificateArn=arn)


def _requested(acm, domain, **kwargs):
    arn = acm.request_certificate(DomainName=domain, ValidationMethod="DNS", **kwargs)["CertificateArn"]
    return arn, acm.describe_certificate(CertificateArn=arn)["Certificate"]


def test_acm_requested_certificate_has_the_key_algorithm_asked_for(emulator):
    acm = client(emulator, "acm")
    for asked, signature in [("EC_prime256v1", "ECDSA-WITH-SHA256"), ("EC_secp384r1", "ECDSA-WITH-SHA384"),
                             ("RSA_2048", "SHA512WITHRSA")]:
        arn, cert = _requested(acm, f"{asked.lower().replace('_', '-')}.pocstack.test", KeyAlgorithm=asked)
        assert cert["KeyAlgorithm"] == asked and cert["SignatureAlgorithm"] == signature
        assert cert["SubjectAlternativeNames"] == [cert["DomainName"]]
    assert _requested(acm, "default.pocstack.test")[1]["KeyAlgorithm"] == "RSA_2048"
    listed = acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]
    assert [c["DomainName"] for c in listed] == ["ec-prime256v1.pocstack.test"]


def test_acm_dns_validation_waits_for_the_records(emulator):
    acm, route53 = client(emulator, "acm"), client(emulator, "route53")
    zone = route53.create_hosted_zone(Name="pocstack.test", CallerReference="dns-validation")["HostedZone"]["Id"]
    private = route53.create_hosted_zone(Name="pocstack.test", CallerReference="private", VPC={
        "VPCRegion": "us-east-1", "VPCId": client(emulator, "ec2").create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]},
        HostedZoneConfig={"PrivateZone": True})["HostedZone"]["Id"]
    arn, cert = _requested(acm, "app.pocstack.test", SubjectAlternativeNames=["www.pocstack.test"])
    records = {o["DomainName"]: o["ResourceRecord"] for o in cert["DomainValidationOptions"]}
    assert set(records) == {"app.pocstack.test", "www.pocstack.test"}

    def status():
        return acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]

    def publish(zone_id, *domains):
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
            {"Action": "UPSERT", "ResourceRecordSet": {"Name": records[d]["Name"], "Type": "CNAME", "TTL": 300,
                                                       "ResourceRecords": [{"Value": records[d]["Value"]}]}}
            for d in domains]})

    assert status() == "PENDING_VALIDATION"  # the wait (0 s here) is over, but no record exists
    publish(zone, "app.pocstack.test")
    assert status() == "PENDING_VALIDATION"  # one of two
    publish(private, "www.pocstack.test")
    assert status() == "PENDING_VALIDATION"  # private zones are not public DNS
    # a name whose records do not resolve yet (its zone not delegated) keeps it pending
    assert http(emulator, "/_pocstack/acm/hold", "POST", data={"domain_names": ["WWW.pocstack.test."]}) == {
        "domain_names": ["www.pocstack.test"]}
    publish(zone, "www.pocstack.test")
    assert status() == "PENDING_VALIDATION"
    assert http(emulator, "/_pocstack/acm/hold", "POST", data={"domain_names": []}) == {"domain_names": []}
    assert status() == "ISSUED"
    options = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
    assert {o["ValidationStatus"] for o in options} == {"SUCCESS"}


def test_acm_certificate_in_use_by_a_listener(emulator, network):
    acm, elb = client(emulator, "acm"), client(emulator, "elbv2")
    first, _ = _requested(acm, "first.pocstack.test")
    second, _ = _requested(acm, "second.pocstack.test")
    lb = elb.create_load_balancer(Name="in-use", Subnets=network["subnets"],
                                  SecurityGroups=[network["sg"]])["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTPS", Port=443, Certificates=[{"CertificateArn": first}],
                                   DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
                                   )["Listeners"][0]["ListenerArn"]

    def in_use_by(arn):
        return acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"]

    assert in_use_by(first) == [lb] and in_use_by(second) == []
    assert {c["CertificateArn"]: c["InUse"] for c in acm.list_certificates()["CertificateSummaryList"]} == {
        first: True, second: False}
    with pytest.raises(ClientError) as refused:
        acm.delete_certificate(CertificateArn=first)
    assert refused.value.response["Error"]["Code"] == "ResourceInUseException"
    assert lb in refused.value.response["Error"]["Message"]

    elb.modify_listener(ListenerArn=listener, Certificates=[{"CertificateArn": second}])
    assert in_use_by(first) == [] and in_use_by(second) == [lb]
    acm.delete_certificate(CertificateArn=first)
    elb.delete_load_balancer(LoadBalancerArn=lb)
    assert in_use_by(second) == []
    acm.delete_certificate(CertificateArn=second)
    assert acm.list_certificates()["CertificateSummaryList"] == []


def test_an_interface_endpoint_takes_one_subnet_per_zone(emulator, network):
    ec2 = client(emulator, "ec2")
    same_zone = ec2.create_subnet(VpcId=network["vpc"], CidrBlock="10.8.9.0/24",
                                  AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    endpoint = dict(VpcId=network["vpc"], ServiceName="com.amazonaws.us-east-1.logs", VpcEndpointType="Interface")
    with pytest.raises(ClientError) as refused:
        ec2.create_vpc_endpoint(SubnetIds=[network["subnets"][0], same_zone], **endpoint)
    assert refused.value.response["Error"]["Code"] == "DuplicateSubnetsInSameZone"
    assert refused.value.response["Error"]["Message"] == (
        f"Found another VPC endpoint subnet in the availability zone of {same_zone}. VPC endpoint subnets should be "
        "in different availability zones supported by the VPC endpoint service.")
    assert ec2.describe_vpc_endpoints()["VpcEndpoints"] == []  # nothing half-made
    made = ec2.create_vpc_endpoint(SubnetIds=network["subnets"], **endpoint)["VpcEndpoint"]["VpcEndpointId"]
    with pytest.raises(ClientError) as refused:
        ec2.modify_vpc_endpoint(VpcEndpointId=made, AddSubnetIds=[same_zone])
    assert refused.value.response["Error"]["Code"] == "DuplicateSubnetsInSameZone"
    # Swapping the zone's subnet in one call is allowed.
    ec2.modify_vpc_endpoint(VpcEndpointId=made, AddSubnetIds=[same_zone], RemoveSubnetIds=[network["subnets"][0]])
    assert sorted(ec2.describe_vpc_endpoints()["VpcEndpoints"][0]["SubnetIds"]) == sorted([network["subnets"][1], same_zone])
