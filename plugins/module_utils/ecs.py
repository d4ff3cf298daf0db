# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small wrappers around the ECS calls ecs_task_definition_revision and
ecs_fargate_service make.

Each takes a client made with retry_decorator=AWSRetry.jittered_backoff() and
passes aws_retry=True, so throttling is retried the amazon.aws way. ECS tags
are lists of {key, value} (lower case), unlike most services.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

# DeleteTaskDefinitions takes at most this many revisions per call.
DELETE_BATCH = 10


def tag_list(tags):
    return ansible_dict_to_boto3_tag_list(tags or {}, "key", "value")


# ----------------------------------------------------------- task definitions
def list_task_definitions(client, family, status):
    """ARNs of the family's revisions in `status` (ACTIVE, INACTIVE or
    DELETE_IN_PROGRESS), every page. familyPrefix is the full family name on
    AWS; revisions of other families are filtered out all the same."""
    arns = paginated_query_with_retries(
        client, "list_task_definitions", AWSRetry.jittered_backoff(), familyPrefix=family, status=status
    )["taskDefinitionArns"]
    return [arn for arn in arns if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]


def describe_task_definition(client, task_definition):
    """(definition, tags) of one revision (ARN or family:revision)."""
    found = client.describe_task_definition(taskDefinition=task_definition, include=["TAGS"], aws_retry=True)
    return found["taskDefinition"], boto3_tag_list_to_ansible_dict(found.get("tags") or [], "key", "value")


def register_task_definition(client, definition, tags):
    kwargs = dict(definition)
    if tags:
        kwargs["tags"] = tag_list(tags)
    return client.register_task_definition(aws_retry=True, **kwargs)["taskDefinition"]


def deregister_task_definition(client, arn):
    return client.deregister_task_definition(taskDefinition=arn, aws_retry=True)["taskDefinition"]


def delete_task_definitions(client, arns):
    """DeleteTaskDefinitions in batches; returns (deleted ARNs, failures)."""
    deleted, failures = [], []
    for start in range(0, len(arns), DELETE_BATCH):
        found = client.delete_task_definitions(taskDefinitions=arns[start:start + DELETE_BATCH], aws_retry=True)
        deleted.extend(d["taskDefinitionArn"] for d in found.get("taskDefinitions", []))
        failures.extend(found.get("failures", []))
    return deleted, failures


# ------------------------------------------------------------------- services
def describe_service(client, cluster, name, tags=True):
    """The service (with its tags unless `tags` is false), or None when ECS
    does not know it. A missing cluster raises ClusterNotFoundException."""
    include = {"include": ["TAGS"]} if tags else {}
    found = client.describe_services(cluster=cluster, services=[name], aws_retry=True, **include)
    services = found.get("services") or []
    return services[0] if services else None


def create_service(client, **kwargs):
    return client.create_service(aws_retry=True, **kwargs)["service"]


def update_service(client, cluster, name, **changes):
    return client.update_service(cluster=cluster, service=name, aws_retry=True, **changes)["service"]


def delete_service(client, cluster, name, force=False):
    return client.delete_service(cluster=cluster, service=name, force=force, aws_retry=True)["service"]


# ----------------------------------------------------------------------- tags
def tag_resource(client, arn, tags):
    client.tag_resource(resourceArn=arn, tags=tag_list(tags), aws_retry=True)


def untag_resource(client, arn, keys):
    client.untag_resource(resourceArn=arn, tagKeys=list(keys), aws_retry=True)
