"""The HTTPS listener's certificate from a PEM pair (pocstack_certificate_pem),
deployed and observed on the emulator.

- A key that is not the certificate's stops site.yml in its preflight, and
  alb_tls used alone at its variable check, before any AWS call: nothing is
  imported, nothing created, the key's text is in no output.
- A good pair (a self-signed certificate for the names the local stack
  serves, made here): the local bootstrap, then alb_tls's shared part (what
  site.yml runs first; no service, so no image is built) import it into ACM
  and put it on the HTTPS listener. A TLS handshake with the emulator's
  listener (it terminates TLS with the listener's ACM certificate) is served
  exactly that certificate, verified against it for a name of the stack; a
  second run imports nothing (changed=0 for the certificate); a renewed pair
  is re-imported under the same ARN, and the listener serves it.

The handshake needs the emulator's data plane (a Docker engine: the listeners
serve only with it); without one that half is skipped, except in CI.
"""
import datetime
import hashlib
import socket
import ssl
import textwrap

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from data_plane import clients
from data_plane import data_plane_emulator
from data_plane import eventually
from harness import ROOT
from harness import changed_tasks
from harness import failure_message
from harness import make_inventory
from harness import run
from harness import task_results

NAMES = ["localhost", "*.pocstack.localhost"]  # what the local stack serves (inventories/local)
NAME_TAG = "pocstack-pem-test"
IMPORT_TASK = "certificate | Imported into ACM from the PEM pair"


def self_signed(names, key):
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def pem_of(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def pair():
    key, other = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    cert = self_signed(NAMES, key)
    good = {"certificate": cert.public_bytes(serialization.Encoding.PEM).decode(), "private_key": pem_of(key),
            "name": NAME_TAG}
    return {"good": good, "mismatched": {**good, "private_key": pem_of(other)},
            "fingerprint": cert.fingerprint(hashes.SHA256())}


def key_lines(pem):
    return [line for line in pem["private_key"].splitlines() if line and not line.startswith("-----")]


def assert_key_not_in(output, pem):
    assert not [line for line in key_lines(pem) if line in output], "the private key's text is in the output"


# ------------------------------------------------------------- before any write
def test_a_mismatched_key_stops_site_yml_in_its_preflight(emulator, tmp_path, pair):
    inventory = make_inventory(tmp_path, [("plotly", {})], {"pocstack_certificate_pem": pair["mismatched"]})
    emulator.calls(reset=True)
    rc, stdout = run(inventory, emulator.port, extra=["-e", "service=plotly"])
    assert rc != 0
    message = failure_message(stdout)
    assert message.startswith("The inventory has 1 mistake(s); nothing was created:"), message
    assert ("(shared):\n  - pocstack_certificate_pem.private_key does not match the certificate's public key "
            "(pocstack_certificate_pem.certificate 'CN=localhost'); ACM refuses the pair") in message, message
    assert emulator.calls()["writes"] == 0, emulator.calls()["calls"]
    assert clients(emulator.port, names=["acm"])["acm"].list_certificates()["CertificateSummaryList"] == []
    assert_key_not_in(stdout, pair["mismatched"])


ROLE_ALONE = textwrap.dedent("""\
    - name: alb_tls alone (from Galaxy, without the site's preflight)
      hosts: localhost
      gather_facts: false
      vars:
        aws_region: us-east-1
        alb_tls_vpc_id: vpc-00000000000000000
        alb_tls_subnet_ids: [subnet-00000000000000000, subnet-00000000000000001]
      tasks:
        - name: Shared part with the PEM pair
          ansible.builtin.include_role:
            name: pocstack.aws.alb_tls
            tasks_from: shared
    """)


def test_a_mismatched_key_stops_alb_tls_alone_before_its_first_aws_call(emulator, tmp_path, pair):
    (tmp_path / "role_alone.yml").write_text(ROLE_ALONE)
    (tmp_path / "pem.yml").write_text(yaml.safe_dump({"alb_tls_certificate_pem": pair["mismatched"]}))
    emulator.calls(reset=True)
    rc, stdout = run("localhost,", emulator.port, playbook=str(tmp_path / "role_alone.yml"),
                     extra=["-e", f"@{tmp_path / 'pem.yml'}"])
    assert rc != 0
    message = failure_message(stdout)
    assert message.startswith("pocstack.aws.alb_tls (shared) stopped before its first AWS call; 1 mistake(s) in its "
                              "variables: alb_tls_certificate_pem.private_key does not match the certificate's public "
                              "key (alb_tls_certificate_pem.certificate 'CN=localhost')"), message
    counted = emulator.calls()
    assert counted["writes"] == 0 and counted["reads"] == 0, counted["calls"]
    assert_key_not_in(stdout, pair["mismatched"])


# ------------------------------------------------------------ deployed, served
SHARED_PART = textwrap.dedent("""\
    - name: The local bootstrap (network, access logs bucket)
      ansible.builtin.import_playbook: {root}/extensions/molecule/resources/bootstrap.yml

    - name: The shared part of site.yml, certificate from the PEM pair
      hosts: localhost
      gather_facts: false
      module_defaults:
        group/pocstack.aws.aws:
          region: "{{{{ aws_region }}}}"
          endpoint_url: "{{{{ aws_endpoint_url }}}}"
          access_key: "{{{{ aws_access_key }}}}"
          secret_key: "{{{{ aws_secret_key }}}}"
      tasks:
        - name: Load balancer, listeners and their security group
          ansible.builtin.include_role:
            name: pocstack.aws.alb_tls
            tasks_from: shared
    """).format(root=ROOT)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, pair):
    tmp = tmp_path_factory.mktemp("certificate-pem")
    emulator = data_plane_emulator(tmp / "emulator")
    try:
        inventory = make_inventory(tmp, [("plotly", {})], {"pocstack_certificate_pem": pair["good"]})
        playbook = tmp / "shared_part.yml"
        playbook.write_text(SHARED_PART)
        first = run(inventory, emulator.port, playbook=str(playbook))
        assert first[0] == 0, failure_message(first[1])
        emulator.calls(reset=True)
        second = run(inventory, emulator.port, playbook=str(playbook))
        assert second[0] == 0, failure_message(second[1])
        yield {"emulator": emulator, "first": first[1], "second": second[1], "second_writes": emulator.writes(),
               "aws": clients(emulator.port, names=["acm", "elbv2"])}
    finally:
        emulator.stop()


def https_listener(deployed):
    def local_port():
        return next((item["local_port"] for item in deployed["emulator"].data_plane()["listeners"]
                     if item["load_balancer"] == "pocstack" and item["port"] == 443), None)
    return eventually(local_port, timeout=30, interval=0.5, what="the HTTPS listener serving")


def imported(acm):
    """ARNs of the certificates with the pair's Name tag (the import task's result is no_log: hidden)."""
    return [summary["CertificateArn"] for summary in acm.list_certificates()["CertificateSummaryList"]
            if {"Key": "Name", "Value": NAME_TAG} in acm.list_tags_for_certificate(
                CertificateArn=summary["CertificateArn"])["Tags"]]


def test_the_pair_is_imported_and_on_the_https_listener(deployed):
    [first] = task_results(deployed["first"], IMPORT_TASK)
    assert first["changed"]
    acm, elbv2 = deployed["aws"]["acm"], deployed["aws"]["elbv2"]
    [arn] = imported(acm)
    described = acm.describe_certificate(CertificateArn=arn)["Certificate"]
    assert described["Type"] == "IMPORTED" and sorted(described["SubjectAlternativeNames"]) == sorted(NAMES)
    lb = elbv2.describe_load_balancers(Names=["pocstack"])["LoadBalancers"][0]
    [https] = [listener for listener in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
               if listener["Port"] == 443]
    assert https["Certificates"] == [{"CertificateArn": arn}]


@pytest.mark.parametrize("host", ["localhost", "plotly.pocstack.localhost"])
def test_the_listener_serves_the_imported_certificate(deployed, pair, host):
    port = https_listener(deployed)
    # verified against the imported certificate itself (self-signed), for a name the stack serves
    context = ssl.create_default_context(cadata=pair["good"]["certificate"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            served = tls.getpeercert(binary_form=True)
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := tls.recv(4096):
                answer += chunk
    assert hashlib.sha256(served).digest() == pair["fingerprint"]
    assert answer.startswith(b"HTTP/1.1 404") and answer.endswith(b"Not found")  # the listener's default action


def test_a_second_run_imports_nothing(deployed, pair):
    [again] = task_results(deployed["second"], IMPORT_TASK)
    assert not again["changed"]
    assert len(imported(deployed["aws"]["acm"])) == 1
    assert not [name for name in deployed["second_writes"] if name.startswith("acm:")], deployed["second_writes"]
    assert changed_tasks(deployed["second"]) == [], changed_tasks(deployed["second"])
    for output in (deployed["first"], deployed["second"]):
        assert_key_not_in(output, pair["good"])


def served_fingerprint(port, host, cadata):
    """SHA-256 of the certificate served for `host`, verified against `cadata`;
    None while another one is served (the listener not rebuilt yet)."""
    context = ssl.create_default_context(cadata=cadata)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                return hashlib.sha256(tls.getpeercert(binary_form=True)).digest()
    except ssl.SSLCertVerificationError:
        return None


def test_a_renewed_pair_is_reimported_under_the_same_arn_and_served(deployed, pair, tmp_path):
    """A renewal: a new certificate and key in the inventory. ACM keeps the ARN
    (ImportCertificate with CertificateArn), the listener keeps pointing at
    it, and what clients are served is the new certificate."""
    acm = deployed["aws"]["acm"]
    [arn] = imported(acm)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed(NAMES, key)
    renewed = {"certificate": cert.public_bytes(serialization.Encoding.PEM).decode(), "private_key": pem_of(key),
               "name": NAME_TAG}
    inventory = make_inventory(tmp_path, [("plotly", {})], {"pocstack_certificate_pem": renewed})
    playbook = tmp_path / "shared_part.yml"
    playbook.write_text(SHARED_PART)
    rc, out = run(inventory, deployed["emulator"].port, playbook=str(playbook))
    assert rc == 0, failure_message(out)
    [result] = task_results(out, IMPORT_TASK)
    assert result["changed"]
    assert imported(acm) == [arn]
    port = https_listener(deployed)
    fingerprint = cert.fingerprint(hashes.SHA256())
    assert eventually(lambda: served_fingerprint(port, "localhost", renewed["certificate"]), timeout=30, interval=0.5,
                      what="the listener serving the renewed certificate") == fingerprint
    assert_key_not_in(out, renewed)
