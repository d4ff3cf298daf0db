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

LAUNCHER = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "emulator", "pocstack_emulator.py"))
BIN = os.path.dirname(sys.executable)


def launcher(*args):
    return subprocess.run([sys.executable, LAUNCHER, *args], capture_output=True, text=True, timeout=90)


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
    started = launcher("start", "--port", str(port), "--state-dir", state)
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"emulator running at http://127.0.0.1:{port} (pid " in started.stdout
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


def http(emulator, path, method="GET", parse=True):
    req = urllib.request.Request(emulator["url"] + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=5) as resp:
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
    from cryptography.hazmat.primitives import hashes, serialization
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
    assert again.stdout.strip() == f"emulator already running at {emulator['url']}"
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


def test_calls_are_counted_as_reads_and_writes(emulator):
    assert http(emulator, "/_pocstack/calls/reset", "POST") == {"reads": 0, "writes": 0, "calls": {}}
    vpcs = client(emulator, "ec2").describe_vpcs()["Vpcs"]  # query protocol: Action in the form body
    client(emulator, "ecs").create_cluster(clusterName="counted")  # JSON protocol: X-Amz-Target
    assert vpcs and vpcs[0]["IsDefault"]  # moto still read the form body after the counter did
    http(emulator, "/moto-api/data.json", parse=False)  # moto's own API is not counted
    assert http(emulator, "/_pocstack/calls") == {
        "reads": 1, "writes": 1, "calls": {"ec2:DescribeVpcs": 1, "ecs:CreateCluster": 1}}
    http(emulator, "/_pocstack/calls/reset", "POST")
    assert http(emulator, "/_pocstack/calls") == {"reads": 0, "writes": 0, "calls": {}}


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


def test_listener_rule_tags_and_set_rule_priorities(emulator, network):
    elb = client(emulator, "elbv2")
    lb = elb.create_load_balancer(Name="rules", Subnets=network["subnets"])["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=network["vpc"],
                                 TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]["ListenerArn"]

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


# ----------------------------------------------------------------------- ECS
def _fargate(emulator, name):
    ecs = client(emulator, "ecs")
    ecs.create_cluster(clusterName=name)
    ecs.register_task_definition(family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
                                 cpu="256", memory="512", containerDefinitions=[{"name": "c", "image": "x"}])
    return ecs


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
    tg = client(emulator, "elbv2").create_target_group(
        Name="defaults", Protocol="HTTP", Port=80, VpcId=network["vpc"], TargetType="ip")["TargetGroups"][0]
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
