#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: tagged_resources_info
short_description: Find AWS resources of any service by their tags
version_added: 0.2.0
description:
  - Lists the resources in the region whose tags match O(tags), through the Resource Groups Tagging API
    (C(GetResources)), optionally only of some resource types.
  - IAM and other global resources are not covered by that API; look them up by name.
  - The API is eventually consistent; a resource deleted a moment ago may still be listed for a short while.
options:
  tags:
    description:
      - Tags to match. Each value is a string, a list of strings (any of them matches), or null (the key with
        any value).
    type: dict
    required: true
  resource_types:
    description:
      - Resource types in the form C(service[:resource-type]), for example C(elasticloadbalancing:targetgroup),
        C(ecs:service), C(ssm), C(logs:log-group). All types when empty.
    type: list
    elements: str
    default: []
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - "Written because neither amazon.aws nor community.aws has a module for the Resource Groups Tagging API, the one
    place that finds resources of every service by tag: the teardown and the C(pocstack.aws.alb_tls) role use it to
    find what a service left behind."
  - "IAM actions used: C(tag:GetResources)."
seealso:
  - module: amazon.aws.ec2_tag_info
    description: The tags of one EC2 resource, by its ID.
  - name: Resource Groups Tagging API GetResources
    link: https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html
    description: The call this module makes.
  - module: pocstack.aws.ecr_repository_tags
  - module: pocstack.aws.alb_target_group
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Reads only; there is nothing to show.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Everything still tagged for the plotly service
  pocstack.aws.tagged_resources_info:
    tags:
      pocstack:service: plotly
  register: leftovers

- name: The target groups of the plotly service
  pocstack.aws.tagged_resources_info:
    tags:
      pocstack:service: plotly
    resource_types: [elasticloadbalancing:targetgroup]
  register: target_groups
"""

RETURN = r"""
resources:
  description: The matching resources, sorted by ARN.
  returned: always
  type: list
  elements: dict
  contains:
    arn:
      description: ARN of the resource.
      type: str
      sample: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/6d0ecf831eec9f09
    resource_type:
      description: C(service:resource-type) read from the ARN.
      type: str
      sample: elasticloadbalancing:targetgroup
    name:
      description: The last part of the ARN's resource (a name or an ID).
      type: str
      sample: plotly-8050
    tags:
      description: All tags of the resource.
      type: dict
      sample: {"pocstack:service": "plotly"}
"""

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict


def tag_filters(tags):
    """A key alone matches any value (tag value None); a value or a list of values, those."""
    return [
        {"Key": key} if value is None
        else {"Key": key, "Values": [str(v) for v in (value if isinstance(value, list) else [value])]}
        for key, value in sorted(tags.items())
    ]


def describe_arn(arn):
    """(service:resource-type, name) read from an ARN's resource part, which
    each service shapes its own way, e.g.
      ...:elasticloadbalancing:...:targetgroup/plotly-8050/6d0e...  -> elasticloadbalancing:targetgroup, plotly-8050
      ...:elasticloadbalancing:...:loadbalancer/app/pocstack/50dc... -> elasticloadbalancing:loadbalancer, pocstack
      ...:ecs:...:service/pocstack/plotly                          -> ecs:service, plotly
      ...:logs:...:log-group:/pocstack/plotly:*                     -> logs:log-group, /pocstack/plotly
      ...:ssm:...:parameter/pocstack/plotly/PLOTLY_PASS            -> ssm:parameter, /pocstack/plotly/PLOTLY_PASS
      ...:ecr:...:repository/pocstack/plotly                       -> ecr:repository, pocstack/plotly"""
    parts = parse_aws_arn(arn) or {"service": "", "resource": arn, "resource_type": None}
    service = parts["service"]
    kind, rest = (parts["resource_type"], parts["resource_id"]) if parts["resource_type"] else (parts["resource"], "")
    if service == "elasticloadbalancing" and kind == "targetgroup":
        name = rest.split("/", maxsplit=1)[0]
    elif service == "elasticloadbalancing" and kind == "loadbalancer":
        name = rest.split("/")[1] if "/" in rest else rest
    elif service == "ecs":
        name = rest.rsplit("/", 1)[-1]
    elif service == "ssm":
        name = "/" + rest
    elif service == "logs" and rest.endswith(":*"):
        name = rest[:-2]
    else:
        name = rest
    return f"{service}:{kind}", name


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            tags=dict(type="dict", required=True),
            resource_types=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    if not module.params["tags"]:
        module.fail_json(msg="tags: give at least one tag key to match")
    client = module.client("resourcegroupstaggingapi", retry_decorator=AWSRetry.jittered_backoff())
    kwargs = {"TagFilters": tag_filters(module.params["tags"])}
    if module.params["resource_types"]:
        kwargs["ResourceTypeFilters"] = module.params["resource_types"]
    try:
        mappings = paginated_query_with_retries(client, "get_resources", **kwargs)["ResourceTagMappingList"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not list resources by tag (tag:GetResources)")
    resources = []
    for mapping in mappings:
        kind, name = describe_arn(mapping["ResourceARN"])
        tags = boto3_tag_list_to_ansible_dict(mapping.get("Tags", []))
        resources.append({"arn": mapping["ResourceARN"], "resource_type": kind, "name": name, "tags": tags})
    module.exit_json(changed=False, resources=sorted(resources, key=lambda r: r["arn"]))


if __name__ == "__main__":
    main()
