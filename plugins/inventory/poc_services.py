# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory plugin: every host_vars file beside the inventory is a PoC service.

Written here because no builtin inventory plugin makes hosts out of files:
with a static hosts file, adding a PoC would mean editing two files, and the
design promises that one host_vars file is enough.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: poc_services
short_description: One PoC service per host_vars file
version_added: 0.1.0
description:
  - Reads an inventory source file named C(*.pocstack.yml) or C(*.pocstack.yaml)
    whose C(plugin) is C(pocstack.aws.poc_services).
  - Adds C(localhost) (local connection, the controller's Python) to the group C(control),
    and one host per file or directory in the C(host_vars) directory beside the source
    to the group C(poc_services).
  - The hosts are logical; every task runs on the controller against the AWS APIs,
    so each gets C(ansible_connection=local). Set C(ansible_python_interpreter) to
    C({{ ansible_playbook_python }}) in C(group_vars/all) so modules find boto3.
options:
  plugin:
    description: The name of this plugin.
    required: true
    type: str
    choices: [pocstack.aws.poc_services]
  host_vars_dir:
    description: Directory, relative to the source file, whose entries are the services.
    type: str
    default: host_vars
  group:
    description: Group that receives the services.
    type: str
    default: poc_services
"""

EXAMPLES = r"""
# inventories/local/services.pocstack.yml
plugin: pocstack.aws.poc_services
"""

import os
import re

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

# Service names become parts of AWS names (target groups, roles, log groups).
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_YAML = (".yml", ".yaml")


class InventoryModule(BaseInventoryPlugin):
    NAME = "pocstack.aws.poc_services"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(tuple(".pocstack" + ext for ext in _YAML))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        hv_dir = os.path.join(os.path.dirname(path), self.get_option("host_vars_dir"))
        group = self.get_option("group")

        self.inventory.add_group("control")
        self.inventory.add_group(group)
        for name in ["localhost"] + self._service_names(hv_dir):
            self.inventory.add_host(name, group="control" if name == "localhost" else group)
            self.inventory.set_variable(name, "ansible_connection", "local")

    @staticmethod
    def _service_names(hv_dir):
        if not os.path.isdir(hv_dir):
            raise AnsibleParserError(f"poc_services: host_vars directory {hv_dir} does not exist")
        names = []
        for entry in sorted(os.listdir(hv_dir)):
            full = os.path.join(hv_dir, entry)
            if os.path.isdir(full):
                name = entry
            elif entry.endswith(_YAML):
                name = os.path.splitext(entry)[0]
            else:
                continue
            if name == "localhost" or name.startswith("."):
                continue
            if not _NAME.match(name):
                raise AnsibleParserError(
                    f"poc_services: service name {name!r} (from {full}) is not allowed: "
                    "use 1-31 characters, lower-case letters, digits and '-', starting with a letter"
                )
            names.append(name)
        return names
