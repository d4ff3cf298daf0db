"""A requested certificate on the emulator, through ansible-playbook: the role
alb_tls's certificate_request tasks (pocstack.aws.acm_certificate_request,
amazon.aws.route53 for the validation records, community.aws.acm_certificate_info
for the wait), then the module's state=absent.

One playbook: a public hosted zone, then the tasks in check mode (no write,
counted by the emulator), for real (certificate requested, validation record
written, waited for until ISSUED: the emulator issues it only once the record
exists), again (changed=0, no write), then state=absent twice (the records it
returns removed with amazon.aws.route53); last, a certificate that ACM has not
issued within wait_timeout fails the tasks with its status and records. The
final state is read back with boto3.
"""
import os
import subprocess
import textwrap

import boto3
import pytest

from emulator_support import BIN
from emulator_support import ROOT
from emulator_support import ansible_env
from emulator_support import emulator_call
from emulator_support import failures
from emulator_support import task_results

DOMAIN = "plotly.poc.example.com"
ZONE = "poc.example.com"

PLAY = textwrap.dedent("""\
    - hosts: localhost
      gather_facts: false
      connection: local
      module_defaults:
        group/pocstack.aws.aws:
          endpoint_url: "{{ endpoint }}"
          region: us-east-1
          access_key: testing
          secret_key: testing
      vars:
        calls: "{{ endpoint }}/_pocstack/calls"
        aws_region: us-east-1
        alb_tls_certificate_request:
          domain_name: %(domain)s
          hosted_zone: %(zone)s
          wait_timeout: 60
        alb_tls_tags:
          pocstack:service: plotly
        route53: &route53
          zone: %(zone)s
          record: "{{ item.name }}"
          type: "{{ item.type }}"
          value: "{{ item.value }}"
          ttl: 300
          region: null
      environment:
        AWS_DEFAULT_REGION: us-east-1
      tasks:
        - name: zone
          amazon.aws.route53_zone:
            zone: %(zone)s
        - name: reset counters
          ansible.builtin.uri: {url: "{{ calls }}/reset", method: POST}
        - name: role in check mode
          ansible.builtin.import_role: {name: pocstack.aws.alb_tls, tasks_from: certificate_request}
          check_mode: true
          diff: true
        - name: check mode
          ansible.builtin.debug: {var: alb_tls__certificate_requested}
        - name: calls after check mode
          ansible.builtin.uri: {url: "{{ calls }}"}
        - name: role for real
          ansible.builtin.import_role: {name: pocstack.aws.alb_tls, tasks_from: certificate_request}
        - name: request
          ansible.builtin.debug: {var: alb_tls__certificate_requested}
        - name: issued
          ansible.builtin.debug: {var: alb_tls__certificate_issued}
        - name: calls after request
          ansible.builtin.uri: {url: "{{ calls }}"}
        - name: validation record in the zone
          amazon.aws.route53:
            state: get
            zone: %(zone)s
            record: "{{ alb_tls__certificate_requested.validation_records[0].name }}"
            type: CNAME
            region: "{{ omit }}"
        - name: reset counters again
          ansible.builtin.uri: {url: "{{ calls }}/reset", method: POST}
        - name: role again
          ansible.builtin.import_role: {name: pocstack.aws.alb_tls, tasks_from: certificate_request}
        - name: again
          ansible.builtin.debug: {var: alb_tls__certificate_requested}
        - name: calls after again
          ansible.builtin.uri: {url: "{{ calls }}"}
        - name: absent
          pocstack.aws.acm_certificate_request:
            domain_name: %(domain)s
            state: absent
          register: absent
        - name: its validation records removed
          amazon.aws.route53:
            <<: *route53
            state: absent
          loop: "{{ absent.validation_records }}"
        - name: absent again
          pocstack.aws.acm_certificate_request:
            domain_name: %(domain)s
            state: absent
        # The emulator issues 3 s after the request once the records exist; a
        # loaded machine can take that long between the request and the first
        # look, so the slow name's records are held unresolved (as in a zone that
        # is not delegated) until the role has given up.
        - name: slow name held unresolved
          ansible.builtin.uri: {url: "{{ endpoint }}/_pocstack/acm/hold", method: POST, body_format: json,
                                body: {domain_names: ["slow.%(zone)s"]}}
        - name: not issued within wait_timeout
          vars:
            alb_tls_certificate_request: {domain_name: "slow.%(zone)s", hosted_zone: %(zone)s, wait_timeout: 1}
          block:
            - name: role with a wait_timeout shorter than ACM takes
              ansible.builtin.import_role: {name: pocstack.aws.alb_tls, tasks_from: certificate_request}
          rescue:
            - name: why not issued
              ansible.builtin.debug: {var: ansible_failed_result}
        - name: slow name released
          ansible.builtin.uri: {url: "{{ endpoint }}/_pocstack/acm/hold", method: POST, body_format: json,
                                body: {domain_names: []}}
        - name: slow absent
          pocstack.aws.acm_certificate_request:
            domain_name: slow.%(zone)s
            state: absent
          register: slow_absent
        - name: slow validation records removed
          amazon.aws.route53:
            <<: *route53
            state: absent
          loop: "{{ slow_absent.validation_records }}"
    """) % {"domain": DOMAIN, "zone": ZONE}


def writes(calls):
    return {name: n for name, n in calls["json"]["calls"].items() if not name.split(":", 1)[1].startswith(
        ("Describe", "List", "Get", "Head"))}


@pytest.fixture(scope="module")
def played(emulator_port, tmp_path_factory):
    emulator_call(emulator_port, "/moto-api/reset", post=True)
    workdir = tmp_path_factory.mktemp("acm")
    (workdir / "play.yml").write_text(PLAY)
    endpoint = f"http://127.0.0.1:{emulator_port}"
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "play.yml", "-e", f"endpoint={endpoint}"],
        cwd=workdir, capture_output=True, text=True, timeout=300,
        env=ansible_env(emulator_port, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg")),
    )
    assert proc.returncode == 0, "\n".join(failures(proc.stdout)) + proc.stderr[-2000:]
    return task_results(proc.stdout), endpoint


def test_check_mode_reports_a_change_and_writes_nothing(played):
    results, _ = played
    check = results["check mode"]["alb_tls__certificate_requested"]
    assert check["changed"] and check["certificate_arn"] == ""
    assert check["diff"]["before"] == {}
    assert writes(results["calls after check mode"]) == {}


def test_request_writes_the_record_and_waits_until_issued(played):
    results, _ = played
    request = results["request"]["alb_tls__certificate_requested"]
    assert request["changed"] and request["domain_name"] == DOMAIN
    assert results["issued"]["alb_tls__certificate_issued"]["certificates"][0]["status"] == "ISSUED"
    assert request["tags"] == {"pocstack:certificate-name": DOMAIN, "pocstack:service": "plotly",
                               "pocstack:managed-by": "pocstack.aws"}
    [record] = request["validation_records"]
    assert record["domain_names"] == [DOMAIN] and record["name"].endswith(f".{DOMAIN}.")
    done = writes(results["calls after request"])
    assert done.pop("acm:RequestCertificate") == 1
    assert [n for name, n in done.items() if name.startswith("route53:Post") and name.endswith("/rrset/")] == [1]
    found = results["validation record in the zone"]["set"]
    assert found["type"] == "CNAME" and found["value"] == record["value"]


def test_second_run_changes_nothing(played):
    results, _ = played
    again = results["again"]["alb_tls__certificate_requested"]
    assert not again["changed"]
    assert again["certificate_arn"] == results["request"]["alb_tls__certificate_requested"]["certificate_arn"]
    assert writes(results["calls after again"]) == {}


def test_not_issued_within_wait_timeout_fails_with_the_records_to_check(played):
    results, _ = played
    failed = results["why not issued"]["ansible_failed_result"]
    [record] = results["slow absent"]["validation_records"]
    assert failed["msg"].startswith(f"certificate {results['slow absent']['deleted_certificate_arns'][0]} is "
                                    "still PENDING_VALIDATION after wait_timeout=1 s.")
    assert f"resolve in public DNS: {record['name']} CNAME {record['value']}" in failed["msg"]
    assert "Check that the hosted zone is delegated (its NS records at the parent)" in failed["msg"]


def test_absent_removes_certificate_and_record(played):
    results, endpoint = played
    assert results["absent"]["changed"]
    assert results["absent"]["deleted_certificate_arns"] == [
        results["request"]["alb_tls__certificate_requested"]["certificate_arn"]]
    assert results["absent"]["validation_records"] == results["request"]["alb_tls__certificate_requested"][
        "validation_records"]
    assert not results["absent again"]["changed"]
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    assert boto3.client("acm", **kw).list_certificates()["CertificateSummaryList"] == []
    route53 = boto3.client("route53", **kw)
    zone_id = route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"][0]["Id"]
    left = {r["Type"] for r in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]}
    assert left == {"NS", "SOA"}
