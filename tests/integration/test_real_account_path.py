"""README's "On a real AWS account", followed as written, against the emulator.

The commands are read from the README's own code block and run in order, with
only what a user brings supplied by the test: an account (the emulator, its
data plane running what is deployed) holding a VPC with two public subnets, an
internet gateway and an ACM certificate; the editor's values (placeholders in
group_vars/all/main.yml replaced by that VPC's IDs); the vault password (a
file instead of the prompt); the endpoint (`-e aws_endpoint_url`, as a profile
would give the real one); and the copy's place (a temporary directory instead
of inventories/mine). The public base image the Dockerfile names is the local
base under that name where the engine has no image of it (no public registry
is reachable here).

What a user would then see is checked, not only what is stored: the HTTPS URL
answers through the load balancer, the vault's password logs in (the secret
reached the container through SSM), the task runs (so the execution role could
pull from ECR and read the secrets: issue 18's item 4 on this inventory), and
the teardown leaves no service.
"""
import base64
import datetime
import json
import os
import re
import shlex
import ssl
import subprocess
import sys
import urllib.request

import pytest

from data_plane import clients
from data_plane import data_plane_emulator
from data_plane import engine
from data_plane import eventually
from harness import ROOT
from harness import environment
from harness import failure_message

REGION = "eu-west-1"  # the example's
PASSWORD = "a-long-random-password"  # the README's
PUBLIC_BASE = "python:3.11-slim-bookworm"
LOCAL_BASE = os.environ.get("POCSTACK_BASE_IMAGE", "pocstack/python-base:bookworm")


def readme_commands():
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text[text.index("## On a real AWS account"):]
    section = section[:section.index("\n## ", 3)]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def client(port, name):
    return clients(port, REGION, [name])[name]


def self_signed(name):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption()))


def account(port):
    """What the README asks a user to have: a VPC, two public subnets in two zones, a certificate."""
    ec2 = client(port, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    subnets = []
    for number, zone in enumerate(["a", "b"]):
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.60.{number}.0/24",
                                   AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        subnets.append(subnet)
    cert, key = self_signed("localhost")
    arn = client(port, "acm").import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"]
    return {"vpc-0123456789abcdef0": vpc, "subnet-0123456789abcdef0": subnets[0],
            "subnet-0fedcba9876543210": subnets[1],
            "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000": arn}


EDITOR = """\
import json, sys
values = json.loads(%r)
path = sys.argv[1]
text = open(path).read()
for placeholder, value in values.items():
    assert placeholder in text, placeholder
    text = text.replace(placeholder, value)
open(path, "w").write(text)
"""


@pytest.fixture(scope="module")
def followed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("real-account")
    emulator = data_plane_emulator(tmp / "emulator")
    docker = engine()
    images = {tag for image in docker.images.list() for tag in image.tags}
    if PUBLIC_BASE not in images:
        docker.images.get(LOCAL_BASE).tag(PUBLIC_BASE)
    values = account(emulator.port)
    editor = tmp / "editor.py"
    editor.write_text(EDITOR % json.dumps(values))
    vault_password = tmp / "vault-password"
    vault_password.write_text("vault-pass-for-the-test\n")
    env = environment(emulator.port, json_output=False, extra_env={
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
        "EDITOR": f"{sys.executable} {editor}", "ANSIBLE_VAULT_PASSWORD_FILE": str(vault_password),
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION})
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    ran = []
    for line in readme_commands():
        command = line.split("   #")[0].strip()
        command = command.replace("inventories/mine", str(tmp / "mine"))
        command = command.replace("--ask-vault-pass", f"--vault-password-file {shlex.quote(str(vault_password))}")
        if command.startswith("ansible-playbook"):
            command += f" -e aws_endpoint_url=http://127.0.0.1:{emulator.port}"
        playbook = command.startswith("ansible-playbook")
        if playbook:
            json_env = {**env, "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"}
        proc = subprocess.run(["bash", "-c", command], cwd=ROOT, env=json_env if playbook else env,
                              capture_output=True, text=True, timeout=1200)
        ran.append((line, proc))
        assert proc.returncode == 0, f"{line}\n{failure_message(proc.stdout) if playbook else proc.stdout}\n{proc.stderr[-3000:]}"
        if "site.yml" in command:
            yield_state = observe(emulator)
    yield {"emulator": emulator, "ran": ran, "deployed": yield_state, "tmp": tmp}
    emulator.stop()


def observe(emulator):
    """What a user sees right after the deploy."""
    ecs = client(emulator.port, "ecs")
    service = ecs.describe_services(cluster="pocstack", services=["plotly"])["services"][0]
    listeners = {item["port"]: item["local_port"] for item in emulator.data_plane()["listeners"]}
    context = ssl._create_unverified_context()  # the test's self-signed certificate
    url = f"https://127.0.0.1:{listeners[443]}"
    health = urllib.request.urlopen(url + "/health", context=context, timeout=30)
    login = urllib.request.Request(url + "/", headers={
        "Authorization": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()})
    page = urllib.request.urlopen(login, context=context, timeout=30)
    tasks = ecs.describe_tasks(cluster="pocstack", tasks=ecs.list_tasks(cluster="pocstack",
                                                                       serviceName="plotly")["taskArns"])["tasks"]
    return {"service": service, "health": health.status, "page": (page.status, page.read().decode()),
            "tasks": tasks}


def test_the_commands_are_the_readmes(followed):
    assert [line for line, _ in followed["ran"]] == readme_commands()
    assert len(followed["ran"]) == 5


def test_the_vault_file_beside_main_keeps_the_shared_settings(followed):
    # group_vars/all/ holds both: the region and VPC were read (the deploy ran in eu-west-1).
    mine = followed["tmp"] / "mine" / "group_vars" / "all"
    assert sorted(os.listdir(mine)) == ["main.yml", "vault.yml"]
    assert "$ANSIBLE_VAULT" in (mine / "vault.yml").read_text()
    assert followed["deployed"]["service"]["serviceArn"].startswith(f"arn:aws:ecs:{REGION}:")


def test_the_deployed_url_answers_and_the_vault_password_logs_in(followed):
    assert followed["deployed"]["health"] == 200
    status, body = followed["deployed"]["page"]
    assert status == 200 and "_dash-config" in body


def test_the_task_runs_with_a_public_ip_path_and_its_image_from_ecr(followed):
    service, tasks = followed["deployed"]["service"], followed["deployed"]["tasks"]
    assert service["runningCount"] == 1
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "ENABLED"
    [task] = tasks
    assert task["lastStatus"] == "RUNNING"
    image = task["containers"][0]["image"]
    assert ".dkr.ecr.eu-west-1.amazonaws.com/pocstack/plotly@sha256:" in image


def test_the_teardown_leaves_no_service(followed):
    ecs = client(followed["emulator"].port, "ecs")
    services = ecs.describe_services(cluster="pocstack", services=["plotly"])["services"]
    assert all(s["status"] == "INACTIVE" for s in services)
    eventually(lambda: not engine().containers.list(
        filters={"label": f"pocstack.emulator={followed['emulator'].port}"}), what="the task's container removed")
