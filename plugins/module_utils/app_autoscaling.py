# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small wrappers around the Application Auto Scaling calls ecs_service_scaling
makes, for the desired count of one ECS service.

Each takes a client made with retry_decorator=AWSRetry.jittered_backoff(...)
and passes aws_retry=True, so throttling is retried the amazon.aws way.
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"
# Besides amazon.aws's defaults: the JSON protocol's throttling error, and the
# error Application Auto Scaling gives while another update of the same
# scalable target is still being applied.
RETRY_CODES = ["ThrottlingException", "ConcurrentUpdateException"]


def _ids(resource_id):
    return {"ServiceNamespace": NAMESPACE, "ResourceId": resource_id, "ScalableDimension": DIMENSION}


def describe_scalable_target(client, resource_id):
    """The service's scalable target, or None."""
    targets = client.describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=[resource_id], ScalableDimension=DIMENSION, aws_retry=True
    )["ScalableTargets"]
    return next((t for t in targets if t["ResourceId"] == resource_id), None)


def describe_scaling_policies(client, resource_id):
    """Every scaling policy of the service's scalable target, all pages."""
    policies = paginated_query_with_retries(
        client, "describe_scaling_policies", AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES),
        **_ids(resource_id)
    )["ScalingPolicies"]
    # The filter is AWS's; checking it again costs nothing and keeps the
    # policies of another service out, whatever the endpoint does.
    return [p for p in policies if p["ResourceId"] == resource_id]


def list_tags(client, arn):
    return dict(client.list_tags_for_resource(ResourceARN=arn, aws_retry=True).get("Tags") or {})


def register_scalable_target(client, resource_id, min_capacity, max_capacity, tags=None):
    """Creates or updates the scalable target; returns its ARN."""
    kwargs = dict(_ids(resource_id), MinCapacity=min_capacity, MaxCapacity=max_capacity)
    if tags:
        kwargs["Tags"] = tags
    return client.register_scalable_target(aws_retry=True, **kwargs).get("ScalableTargetARN", "")


def put_target_tracking_policy(client, resource_id, name, config):
    """Creates or updates one target tracking policy; returns its ARN."""
    return client.put_scaling_policy(
        PolicyName=name, PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration=config,
        aws_retry=True, **_ids(resource_id)
    )["PolicyARN"]


def delete_scaling_policy(client, resource_id, name):
    """Deletes one policy; one already gone is not an error."""
    try:
        client.delete_scaling_policy(PolicyName=name, aws_retry=True, **_ids(resource_id))
    except is_boto3_error_code("ObjectNotFoundException"):
        pass


def deregister_scalable_target(client, resource_id):
    """Deregisters the scalable target; one already gone is not an error."""
    try:
        client.deregister_scalable_target(aws_retry=True, **_ids(resource_id))
    except is_boto3_error_code("ObjectNotFoundException"):
        pass


def tag_resource(client, arn, tags):
    client.tag_resource(ResourceARN=arn, Tags=tags, aws_retry=True)


def untag_resource(client, arn, keys):
    client.untag_resource(ResourceARN=arn, TagKeys=list(keys), aws_retry=True)
