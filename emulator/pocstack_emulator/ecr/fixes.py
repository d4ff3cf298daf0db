"""ECR fidelity fixes (see pocstack_emulator/fixes.py)."""


def patch_ecr_repositories_in_the_tagging_api():
    """Resource Groups Tagging API GetResources and ECR repositories.

    AWS: GetResources returns tagged ECR repositories (resource type
    ecr:repository, also matched by the filter "ecr"), as it does every
    service's tagged resources; a teardown finds a service's repositories by
    its tags.
    moto 5.2.5: ECRBackend does not take part in the tagging API, so
    GetResources never returns a repository.
    Fix: ECRBackend lists its repositories with their tags (read-only; the
    cross-service TagResources stays unsupported, as it was).
    """
    from moto.core.resource_tagging import TaggableResourcesMixin
    from moto.core.resource_tagging import TaggedResource
    from moto.ecr import models

    cls = models.ECRBackend
    if issubclass(cls, TaggableResourcesMixin):
        return  # a moto that does it itself

    def iter_tagged_resources(self):
        for repository in list(self.repositories.values()):
            tags = self.tagger.list_tags_for_resource(repository.arn).get("tags", [])
            yield TaggedResource(arn=repository.arn, tags={t["Key"]: t["Value"] for t in tags},
                                 resource_type="ecr:repository")

    cls.SERVICE_NAMESPACE = "ecr"
    cls.iter_tagged_resources = iter_tagged_resources
    cls.__bases__ = cls.__bases__ + (TaggableResourcesMixin,)
