#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecs_task_definition_revision
short_description: Register an ECS task definition revision only when it changes; deregister a family
version_added: 0.2.0
description:
  - Compares the desired task definition with the latest C(ACTIVE) revision of O(family) and registers
    a new revision only when they differ, after normalising what AWS fills in or returns in another form
    (task O(cpu) and O(memory) as strings, container defaults such as C(essential=true) and C(cpu=0),
    empty lists such as C(mountPoints), C(volumesFrom) and C(systemControls), the order of containers,
    C(environment) and C(secrets), a port mapping's C(protocol=tcp) and C(hostPort) equal to
    C(containerPort) under C(awsvpc), health check defaults (C(interval=30), C(timeout=5), C(retries=3),
    C(startPeriod=0) as off)).
  - After registering, older C(ACTIVE) revisions beyond O(keep_revisions) are deregistered.
  - With O(state=absent), every C(ACTIVE) revision of the family is deregistered and, with
    O(delete_inactive=true), every C(INACTIVE) one deleted.
options:
  family:
    description: Name of the task definition family (1-255 letters, digits, C(-) and C(_)).
    type: str
    required: true
  containers:
    description:
      - Container definitions in the shape of the ECS API (C(containerDefinitions), camelCase keys such
        as C(portMappings), C(logConfiguration), C(secrets) with C(name) and C(valueFrom)).
      - Numbers may be given as strings; environment values are compared as strings.
      - A C(healthCheck) is checked against ECS's limits before any call (C(command) starts with C(CMD) or
        C(CMD-SHELL), C(interval) 5-300, C(timeout) 2-60, C(retries) 1-10, C(startPeriod) 0-300 seconds).
        An empty one is none.
      - Required when O(state=present).
    type: list
    elements: dict
  cpu:
    description:
      - Task CPU, in CPU units (V(256)) or vCPUs (V(0.25 vCPU)). Required for Fargate, with O(memory) one of
        the Fargate sizes.
    type: str
  memory:
    description: Task memory, in MiB (V(512)) or GB (V(0.5 GB)). Required for Fargate.
    type: str
  network_mode:
    description: Docker networking mode of the containers; Fargate needs V(awsvpc).
    type: str
    choices: [awsvpc, bridge, host, none]
    default: awsvpc
  launch_type:
    description: Shorthand for O(requires_compatibilities) with one launch type. V(FARGATE) when neither is given.
    type: str
    choices: [FARGATE, EC2, EXTERNAL]
  requires_compatibilities:
    description: Launch types the task definition is validated against. Mutually exclusive with O(launch_type).
    type: list
    elements: str
    choices: [FARGATE, EC2, EXTERNAL]
  execution_role_arn:
    description: Role ECS uses to pull the image, read C(secrets) and write logs.
    type: str
  task_role_arn:
    description: Role the containers' own AWS calls use.
    type: str
  runtime_platform:
    description: Operating system and CPU architecture of the tasks.
    type: dict
    suboptions:
      cpu_architecture:
        description: CPU architecture.
        type: str
        choices: [X86_64, ARM64]
      operating_system_family:
        description: Operating system family, for example V(LINUX).
        type: str
  volumes:
    description: Data volumes, in the shape of the ECS API (C(name), C(host), C(efsVolumeConfiguration), ...).
    type: list
    elements: dict
  ephemeral_storage_gib:
    description: Fargate ephemeral storage in GiB (21-200); AWS's default of 20 GiB when omitted.
    type: int
  keep_revisions:
    description:
      - After a new revision is registered, the newest O(keep_revisions) C(ACTIVE) revisions stay and older
        ones are deregistered (a service can still roll back to a kept one). V(0) keeps every revision.
      - Nothing is deregistered on a run that registers nothing.
    type: int
    default: 5
  delete_inactive:
    description:
      - With O(state=absent), also delete (C(DeleteTaskDefinitions)) every C(INACTIVE) revision of the family,
        those just deregistered included, so that nothing is left in the account's list.
      - Deleted revisions go to C(DELETE_IN_PROGRESS); tasks and services that still use one keep running.
    type: bool
    default: false
  state:
    description: Whether the family should have an C(ACTIVE) revision equal to the options.
    type: str
    choices: [present, absent]
    default: present
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Written because M(community.aws.ecs_taskdefinition) (community.aws 10.0.0) reuses any C(ACTIVE) revision that
    matches on containers, volumes, task role and launch type only, so a change of O(cpu), O(memory),
    O(execution_role_arn), O(network_mode) or O(runtime_platform) alone registers nothing, and an older revision can
    be returned instead of the latest; it returns no diff; it never deregisters old revisions; and its C(state=absent)
    deregisters one revision, named by ARN or by number, so a teardown cannot say every revision of this family.
  - Tags belong to a revision. O(tags) is compared with the latest revision's tags; a new revision gets
    the tags the latest one would have after this run.
  - "IAM actions used: C(ecs:ListTaskDefinitions), C(ecs:DescribeTaskDefinition), C(ecs:RegisterTaskDefinition),
    C(ecs:DeregisterTaskDefinition), C(ecs:DeleteTaskDefinitions), C(ecs:TagResource), C(ecs:UntagResource),
    and C(iam:PassRole) on the execution and task roles."
seealso:
  - module: community.aws.ecs_taskdefinition
  - module: community.aws.ecs_taskdefinition_info
  - module: pocstack.aws.ecs_fargate_service
  - module: pocstack.aws.ssm_secure_strings
    description: Returns the C(secrets) list of a container.
attributes:
  check_mode:
    support: full
    description: No mutating call. C(changed), C(registered), C(changes), C(deregistered) and C(deleted) are what a
      real run would report; for a new revision, C(task_definition_arn) and C(revision) are the ones AWS would give it
      (no ARN for a family's first revision), and C(task_definition) is the latest revision as it is now.
  diff_mode:
    support: full
    description: Sorted before/after of the definition and its tags; secrets are shown by C(name) and C(valueFrom), an
      ARN, never by value. With O(state=absent), the revisions deregistered (and deleted) before, none after.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Task definition of the plotly PoC (secrets by valueFrom, awslogs)
  pocstack.aws.ecs_task_definition_revision:
    family: plotly
    cpu: 256
    memory: 512
    execution_role_arn: "{{ exec_role.iam_role.arn }}"
    task_role_arn: "{{ task_role.iam_role.arn }}"
    containers:
      - name: plotly
        image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/pocstack/plotly@sha256:0123abcd...
        portMappings:
          - containerPort: 8050
        environment:
          - name: PORT
            value: "8050"
        secrets:
          - name: PLOTLY_PASS
            valueFrom: arn:aws:ssm:us-east-1:123456789012:parameter/pocstack/plotly/PLOTLY_PASS
        logConfiguration:
          logDriver: awslogs
          options:
            awslogs-group: /pocstack/plotly
            awslogs-region: us-east-1
            awslogs-stream-prefix: ecs
    keep_revisions: 3
    tags:
      pocstack:service: plotly
  register: task_definition

- name: Show what a change would register
  pocstack.aws.ecs_task_definition_revision:
    family: plotly
    cpu: 0.5 vCPU
    memory: 1 GB
    containers: "{{ plotly_containers }}"
  check_mode: true
  diff: true

- name: Deregister every revision of the family and delete them
  pocstack.aws.ecs_task_definition_revision:
    family: plotly
    state: absent
    delete_inactive: true
"""

RETURN = r"""
task_definition_arn:
  description:
    - ARN of the latest C(ACTIVE) revision after the run; empty with O(state=absent).
    - In check mode, when a revision would be registered, the ARN it would most likely get (the highest
      revision that still exists, plus one); empty when the family has no revision at all.
  returned: always
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:7
revision:
  description:
    - Revision number of RV(task_definition_arn); null with O(state=absent).
    - In check mode, when a revision would be registered, the number it would most likely get (V(1) for a
      family without revisions), so that C(family:revision) can be handed to a service task in check mode too.
  returned: always
  type: int
  sample: 7
registered:
  description: Whether a new revision was (or, in check mode, would be) registered.
  returned: always
  type: bool
  sample: true
changes:
  description: Paths of what differs between the latest C(ACTIVE) revision and the options, sorted.
  returned: always
  type: list
  elements: str
  sample: ["containerDefinitions[plotly].image", "cpu"]
deregistered:
  description: ARNs of the revisions deregistered (or that would be), oldest first.
  returned: always
  type: list
  elements: str
  sample: ["arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:1"]
deleted:
  description: ARNs of the revisions deleted (or that would be) with O(delete_inactive=true).
  returned: always
  type: list
  elements: str
  sample: []
task_definition:
  description:
    - The latest C(ACTIVE) revision as DescribeTaskDefinition returns it (camelCase, the shape of O(containers)),
      with C(tags) as a dict; empty when there is none.
    - In check mode, the revision as it is before the reported change.
  returned: always
  type: dict
  sample:
    family: plotly
    revision: 7
    status: ACTIVE
    cpu: "256"
    memory: "512"
    networkMode: awsvpc
    containerDefinitions: [{"name": "plotly", "image": "...", "essential": true}]
    tags: {"pocstack:service": "plotly"}
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import ecs
from ansible_collections.pocstack.aws.plugins.module_utils import ecs_task_definitions as td


class TaskDefinitionManager:
    def __init__(self, module):
        self.module = module
        self.client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
        self.params = module.params
        self.family = module.params["family"]

    def run(self):
        if self.params["keep_revisions"] < 0:
            self.module.fail_json(msg=f"keep_revisions: {self.params['keep_revisions']} must be 0 (keep all) or more")
        if self.params["state"] == "absent":
            return self.absent()
        try:
            desired = td.desired_definition(self.params)
        except td.TaskDefinitionError as e:
            self.module.fail_json(msg=str(e))
        return self.present(desired)

    def call(self, what, fn, *args, **kwargs):
        try:
            return fn(self.client, *args, **kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not {what} (task definition family {self.family!r})")

    def active(self):
        return td.newest_first(self.call("list the ACTIVE revisions", ecs.list_task_definitions, self.family, "ACTIVE"))

    def present(self, desired):
        active = self.active()
        latest, tags, current = None, {}, None
        if active:
            latest, tags = self.call(f"describe {active[0]}", ecs.describe_task_definition, active[0])
            current = td.current_definition(latest)
        to_set, to_unset, after_tags = compare.tag_changes(tags, self.params["tags"], self.params["purge_tags"])
        before, after = td.comparable(current), td.comparable(desired)
        changes = compare.differences(before, after) if current is not None else []
        register = current is None or bool(changes)
        diff = {
            "before": compare.sorted_data(dict(td.for_diff(current), tags=tags) if current is not None else {}),
            "after": compare.sorted_data(dict(td.for_diff(desired), tags=after_tags)),
        }
        result = dict(changed=register or bool(to_set or to_unset), registered=register, changes=changes,
                      deregistered=[], deleted=[])
        if not register:
            if result["changed"] and not self.module.check_mode:
                if to_set:
                    self.call("tag the latest revision", ecs.tag_resource, active[0], to_set)
                if to_unset:
                    self.call("untag the latest revision", ecs.untag_resource, active[0], to_unset)
                latest, tags = self.call(f"describe {active[0]}", ecs.describe_task_definition, active[0])
            return self.exit(result, latest, tags, diff)
        if self.module.check_mode:
            arn, revision = self.predicted(active)
            result["deregistered"] = td.to_prune(active + ([arn] if arn else []), self.params["keep_revisions"])
            return self.exit(result, latest, tags, diff, arn=arn, revision=revision)
        registered = self.call("register a new revision", ecs.register_task_definition, desired, after_tags)
        for arn in td.to_prune(active + [registered["taskDefinitionArn"]], self.params["keep_revisions"]):
            self.call(f"deregister {arn}", ecs.deregister_task_definition, arn)
            result["deregistered"].append(arn)
        return self.exit(result, registered, after_tags, diff)

    def predicted(self, active):
        """(ARN, revision) a registration would get: AWS numbers revisions on
        from the highest one registered, so look at every status that still
        lists. With no revision at all: revision 1 and no ARN (its account is
        not known without another call)."""
        arns = list(active)
        for status in ("INACTIVE", "DELETE_IN_PROGRESS"):
            arns += self.call(f"list the {status} revisions", ecs.list_task_definitions, self.family, status)
        if not arns:
            return "", 1
        highest = td.newest_first(arns)[0]
        revision = td.revision_of(highest) + 1
        return f"{highest.rsplit(':', 1)[0]}:{revision}", revision

    def absent(self):
        active = sorted(self.active(), key=td.revision_of)
        before, after, to_delete = {"active_revisions": active}, {"active_revisions": []}, []
        if self.params["delete_inactive"]:
            inactive = self.call("list the INACTIVE revisions", ecs.list_task_definitions, self.family, "INACTIVE")
            before["inactive_revisions"], after["inactive_revisions"] = sorted(inactive, key=td.revision_of), []
            to_delete = sorted(set(inactive) | set(active), key=td.revision_of)
        result = dict(changed=bool(active or to_delete), registered=False, changes=[], deregistered=active,
                      deleted=to_delete)
        if result["changed"] and not self.module.check_mode:
            for arn in active:
                self.call(f"deregister {arn}", ecs.deregister_task_definition, arn)
            if to_delete:
                deleted, failures = self.call("delete the INACTIVE revisions", ecs.delete_task_definitions, to_delete)
                result["deleted"] = sorted(deleted, key=td.revision_of)
                if failures:
                    reasons = "; ".join(f"{f.get('arn')}: {f.get('reason')}" for f in failures)
                    self.module.fail_json(msg=f"Could not delete every revision of {self.family!r}: {reasons}", **result)
        return self.exit(result, None, {}, {"before": before, "after": after})

    def exit(self, result, described, tags, diff, arn=None, revision=None):
        if arn is None:
            arn = described["taskDefinitionArn"] if described else ""
        result.update(
            task_definition_arn=arn,
            revision=revision or (td.revision_of(arn) if arn else None),
            task_definition=dict(described, tags=tags) if described else {},
        )
        if self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            family=dict(type="str", required=True),
            containers=dict(type="list", elements="dict"),
            cpu=dict(type="str"),
            memory=dict(type="str"),
            network_mode=dict(type="str", choices=["awsvpc", "bridge", "host", "none"], default="awsvpc"),
            launch_type=dict(type="str", choices=["FARGATE", "EC2", "EXTERNAL"]),
            requires_compatibilities=dict(type="list", elements="str", choices=["FARGATE", "EC2", "EXTERNAL"]),
            execution_role_arn=dict(type="str"),
            task_role_arn=dict(type="str"),
            runtime_platform=dict(
                type="dict",
                options=dict(
                    cpu_architecture=dict(type="str", choices=["X86_64", "ARM64"]),
                    operating_system_family=dict(type="str"),
                ),
            ),
            volumes=dict(type="list", elements="dict"),
            ephemeral_storage_gib=dict(type="int"),
            keep_revisions=dict(type="int", default=5),
            delete_inactive=dict(type="bool", default=False),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        mutually_exclusive=[["launch_type", "requires_compatibilities"]],
        required_if=[["state", "present", ["containers"]]],
        supports_check_mode=True,
    )
    TaskDefinitionManager(module).run()


if __name__ == "__main__":
    main()
