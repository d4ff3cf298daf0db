#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecr_image_tag
short_description: Give an Amazon ECR image, named by digest, one more tag
version_added: 0.3.0
description:
  - Adds O(tag) to the image O(image_digest) of an ECR repository, with C(PutImage) of the image's own
    manifest (read with C(BatchGetImage)), the way ECR's user guide retags an image. The image's other tags stay.
  - Nothing is written when the image already has the tag, so a re-run reports no change.
  - Fails when the tag names another image in a repository whose tags are immutable (ECR refuses to move it),
    or when the image does not exist.
  - In check mode, reports whether the tag would be added and writes nothing.
options:
  repository_name:
    description: Name of the repository; it must exist.
    type: str
    required: true
  image_digest:
    description: Digest of the image (C(sha256:...)); it must be in the repository.
    type: str
    required: true
  tag:
    description: The tag to add (up to 128 letters, digits and C(_.-), not starting with C(.) or C(-)).
    type: str
    required: true
  registry_id:
    description: Account ID of the registry; the caller's account when omitted.
    type: str
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Written because neither amazon.aws nor community.aws has a module that tags an ECR image (M(community.aws.ecs_ecr)
    manages repositories only), and the C(pocstack.aws.ecr_image) role tags each deployed digest so that the
    repository's lifecycle policy keeps it.
seealso:
  - module: community.aws.ecs_ecr
  - module: community.docker.docker_image_tag
    description: Tags an image of the local Docker engine, not one in ECR.
  - module: pocstack.aws.ecr_image_info
  - module: pocstack.aws.ecr_image_push
attributes:
  check_mode:
    support: full
    description: Reads the image and, where needed, the repository; writes nothing. C(changed) says whether the tag
      would be added, and C(image_tags) lists the tags as they would be.
  diff_mode:
    support: none
    description: No diff is returned; C(image_tags) lists the image's tags after the change.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Tag the deployed digest so that the lifecycle policy keeps it
  pocstack.aws.ecr_image_tag:
    repository_name: pocstack/plotly
    image_digest: "{{ ecr_image_digest }}"
    tag: "pocstack-deployed-{{ ecr_image_digest | regex_replace('^sha256:', '') }}"
"""

RETURN = r"""
image_digest:
  description: Digest of the image.
  returned: success
  type: str
  sample: sha256:7e202031436fc0d8f0e605789cfc82ab5d63aa2a20a8096dc2663c9bfec34a35
image_tags:
  description: The image's tags after the change (in check mode, as they would be), sorted.
  returned: success
  type: list
  elements: str
  sample: [ctx-3f1c9a0b2d4e6f8a1b2c, pocstack-deployed-7e202031436fc0d8f0e605789cfc82ab5d63aa2a20a8096dc2663c9bfec34a35]
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.pocstack.aws.plugins.module_utils import ecr

TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def ensure_tag(client, module):
    params = module.params
    repository, digest, tag, registry_id = (params["repository_name"], params["image_digest"], params["tag"],
                                            params["registry_id"])
    if not TAG.match(tag):
        module.fail_json(msg=f"tag={tag!r} is not an image tag: up to 128 letters, digits, _.- (not starting with . or -)")
    image = ecr.describe_image(client, repository, {"imageDigest": digest}, registry_id)
    if image is None:
        module.fail_json(msg=f"image_digest={digest!r} is not in the ECR repository {repository}")
    tags = sorted(image.get("imageTags", []))
    if tag in tags:
        return dict(changed=False, image_digest=digest, image_tags=tags)
    other = ecr.describe_image(client, repository, {"imageTag": tag}, registry_id)
    if other is not None:
        repo = ecr.describe_repository(client, repository, registry_id) or {}
        if repo.get("imageTagMutability", "").startswith("IMMUTABLE"):
            module.fail_json(msg=f"tag={tag!r} already names another image ({other['imageDigest']}) in the ECR "
                                 f"repository {repository}, whose tags are immutable")
    if not module.check_mode:
        ecr.add_image_tag(client, repository, digest, tag, registry_id)
    return dict(changed=True, image_digest=digest, image_tags=sorted(tags + [tag]))


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            repository_name=dict(type="str", required=True),
            image_digest=dict(type="str", required=True),
            tag=dict(type="str", required=True),
            registry_id=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    ecr.run_module(module, ensure_tag, f"Could not tag image {module.params['image_digest']} in ECR repository "
                                       f"{module.params['repository_name']}")


if __name__ == "__main__":
    main()
