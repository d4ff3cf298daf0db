#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: ecr_image_push
short_description: Push a local Docker image to Amazon ECR, unless ECR already has it
version_added: 0.2.0
description:
  - Pushes an image of the local Docker engine to an ECR repository under a tag, with the
    credentials of ECR C(GetAuthorizationToken), to the registry that call names (C(proxyEndpoint)).
  - Nothing is pushed when the tag already names the same image in ECR (the manifest's config
    digest equals the local image ID), so a re-run reports no change.
  - The credentials are passed to the engine in the push request only; nothing is written to a
    Docker config file and nothing is returned.
  - In check mode, reports whether a push would happen and pushes nothing.
options:
  image:
    description: The local image, by name (C(name:tag)) or ID.
    type: str
    required: true
  repository_name:
    description: Name of the ECR repository; it must exist.
    type: str
    required: true
  tag:
    description: Tag of the image in ECR.
    type: str
    required: true
  registry_id:
    description: Account ID of the registry; the caller's account when omitted.
    type: str
  docker_host:
    description:
      - The Docker engine, C(unix://PATH) or C(tcp://HOST:PORT) (without TLS).
      - Defaults to E(DOCKER_HOST), else C(unix:///var/run/docker.sock).
    type: str
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Written because the community.docker push (M(community.docker.docker_image_push), or
    M(community.docker.docker_image) with C(push=true)) takes the registry credentials from the Docker config, so
    M(community.docker.docker_login) would first store ECR's password there. This module gets the password from ECR
    C(GetAuthorizationToken) and hands it to the engine in the push request only. It also skips the push when ECR
    already holds the same image under the tag, which M(community.docker.docker_image_push) cannot know.
seealso:
  - module: community.docker.docker_image_push
  - module: community.docker.docker_login
  - module: community.aws.ecs_ecr
    description: Creates the repository.
  - module: pocstack.aws.docker_build_context_info
  - module: pocstack.aws.ecr_image_info
  - module: pocstack.aws.ecr_image_tag
attributes:
  check_mode:
    support: full
    description: Reads ECR and the local engine only; nothing is logged in to, tagged or pushed. C(changed) says
      whether a push would happen; C(pushed_to) is empty, and C(image_digest) is the digest the tag names in ECR now
      (empty when the tag is new), not the one the push would give.
  diff_mode:
    support: none
    description: No diff is returned; C(changed) and C(pushed_to) say what was pushed.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Build the app image locally
  community.docker.docker_image:
    name: pocstack/plotly
    tag: v1
    source: build
    build:
      path: files/app

- name: Push it to ECR as pocstack/plotly:v1
  pocstack.aws.ecr_image_push:
    image: pocstack/plotly:v1
    repository_name: pocstack/plotly
    tag: v1
  register: pushed

- name: Reference pinned by digest
  ansible.builtin.debug:
    msg: "{{ pushed.repository_uri }}@{{ pushed.image_digest }}"
"""

RETURN = r"""
image_digest:
  description: Digest of the image manifest in ECR (unknown in check mode when a push would happen).
  returned: success
  type: str
  sample: sha256:7e202031436fc0d8f0e605789cfc82ab5d63aa2a20a8096dc2663c9bfec34a35
image_id:
  description: ID of the local image (the digest of its config).
  returned: always
  type: str
  sample: sha256:21d765b190c399837994a9b25891c82d0a066f57a74b494f014e9a52c5c9dbc6
repository_uri:
  description: URI of the ECR repository.
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com/pocstack/plotly
pushed_to:
  description: The name the image was pushed as (registry of C(GetAuthorizationToken), repository, tag); empty when nothing was pushed.
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com/pocstack/plotly:v1
"""

from urllib.parse import urlsplit

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.pocstack.aws.plugins.module_utils import ecr
from ansible_collections.pocstack.aws.plugins.module_utils.docker_engine import Engine
from ansible_collections.pocstack.aws.plugins.module_utils.docker_engine import EngineError


def push(client, engine, module):
    params = module.params
    repo_name, tag, registry_id = params["repository_name"], params["tag"], params["registry_id"]
    repository = ecr.describe_repository(client, repo_name, registry_id)
    if repository is None:
        module.fail_json(msg=f"repository_name={repo_name!r}: no such ECR repository; create it before pushing to it")
    local = engine.image(params["image"])
    if local is None:
        module.fail_json(msg=f"image={params['image']!r} is not an image of the Docker engine at {engine.host}")
    result = dict(changed=False, image_id=local["Id"], repository_uri=repository["repositoryUri"], pushed_to="")
    found = ecr.describe_image(client, repo_name, {"imageTag": tag}, registry_id)
    if found and ecr.config_digest(client, repo_name, found["imageDigest"], registry_id) == local["Id"]:
        return dict(result, image_digest=found["imageDigest"])
    if found and repository.get("imageTagMutability", "").startswith("IMMUTABLE"):
        module.fail_json(
            msg=f"tag={tag!r} already names another image in the ECR repository {repo_name}, whose tags are "
            "immutable; push under a new tag, or make the repository's tags mutable",
            **result,
        )
    if module.check_mode:
        return dict(result, changed=True, image_digest=found["imageDigest"] if found else "")
    endpoint, username, password, _expires = ecr.authorization(client, registry_id)
    target = f"{urlsplit(endpoint).netloc or endpoint}/{repo_name}"
    engine.tag(local["Id"], target, tag)
    try:
        digest = engine.push(target, tag, username, password, endpoint)
    finally:
        engine.untag(f"{target}:{tag}")  # the local image keeps its own names
    return dict(result, changed=True, image_digest=digest or "", pushed_to=f"{target}:{tag}")


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            image=dict(type="str", required=True),
            repository_name=dict(type="str", required=True),
            tag=dict(type="str", required=True),
            registry_id=dict(type="str"),
            docker_host=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    engine = Engine(module.params["docker_host"])
    try:
        ecr.run_module(module, lambda client, module: push(client, engine, module),
                       f"Could not push to ECR repository {module.params['repository_name']}")
    except EngineError as e:
        module.fail_json(msg=str(e))


if __name__ == "__main__":
    main()
