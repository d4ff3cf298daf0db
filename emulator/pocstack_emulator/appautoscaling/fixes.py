"""Application Auto Scaling fidelity fixes: where moto 5.2.5 answers otherwise than AWS."""
import inspect
import json


def patch_appautoscaling_missing_objects():
    """Application Auto Scaling: what depends on a scalable target.

    AWS: PutScalingPolicy for a scalable target that is not registered, and
    DeleteScalingPolicy / DeregisterScalableTarget of a policy or target that
    does not exist, answer ObjectNotFoundException. DeregisterScalableTarget
    also deletes the target's scaling policies (with their alarms) and its
    scheduled actions.
    moto 5.2.5: accepts a policy for no target; answers ValidationException
    for what is missing; leaves a deregistered target's policies behind.
    Fix: both errors are ObjectNotFoundException; deregistering deletes the
    target's policies and scheduled actions.
    """
    from moto.applicationautoscaling import models
    from moto.core.exceptions import JsonRESTError

    backend_cls = models.ApplicationAutoscalingBackend
    original_put, original_delete = backend_cls.put_scaling_policy, backend_cls.delete_scaling_policy
    original_deregister = backend_cls.deregister_scalable_target
    put_signature = inspect.signature(original_put)

    def missing_target(namespace, resource_id, dimension):
        return JsonRESTError("ObjectNotFoundException", f"No scalable target found for service namespace: "
                             f"{namespace}, resource ID: {resource_id}, scalable dimension: {dimension}")

    def put_scaling_policy(self, *args, **kwargs):
        given = put_signature.bind(self, *args, **kwargs).arguments
        if not self._scalable_target_exists(given["resource_id"], given["scalable_dimension"]):
            raise missing_target(given["service_namespace"], given["resource_id"], given["scalable_dimension"])
        return original_put(self, *args, **kwargs)

    def delete_scaling_policy(self, *args, **kwargs):
        try:
            return original_delete(self, *args, **kwargs)
        except models.AWSValidationException as e:
            raise JsonRESTError("ObjectNotFoundException", e.message)

    def deregister_scalable_target(self, namespace, r_id, dimension):
        if not self._scalable_target_exists(r_id, dimension):
            raise missing_target(namespace, r_id, dimension)
        for key, policy in list(self.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (namespace, r_id, dimension):
                policy.delete_alarms(self.account_id, self.region_name)
                del self.policies[key]
        self.scheduled_actions = [a for a in self.scheduled_actions if (a.service_namespace, a.resource_id,
                                  a.scalable_dimension) != (namespace, r_id, dimension)]
        return original_deregister(self, namespace, r_id, dimension)

    backend_cls.put_scaling_policy, backend_cls.delete_scaling_policy = put_scaling_policy, delete_scaling_policy
    backend_cls.deregister_scalable_target = deregister_scalable_target


def patch_appautoscaling_policy_filters():
    """Application Auto Scaling DescribeScalingPolicies filters.

    AWS: ResourceId and ScalableDimension select exactly that target's
    policies; PolicyNames selects those names.
    moto 5.2.5: matches ResourceId as a substring of the one asked for, so
    service/c/web-api also returns the policies of service/c/web; ignores
    PolicyNames.
    Fix: exact matches, PolicyNames honoured (moto's paging kept).
    """
    from moto.applicationautoscaling import responses

    def describe_scaling_policies(self):
        wanted = {"service_namespace": self._get_param("ServiceNamespace"), "resource_id": self._get_param("ResourceId"),
                  "scalable_dimension": self._get_param("ScalableDimension")}
        names = self._get_param("PolicyNames")
        policies = [p for p in self.applicationautoscaling_backend.policies.values()
                    if all(value is None or getattr(p, key) == value for key, value in wanted.items())
                    and (not names or p.policy_name in names)]
        start = int(self._get_param("NextToken") or 0)
        end = start + (self._get_int_param("MaxResults") or 100)
        return json.dumps({"ScalingPolicies": [responses._build_policy(p) for p in policies[start:end]],
                           "NextToken": str(end) if end < len(policies) else None})

    responses.ApplicationAutoScalingResponse.describe_scaling_policies = describe_scaling_policies


def patch_appautoscaling_register_moves_desired_count():
    """Application Auto Scaling RegisterScalableTarget of an ECS service.

    AWS: when the resource is active, registering (or updating) the target
    changes its current capacity to a value inside [MinCapacity,
    MaxCapacity]: an ECS service's desiredCount below the minimum is raised
    to it, above the maximum lowered to it; inside the range it is unchanged.
    moto 5.2.5: never changes the service.
    Fix: an ACTIVE ECS service's desiredCount is moved into the range.
    """
    from moto.applicationautoscaling import models

    backend_cls = models.ApplicationAutoscalingBackend
    original = backend_cls.register_scalable_target

    def register_scalable_target(self, namespace, r_id, dimension, *args, **kwargs):
        target = original(self, namespace, r_id, dimension, *args, **kwargs)
        if namespace == "ecs" and dimension == "ecs:service:DesiredCount":
            _kind, cluster, name = r_id.split("/")
            service = self.ecs_backend.describe_services(cluster, [name])[0][0]
            if service.status == "ACTIVE" and target.min_capacity is not None and target.max_capacity is not None:
                service.desired_count = min(max(service.desired_count, target.min_capacity), target.max_capacity)
        return target

    backend_cls.register_scalable_target = register_scalable_target


def patch_appautoscaling_tags():
    """Application Auto Scaling tags on scalable targets.

    AWS: RegisterScalableTarget takes Tags when it creates a target;
    TagResource, UntagResource and ListTagsForResource work on its ARN
    (ResourceNotFoundException for an unknown ARN).
    moto 5.2.5: ignores Tags and answers the three tag calls with HTTP 500.
    Fix: tags kept on the target; the three calls implemented.
    """
    from moto.applicationautoscaling import responses
    from moto.core.exceptions import JsonRESTError

    cls = responses.ApplicationAutoScalingResponse
    original_register = cls.register_scalable_target

    def find(self, arn):
        for targets in self.applicationautoscaling_backend.targets.values():
            for target in targets.values():
                if target.arn == arn:
                    return target
        raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for ARN: {arn}")

    def tags_of(target):
        if not hasattr(target, "pocstack_tags"):
            target.pocstack_tags = {}
        return target.pocstack_tags

    def register_scalable_target(self):
        existed = self.applicationautoscaling_backend._scalable_target_exists(
            self._get_param("ResourceId"), self._get_param("ScalableDimension"))
        result = original_register(self)
        if not existed:
            tags_of(find(self, json.loads(result)["ScalableTargetARN"])).update(self._get_param("Tags") or {})
        return result

    def tag_resource(self):
        tags_of(find(self, self._get_param("ResourceARN"))).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self):
        tags = tags_of(find(self, self._get_param("ResourceARN")))
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags_of(find(self, self._get_param("ResourceARN")))})

    cls.register_scalable_target = register_scalable_target
    cls.tag_resource, cls.untag_resource, cls.list_tags_for_resource = tag_resource, untag_resource, list_tags_for_resource
