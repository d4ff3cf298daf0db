#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
  include_config_digest:
    description:
      - Also return each image's C(config_digest), the digest of its config blob
        (the image ID that C(docker inspect) shows), read from the manifest with C(BatchGetImage).
      - Lets a caller tell whether a local image is the one a tag names without pulling it.
    type: bool
    default: false
    version_added: 0.2.0
  include_architectures:
    description:
      - Also return each image's C(architectures), the CPU architectures of the Linux images its manifest list or
        OCI index names, read with C(BatchGetImage); empty for a single image's manifest, which does not say it.
    type: bool
    default: false
    version_added: 0.3.0
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Written because neither amazon.aws nor community.aws has a module that reads ECR images (M(community.aws.ecs_ecr)
    manages repositories only), and the C(pocstack.aws.ecr_image) role must pin the deployed image by digest.
seealso:
  - module: community.aws.ecs_ecr
  - module: pocstack.aws.ecr_image_push
  - module: pocstack.aws.ecr_image_tag
  - module: pocstack.aws.docker_build_context_info
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
repository:
  description: The repository as C(DescribeRepositories) returns it (keys in snake case), empty when it does not exist.
  returned: always
  type: dict
  version_added: 0.2.0
  sample:
    repository_arn: arn:aws:ecr:us-east-1:123456789012:repository/pocstack/plotly
    repository_name: pocstack/plotly
    repository_uri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/pocstack/plotly
    image_tag_mutability: MUTABLE
    image_scanning_configuration: {scan_on_push: true}
    encryption_configuration: {encryption_type: AES256}
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
    config_digest:
      description:
        - Digest of the image's config blob (the local image ID), or null for a manifest list.
        - Only with O(include_config_digest=true).
      type: str
      sample: sha256:21d765b190c399837994a9b25891c82d0a066f57a74b494f014e9a52c5c9dbc6
      version_added: 0.2.0
    architectures:
      description:
        - CPU architectures (C(amd64), C(arm64), ...) of the Linux images the manifest list or index names; empty
          for a single image's manifest.
        - Only with O(include_architectures=true).
      type: list
      elements: str
      sample: [amd64, arm64]
      version_added: 0.3.0
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.pocstack.aws.plugins.module_utils import ecr


def describe(client, module):
    params = module.params
    registry_id = params["registry_id"]
    repository = ecr.describe_repository(client, params["repository_name"], registry_id) or {}
    image_ids = [{"imageTag": t} for t in params["image_tags"]]
    image_ids += [{"imageDigest": d} for d in params["image_digests"]]
    # One DescribeImages per id: BatchGetImage-style lookups fail or drop ids
    # silently; this way "missing" is an answer, not an error.
    images = []
    for image_id in image_ids if repository else []:
        detail = ecr.describe_image(client, params["repository_name"], image_id, registry_id)
        if detail is None:
            continue
        image = {
            "image_digest": detail["imageDigest"],
            "image_tags": sorted(detail.get("imageTags", [])),
            "image_pushed_at": str(detail.get("imagePushedAt", "")),
            "image_size_in_bytes": detail.get("imageSizeInBytes"),
        }
        if params["include_config_digest"]:
            image["config_digest"] = ecr.config_digest(client, params["repository_name"], detail["imageDigest"], registry_id)
        if params["include_architectures"]:
            image["architectures"] = ecr.architectures(client, params["repository_name"], detail["imageDigest"], registry_id)
        images.append(image)
    return dict(changed=False, repository_uri=repository.get("repositoryUri", ""),
                repository=camel_dict_to_snake_dict(repository), images=images)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            repository_name=dict(type="str", required=True),
            registry_id=dict(type="str"),
            image_tags=dict(type="list", elements="str", default=[]),
            image_digests=dict(type="list", elements="str", default=[]),
            include_config_digest=dict(type="bool", default=False),
            include_architectures=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    ecr.run_module(module, describe, f"Could not describe images of ECR repository {module.params['repository_name']}")


if __name__ == "__main__":
    main()
