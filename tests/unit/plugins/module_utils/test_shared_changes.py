"""What a failed run changed in the shared resources, and the AWS CLI
commands that put them back (the site playbook's failure report)."""
import copy
import json
import shlex

from ansible_collections.pocstack.aws.plugins.module_utils.shared_changes import changes
from ansible_collections.pocstack.aws.plugins.module_utils.shared_changes import report

LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pocstack/1"
HTTPS = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/pocstack/1/443"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/1"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/1"
COMMANDS = {"rerun": "ansible-playbook site.yml -e service=plotly",
            "teardown": "ansible-playbook playbooks/teardown.yml -e service=plotly"}


def group(*cidrs, group_id="sg-1"):
    return {"group_id": group_id, "group_name": "pocstack-alb",
            "ip_permissions": [{"ip_protocol": "tcp", "from_port": port, "to_port": port,
                                "ip_ranges": [{"cidr_ip": c, "description": "HTTPS"} for c in cidrs]}
                               for port in (80, 443)],
            "ip_permissions_egress": [{"ip_protocol": "-1", "ip_ranges": [{"cidr_ip": "0.0.0.0/0"}]}]}


def forward(tg=TG):
    return [{"type": "forward", "order": 1, "target_group_arn": tg,
             "forward_config": {"target_groups": [{"target_group_arn": tg, "weight": 1}]}}]


def rule(owner, priority, *paths):
    return {"rule_arn": f"{HTTPS}/rule-{owner}", "priority": str(priority), "is_default": False,
            "conditions": [{"field": "path-pattern", "path_pattern_config": {"values": list(paths)},
                            "values": list(paths)}],
            "actions": forward(), "tags": {"pocstack:service": owner}}


def state():
    return {
        "security_groups": [group("0.0.0.0/0")],
        "load_balancer": {"load_balancer_name": "pocstack", "load_balancer_arn": LB_ARN, "listeners": [
            {"listener_arn": HTTPS, "port": 443, "protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
             "certificates": [{"certificate_arn": CERT}],
             "default_actions": [{"type": "fixed-response", "fixed_response_config": {
                 "status_code": "404", "content_type": "text/plain", "message_body": "Not found"}}]}]},
        "rules": {"listener_arn": HTTPS, "rules": [rule("plotly", 100, "*")]},
        "errors": [],
    }


def cli(command):
    """(service operation, {option: value with JSON parsed}) of one command."""
    words = shlex.split(command)
    assert words[0] == "aws" and words[-4:] == ["--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:4566"]
    options = dict(zip(words[3:-4:2], words[4:-4:2]))
    return f"{words[1]} {words[2]}", {k: json.loads(v) if v[:1] in "[{" else v for k, v in options.items()}


def found(before, after):
    result = changes(before, after, "us-east-1", "http://127.0.0.1:4566")
    return result["changes"], [cli(c) for c in result["commands"]]


def test_nothing_changed_is_said_first():
    message = report(state(), state(), "task: boom", COMMANDS)
    assert message.splitlines()[0].startswith("This run failed before it changed a shared resource")
    assert "Failed: task: boom" in message and COMMANDS["rerun"] in message and "aws " not in message


def test_a_narrowed_security_group_is_listed_with_the_commands_that_widen_it_again():
    after = state()
    after["security_groups"] = [group("10.0.0.0/8")]
    lines, commands = found(state(), after)
    assert "security group pocstack-alb (sg-1): ingress tcp 443 from 10.0.0.0/8 added" in lines
    assert "security group pocstack-alb (sg-1): ingress tcp 80 from 0.0.0.0/0 removed" in lines
    assert len(lines) == 4
    # revokes first, then the authorizations with the rule's description
    assert [c[0] for c in commands] == ["ec2 revoke-security-group-ingress"] * 2 + ["ec2 authorize-security-group-ingress"] * 2
    assert {"--group-id": "sg-1", "--ip-permissions": [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS"}]}
    ]} in [options for _operation, options in commands[2:]]


def test_an_added_rule_is_deleted_a_moved_one_put_back_a_deleted_one_recreated():
    after = state()
    after["rules"]["rules"] = [rule("plotly", 105, "*"), rule("second", 10, "/second*")]
    lines, commands = found(state(), after)
    assert any("rule of service 'second' at priority 10: added" in line for line in lines)
    assert any("rule of service 'plotly' at priority 105: priority was 100" in line for line in lines)
    assert ("elbv2 delete-rule", {"--rule-arn": f"{HTTPS}/rule-second"}) in commands
    assert ("elbv2 set-rule-priorities", {"--rule-priorities": [{"RuleArn": f"{HTTPS}/rule-plotly", "Priority": 100}]}) \
        in commands

    after["rules"]["rules"] = []
    lines, commands = found(state(), after)
    assert lines == [f"HTTPS listener: rule of service 'plotly' at priority 100: deleted ({HTTPS}/rule-plotly)"]
    (operation, options), = commands
    assert operation == "elbv2 create-rule" and options["--priority"] == "100"
    # the API's own shapes: the *Config form of a condition, ForwardConfig without the duplicate TargetGroupArn
    assert options["--conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["*"]}}]
    assert options["--actions"] == [{"Type": "forward", "Order": 1, "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}]}}]
    assert options["--tags"] == [{"Key": "pocstack:service", "Value": "plotly"}]


def test_a_changed_listener_gets_its_previous_settings_back():
    after = copy.deepcopy(state())
    after["load_balancer"]["listeners"][0]["ssl_policy"] = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
    lines, commands = found(state(), after)
    assert lines == ['listener 443 of pocstack: ssl policy changed (was "ELBSecurityPolicy-TLS13-1-2-2021-06")']
    (operation, options), = commands
    assert operation == "elbv2 modify-listener"
    assert options["--ssl-policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert options["--certificates"] == [{"CertificateArn": CERT}]
    assert options["--default-actions"][0]["FixedResponseConfig"]["StatusCode"] == "404"


def test_what_the_run_created_has_no_undo_command_but_the_teardown():
    before = {"security_groups": [], "load_balancer": None, "rules": {"listener_arn": "", "rules": []}, "errors": []}
    message = report(before, state(), "task: boom", COMMANDS)
    first = message.splitlines()[0]
    assert "security group pocstack-alb (sg-1): created by this run" in first
    assert "load balancer pocstack with its listeners: created by this run" in first
    assert "aws " not in message and COMMANDS["teardown"] in message


def test_unreadable_resources_are_said_to_be_unknown_not_unchanged():
    after = dict(state(), errors=["security groups: AccessDenied"])
    first = report(state(), after, "task: boom", COMMANDS).splitlines()[0]
    assert "not known" in first and "AccessDenied" in first
    assert "not known" in report(None, state(), "task: boom", COMMANDS).splitlines()[0]
