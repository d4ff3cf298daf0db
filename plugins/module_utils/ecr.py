# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small wrappers around the ECR calls of the ecr_* modules and poc_audit.

Each takes a client made with retry_decorator=AWSRetry.jittered_backoff() and
passes aws_retry=True, so throttling is retried the amazon.aws way; run_module()
makes that client and ends the main() of every ecr_* module.
"""

import base64
import json

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

# Media types BatchGetImage may answer with: an image's own manifest is
# re-put byte for byte, whatever kind it is, so its digest stays the same.
# The first and the third (an image's manifest, Docker's and OCI's) have a config blob.
MANIFEST_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
]


def run_module(module, work, failure):
    """The end of every ecr_* module's main(): exit_json with what work(client, module)
    returns, or fail_json_aws with the message `failure` when an ECR call fails."""
    client = module.client("ecr", retry_decorator=AWSRetry.jittered_backoff())
    try:
        result = work(client, module)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=failure)
    module.exit_json(**result)


def _registry(registry_id):
    return {"registryId": registry_id} if registry_id else {}


def describe_repository(client, name, registry_id=None):
    """The repository as DescribeRepositories returns it, or None when it does not exist."""
    try:
        found = client.describe_repositories(repositoryNames=[name], aws_retry=True, **_registry(registry_id))
    except is_boto3_error_code("RepositoryNotFoundException"):
        return None
    return found["repositories"][0]


def describe_image(client, repository, image_id, registry_id=None):
    """imageDetails of one image ({"imageTag": t} or {"imageDigest": d}), or None."""
    try:
        found = client.describe_images(
            repositoryName=repository, imageIds=[image_id], aws_retry=True, **_registry(registry_id)
        )
    except is_boto3_error_code("ImageNotFoundException"):
        return None
    return found["imageDetails"][0] if found["imageDetails"] else None


def _images(client, repository, image_digest, registry_id, media_types):
    """BatchGetImage of one digest: its images (with manifests) in the media types accepted."""
    return client.batch_get_image(
        repositoryName=repository, imageIds=[{"imageDigest": image_digest}], acceptedMediaTypes=media_types,
        aws_retry=True, **_registry(registry_id),
    ).get("images", [])


def config_digest(client, repository, image_digest, registry_id=None):
    """Digest of the image's config blob (what `docker inspect` calls the image ID),
    or None for a manifest without one (an index of several platforms)."""
    images = _images(client, repository, image_digest, registry_id, MANIFEST_MEDIA_TYPES[0::2])
    try:
        return json.loads(images[0]["imageManifest"])["config"]["digest"]
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def architectures(client, repository, image_digest, registry_id=None):
    """CPU architectures (Docker's names: amd64, arm64) of the Linux images a
    manifest list or OCI index names, or [] for one image's manifest, whose
    platform only its config blob says."""
    images = _images(client, repository, image_digest, registry_id, MANIFEST_MEDIA_TYPES)
    try:
        listed = json.loads(images[0]["imageManifest"]).get("manifests") or []
    except (IndexError, KeyError, TypeError, ValueError, AttributeError):
        return []
    # buildx's attestation manifests say unknown/unknown
    return sorted({m["platform"]["architecture"] for m in listed
                   if (m.get("platform") or {}).get("os") == "linux" and m["platform"].get("architecture")})


def authorization(client, registry_id=None):
    """(proxy endpoint, user name, password, expiry) of GetAuthorizationToken."""
    kwargs = {"registryIds": [registry_id]} if registry_id else {}
    data = client.get_authorization_token(aws_retry=True, **kwargs)["authorizationData"][0]
    user, _colon, password = base64.b64decode(data["authorizationToken"]).decode("utf-8").partition(":")
    return data["proxyEndpoint"], user, password, data.get("expiresAt")


def list_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(resourceArn=arn, aws_retry=True).get("tags", []))


def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=ansible_dict_to_boto3_tag_list(tags), aws_retry=True)


def untag_resource(client, arn, keys):
    client.untag_resource(resourceArn=arn, tagKeys=list(keys), aws_retry=True)


def add_image_tag(client, repository, image_digest, tag, registry_id=None):
    """Give the image `image_digest` one more tag: PutImage with its own manifest
    (as ECR's guide retags an image), which keeps its other tags. Returns the
    image's digest as PutImage reports it."""
    [image] = _images(client, repository, image_digest, registry_id, MANIFEST_MEDIA_TYPES)
    kwargs = {"imageManifestMediaType": image["imageManifestMediaType"]} if image.get("imageManifestMediaType") else {}
    put = client.put_image(
        repositoryName=repository, imageManifest=image["imageManifest"], imageTag=tag, imageDigest=image_digest,
        aws_retry=True, **kwargs, **_registry(registry_id),
    )
    return put["image"]["imageId"]["imageDigest"]
