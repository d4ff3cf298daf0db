# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: preflight errors of the selected PoC services (no AWS calls).

Written as a filter over module_utils/preflight.py because the checks (Fargate
size table, derived AWS names, unique priorities across hosts) are plain
Python over several hosts' variables, which argument specs cannot express.
"""

import functools
import os
import re
from collections.abc import Mapping

import yaml
from ansible.errors import AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from jinja2 import Undefined

from ansible_collections.pocstack.aws.plugins.module_utils import preflight
from ansible_collections.pocstack.aws.plugins.module_utils import preflight_network as network
from ansible_collections.pocstack.aws.plugins.module_utils import preflight_roles
from ansible_collections.pocstack.aws.plugins.module_utils.compare import sorted_data

ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")

DOCUMENTATION = r"""
name: preflight
short_description: Mistakes in the PoC services' inventory variables
author: pocstack.aws maintainers (@pocstack)
version_added: 0.1.0
description:
  - Reads the C(poc_*) variables of the selected services from C(hostvars) and returns a dict
    of service name to a list of messages, for every service with a mistake; an empty dict when all is well.
  - Messages name the variable, the value (never a secret's value) and what is allowed.
positional: selected, hostvars, shared
options:
  _input:
    description: Names of the selected services.
    type: list
    elements: str
    required: true
  hostvars:
    description: The C(hostvars) magic variable.
    type: raw
    required: true
  shared:
    description: Shared settings (C(pocstack_alb_name), C(pocstack_cluster_name), C(pocstack_ssm_prefix), C(aws_region)).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- ansible.builtin.set_fact:
    errors: "{{ ['plotly'] | pocstack.aws.preflight(hostvars, {'pocstack_alb_name': 'pocstack'}) }}"
"""

RETURN = r"""
_value:
  description: Messages per service.
  type: dict
"""


# Variables a play defines that a host's own variables (what hostvars[host]
# templates with) do not have: a value using them is evaluated in the play.
PLAY_VARIABLES = frozenset(("hostvars", "groups", "play_hosts", "ansible_play_hosts", "ansible_play_hosts_all",
                            "ansible_play_batch", "ansible_play_name", "playbook_dir", "role_path", "role_name",
                            "ansible_check_mode", "ansible_diff_mode", "item", "ansible_loop", "omit"))
_UNDEFINED_NAME = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")
SKIP = object()


def _evaluated(host_vars, key):
    """The templated value of `key`; preflight.Unreadable saying why it has none
    (an undefined variable inside it, a failing lookup: ansible-core 2.19 hands
    these over as an Undefined marker that fails only when used); SKIP when it
    uses a variable only the play has (checked when the play uses it)."""
    try:
        value = host_vars[key]
        if isinstance(value, Undefined):
            str(value)  # raises the marker's own error, with its message
        return value
    except Exception as exc:
        missing = _UNDEFINED_NAME.search(str(exc))
        if missing and missing.group(1) in PLAY_VARIABLES:
            return SKIP
        return preflight.Unreadable(f"{key} could not be evaluated: {exc}")


def _evaluated_vars(host_vars, wanted):
    values = {key: _evaluated(host_vars, key) for key in list(host_vars) if wanted(key)}
    return {key: value for key, value in values.items() if value is not SKIP}


def preflight_errors(selected, hostvars, shared=None):
    if not isinstance(selected, (list, tuple)):
        raise AnsibleError("preflight: the input must be the list of selected service names")
    services = {name: _evaluated_vars(hostvars[name], lambda key: key.startswith("poc_")) for name in selected}
    return preflight.check_services(services, dict(shared or {}), role_sources())


# libyaml when PyYAML has it: a role's checks read its files in each task's
# worker process, where the pure Python loader takes most of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=None)
def _role_file(role, *path):
    with open(os.path.join(ROLES_DIR, role, *path)) as fh:
        return yaml.load(fh, Loader=_LOADER) or {}


def role_files():
    """({role: {option: spec}}, {variable: default as written}) of the collection's roles."""
    specs, defaults = {}, {}
    for role in preflight_roles.ROLES:
        specs[role] = preflight_roles.merged_options(_role_file(role, "meta", "argument_specs.yml")["argument_specs"])
        defaults.update(_role_file(role, "defaults", "main.yml"))
    return specs, defaults


@functools.lru_cache(maxsize=1)
def role_sources():
    """preflight_roles.RoleSources of the collection's roles (read once a run)."""
    return preflight_roles.RoleSources(*role_files())


def _role_variable_or_region(key):
    """A role variable, or aws_region (Secrets Manager ARNs must be of that region)."""
    return preflight_roles.role_of(key) or key == "aws_region"


def preflight_role_variables(selected, hostvars, play_host="localhost"):
    """Mistakes in the role variables (alb_tls_*, ecr_image_*, fargate_service_*,
    ssm_secrets_*) the inventory sets: those of the play's host (the shared
    part, group_vars/all) under "(shared)", each service's others under its name."""
    specs, defaults = role_sources().specs, role_sources().defaults
    shared = preflight_roles.check_role_variables(_evaluated_vars(hostvars[play_host], _role_variable_or_region), specs, defaults)
    found = {"(shared)": shared} if shared else {}
    for name in selected:
        own = preflight_roles.check_role_variables(_evaluated_vars(hostvars[name], _role_variable_or_region), specs, defaults)
        own = [message for message in own if message not in shared]
        if own:
            found[name] = own
    return found


def _set_facts(tasks):
    """The names the tasks set with set_fact, in blocks too."""
    if isinstance(tasks, list):
        return set().union(*map(_set_facts, tasks))
    names = set()
    for key, value in tasks.items() if isinstance(tasks, Mapping) else ():
        if key in ("ansible.builtin.set_fact", "set_fact") and isinstance(value, Mapping):
            names |= set(value)
        elif key in ("block", "rescue", "always"):
            names |= _set_facts(value)
    return names


@functools.lru_cache(maxsize=None)
def role_outputs(role):
    """The public names the role sets for the roles after it (alb_tls_target_group_arn,
    ...): a later include of the role sees them as variables; they are no input."""
    files = sorted(name for name in os.listdir(os.path.join(ROLES_DIR, role, "tasks")) if name.endswith(".yml"))
    names = _set_facts([_role_file(role, "tasks", name) for name in files])
    options = role_sources().specs[role]
    return frozenset(name for name in names if preflight_roles.role_of(name) == role and name not in options)


def role_variables(variables, role, entry_point="main"):
    """Mistakes in one role's variables as the role sees them (`variables`:
    the `vars` of a task of the role): the same checks as
    preflight_role_variables, for a role used alone. Only the options of
    `entry_point` are evaluated (as Ansible's own validation of it does); a
    `<role>_*` name that is no option of any entry point is named."""
    if role not in preflight_roles.ROLES:
        raise AnsibleError(f"role_variables: {role!r} is not a role of pocstack.aws; roles: {', '.join(preflight_roles.ROLES)}")
    entry_points = _role_file(role, "meta", "argument_specs.yml")["argument_specs"]
    if entry_point not in entry_points:
        raise AnsibleError(f"role_variables: {role} has no entry point {entry_point!r}; entry points: {', '.join(entry_points)}")
    options, wanted = preflight_roles.merged_options(entry_points), entry_points[entry_point].get("options") or {}
    # a name of no entry point is named as unknown; its value does not matter
    values = {name: None for name in variables
              if preflight_roles.role_of(name) == role and name not in options and name not in role_outputs(role)}
    # aws_region too: a Secrets Manager secret's ARN must be of the tasks' region
    values.update(_evaluated_vars(variables, lambda name: name in wanted or name == "aws_region"))
    return preflight_roles.check_role_variables(values, {role: options})


def preflight_report(result):
    lines = [f"The inventory has {sum(map(len, result.values()))} mistake(s); nothing was created:"]
    for service in sorted(result):
        lines.append(f"{service}:")
        lines.extend(f"  - {message}" for message in result[service])
    return "\n".join(lines)


def preflight_account(subnets, subnet_ids, vpc_id, certificate_arn, region, task_subnet_ids=None):
    """Checks that need what the account holds: subnets (as ec2_vpc_subnet_info
    returns them for subnet_ids and task_subnet_ids) and the certificate ARN."""
    errors = preflight.check_subnets(subnets or [], vpc_id, subnet_ids or [])
    if task_subnet_ids:
        # Tasks may run in one availability zone; the ALB needs two.
        errors += preflight.check_subnets(subnets or [], vpc_id, task_subnet_ids, "pocstack_task_subnet_ids", 1)
    if certificate_arn is not None:  # None: requested or imported by alb_tls (checked in preflight)
        errors += preflight.check_certificate(certificate_arn, region)
    return {"(shared)": errors} if errors else {}


def preflight_network(selected, hostvars, shared):
    """Checks of the network the selected services' tasks will run in; `shared`
    carries what the play read (subnets, route_tables, endpoints, vpc) and the
    shared settings."""
    services = {}
    for name in selected:
        host = hostvars[name]
        try:
            public_ip = boolean(host.get("poc_assign_public_ip", False), strict=False)
        except Exception:  # a malformed value: the inventory preflight has named it already
            public_ip = False
        try:
            execute_command = boolean(host.get("poc_enable_execute_command", False), strict=False)
        except Exception:  # a malformed value: the inventory preflight has named it already
            execute_command = False
        services[name] = {"public_ip": public_ip, "secrets": bool(host.get("poc_secrets")),
                          "execute_command": execute_command, "secrets_manager": bool(host.get("poc_secrets_manager"))}
    return network.check_network(services, dict(shared or {}))


def preflight_listener_rules(selected, hostvars, listener):
    """The selected services' listener rules against the rules already on the
    listener (what pocstack.aws.elb_listener_rules_info returned)."""
    services = {name: _evaluated_vars(hostvars[name], lambda key: key.startswith(("poc_", "alb_tls_")))
                for name in selected}
    # plain dicts and lists: the module_utils copy containers by their type, which ansible-core's lazy containers refuse
    return preflight.check_deployed_rules(services, sorted_data(listener or {}))


class FilterModule:
    def filters(self):
        return {
            "preflight_listener_rules": preflight_listener_rules,
            "preflight": preflight_errors,
            "preflight_role_variables": preflight_role_variables,
            "role_variables": role_variables,
            "preflight_report": preflight_report,
            "preflight_account": preflight_account,
            "preflight_network": preflight_network,
        }
