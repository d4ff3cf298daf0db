#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: docker_build_context_info
short_description: Content hash of a Docker build context
version_added: 0.2.0
description:
  - Computes a SHA-256 over what C(docker build) would send for a context directory, with its
    C(.dockerignore) applied and the Dockerfile always included. Each file's path, content and
    executable bit go into it, and so do the Dockerfile's name and the build arguments.
  - The same context gives the same hash on every machine; any change to a file that goes into
    the image, to the Dockerfile or to a build argument gives another.
  - Does not look at the base image behind a C(FROM) line.
options:
  path:
    description: The build context directory.
    type: path
    required: true
  dockerfile:
    description: The Dockerfile, relative to O(path).
    type: str
    default: Dockerfile
  build_args:
    description:
      - Build arguments, as given to the build. Their values go into the hash.
      - Never pass secrets as build arguments; they end up in the image's history.
    type: dict
    default: {}
  platform:
    description:
      - The platform the image is built for (C(docker build --platform)), e.g. V(linux/amd64). It goes into
        the hash, so that the same context built for another platform gets another tag.
      - Left out, the hash is the context's alone.
    type: str
    version_added: 0.3.0
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Written because community.docker decides whether an image is already built by its name and tag alone
    (M(community.docker.docker_image_build) with C(rebuild=never), M(community.docker.docker_image) without
    C(force_source=true)), never by what goes into it. The C(pocstack.aws.ecr_image) role tags images with this hash,
    so an unchanged context is neither rebuilt nor pushed again, on any machine.
seealso:
  - module: community.docker.docker_image_build
  - module: community.docker.docker_image
  - module: pocstack.aws.ecr_image_info
  - module: pocstack.aws.ecr_image_push
attributes:
  check_mode:
    support: full
    description: Reads files only; runs the same in check mode.
  diff_mode:
    support: none
    description: Reads only; there is nothing to show.
"""

EXAMPLES = r"""
- name: Hash the app's build context
  pocstack.aws.docker_build_context_info:
    path: files/app
    build_args:
      BASE_IMAGE: python:3.11-slim-bookworm
    platform: linux/amd64
  register: context

- name: Tag by content
  ansible.builtin.debug:
    msg: "pocstack/plotly:ctx-{{ context.digest[:20] }}"
"""

RETURN = r"""
digest:
  description: SHA-256 (hex) of the context.
  returned: always
  type: str
  sample: 9b2f4c0c1d0e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a
files:
  description: The files sent to the engine, relative to O(path), sorted.
  returned: always
  type: list
  elements: str
  sample: [Dockerfile, app.py, gunicorn.conf.py, requirements.lock]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pocstack.aws.plugins.module_utils.build_context import context_hash


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            dockerfile=dict(type="str", default="Dockerfile"),
            build_args=dict(type="dict", default={}),
            platform=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    path, dockerfile = module.params["path"], module.params["dockerfile"]
    if not os.path.isdir(path):
        module.fail_json(msg=f"path={path!r} is not a directory (the build context)")
    if not os.path.isfile(os.path.join(path, dockerfile)):
        module.fail_json(msg=f"dockerfile={dockerfile!r} is not a file in the build context {path}")
    build_args = {k: "" if v is None else str(v) for k, v in module.params["build_args"].items()}
    digest, files = context_hash(path, dockerfile, build_args, module.params["platform"])
    module.exit_json(changed=False, digest=digest, files=files)


if __name__ == "__main__":
    main()
