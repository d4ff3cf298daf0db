#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Written here because neither amazon.aws nor community.aws has a module that
# reads ECR images (community.aws.ecs_ecr manages repositories only), and the
# ecr_image role must pin the deployed image by digest.

DOCUMENTATION = r"""
module: ecr_image_info
short_description: Resolve ECR image tags to digests
version_added: 0.1.0
description:
  - Describes images of one Amazon ECR repository, by tag or by digest.
  - Returns nothing (an empty list) when the repository or the image does not exist,
    so that a role can fail with its own message.
options:
  repository_name:
    description: Name of the repository.
    type: str
    required: true
  registry_id:
    description: Account ID of the registry; the caller's account when omitted.
    type: str
  image_tags:
    description: Tags to look up.
    type: list
    elements: str
    default: []
  image_digests:
    description: Digests (C(sha256:...)) to look up.
    type: list
    elements: str
    default: []
author:
  - pocstack.aws maintainers (@pocstack)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Resolve pocstack/plotly:latest to its digest
  pocstack.aws.ecr_image_info:
    repository_name: pocstack/plotly
    image_tags: [latest]
  register: found

- name: Image reference pinned by digest
  ansible.builtin.debug:
    msg: "{{ found.repository_uri }}@{{ found.images[0].image_digest }}"
"""

RETURN = r"""
repository_uri:
  description: URI of the repository, empty when it does not exist.
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com/pocstack/plotly
images:
  description: The images found, in the order asked for; missing ones are left out.
  returned: always
  type: list
  elements: dict
  contains:
    image_digest:
      description: Digest of the image manifest.
      type: str
      sample: sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
    image_tags:
      description: Tags of the image.
      type: list
      elements: str
      sample: [latest]
    image_pushed_at:
      description: When the image was pushed.
      type: str
      sample: "2026-11-22T10:00:00+00:00"
    image_size_in_bytes:
      description: Size of the image.
      type: int
      sample: 52428800
"""

try:
    import botocore  # noqa: F401  (imported for AnsibleAWSModule's check)
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def _registry(params):
    return {"registryId": params["registry_id"]} if params["registry_id"] else {}


def describe(client, module):
    params = module.params
    image_ids = [{"imageTag": t} for t in params["image_tags"]]
    image_ids += [{"imageDigest": d} for d in params["image_digests"]]
    try:
        repo = client.describe_repositories(
            repositoryNames=[params["repository_name"]], aws_retry=True, **_registry(params)
        )
    except is_boto3_error_code("RepositoryNotFoundException"):
        return "", []
    uri = repo["repositories"][0]["repositoryUri"]
    if not image_ids:
        return uri, []
    # BatchGetImage would fail the whole call on one missing tag's neighbour;
    # DescribeImages per id keeps "missing" as an answer rather than an error.
    images = []
    for image_id in image_ids:
        try:
            found = client.describe_images(
                repositoryName=params["repository_name"], imageIds=[image_id], aws_retry=True, **_registry(params)
            )
        except is_boto3_error_code("ImageNotFoundException"):
            continue
        for detail in found["imageDetails"]:
            images.append(
                {
                    "image_digest": detail["imageDigest"],
                    "image_tags": sorted(detail.get("imageTags", [])),
                    "image_pushed_at": str(detail.get("imagePushedAt", "")),
                    "image_size_in_bytes": detail.get("imageSizeInBytes"),
                }
            )
    return uri, images


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            repository_name=dict(type="str", required=True),
            registry_id=dict(type="str"),
            image_tags=dict(type="list", elements="str", default=[]),
            image_digests=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff())
    try:
        uri, images = describe(client, module)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Could not describe images of ECR repository {module.params['repository_name']}")
    module.exit_json(changed=False, repository_uri=uri, images=[camel_dict_to_snake_dict(i) for i in images])


if __name__ == "__main__":
    main()
