# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed run changed in the resources the PoC services share, and
the AWS CLI commands that put them back.

The site playbook reads the shared resources before its first write (the
security groups the collection manages in the VPC, the load balancer's
listeners, the HTTPS listener's rules with their owner tags) and again when a
write fails; `changes(before, after)` compares the two reads. Each change is a
line for the failure's report and, where the resource existed before the run,
the command that restores what was there (`aws ec2 revoke-security-group-ingress
...`, `aws elbv2 modify-listener ...`, `aws elbv2 delete-rule ...`). A resource
the run created has no command: re-running finishes it, the teardown removes it.

Pure functions over the info modules' (snake_cased) results.
"""

import json
import shlex

from ansible.module_utils.common.dict_transformations import snake_dict_to_camel_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.pocstack.aws.plugins.module_utils import rule_actions

DIRECTIONS = (("ip_permissions", "ingress"), ("ip_permissions_egress", "egress"))
# (list, its source's key) in a permission, snake_cased as the info modules return them
SOURCES = (("ip_ranges", "cidr_ip"), ("ipv6_ranges", "cidr_ipv6"), ("user_id_group_pairs", "group_id"),
           ("prefix_list_ids", "prefix_list_id"))


def _json(value):
    return shlex.quote(json.dumps(value, sort_keys=True, separators=(",", ":")))


def _cli(words, connection):
    return " ".join(["aws", *words, *connection])


# --------------------------------------------------------------- security groups
def _permission_atoms(permissions):
    """{(protocol, from, to, source kind, source): description} of one direction."""
    atoms = {}
    for perm in permissions or []:
        protocol = str(perm.get("ip_protocol"))
        ports = (None, None) if protocol == "-1" else (perm.get("from_port"), perm.get("to_port"))
        for key, field in SOURCES:
            for source in perm.get(key) or []:
                atoms[(protocol, *ports, key, source.get(field))] = source.get("description")
    return atoms


def _atom_text(atom, word):
    protocol, first, last, _key, source = atom
    ports = "all traffic" if protocol == "-1" else f"{protocol} {first}" if first == last else f"{protocol} {first}-{last}"
    return f"{ports} {word} {source}"


def _atom_permission(atom, description):
    protocol, first, last, key, source = atom
    entry = {dict(SOURCES)[key]: source, **({"description": description} if description else {})}
    permission = {"ip_protocol": protocol, key: [entry]}
    if protocol != "-1":
        permission.update(from_port=first, to_port=last)
    return snake_dict_to_camel_dict(permission, capitalize_first=True)


def _group_changes(before, after, connection):
    lines, commands = [], []
    old = {g["group_id"]: g for g in before or []}
    for group in sorted(after or [], key=lambda g: g.get("group_name", "")):
        name = f"security group {group.get('group_name')} ({group['group_id']})"
        if group["group_id"] not in old:
            lines.append(f"{name}: created by this run")
            continue
        for key, direction in DIRECTIONS:
            was, now = _permission_atoms(old[group["group_id"]].get(key)), _permission_atoms(group.get(key))
            word = "from" if direction == "ingress" else "to"
            for verb, atoms, source, undo in (("added", set(now) - set(was), now, "revoke"),
                                              ("removed", set(was) - set(now), was, "authorize")):
                for atom in sorted(atoms, key=str):
                    lines.append(f"{name}: {direction} {_atom_text(atom, word)} {verb}")
                    commands.append(_cli(["ec2", f"{undo}-security-group-{direction}", "--group-id", group["group_id"],
                                          "--ip-permissions", _json([_atom_permission(atom, source[atom])])],
                                         connection))
    for group_id in sorted(set(old) - {g["group_id"] for g in after or []}):
        lines.append(f"security group {old[group_id].get('group_name')} ({group_id}): deleted by this run")
    # revoke what was added before authorizing what was removed (a rule whose
    # description changed is both)
    commands.sort(key=lambda c: "authorize" in c.split()[2])
    return lines, commands


# ------------------------------------------------------------ listeners, rules
def _actions(actions):
    """Actions as the API takes them: a forward with ForwardConfig only (AWS
    returns both it and TargetGroupArn)."""
    found = rule_actions.camel_actions(actions)
    for action in found:
        if action.get("ForwardConfig"):
            action.pop("TargetGroupArn", None)
    return found


def _conditions(conditions):
    """Conditions as the API takes them: the *Config form only (AWS returns Values beside it)."""
    found = [snake_dict_to_camel_dict(c, capitalize_first=True) for c in conditions or []]
    for condition in found:
        if any(k.endswith("Config") for k in condition):
            condition.pop("Values", None)
    return found


def _listener_view(listener):
    return {
        "protocol": listener.get("protocol"), "port": listener.get("port"), "ssl_policy": listener.get("ssl_policy"),
        "certificates": sorted(c.get("certificate_arn") for c in listener.get("certificates") or []),
        "default_actions": _actions(listener.get("default_actions")),
    }


def _listener_changes(before, after, connection):
    lines, commands = [], []
    if not after:
        if before:
            lines.append(f"load balancer {before.get('load_balancer_name')}: deleted by this run")
        return lines, commands
    name = after.get("load_balancer_name")
    if not before:
        return [f"load balancer {name} with its listeners: created by this run"], commands
    old = {listener.get("port"): listener for listener in before.get("listeners") or []}
    new = {listener.get("port"): listener for listener in after.get("listeners") or []}
    for port in sorted(set(old) | set(new)):
        what = f"listener {port} of {name}"
        if port not in old:
            lines.append(f"{what}: created by this run")
            commands.append(_cli(["elbv2", "delete-listener", "--listener-arn", new[port]["listener_arn"]], connection))
            continue
        was = _listener_view(old[port])
        if port not in new:
            lines.append(f"{what}: deleted by this run")
            words = ["elbv2", "create-listener", "--load-balancer-arn", after["load_balancer_arn"],
                     "--protocol", was["protocol"], "--port", str(port)]
        else:
            now = _listener_view(new[port])
            differ = [key for key in was if was[key] != now[key]]
            if not differ:
                continue
            lines.append(f"{what}: " + ", ".join(f"{k.replace('_', ' ')} changed (was {json.dumps(was[k], sort_keys=True)})"
                                                 for k in differ))
            words = ["elbv2", "modify-listener", "--listener-arn", new[port]["listener_arn"],
                     "--protocol", was["protocol"], "--port", str(port)]
        if was["ssl_policy"]:
            words += ["--ssl-policy", was["ssl_policy"]]
        if was["certificates"]:
            words += ["--certificates", _json([{"CertificateArn": arn} for arn in was["certificates"]])]
        commands.append(_cli(words + ["--default-actions", _json(was["default_actions"])], connection))
    return lines, commands


def _rule_view(rule):
    return {"priority": str(rule.get("priority")), "conditions": _conditions(rule.get("conditions")),
            "actions": _actions(rule.get("actions")), "tags": dict(rule.get("tags") or {})}


def _owner(rule):
    owner = (rule.get("tags") or {}).get("pocstack:service")
    return f"rule of service {owner!r}" if owner else "rule"


def _rule_changes(before, after, connection):
    lines, commands = [], []
    listener_arn = (after or {}).get("listener_arn") or (before or {}).get("listener_arn")
    if not listener_arn or not (before or {}).get("listener_arn"):
        return lines, commands  # a listener this run created: reported with the load balancer
    old = {r["rule_arn"]: r for r in (before or {}).get("rules") or [] if not r.get("is_default")}
    new = {r["rule_arn"]: r for r in (after or {}).get("rules") or [] if not r.get("is_default")}
    for arn in sorted(set(old) | set(new), key=lambda a: str((new.get(a) or old.get(a)).get("priority"))):
        rule = new.get(arn) or old[arn]
        what = f"HTTPS listener: {_owner(rule)} at priority {rule.get('priority')}"
        if arn not in old:
            lines.append(f"{what}: added ({arn})")
            commands.append(_cli(["elbv2", "delete-rule", "--rule-arn", arn], connection))
            continue
        was = _rule_view(old[arn])
        if arn not in new:
            lines.append(f"{what}: deleted ({arn})")
            words = ["elbv2", "create-rule", "--listener-arn", listener_arn, "--priority", was["priority"],
                     "--conditions", _json(was["conditions"]), "--actions", _json(was["actions"])]
            if was["tags"]:
                words += ["--tags", _json(ansible_dict_to_boto3_tag_list(dict(sorted(was["tags"].items()))))]
            commands.append(_cli(words, connection))
            continue
        now = _rule_view(new[arn])
        if now["priority"] != was["priority"]:
            lines.append(f"{what}: priority was {was['priority']}")
            commands.append(_cli(["elbv2", "set-rule-priorities", "--rule-priorities",
                                  _json([{"RuleArn": arn, "Priority": int(was["priority"])}])], connection))
        if (now["conditions"], now["actions"]) != (was["conditions"], was["actions"]):
            differ = [k for k in ("conditions", "actions") if now[k] != was[k]]
            lines.append(f"{what}: {' and '.join(differ)} changed")
            commands.append(_cli(["elbv2", "modify-rule", "--rule-arn", arn, "--conditions", _json(was["conditions"]),
                                  "--actions", _json(was["actions"])], connection))
    return lines, commands


# ----------------------------------------------------------------------- report
def changes(before, after, region=None, endpoint_url=None):
    """{"changes": [line], "commands": [aws CLI command]} between two reads
    of the shared resources ({"security_groups": [...], "load_balancer": {...}
    or None, "rules": elb_listener_rules_info's result}); commands name the
    region and endpoint given."""
    connection = (["--region", region] if region else []) + (["--endpoint-url", endpoint_url] if endpoint_url else [])
    found = [_group_changes(before.get("security_groups"), after.get("security_groups"), connection),
             _listener_changes(before.get("load_balancer"), after.get("load_balancer"), connection),
             _rule_changes(before.get("rules"), after.get("rules"), connection)]
    return {"changes": [line for lines, _commands in found for line in lines],
            "commands": [command for _lines, commands in found for command in commands]}


def report(before, after, failure, commands, region=None, endpoint_url=None):
    """The failure's message: its first line says what this run changed in
    the shared resources, then the failure (`failure`: "task: message"), then
    how to finish (`commands["rerun"]`) or undo (the AWS CLI commands;
    `commands["teardown"]` for what the run created)."""
    finish = f"To finish: fix the cause above, then run again (it converges every resource to the inventory): " \
             f"{commands['rerun']}"
    unread = [*((before or {}).get("errors") or []), *((after or {}).get("errors") or [])]
    if before is None or after is None or unread:
        unread = unread or ["no read before the run's first write"]
        return "\n".join([f"This run failed; whether it changed shared resources is not known (they could not be "
                          f"read: {'; '.join(unread)}).", f"Failed: {failure}", finish])
    found = changes(before, after, region, endpoint_url)
    if not found["changes"]:
        return "\n".join(["This run failed before it changed a shared resource (the security groups, the load "
                          "balancer's listeners and the HTTPS listener's rules are as they were).",
                          f"Failed: {failure}", finish])
    lines = [f"This run changed shared resources before it failed: {'; '.join(found['changes'])}.",
             f"Failed: {failure}", finish]
    if found["commands"]:
        lines.append("To put back the shared resources that existed before this run (AWS CLI, in this order):")
        lines += [f"  {command}" for command in found["commands"]]
    if any("created by this run" in line for line in found["changes"]):
        lines.append(f"What this run created is finished by the run above or removed by: {commands['teardown']}")
    return "\n".join(lines)
