"""ECS fidelity fixes: where moto 5.2.5 answers otherwise than AWS."""

ECS_DEPLOYMENT_DEFAULTS = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def patch_ecs_service_deployment_fields():
    """ECS deploymentConfiguration and healthCheckGracePeriodSeconds.

    AWS: CreateService stores both and CreateService, UpdateService and
    DescribeServices return them. deploymentConfiguration defaults to
    maximumPercent 200, minimumHealthyPercent 100 and circuit breaker
    {enable: false, rollback: false}; healthCheckGracePeriodSeconds defaults
    to 0 for a service behind a load balancer (a service without one and
    without the parameter does not report it).
    moto 5.2.5: CreateService accepts and drops both; UpdateService replaces
    deploymentConfiguration wholesale (community.aws.ecs_service sends {} when
    none is configured, which erased it).
    Fix: store both on create with AWS's defaults; UpdateService merges the
    given deploymentConfiguration keys into the stored ones.
    """
    from moto.ecs import responses

    cls = responses.EC2ContainerServiceResponse
    original_create, original_update = cls.create_service, cls.update_service

    def merged(current, given):
        result = {**ECS_DEPLOYMENT_DEFAULTS, **(current or {}), **(given or {})}
        result["deploymentCircuitBreaker"] = {
            **ECS_DEPLOYMENT_DEFAULTS["deploymentCircuitBreaker"],
            **((current or {}).get("deploymentCircuitBreaker") or {}),
            **((given or {}).get("deploymentCircuitBreaker") or {}),
        }
        return result

    def create_service(self):
        result = original_create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        service.deployment_configuration = merged(None, self._get_param("deploymentConfiguration"))
        grace = self._get_param("healthCheckGracePeriodSeconds")
        if grace is None and service.load_balancers:
            grace = 0
        service.health_check_grace_period_seconds = None if grace is None else int(grace)
        return result

    def update_service(self):
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
        current = getattr(service, "deployment_configuration", None)
        result = original_update(self)
        given = self._get_param("deploymentConfiguration")
        service.deployment_configuration = merged(current, given)
        return result

    cls.create_service, cls.update_service = create_service, update_service


def patch_ecs_service_awsvpc_defaults():
    """ECS awsvpcConfiguration without securityGroups / assignPublicIp.

    AWS: a service whose awsvpcConfiguration names no securityGroups runs its
    tasks in the VPC's default security group and reports that group;
    assignPublicIp defaults to DISABLED and is always reported.
    moto 5.2.5: CreateService answers HTTP 500 (KeyError 'securityGroups');
    assignPublicIp is reported only when given.
    Fix: fill in the default group of the first subnet's VPC and DISABLED,
    on CreateService and UpdateService.
    """
    from moto.ec2.models import ec2_backends
    from moto.ecs import models

    def fill(backend, network_configuration):
        conf = (network_configuration or {}).get("awsvpcConfiguration")
        if not conf or not conf.get("subnets"):
            return
        if not conf.get("securityGroups"):
            ec2 = ec2_backends[backend.account_id][backend.region_name]
            vpc_id = ec2.get_subnet(conf["subnets"][0]).vpc_id
            conf["securityGroups"] = [ec2.get_security_group_from_name("default", vpc_id=vpc_id).id]
        conf.setdefault("assignPublicIp", "DISABLED")

    backend_cls = models.EC2ContainerServiceBackend
    original_create, original_update = backend_cls.create_service, backend_cls.update_service

    def create_service(self, *args, **kwargs):
        fill(self, kwargs.get("network_configuration"))
        return original_create(self, *args, **kwargs)

    def update_service(self, service_properties):
        fill(self, service_properties.get("network_configuration"))
        return original_update(self, service_properties)

    backend_cls.create_service, backend_cls.update_service = create_service, update_service


def patch_ecs_deleted_services_are_gone():
    """ECS ListServices and the tagging API after DeleteService.

    AWS: a deleted service turns INACTIVE; DescribeServices still reports it
    for a while, but ListServices lists only ACTIVE and DRAINING services and
    the Resource Groups Tagging API no longer returns it.
    moto 5.2.5: keeps listing INACTIVE services in both, so a cluster never
    looks empty after its services are deleted, and a teardown's search for
    what is still tagged finds services that are gone.
    Fix: both skip INACTIVE services.
    """
    from moto.ecs import models

    backend_cls = models.EC2ContainerServiceBackend
    original_list, original_iter = backend_cls.list_services, backend_cls.iter_tagged_resources

    def list_services(self, cluster_str, *args, **kwargs):
        inactive = {s.arn for s in self.services.values() if s.status == "INACTIVE"}
        return [arn for arn in original_list(self, cluster_str, *args, **kwargs) if arn not in inactive]

    def iter_tagged_resources(self):
        inactive = {s.physical_resource_id for s in self.services.values() if s.status == "INACTIVE"}
        return (r for r in original_iter(self) if r.arn not in inactive)

    backend_cls.list_services, backend_cls.iter_tagged_resources = list_services, iter_tagged_resources
def patch_ecs_create_service_compute_fields():
    """ECS CreateService enableExecuteCommand and capacityProviderStrategy.

    AWS: CreateService stores enableExecuteCommand (default false), and
    Create/DescribeServices always return it; a service created with a
    capacityProviderStrategy reports that strategy and no launchType.
    moto 5.2.5: CreateService drops both: enableExecuteCommand is missing
    until an UpdateService sets it, and a service created with a strategy
    reports launchType EC2 and no strategy, so every re-run finds a
    difference that is not there.
    Fix: store both on create; a strategy replaces the launch type.
    """
    from moto.ecs import responses

    cls = responses.EC2ContainerServiceResponse
    original_create = cls.create_service

    def create_service(self):
        result = original_create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        service.enable_execute_command = bool(self._get_param("enableExecuteCommand", False))
        strategy = self._get_param("capacityProviderStrategy")
        if strategy and not self._get_param("launchType"):
            service.capacity_provider_strategy = strategy
            service.launch_type = None
            for deployment in service.deployments:
                deployment.pop("launchType", None)
                deployment["capacityProviderStrategy"] = strategy
        return result

    cls.create_service = create_service


def patch_ecs_task_definition_revisions():
    """ECS task definition revision numbers and a family without a revision.

    AWS: a family's revision numbers only grow; one deleted with
    DeleteTaskDefinitions is never given again. A family without a revision
    (DescribeTaskDefinition, CreateService, UpdateService) means its latest
    ACTIVE revision.
    moto 5.2.5: numbers the next revision from the highest one still stored,
    so deleting the newest revisions (a teardown) makes the next deploy reuse
    their numbers; a bare family resolves to the newest revision even when
    it is INACTIVE.
    Fix: remember each family's highest revision; a bare family resolves to
    its highest ACTIVE revision.
    """
    from moto.ecs import models
    from moto.ecs.exceptions import TaskDefinitionNotFoundException

    backend_cls = models.EC2ContainerServiceBackend
    original_register = backend_cls.register_task_definition
    original_last = backend_cls._get_last_task_definition_revision_id
    original_describe = backend_cls.describe_task_definition

    def highest(self):
        if not hasattr(self, "_pocstack_highest_revision"):
            self._pocstack_highest_revision = {}
        return self._pocstack_highest_revision

    def register_task_definition(self, family, *args, **kwargs):
        check_container_dependencies(args[0] if args else kwargs.get("container_definitions") or [])
        task_definition = original_register(self, family, *args, **kwargs)
        highest(self)[family] = max(highest(self).get(family, 0), task_definition.revision)
        return task_definition

    def _get_last_task_definition_revision_id(self, family):
        last = original_last(self, family)
        return max(last or 0, highest(self).get(family, 0)) or None

    def describe_task_definition(self, task_definition_str):
        name = task_definition_str.split("/")[-1]
        if ":" not in name:
            active = [r for r, d in self.task_definitions.get(name, {}).items() if d.status == "ACTIVE"]
            if not active:
                raise TaskDefinitionNotFoundException()
            name = f"{name}:{max(active)}"
        return original_describe(self, name)

    backend_cls.register_task_definition = register_task_definition
    backend_cls._get_last_task_definition_revision_id = _get_last_task_definition_revision_id
    backend_cls.describe_task_definition = describe_task_definition


def patch_ecs_service_target_groups():
    """ECS CreateService / UpdateService loadBalancers.

    AWS: a target group a service names must be one a load balancer forwards
    to (a listener's default action or a rule, weighted with weight 0
    included); otherwise both calls fail with InvalidParameterException "The
    target group with targetGroupArn ... does not have an associated load
    balancer." and change nothing. An UpdateService that
    adds, changes or removes a load balancer entry starts a new deployment
    (the API reference of UpdateService, loadBalancers); the data plane's
    patch of UpdateService does that part.
    moto 5.2.5: stores any ARN, so a deploy that creates the service before
    the rule that forwards to its group passed here and fails on AWS.
    Fix: check the groups against the load balancers' listeners first.
    """
    from moto.ecs import responses
    from moto.ecs.exceptions import InvalidParameterException
    from moto.elbv2.models import elbv2_backends

    from pocstack_emulator.elbv2.fixes import forwarding_load_balancers

    def check(response):
        groups = [lb.get("targetGroupArn") for lb in response._get_param("loadBalancers") or [] if lb.get("targetGroupArn")]
        if not groups:
            return
        used = forwarding_load_balancers(elbv2_backends[response.current_account][response.region])
        for arn in groups:
            if not used.get(arn):
                raise InvalidParameterException(
                    f"The target group with targetGroupArn {arn} does not have an associated load balancer.")

    cls = responses.EC2ContainerServiceResponse
    original_create, original_update = cls.create_service, cls.update_service

    def create_service(self):
        check(self)
        return original_create(self)

    def update_service(self):
        check(self)
        return original_update(self)

    cls.create_service, cls.update_service = create_service, update_service


def check_container_dependencies(containers):
    """What RegisterTaskDefinition refuses in a task's containers (ClientException).

    moto registers any set of containers; ECS refuses, in these words as users
    report them (not in AWS's reference): a dependsOn naming no container of
    the definition ("Cannot depend on container + '<name>' because it does not
    exist", the stray "+" is ECS's own), a COMPLETE/SUCCESS dependency on an
    essential container. Unverified wordings (ECS refuses both; its texts are
    not published): duplicate container names, no essential container. An
    unknown condition is the strict layer's (the API's enum). Not refused here,
    since no AWS source says ECS refuses them at registration: a HEALTHY
    dependency on a container without healthCheck, a dependency cycle (the
    task cannot start; see ecs/tasks.py).
    """
    from moto.ecs.exceptions import EcsClientException

    names = [c.get("name") for c in containers]
    for name in names:
        if names.count(name) > 1:  # unverified wording
            raise EcsClientException(f"Container names must be unique within a task definition. Duplicate: {name}")
    by_name = {c.get("name"): c for c in containers}
    for container in containers:
        for dependency in container.get("dependsOn") or []:
            other = by_name.get(dependency.get("containerName"))
            if other is None:
                raise EcsClientException(f"Cannot depend on container + '{dependency.get('containerName')}' "
                                         "because it does not exist")
            if dependency.get("condition") in ("COMPLETE", "SUCCESS") and other.get("essential", True):
                raise EcsClientException("A dependency container with SUCCESS or COMPLETE condition cannot be "
                                         "an essential container")
    if containers and not any(c.get("essential", True) for c in containers):  # unverified wording
        raise EcsClientException("Task definition must have at least one essential container.")
