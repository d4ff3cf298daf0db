#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecr_repository_tags
short_description: Tags of an Amazon ECR repository
version_added: 0.2.0
description:
  - Sets the tags of an existing ECR repository; with O(purge_tags=true) (the default) also removes the
    tags not given. Without O(tags) nothing changes.
options:
  repository_name:
    description: Name of the repository; it must exist.
    type: str
    required: true
  registry_id:
    description: Account ID of the registry; the caller's account when omitted.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Written because M(community.aws.ecs_ecr), the module that manages ECR repositories, takes no tags, and neither
    collection has a module that tags an ECR repository (M(community.aws.ecs_tag) tags ECS resources only). Every
    resource of a service carries C(pocstack:service) and C(pocstack:managed-by), so that the teardown can find it.
seealso:
  - module: community.aws.ecs_ecr
  - module: community.aws.ecs_tag
  - module: pocstack.aws.tagged_resources_info
  - module: pocstack.aws.ecr_image_push
attributes:
  check_mode:
    support: full
    description: Reads the repository and its tags and changes nothing; C(changed) and C(tags) are what a real run
      would report.
  diff_mode:
    support: full
    description: Sorted before/after of the repository's tags.
"""

EXAMPLES = r"""
- name: Tag the service's repository
  pocstack.aws.ecr_repository_tags:
    repository_name: pocstack/plotly
    tags:
      pocstack:service: plotly
      pocstack:managed-by: pocstack.aws
"""

RETURN = r"""
repository_arn:
  description: ARN of the repository.
  returned: always
  type: str
  sample: arn:aws:ecr:us-east-1:123456789012:repository/pocstack/plotly
tags:
  description: The repository's tags after the change (in check mode, as they would be).
  returned: always
  type: dict
  sample: {"pocstack:service": "plotly", "pocstack:managed-by": "pocstack.aws"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import ecr


def ensure_tags(client, module):
    params = module.params
    repository = ecr.describe_repository(client, params["repository_name"], params["registry_id"])
    if repository is None:
        module.fail_json(
            msg=f"repository_name={params['repository_name']!r}: no such ECR repository; create it before tagging it"
        )
    arn = repository["repositoryArn"]
    before = ecr.list_tags(client, arn)
    to_set, to_remove, after = compare.tag_changes(before, params["tags"], params["purge_tags"])
    changed = bool(to_set or to_remove)
    if changed and not module.check_mode:
        if to_remove:
            ecr.untag_resource(client, arn, to_remove)
        if to_set:
            ecr.tag_resource(client, arn, to_set)
    result = dict(changed=changed, repository_arn=arn, tags=after)
    if module._diff:
        result["diff"] = {"before": {"tags": dict(sorted(before.items()))}, "after": {"tags": after}}
    return result


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            repository_name=dict(type="str", required=True),
            registry_id=dict(type="str"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    ecr.run_module(module, ensure_tags, f"Could not tag ECR repository {module.params['repository_name']}")


if __name__ == "__main__":
    main()
