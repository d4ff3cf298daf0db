#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Written here because neither amazon.aws nor community.aws has a module for
# ECR's GetAuthorizationToken, which `docker login` to ECR needs (the usual
# `aws ecr get-login-password` would need the AWS CLI on the host).

DOCUMENTATION = r"""
module: ecr_authorization_info
short_description: Registry address and login credentials of Amazon ECR
version_added: 0.2.0
description:
  - Calls ECR C(GetAuthorizationToken) and returns the registry's address and the user name and
    password that C(docker login) (for example M(community.docker.docker_login)) takes.
  - The password is valid for 12 hours and grants access to the account's repositories;
    register the result only in a task with C(no_log=true).
options:
  registry_id:
    description: Account ID of the registry; the caller's account when omitted.
    type: str
notes:
  - Never logs anything itself, but Ansible shows a task's result unless the task has C(no_log).
author:
  - pocstack.aws maintainers (@pocstack)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: ECR login credentials
  pocstack.aws.ecr_authorization_info:
  register: ecr_login
  no_log: true

- name: Log in to ECR
  community.docker.docker_login:
    registry_url: "{{ ecr_login.proxy_endpoint }}"
    username: "{{ ecr_login.username }}"
    password: "{{ ecr_login.password }}"
  no_log: true
"""

RETURN = r"""
proxy_endpoint:
  description: The registry's URL, as C(docker login) takes it.
  returned: always
  type: str
  sample: https://123456789012.dkr.ecr.us-east-1.amazonaws.com
registry:
  description: The registry's host (and port), the prefix of image names pushed there.
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.us-east-1.amazonaws.com
username:
  description: User name for C(docker login) (always C(AWS) on AWS).
  returned: always
  type: str
  sample: AWS
password:
  description: Password for C(docker login); secret.
  returned: always
  type: str
  sample: eyJwYXlsb2FkIjoi...
expires_at:
  description: When the password expires.
  returned: always
  type: str
  sample: "2026-11-23T19:00:00+00:00"
"""

from urllib.parse import urlsplit

try:
    import botocore  # noqa: F401  (imported for AnsibleAWSModule's check)
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import ecr


def main():
    module = AnsibleAWSModule(argument_spec=dict(registry_id=dict(type="str")), supports_check_mode=True)
    client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff())
    try:
        endpoint, username, password, expires = ecr.authorization(client, module.params["registry_id"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Could not get an ECR authorization token")
    module.exit_json(
        changed=False,
        proxy_endpoint=endpoint,
        registry=urlsplit(endpoint).netloc or endpoint,
        username=username,
        password=password,
        expires_at=expires.isoformat() if hasattr(expires, "isoformat") else str(expires or ""),
    )


if __name__ == "__main__":
    main()
