#!/usr/bin/env python3
"""Register a tiny image manifest under REPOSITORY:TAG in the local emulator's ECR.

Local bootstrap only: the reference design deploys an image that is already in
ECR; on the emulator no Docker engine is needed to have one. Creates the
repository if missing. Prints JSON {"changed": bool, "digest": str}.
"""
import argparse
import hashlib
import json

import boto3


def manifest(repository, tag):
    # A valid Docker v2 manifest whose config digest depends only on the name,
    # so re-running registers the same digest.
    config = json.dumps({"pocstack": f"{repository}:{tag}"}, sort_keys=True).encode()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
            },
            "layers": [],
        },
        sort_keys=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--tag", default="latest")
    args = parser.parse_args()

    ecr = boto3.client("ecr", endpoint_url=args.endpoint_url, region_name=args.region)
    try:
        found = ecr.describe_images(repositoryName=args.repository, imageIds=[{"imageTag": args.tag}])
        print(json.dumps({"changed": False, "digest": found["imageDetails"][0]["imageDigest"]}))
        return
    except ecr.exceptions.RepositoryNotFoundException:
        # As the ecr_image role would have made it: it leaves an existing
        # repository's tag mutability as it finds it.
        ecr.create_repository(repositoryName=args.repository, imageTagMutability="IMMUTABLE")
    except ecr.exceptions.ImageNotFoundException:
        pass
    put = ecr.put_image(
        repositoryName=args.repository,
        imageManifest=manifest(args.repository, args.tag),
        imageTag=args.tag,
    )
    print(json.dumps({"changed": True, "digest": put["image"]["imageId"]["imageDigest"]}))


if __name__ == "__main__":
    main()
