"""A container port change through site.yml on the emulator's data plane, with
requests going through the load balancer the whole time: none may fail.

A new port gives the service a new target group (AWS cannot change a group's
port). The run keeps the listener rule on the replaced group, holding the new
one at weight 0, while ECS starts the new tasks in both groups; once they are
healthy the new group serves and the replaced one is held at weight 0 while a
second rollout takes the service out of it; then the rule drops it and it is
deleted. The task security group keeps the old port open until that second
rollout, so the tasks being replaced stay reachable (the emulator drops what a
security group does not accept, as AWS does).

Before this, the rule switched to the new, empty group at once: every request
until the new tasks were healthy got 503.
"""
import http.client
import json
import os
import socket
import ssl
import threading
import time

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
from harness import task_results

PASSWORD = "swap-Secret-4"
SECRETS = [{"name": "PLOTLY_USER", "value": "tester"}, {"name": "PLOTLY_PASS", "value": PASSWORD}]
NEW_PORT = 8051


class Load:
    """Requests to https://localhost/health through the emulator's HTTPS
    listener, one after another on new connections, until stopped."""

    def __init__(self, https_port, ca):
        self.port, self.context = https_port, ssl.create_default_context(cafile=ca)
        self.results = []  # (monotonic time, status or error text)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def request_once(self):
        sock = self.context.wrap_socket(socket.create_connection(("127.0.0.1", self.port), timeout=30),
                                        server_hostname="localhost")
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30)
        conn.sock = sock
        try:
            conn.request("GET", "/health", headers={"Host": f"localhost:{self.port}"})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def _loop(self):
        while not self.stopping.is_set():
            try:
                outcome = self.request_once()
            except (OSError, http.client.HTTPException) as e:
                outcome = f"{type(e).__name__}: {e}"
            self.results.append((time.monotonic(), outcome))
            self.stopping.wait(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(timeout=60)

    def failures(self):
        return [(round(t - self.results[0][0], 1), outcome) for t, outcome in self.results if outcome != 200]


def service_groups(aws):
    groups = aws["elbv2"].describe_target_groups()["TargetGroups"]
    tags = {d["ResourceArn"]: {t["Key"]: t["Value"] for t in d["Tags"]}
            for d in aws["elbv2"].describe_tags(ResourceArns=[g["TargetGroupArn"] for g in groups])["TagDescriptions"]}
    return [g for g in groups if tags[g["TargetGroupArn"]].get("pocstack:service") == "plotly"]


def the_rule(aws):
    [lb] = aws["elbv2"].describe_load_balancers(Names=["pocstack"])["LoadBalancers"]
    [https] = [li for li in aws["elbv2"].describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
               if li["Port"] == 443]
    [rule] = [r for r in aws["elbv2"].describe_rules(ListenerArn=https["ListenerArn"])["Rules"] if not r["IsDefault"]]
    return rule


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    """Deploys, then changes the container port under load; the tests judge what happened."""
    tmp = tmp_path_factory.mktemp("replacement")
    emulator = data_plane_emulator(tmp / "emulator")
    inventory = make_inventory(tmp, [("plotly", {"poc_secrets": SECRETS, "poc_priority": 100})])
    aws = clients(emulator.port)
    try:
        rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly"])
        assert rc == 0, failure_message(out)
        before = {"groups": service_groups(aws), "service": service(aws, "plotly")}
        https = {item["port"]: item["local_port"] for item in emulator.data_plane()["listeners"]}[443]
        set_service(inventory, "plotly", {"poc_container_port": NEW_PORT, "poc_environment": {"PORT": str(NEW_PORT)}})
        ca = os.path.join(ROOT, ".pocstack", "local", "ca.crt")
        with Load(https, ca) as load:
            time.sleep(2)  # requests before the change as well
            started = time.monotonic()
            rc, out = run(inventory, emulator.port, extra=["-e", "service=plotly"])
            seconds = time.monotonic() - started
            time.sleep(2)
        assert rc == 0, failure_message(out)
        after = {"groups": service_groups(aws), "service": service(aws, "plotly"), "rule": the_rule(aws),
                 "security_group": aws["ec2"].describe_security_groups(
                     GroupIds=service(aws, "plotly")["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"])}
        rc, again = run(inventory, emulator.port, extra=["-e", "service=plotly"])
        assert rc == 0, failure_message(again)
        yield {"before": before, "after": after, "load": load, "out": out, "again": again, "seconds": seconds,
               "aws": aws, "inventory": inventory, "port": emulator.port, "https": https, "ca": ca}
    finally:
        emulator.stop()


def test_no_request_fails_while_the_port_changes(changed, measured):
    load = changed["load"]
    measured(f"port change under load: {len(load.results)} requests in {changed['seconds']:.0f} s of "
             f"site.yml, {len(load.failures())} failed")
    assert len(load.results) > 50, "the load loop sent too few requests to judge"
    assert load.failures() == [], f"failed requests (seconds from the first request, status or error): {load.failures()}"


def test_the_rule_moved_to_the_new_group_only_as_tasks_became_healthy_there(changed):
    [old] = changed["before"]["groups"]
    [new] = changed["after"]["groups"]
    passes = task_results(changed["out"], "rule | The service's rule on the HTTPS listener", "plotly")

    def weights(result):
        [forward] = [a for a in result["rule"]["actions"] if a["type"] == "forward"]
        if forward.get("forward_config"):
            return {g["target_group_arn"]: g["weight"] for g in forward["forward_config"]["target_groups"]}
        return {forward["target_group_arn"]: None}

    assert [weights(r) for r in passes] == [
        # the new tasks start in both groups; the new group, held at weight 0, gets nothing yet
        {old["TargetGroupArn"]: 1, new["TargetGroupArn"]: 0},
        # they are healthy: the new group serves while the ECS service leaves the old one
        {old["TargetGroupArn"]: 0, new["TargetGroupArn"]: 1},
        # no task is registered in the old group any more: the new group alone
        {new["TargetGroupArn"]: None},
    ]
    rollouts = task_results(changed["out"], "service | Fargate service behind the target group", "plotly")
    assert [sorted(lb["target_group_arn"] for lb in r["service"]["load_balancers"]) for r in rollouts] == [
        sorted([old["TargetGroupArn"], new["TargetGroupArn"]]), [new["TargetGroupArn"]]]
    [pruned] = task_results(changed["out"], "target group | Remove the ones the service no longer uses", "plotly")
    assert [r["alb_tls__old_group"]["arn"] for r in pruned["results"] if r["changed"]] == [old["TargetGroupArn"]]


def test_afterwards_only_the_new_group_and_port_remain(changed):
    [old] = changed["before"]["groups"]
    [new] = changed["after"]["groups"]
    assert new["Port"] == NEW_PORT and new["TargetGroupArn"] != old["TargetGroupArn"]
    rule = changed["after"]["rule"]
    assert [a["TargetGroupArn"] for a in rule["Actions"] if a["Type"] == "forward"] == [new["TargetGroupArn"]]
    assert [(lb["targetGroupArn"], lb["containerPort"]) for lb in changed["after"]["service"]["loadBalancers"]] \
        == [(new["TargetGroupArn"], NEW_PORT)]
    [group] = changed["after"]["security_group"]["SecurityGroups"]
    assert sorted((p["FromPort"], p["ToPort"]) for p in group["IpPermissions"]) == [(NEW_PORT, NEW_PORT)]


def test_a_rerun_after_the_change_changes_nothing(changed):
    stats = json.loads(changed["again"])["stats"]
    assert stats["plotly"]["changed"] == 0 and stats["localhost"]["changed"] == 0


def test_a_security_group_that_drops_the_load_balancer_fails_as_on_aws_and_a_rerun_repairs_it(changed):
    """The emulator drops what the task security group does not accept from the
    load balancer (health checks time out, requests end in 503/504), so the
    security group's rules are proven by traffic; a re-run puts the rule back."""
    aws = changed["aws"]
    [new] = changed["after"]["groups"]
    [group] = changed["after"]["security_group"]["SecurityGroups"]
    aws["ec2"].revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])

    def timed_out():
        found = aws["elbv2"].describe_target_health(TargetGroupArn=new["TargetGroupArn"])["TargetHealthDescriptions"]
        return [d for d in found if d["TargetHealth"].get("Reason") == "Target.Timeout"]

    eventually(timed_out, timeout=90, what="a target health check timing out (Target.Timeout)")
    assert Load(changed["https"], changed["ca"]).request_once() in (503, 504), "no task is reachable: ALB answers 503 or 504"

    rc, out = run(changed["inventory"], changed["port"], extra=["-e", "service=plotly"])
    assert rc == 0, failure_message(out)
    [restored] = task_results(out, "network | Task security group (container port, only from the load balancer)", "plotly")
    assert restored["changed"], "the re-run finds the missing rule and puts it back"
    eventually(lambda: Load(changed["https"], changed["ca"]).request_once() == 200, timeout=120,
               what="the service answering through the load balancer again")
