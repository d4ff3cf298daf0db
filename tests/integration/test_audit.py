"""playbooks/audit.yml against the emulator: a loose stack built with boto3 in
the reference style fails with a finding per loosened point; the default
plotly deploy (site.yml) has none; the audit never writes."""
import json
import re

import pytest

import loose_stack
from stack_helpers import ansible_playbook
from stack_helpers import calls


@pytest.fixture(scope="module")
def loose_audit(stack_emulator, tmp_path_factory):
    loose_stack.build(stack_emulator["url"])
    report = tmp_path_factory.mktemp("loose-audit") / "audit.json"
    calls(stack_emulator, reset=True)
    # Someone else's PoC: none of the risks the local inventory accepts is accepted here.
    proc = ansible_playbook(stack_emulator, "playbooks/audit.yml", "-e", "service=loose", "-e", "cluster=loose",
                            "-e", f"pocstack_audit_report_file={report}", "-e", '{"pocstack_audit_skip": []}')
    return {"rc": proc.returncode, "output": proc.stdout + proc.stderr, "calls": calls(stack_emulator),
            "report": json.loads(report.read_text()) if report.exists() else {}}


def test_loose_stack_fails_the_audit(loose_audit):
    assert loose_audit["rc"] != 0
    assert re.search(r"\d+ finding\(s\) at or above high for service loose", loose_audit["output"])


@pytest.mark.parametrize("check_id, severity", sorted(loose_stack.LOOSENED.items()))
def test_each_loosened_point_is_found(loose_audit, check_id, severity):
    found = [f for f in loose_audit["report"]["findings"] if f["check"] == check_id]
    assert found, f"{check_id} not reported"
    assert min(found, key=lambda f: ["high", "medium", "low"].index(f["severity"]))["severity"] == severity


def test_every_check_is_loosened_once():
    from ansible_collections.pocstack.aws.plugins.module_utils.audit import CHECK_IDS
    assert sorted(loose_stack.LOOSENED) == sorted(CHECK_IDS)


def test_report_has_one_line_per_finding(loose_audit):
    findings = loose_audit["report"]["findings"]
    for f in findings:
        line = f"{f['severity'].upper():<6} {f['check']:<32} {f['resource']}: {f['message']}. Fix: {f['fix']}."
        assert line in loose_audit["output"].splitlines() or ("        " + line) in loose_audit["output"].splitlines()
    counts = loose_audit["report"]["counts"]
    assert f"{counts['high']} high, {counts['medium']} medium, {counts['low']} low finding(s) for service loose" in loose_audit["output"]


def test_resources_are_discovered_from_the_service(loose_audit):
    resources = loose_audit["report"]["resources"]
    assert [r["arn"].rsplit("/", 1)[-1] for r in resources["roles"]] == ["loose-exec", "loose-task"]
    assert resources["parameters"] == {"/loose/PLOTLY_USER": "String", "/loose/PLOTLY_PASS": "String"}
    assert resources["log_groups"] == ["/ecs/loose"] and resources["repositories"] == ["loose"]
    assert [lb["name"] for lb in resources["load_balancers"]] == ["loose"]
    assert sorted(resources["load_balancers"][0]["listeners"]) == ["HTTP:80", "HTTPS:443"]


def test_audit_is_read_only(loose_audit):
    assert loose_audit["calls"]["writes"] == 0, loose_audit["calls"]["calls"]
    assert loose_audit["calls"]["reads"] > 10


def test_default_plotly_deploy_has_no_findings(plotly_audit):
    """The default deploy must pass with zero findings. What it still reports
    is printed in the assertion message."""
    report = plotly_audit["report"]
    lines = [f"{f['severity']} {f['check']} {f['resource']}: {f['message']}" for f in report["findings"]]
    assert report["findings"] == [], "\n".join(lines)
    assert plotly_audit["rc"] == 0


def test_plotly_is_discovered_from_its_service(plotly_audit):
    resources = plotly_audit["report"]["resources"]
    assert resources["service_arn"].endswith(":service/pocstack/plotly")
    assert [r["kind"] for r in resources["roles"]] == ["execution", "task"]
    assert resources["parameters"] == {"/pocstack/plotly/PLOTLY_USER": "SecureString", "/pocstack/plotly/PLOTLY_PASS": "SecureString"}
    assert resources["log_groups"] == ["/pocstack/plotly"] and resources["repositories"] == ["pocstack/plotly"]
    assert [lb["name"] for lb in resources["load_balancers"]] == ["pocstack"]
    assert len(resources["task_security_group_ids"]) == 1


def test_bad_threshold_is_named_before_any_call(stack_emulator):
    calls(stack_emulator, reset=True)
    proc = ansible_playbook(stack_emulator, "playbooks/audit.yml", "-e", "service=plotly", "-e", "pocstack_audit_fail_on=sometimes")
    assert proc.returncode != 0
    assert "pocstack_audit_fail_on=sometimes is not allowed; allowed: high, medium, low, never" in proc.stdout
    assert calls(stack_emulator)["reads"] + calls(stack_emulator)["writes"] == 0


def test_unknown_service_is_a_clear_error_also_in_check_mode(stack_emulator):
    # --check: the module runs in check mode (were it not supported, it would be skipped)
    proc = ansible_playbook(stack_emulator, "playbooks/audit.yml", "-e", "service=plotyl", "--check")
    assert proc.returncode != 0
    assert "ECS service 'plotyl' not found in cluster 'pocstack'" in proc.stdout
