# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: the VPC endpoints that amazon.aws.ec2_vpc_endpoint would change.

Why it exists: ec2_vpc_endpoint takes one endpoint per run, so a loop over the
tasks' endpoints (ECR's two, SSM, Logs, S3: five) costs five module runs on
every deploy although, for an endpoint that exists, all the module does is
make its tags what they should be. One read of the VPC's endpoints
(ec2_vpc_endpoint_info) and this filter leave the loop only the endpoints
that are missing or whose tags differ (issue 19).
"""

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

DOCUMENTATION = r"""
name: vpc_endpoints_to_ensure
short_description: The VPC endpoints that amazon.aws.ec2_vpc_endpoint would create or retag
author: pocstack.aws maintainers (@pocstack)
version_added: 0.1.0
description:
  - "Of the AWS services named in the input, those for which M(amazon.aws.ec2_vpc_endpoint) with O(state=present)
    would change something, judged the way it judges: it takes the first endpoint of the VPC with the same service
    name and the same route tables (none for an interface endpoint) and then only makes that endpoint's tags the
    wanted ones (C(purge_tags), keys starting with C(aws:) left alone); without such an endpoint it creates one."
  - So a run of the module for a service this filter leaves out would change nothing; the role
    C(fargate_service) runs it only for the others, which saves a module run per endpoint on every deploy.
  - Pure function of its arguments; no AWS call.
positional: existing, region, vpc_id, gateway_services, gateway_route_table_ids, tags, name_prefix
options:
  _input:
    description: Short names of the AWS services (C(ecr.api), C(s3), ...).
    type: list
    elements: str
    required: true
  existing:
    description: RV(amazon.aws.ec2_vpc_endpoint_info#module:vpc_endpoints) of the VPC.
    type: list
    elements: dict
    required: true
  region:
    description: The region; the service name is C(com.amazonaws.<region>.<short name>).
    type: str
    required: true
  vpc_id:
    description: The VPC.
    type: str
    required: true
  gateway_services:
    description: Short names that are gateway endpoints (they take route tables, interface endpoints none).
    type: list
    elements: str
    required: true
  gateway_route_table_ids:
    description: Route tables of the gateway endpoints.
    type: list
    elements: str
    required: true
  tags:
    description: Tags of every endpoint, without C(Name).
    type: dict
    required: true
  name_prefix:
    description: An endpoint's C(Name) tag is this prefix and its short name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Only the endpoints that are missing or whose tags differ
  amazon.aws.ec2_vpc_endpoint:
    vpc_id: "{{ vpc_id }}"
    service: "com.amazonaws.{{ aws_region }}.{{ item }}"
    tags: "{{ tags | combine({'Name': 'pocstack-' ~ item}) }}"
  loop: >-
    {{ ['ecr.api', 'ecr.dkr', 's3'] | pocstack.aws.vpc_endpoints_to_ensure(current.vpc_endpoints, aws_region, vpc_id,
       ['s3'], route_table_ids, tags, 'pocstack-') }}
"""

RETURN = r"""
_value:
  description: The short names, in input order, of the endpoints the module would create or retag.
  type: list
  elements: str
"""


def _tags(endpoint):
    tags = endpoint.get("tags") or {}
    if isinstance(tags, list):  # ec2_vpc_endpoint_info converts the tag list's keys only: [{key, value}]
        tags = boto3_tag_list_to_ansible_dict(tags, tag_name_key_name="key", tag_value_key_name="value")
    return {k: v for k, v in tags.items() if not k.startswith("aws:")}


def vpc_endpoints_to_ensure(names, existing, region, vpc_id, gateway_services, gateway_route_table_ids, tags, name_prefix):
    todo = []
    for name in names:
        service = f"com.amazonaws.{region}.{name}"
        route_tables = sorted(gateway_route_table_ids or []) if name in gateway_services else []
        # ec2_vpc_endpoint's match_endpoints: the first with this VPC, service and route tables
        match = next((e for e in existing or [] if e.get("vpc_id") == vpc_id and e.get("service_name") == service
                      and sorted(e.get("route_table_ids") or []) == route_tables), None)
        wanted = {str(k): str(v) for k, v in {**tags, "Name": name_prefix + name}.items()}
        if match is None or _tags(match) != wanted:
            todo.append(name)
    return todo


class FilterModule:
    def filters(self):
        return {"vpc_endpoints_to_ensure": vpc_endpoints_to_ensure}
