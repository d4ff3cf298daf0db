"""Host-based routing with a certificate ACM issues, and a target group that
AWS cannot change in place, through site.yml on the emulator.

One inventory (a copy of inventories/local) with a public Route 53 hosted zone
made here, `pocstack_certificate_request` for *.poc.example.com and a service
with `poc_host`. The stages run in order, each on what the previous one left:
deploy; re-run (changed=0); `--check --diff` with a new container port (shows
the new group and the rule's switch, writes nothing); the port change itself
(new group forwarded to, old group deleted, one group for the service); the
service's teardown, twice (alias record gone, the second run changes nothing).
"""
import json
import urllib.request

import boto3
import pytest

from harness import failure_message
from harness import make_inventory
from harness import results
from harness import run
from harness import set_service
from harness import stats
from harness import task_results

ZONE = "poc.example.com"
HOST = "plotly.poc.example.com"
REQUEST = {"domain_name": f"*.{ZONE}", "subject_alternative_names": [ZONE]}
TG_TASK = "target group | Target group health-checked on the service's health path"
RULE_TASK = "rule | The service's rule on the HTTPS listener"
PRUNE_TASK = "target group | Remove the ones the service no longer uses"


def client(port, name):
    return boto3.client(name, endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def post(port, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read()


def writes(port):
    """{mutating call: count} since the emulator's counter was last reset."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_pocstack/calls", timeout=10) as answer:
        calls = json.load(answer)["calls"]
    return {name: n for name, n in calls.items()
            if not name.split(":", 1)[-1].startswith(("Describe", "List", "Get", "BatchGet", "Head"))}


def service_groups(port):
    """The target groups tagged for the plotly service."""
    elbv2 = client(port, "elbv2")
    groups = elbv2.describe_target_groups()["TargetGroups"]
    tags = {d["ResourceArn"]: {t["Key"]: t["Value"] for t in d["Tags"]}
            for d in elbv2.describe_tags(ResourceArns=[g["TargetGroupArn"] for g in groups])["TagDescriptions"]} if groups else {}
    return [g for g in groups if tags.get(g["TargetGroupArn"], {}).get("pocstack:service") == "plotly"]


def https_listener_and_rule(port):
    elbv2 = client(port, "elbv2")
    [lb] = elbv2.describe_load_balancers(Names=["pocstack"])["LoadBalancers"]
    [https] = [li for li in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"] if li["Port"] == 443]
    [rule] = [r for r in elbv2.describe_rules(ListenerArn=https["ListenerArn"])["Rules"] if not r["IsDefault"]]
    return lb, https, rule


def alias_record(port):
    route53 = client(port, "route53")
    zone_id = route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"][0]["Id"]
    return [r for r in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
            if r["Name"].rstrip(".") == HOST]


@pytest.fixture(scope="module")
def stages(emulator_port, tmp_path_factory):
    """Runs every stage once; the tests judge what each left."""
    post(emulator_port, "/moto-api/reset")
    client(emulator_port, "route53").create_hosted_zone(Name=ZONE, CallerReference="test_alb_routing")
    inventory = make_inventory(tmp_path_factory.mktemp("alb-routing"),
                               [("plotly", {"poc_host": HOST, "poc_path_patterns": None})],
                               shared={"pocstack_hosted_zone": ZONE, "pocstack_certificate_request": REQUEST})
    out = {}

    def stage(name, *extra, playbook="site.yml"):
        rc, stdout = run(inventory, emulator_port, playbook=playbook, extra=("-e", "service=plotly", *extra))
        assert rc == 0, f"{name}: {failure_message(stdout)}"
        out[name] = stdout

    stage("deploy")
    out["deployed"] = {"groups": service_groups(emulator_port), "lb_rule": https_listener_and_rule(emulator_port),
                       "record": alias_record(emulator_port),
                       "certificates": client(emulator_port, "acm").list_certificates()["CertificateSummaryList"]}
    stage("again")
    set_service(inventory, "plotly", {"poc_container_port": 8051, "poc_environment": {"PORT": "8051"}})
    post(emulator_port, "/_pocstack/calls/reset")
    stage("check", "--check", "--diff")
    out["check writes"] = writes(emulator_port)
    stage("port change")
    out["changed"] = {"groups": service_groups(emulator_port), "lb_rule": https_listener_and_rule(emulator_port),
                      "ecs": client(emulator_port, "ecs").describe_services(cluster="pocstack", services=["plotly"])["services"]}
    stage("teardown", playbook="playbooks/teardown.yml")
    out["record after teardown"] = alias_record(emulator_port)
    stage("teardown again", playbook="playbooks/teardown.yml")
    return out


def test_requested_certificate_is_issued_and_on_the_https_listener(stages, emulator_port):
    requested = [c for c in stages["deployed"]["certificates"] if c["DomainName"] == f"*.{ZONE}"]
    assert len(requested) == 1
    certificate = client(emulator_port, "acm").describe_certificate(CertificateArn=requested[0]["CertificateArn"])["Certificate"]
    assert certificate["Status"] == "ISSUED"
    assert sorted(certificate["SubjectAlternativeNames"]) == sorted([f"*.{ZONE}", ZONE])
    # Named in a tag ACM accepts: "*" fails its tag pattern (the strict emulator refuses it, as ACM does).
    tags = client(emulator_port, "acm").list_tags_for_certificate(CertificateArn=certificate["CertificateArn"])["Tags"]
    assert {"Key": "pocstack:certificate-name", "Value": f"_.{ZONE}"} in tags
    _, https, _ = stages["deployed"]["lb_rule"]
    assert [c["CertificateArn"] for c in https["Certificates"]] == [requested[0]["CertificateArn"]]


def test_alias_record_points_at_the_load_balancer(stages):
    lb, _, _ = stages["deployed"]["lb_rule"]
    [record] = stages["deployed"]["record"]
    assert record["Type"] == "A"
    assert record["AliasTarget"]["DNSName"].rstrip(".").lower() == lb["DNSName"].rstrip(".").lower()
    assert record["AliasTarget"]["HostedZoneId"] == lb["CanonicalHostedZoneId"]


def test_rule_matches_the_host_and_forwards_to_the_service_group(stages):
    [group] = stages["deployed"]["groups"]
    _, _, rule = stages["deployed"]["lb_rule"]
    assert [(c["Field"], c["HostHeaderConfig"]["Values"]) for c in rule["Conditions"]] == [("host-header", [HOST])]
    assert [a["Type"] for a in rule["Actions"]] == ["forward"]
    assert rule["Actions"][0]["TargetGroupArn"] == group["TargetGroupArn"]
    assert (group["Port"], group["HealthCheckPath"]) == (8050, "/health")


def test_second_run_changes_nothing(stages):
    assert {host: s["changed"] for host, s in stats(stages["again"]).items()} == {"localhost": 0, "plotly": 0}


def test_check_diff_shows_the_replacement_and_writes_nothing(stages):
    assert stages["check writes"] == {}
    [group] = task_results(stages["check"], TG_TASK, "plotly")
    assert group["changed"] and group["operation"] == "created" and group["target_group_arn"] == ""
    assert group["diff"]["before"] == {} and group["diff"]["after"]["port"] == 8051
    [rule] = task_results(stages["check"], RULE_TASK, "plotly")
    assert rule["changed"]
    new_name = group["diff"]["after"]["name"]
    assert f"targetgroup/{new_name}/" in str(rule["diff"]["after"]) and f"targetgroup/{new_name}/" not in str(rule["diff"]["before"])
    [prune] = task_results(stages["check"], PRUNE_TASK, "plotly")
    old = stages["deployed"]["groups"][0]["TargetGroupName"]
    assert [r["alb_tls__old_group"]["name"] for r in prune["results"] if r["changed"]] == [old]


def test_port_change_replaces_the_group_without_leaving_the_old_one(stages):
    [old] = stages["deployed"]["groups"]
    [new] = stages["changed"]["groups"]
    assert new["Port"] == 8051 and new["TargetGroupArn"] != old["TargetGroupArn"]
    assert new["TargetGroupName"] != old["TargetGroupName"]
    _, _, rule = stages["changed"]["lb_rule"]
    assert rule["RuleArn"] == stages["deployed"]["lb_rule"][2]["RuleArn"], "the rule is switched, not replaced"
    assert rule["Actions"][0]["TargetGroupArn"] == new["TargetGroupArn"]
    facts = [r for r in task_results(stages["port change"], "rule | Publish the service's facts", "plotly")]
    assert facts[0]["ansible_facts"]["alb_tls_target_group_arn"] == new["TargetGroupArn"]


def test_ecs_service_follows_the_new_group(stages):
    [new] = stages["changed"]["groups"]
    [service] = stages["changed"]["ecs"]
    assert [(lb["targetGroupArn"], lb["containerPort"]) for lb in service["loadBalancers"]] == [(new["TargetGroupArn"], 8051)]


def test_teardown_removes_the_alias_record_and_is_idempotent(stages):
    assert stages["record after teardown"] == []
    [removed] = task_results(stages["teardown"], "dns | Remove the alias record", "plotly")
    assert removed["changed"]
    assert stats(stages["teardown again"])["plotly"]["changed"] == 0
    assert not any(r.get("changed") for r in task_results(stages["teardown again"], "dns | Remove the alias record"))
    assert results(stages["teardown again"])["stats"]["plotly"]["failures"] == 0
