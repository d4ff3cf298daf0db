#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ssm_secure_strings
short_description: Manage the SecureString parameters under one SSM Parameter Store path
version_added: 0.2.0
description:
  - Makes the parameters directly under O(path) exactly the given O(parameters), all of type C(SecureString)
    encrypted with O(key_id); with O(purge=true) removes parameters under O(path) that are not listed.
  - Values are read decrypted only to compare them in memory. They are never returned, and C(--diff) shows
    a mask instead of any value.
  - A parameter of another type with a listed name is replaced by a SecureString.
  - Returns the container C(secrets) list (C(name), C(valueFrom)) that an ECS task definition takes, and a
    fingerprint that changes whenever any value changes (derived from parameter versions, never from values).
options:
  path:
    description:
      - The path the parameters live under, for example C(/pocstack/plotly); each parameter is C(<path>/<name>).
      - Must start with C(/), must not end with C(/), must not start with C(/aws) or C(/ssm).
    type: str
    required: true
  parameters:
    description:
      - The parameters. Required with O(state=present); ignored with O(state=absent).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name under O(path); also the container's environment variable, so letters, digits and C(_),
            starting with a letter or C(_), at most 128 characters.
        type: str
        required: true
      value:
        description: The value, at most 4096 bytes. Never logged.
        type: str
        required: true
      description:
        description: Description of the parameter; defaults to O(description).
        type: str
  description:
    description: Default description; C({name}) is replaced by the parameter's name.
    type: str
    default: "{name}"
  key_id:
    description: KMS key (ID, ARN or alias) that encrypts the values.
    type: str
    default: alias/aws/ssm
  purge:
    description: Delete the parameters directly under O(path) that O(parameters) does not list.
    type: bool
    default: true
  owner_tags:
    description:
      - Tags that mark a parameter under O(path) as this caller's (for example C(pocstack:service)).
      - A parameter that exists without all of them (another tool's, or made by hand) and that this run would
        overwrite, re-tag or delete (O(purge)) makes the module fail before any write, naming it, unless O(adopt=true).
      - Unset, every parameter under O(path) is taken as this caller's.
    type: dict
    version_added: 0.3.0
  adopt:
    description: Take over parameters under O(path) that lack O(owner_tags) (overwrite, tag or delete them as needed).
    type: bool
    default: false
    version_added: 0.3.0
  child_paths:
    description:
      - Also return RV(child_paths), the paths below O(path) that hold parameters (the same one listing, recursive;
        nothing below O(path)'s own level is returned or changed).
      - Those parameters are never changed here (O(purge) and O(state=absent) act directly under O(path) only).
    type: bool
    default: false
    version_added: 0.3.0
  state:
    description: C(absent) deletes every parameter directly under O(path).
    type: str
    choices: [present, absent]
    default: present
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - "Written because M(community.aws.ssm_parameter) manages one parameter per task: it cannot remove the parameters of
    a service that are no longer listed (a renamed secret would stay behind), returns no diff, and costs several calls
    per parameter. This module manages the set of SecureStrings under one path, compares values in memory without ever
    returning them, and shows masked diffs."
  - O(tags) apply to every parameter; with O(purge_tags=true) other tags are removed (C(aws:*) keys never).
  - "IAM actions used: C(ssm:GetParametersByPath), C(ssm:DescribeParameters), C(ssm:ListTagsForResource),
    C(ssm:PutParameter), C(ssm:DeleteParameters), C(ssm:AddTagsToResource), C(ssm:RemoveTagsFromResource),
    C(kms:Decrypt) and C(kms:Encrypt) on O(key_id), C(sts:GetCallerIdentity) (check mode, new path only)."
seealso:
  - module: community.aws.ssm_parameter
  - plugin: amazon.aws.ssm_parameter
    plugin_type: lookup
    description: Reads a parameter's value into a play; this module never returns one.
  - module: pocstack.aws.ecs_task_definition_revision
    description: Takes RV(container_secrets) as a container's C(secrets).
attributes:
  check_mode:
    support: full
    description: No mutating call; values are compared in memory as in a real run. C(changed), C(created), C(updated)
      and C(deleted) are what a real run would report; a parameter that would be written has C(version) null,
      C(fingerprint) is V(unknown), and the ARN of a parameter not created yet is made from the account
      (C(sts:GetCallerIdentity)).
  diff_mode:
    support: full
    description: Sorted before/after of each parameter's type, KMS key, description and, with O(tags), tags. Values
      are masked (C(********)); the mask of a value that changes is followed by C(new value) in brackets.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The plotly service's credentials, values from ansible-vault
  pocstack.aws.ssm_secure_strings:
    path: /pocstack/plotly
    parameters:
      - name: PLOTLY_USER
        value: "{{ vault_plotly_user }}"
      - name: PLOTLY_PASS
        value: "{{ vault_plotly_pass }}"
    description: "{name} of the PoC service plotly"
    tags:
      pocstack:service: plotly
  register: secrets

- name: Use them in a task definition
  ansible.builtin.set_fact:
    container_secrets: "{{ secrets.container_secrets }}"

- name: Remove every parameter of the service
  pocstack.aws.ssm_secure_strings:
    path: /pocstack/plotly
    state: absent
"""

RETURN = r"""
parameters:
  description: The parameters under O(path) afterwards (in check mode, as they would be), sorted by name. No values.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name under O(path).
      type: str
      sample: PLOTLY_PASS
    arn:
      description: ARN of the parameter.
      type: str
      sample: arn:aws:ssm:us-east-1:123456789012:parameter/pocstack/plotly/PLOTLY_PASS
    version:
      description: Version of the parameter; null when it would be created (check mode).
      type: int
      sample: 3
container_secrets:
  description: The ECS container C(secrets) list for the parameters.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "PLOTLY_PASS", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/pocstack/plotly/PLOTLY_PASS"}]
fingerprint:
  description:
    - 16 hex characters derived from the names and versions of the parameters; changes when any value changes.
    - Empty when there are no parameters. In check mode, C(unknown) when a parameter would be written.
  returned: always
  type: str
  sample: 5f1c0e3d9b2a7c44
created:
  description: Names that were (or would be) created.
  returned: always
  type: list
  elements: str
updated:
  description: Names whose value, key or description was (or would be) changed.
  returned: always
  type: list
  elements: str
deleted:
  description: Names that were (or would be) deleted.
  returned: always
  type: list
  elements: str
child_paths:
  description: Names of the paths directly below O(path) that hold parameters at any depth, sorted (C(proxy) for
    C(<path>/proxy/TOKEN)), as they were before this run.
  returned: with O(child_paths=true)
  type: list
  elements: str
  sample: [proxy]
  version_added: 0.3.0
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.iam import get_aws_account_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import ssm


class SecureStrings:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params

    def run(self):
        params = self.params
        try:
            path, wanted = ssm.validate(
                params["path"], params["parameters"] if params["state"] == "present" else [], params["description"]
            )
        except ssm.ParameterError as e:
            self.module.fail_json(msg=str(e))
        try:
            # one listing either way; recursive with child_paths
            current, children = ssm.read_path(self.client, path, True) if params["child_paths"] else (
                ssm.read_path(self.client, path), None)
            read = params["tags"] is not None or params["owner_tags"] is not None
            current_tags = ssm.read_tags(self.client, path, sorted(current)) if read else None
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not read the parameters under {path}")

        # state=absent wants no parameter (validated as an empty list): every current one goes
        todo = ssm.plan(current, wanted, params["key_id"], params["purge"] or params["state"] == "absent")
        foreign = ssm.foreign(current, current_tags, params["owner_tags"], set(wanted) | set(todo["delete"]))
        if foreign and not params["adopt"]:
            self.module.fail_json(msg=ssm.foreign_message(path, foreign, params["owner_tags"]))
        tag_work, after_tags = {}, {}
        for name in sorted(wanted) if current_tags is not None else []:
            # a parameter (re-)created gets the tags given and no other
            created = name in todo["create"]
            add, remove, after_tags[name] = compare.tag_changes(
                {} if created else current_tags.get(name, {}), params["tags"], params["purge_tags"])
            if (add or remove) and not created:
                tag_work[name] = (add, remove)
        changed = bool(todo["create"] or todo["update"] or todo["delete"] or tag_work)

        after = {name: {"type": "SecureString", "key_id": params["key_id"], "description": want["description"]}
                 for name, want in wanted.items()}
        diff = {
            "before": ssm.describe_for_diff(current, current_tags),
            "after": ssm.describe_for_diff(after, after_tags if current_tags is not None else None,
                                           changed=todo["create"] + todo["update"]),
        }

        if changed and not self.module.check_mode:
            self.apply(path, wanted, todo, tag_work)
            try:
                current = ssm.read_path(self.client, path)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.module.fail_json_aws(e, msg=f"Could not read the parameters under {path}")
        # In check mode a parameter that would be written has no version yet.
        pending = set(todo["create"] + todo["update"]) if self.module.check_mode else set()
        versions = {n: (None if n in pending else current[n]["version"]) for n in wanted if n in current or n in pending}
        prefix = self.arn_prefix(current) if any(n not in current for n in wanted) else None
        arns = {n: current[n]["arn"] if n in current else f"{prefix}{path}/{n}" for n in wanted}

        names = sorted(wanted)
        result = dict(
            changed=changed,
            parameters=[{"name": n, "arn": arns[n], "version": versions.get(n)} for n in names],
            container_secrets=[{"name": n, "valueFrom": arns[n]} for n in names],
            fingerprint="unknown" if pending else ssm.fingerprint(versions),
            created=todo["create"],
            updated=todo["update"],
            deleted=[n for n in todo["delete"] if n not in todo["create"]],
        )
        if children is not None:
            result["child_paths"] = children
        if self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)

    def apply(self, path, wanted, todo, tag_work):
        params = self.params
        try:
            if todo["delete"]:
                ssm.delete(self.client, path, todo["delete"])
            for name in todo["create"] + todo["update"]:
                ssm.put(self.client, path, name, wanted[name]["value"], params["key_id"], wanted[name]["description"],
                        overwrite=name in todo["update"], tags=params["tags"])
            for name, (add, remove) in sorted(tag_work.items()):
                if add:
                    ssm.add_tags(self.client, path, name, add)
                if remove:
                    ssm.remove_tags(self.client, path, name, remove)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            # The message names parameters, never values.
            self.module.fail_json_aws(e, msg=f"Could not write the parameters under {path}")

    def arn_prefix(self, current):
        """arn:<partition>:ssm:<region>:<account>:parameter, for parameters not yet created."""
        for item in current.values():
            if item.get("arn"):
                return item["arn"].split(":parameter/", 1)[0] + ":parameter"
        account, partition = get_aws_account_info(self.module)  # sts:GetCallerIdentity, else iam:GetUser
        return f"arn:{partition}:ssm:{self.module.region}:{account}:parameter"


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            path=dict(type="str", required=True),
            parameters=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    name=dict(type="str", required=True),
                    value=dict(type="str", required=True, no_log=True),
                    description=dict(type="str"),
                ),
            ),
            description=dict(type="str", default="{name}"),
            key_id=dict(type="str", default=ssm.DEFAULT_KEY, no_log=False),
            purge=dict(type="bool", default=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            owner_tags=dict(type="dict"),
            adopt=dict(type="bool", default=False),
            child_paths=dict(type="bool", default=False),
            purge_tags=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    client = module.client("ssm", retry_decorator=AWSRetry.jittered_backoff())
    SecureStrings(module, client).run()


if __name__ == "__main__":
    main()
