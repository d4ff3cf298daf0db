"""ecr.architectures: the platforms a manifest list or OCI index names, read
from BatchGetImage's manifest; nothing for a single image's manifest."""
import json

import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import ecr


class Client:
    def __init__(self, manifest):
        self.manifest, self.asked = manifest, []

    def batch_get_image(self, **kwargs):
        self.asked.append(kwargs)
        return {"images": [{"imageManifest": json.dumps(self.manifest)}] if self.manifest is not None else []}


def entry(architecture, os="linux"):
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "a" * 64,
            "size": 1, "platform": {"architecture": architecture, "os": os}}


@pytest.mark.parametrize("manifest, expected", [
    ({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry("arm64"), entry("amd64")]},
     ["amd64", "arm64"]),
    # buildx's attestation manifests (unknown/unknown) and other systems are not Linux platforms
    ({"manifests": [entry("amd64"), entry("unknown", "unknown"), entry("amd64", "windows")]}, ["amd64"]),
    ({"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"digest": "sha256:1"}}, []),
    (None, []),
])
def test_platforms_where_the_manifest_lists_them(manifest, expected):
    client = Client(manifest)
    assert ecr.architectures(client, "pocstack/app", "sha256:" + "b" * 64) == expected
    # every manifest kind is accepted, so the stored one comes back as it is
    assert client.asked[0]["acceptedMediaTypes"] == ecr.MANIFEST_MEDIA_TYPES
