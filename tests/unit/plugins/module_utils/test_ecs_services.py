"""Normalisation and comparison of one Fargate service: AWS defaults are no
difference, each field that differs goes to UpdateService alone, the desired
count follows the inventory and not autoscaling, bad input is named."""
import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import ecs_services as es
from ecs_fixtures import TG
from ecs_fixtures import service_params

TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8080/def"
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:3"


def params(**overrides):
    """What the fargate_service role asks for, the subnets in another order
    than AWS lists them and ECS Exec left unset."""
    return {**service_params(subnets=["subnet-b", "subnet-a"], enable_execute_command=None), **overrides}


def described(**overrides):
    """That service as DescribeServices returns it on AWS."""
    service = {
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/pocstack/plotly", "serviceName": "plotly",
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/pocstack",
        "loadBalancers": [{"targetGroupArn": TG, "containerName": "plotly", "containerPort": 8050}],
        "serviceRegistries": [], "status": "ACTIVE", "desiredCount": 1, "runningCount": 1, "pendingCount": 0,
        "launchType": "FARGATE", "platformVersion": "LATEST", "platformFamily": "Linux", "taskDefinition": TD,
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True}, "maximumPercent": 200,
            "minimumHealthyPercent": 75, "alarms": {"alarmNames": [], "rollback": False, "enable": False}},
        "deployments": [], "roleArn": "arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
        "events": [],
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-1"],
                                                         "assignPublicIp": "ENABLED"}},
        "healthCheckGracePeriodSeconds": 60, "schedulingStrategy": "REPLICA", "deploymentController": {"type": "ECS"},
        "tags": [{"key": "pocstack:service", "value": "plotly"}, {"key": es.DESIRED_COUNT_TAG, "value": "1"}],
        "createdBy": "arn:aws:iam::123456789012:root", "enableECSManagedTags": False, "propagateTags": "SERVICE",
        "enableExecuteCommand": False, "availabilityZoneRebalancing": "ENABLED",
    }
    service.update(overrides)
    return service


def plan(wanted, service):
    return es.plan_update(es.validate(wanted), es.current_service(service))


def test_the_role_s_service_equals_what_aws_describes():
    after, changed = plan(params(), described())
    assert changed == []
    assert es.update_request(after, changed) == {}


# Each: (what AWS leaves out or returns differently, params, described) -> no difference
SAME = [
    ("task definition as ARN", params(task_definition=TD), described()),
    ("subnets in another order", params(subnets=["subnet-a", "subnet-b", "subnet-a"]), described()),
    ("platform version not reported", params(), described(platformVersion=None)),
    ("exec not reported", params(enable_execute_command=False), described(enableExecuteCommand=None)),
    ("propagate tags not reported", params(propagate_tags="NONE"), described(propagateTags=None)),
    ("grace period not reported", params(health_check_grace_period_seconds=0), described(healthCheckGracePeriodSeconds=None)),
    ("deployment configuration not reported", params(
        deployment_minimum_healthy_percent=100, deployment_circuit_breaker_enable=False,
        deployment_circuit_breaker_rollback=False), described(deploymentConfiguration=None)),
    ("assignPublicIp not reported", params(assign_public_ip=False), described(networkConfiguration={
        "awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-1"]}})),
    ("options not given keep the service's", params(
        task_definition=None, desired_count=None, launch_type=None, platform_version=None, subnets=None,
        security_groups=None, assign_public_ip=None, load_balancers=None, deployment_maximum_percent=None,
        deployment_minimum_healthy_percent=None, deployment_circuit_breaker_enable=None,
        deployment_circuit_breaker_rollback=None, health_check_grace_period_seconds=None, propagate_tags=None),
     described(desiredCount=7, platformVersion="1.4.0", propagateTags="NONE")),
    ("capacity providers in another order", params(launch_type=None, capacity_provider_strategy=[
        {"capacity_provider": "FARGATE_SPOT", "weight": 3}, {"capacity_provider": "FARGATE", "weight": 1, "base": 1}]),
     described(launchType=None, capacityProviderStrategy=[
         {"capacityProvider": "FARGATE", "weight": 1, "base": 1}, {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0}])),
]


@pytest.mark.parametrize("wanted, service", [c[1:] for c in SAME], ids=[c[0] for c in SAME])
def test_what_aws_fills_in_is_no_difference(wanted, service):
    assert plan(wanted, service)[1] == []


NET = {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-1"], "assignPublicIp": "ENABLED"}
DEPLOY = {"maximumPercent": 200, "minimumHealthyPercent": 75, "deploymentCircuitBreaker": {"enable": True, "rollback": True}}

# Each: (field changed, params, fields reported, the UpdateService request)
CHANGES = [
    ("task definition", params(task_definition="plotly:4"), ["task_definition"], {"taskDefinition": "plotly:4"}),
    ("subnets", params(subnets=["subnet-c"]), ["subnets"],
     {"networkConfiguration": {"awsvpcConfiguration": dict(NET, subnets=["subnet-c"])}}),
    ("security groups", params(security_groups=["sg-2", "sg-1"]), ["security_groups"],
     {"networkConfiguration": {"awsvpcConfiguration": dict(NET, securityGroups=["sg-1", "sg-2"])}}),
    ("public ip", params(assign_public_ip=False), ["assign_public_ip"],
     {"networkConfiguration": {"awsvpcConfiguration": dict(NET, assignPublicIp="DISABLED")}}),
    ("target group", params(load_balancers=[{"target_group_arn": TG2, "container_name": "plotly", "container_port": 8080}]),
     ["load_balancers"], {"loadBalancers": [{"targetGroupArn": TG2, "containerName": "plotly", "containerPort": 8080}]}),
    ("no load balancer", params(load_balancers=[]), ["load_balancers"], {"loadBalancers": []}),
    ("maximum percent", params(deployment_maximum_percent=150), ["deployment_maximum_percent"],
     {"deploymentConfiguration": dict(DEPLOY, maximumPercent=150)}),
    ("minimum percent", params(deployment_minimum_healthy_percent=100), ["deployment_minimum_healthy_percent"],
     {"deploymentConfiguration": dict(DEPLOY, minimumHealthyPercent=100)}),
    ("circuit breaker off", params(deployment_circuit_breaker_enable=False), ["deployment_circuit_breaker_enable"],
     {"deploymentConfiguration": dict(DEPLOY, deploymentCircuitBreaker={"enable": False, "rollback": True})}),
    ("no rollback", params(deployment_circuit_breaker_rollback=False), ["deployment_circuit_breaker_rollback"],
     {"deploymentConfiguration": dict(DEPLOY, deploymentCircuitBreaker={"enable": True, "rollback": False})}),
    ("grace period", params(health_check_grace_period_seconds=120), ["health_check_grace_period_seconds"],
     {"healthCheckGracePeriodSeconds": 120}),
    ("exec", params(enable_execute_command=True), ["enable_execute_command"],
     {"enableExecuteCommand": True, "forceNewDeployment": True}),
    ("propagate tags", params(propagate_tags="TASK_DEFINITION"), ["propagate_tags"], {"propagateTags": "TASK_DEFINITION"}),
    ("platform version", params(platform_version="1.4.0"), ["platform_version"], {"platformVersion": "1.4.0"}),
    ("two fields", params(task_definition="plotly:4", deployment_maximum_percent=300),
     ["deployment_maximum_percent", "task_definition"],
     {"taskDefinition": "plotly:4", "deploymentConfiguration": dict(DEPLOY, maximumPercent=300)}),
]


@pytest.mark.parametrize("wanted, fields, request_", [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_each_field_that_differs_is_sent_alone(wanted, fields, request_):
    after, changed = plan(wanted, described())
    assert changed == fields
    assert es.update_request(after, changed) == request_


def test_capacity_provider_weights_change_in_place_with_a_new_deployment():
    service = described(launchType=None, capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 0}])
    after, changed = plan(params(launch_type=None, capacity_provider_strategy=[
        {"capacity_provider": "FARGATE", "weight": 1}, {"capacity_provider": "FARGATE_SPOT", "weight": 1}]), service)
    assert changed == ["capacity_provider_strategy"]
    assert es.update_request(after, changed) == {"forceNewDeployment": True, "capacityProviderStrategy": [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 0}, {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]}


@pytest.mark.parametrize(
    "wanted, service, message",
    [
        (params(launch_type=None, capacity_provider_strategy=[{"capacity_provider": "FARGATE_SPOT", "weight": 1}]),
         described(), "capacity_provider_strategy: the service runs with launch_type FARGATE; AWS documents no in-place switch"),
        (params(), described(launchType=None, capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}]),
         "launch_type: the service runs with a capacity_provider_strategy"),
        (params(), described(launchType="EC2"), "launch_type: the service runs with launch type EC2, which AWS cannot change"),
    ],
    ids=["launch-type-to-providers", "providers-to-launch-type", "ec2-to-fargate"],
)
def test_what_aws_cannot_change_fails_naming_the_option(wanted, service, message):
    with pytest.raises(es.ServiceError) as error:
        plan(wanted, service)
    assert message in str(error.value)
    assert "state=absent" in str(error.value) or "delete the service" in str(error.value)


# (requested now, count the service has, recorded on the previous run, force) -> (count to send, value to record)
@pytest.mark.parametrize(
    "requested, current, recorded, force, expected",
    [
        (2, 2, "2", False, (None, None)),      # nothing changed
        (2, 5, "2", False, (None, None)),      # autoscaling set 5: kept
        (3, 5, "2", False, (3, "3")),          # the inventory changed: applied
        (5, 5, "2", False, (None, "5")),       # changed to what the service has: only recorded
        (2, 5, None, False, (2, "2")),         # nothing recorded (adopted service): applied once
        (2, 2, None, False, (None, "2")),
        (2, 5, "2", True, (2, "2")),           # forced
        (None, 5, "2", False, (None, None)),   # not managed
        (0, 1, "1", False, (0, "0")),
    ],
    ids=["same", "autoscaled-kept", "inventory-changed", "inventory-meets-actual", "unrecorded", "unrecorded-equal",
         "forced", "unmanaged", "to-zero"],
)
def test_desired_count_follows_the_inventory_not_autoscaling(requested, current, recorded, force, expected):
    assert es.desired_count_plan(requested, current, recorded, force) == expected


def test_create_request_sends_what_was_given_and_records_the_count():
    given = es.validate(params(enable_execute_command=True))
    request = es.create_request("pocstack", "plotly", given, 2, {"a": "b", es.DESIRED_COUNT_TAG: "2"})
    assert request == {
        "cluster": "pocstack", "serviceName": "plotly", "taskDefinition": "plotly:3", "desiredCount": 2,
        "launchType": "FARGATE", "platformVersion": "LATEST",
        "networkConfiguration": {"awsvpcConfiguration": NET},
        "loadBalancers": [{"targetGroupArn": TG, "containerName": "plotly", "containerPort": 8050}],
        "deploymentConfiguration": DEPLOY, "healthCheckGracePeriodSeconds": 60, "enableExecuteCommand": True,
        "propagateTags": "SERVICE",
        "tags": [{"key": "a", "value": "b"}, {"key": es.DESIRED_COUNT_TAG, "value": "2"}],
    }


def test_create_request_minimal_uses_aws_defaults():
    given = es.validate(params(launch_type=None, security_groups=None, assign_public_ip=None, load_balancers=None,
                               platform_version=None, deployment_maximum_percent=None,
                               deployment_minimum_healthy_percent=None, deployment_circuit_breaker_enable=None,
                               deployment_circuit_breaker_rollback=None, health_check_grace_period_seconds=None,
                               propagate_tags=None))
    request = es.create_request("c", "s", given, 1, {})
    assert request == {"cluster": "c", "serviceName": "s", "taskDefinition": "plotly:3", "desiredCount": 1,
                       "launchType": "FARGATE", "platformVersion": "LATEST", "tags": [],
                       "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"],
                                                                        "assignPublicIp": "DISABLED"}}}
    fields = es.created_fields(given, 1)
    assert fields["deployment_maximum_percent"] == 200 and fields["launch_type"] == "FARGATE"


def test_create_with_no_load_balancer_sends_none():
    request = es.create_request("c", "s", es.validate(params(load_balancers=[])), 1, {})
    assert "loadBalancers" not in request


def test_create_with_capacity_providers_sends_no_launch_type():
    given = es.validate(params(launch_type=None, capacity_provider_strategy=[{"capacity_provider": "FARGATE_SPOT", "weight": 1}]))
    request = es.create_request("c", "s", given, 1, {})
    assert "launchType" not in request
    assert request["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]


@pytest.mark.parametrize(
    "missing, message",
    [
        ({"task_definition": None}, "task_definition: required to create the service 'plotly' in cluster 'pocstack'"),
        ({"subnets": None, "desired_count": None}, "desired_count, subnets: required to create"),
    ],
    ids=["task-definition", "count-and-subnets"],
)
def test_create_needs_what_aws_needs(missing, message):
    wanted = params(**missing)
    with pytest.raises(es.ServiceError) as error:
        es.create_request("pocstack", "plotly", es.validate(wanted), wanted["desired_count"], {})
    assert message in str(error.value)


# Types, choices and AWS's key names (aliases) are the argument spec's:
# tests/unit/plugins/modules/test_ecs_fargate_service.py.
INVALID = [
    (params(name="plotly app"), "name: 'plotly app' is not allowed"),
    (params(task_definition="plotly"), "task_definition: 'plotly' is not a task definition revision; give family:revision"),
    (params(task_definition="plotly:latest"), "task_definition: 'plotly:latest' is not a task definition revision"),
    (params(task_definition="arn:aws:ecs:us-east-1:123:task-definition/plotly:3"), "is not a task definition revision"),
    (params(desired_count=-1), "desired_count: -1 must be 0 or more"),
    (params(subnets=[]), "subnets: give at least one subnet"),
    (params(load_balancers=[{"target_group_arn": TG, "container_name": "plotly", "container_port": 0}]),
     "load_balancers[0].container_port: 0 is not a port; allowed: 1-65535"),
    (params(load_balancers=[{"target_group_arn": "", "container_name": "plotly", "container_port": 80}]),
     "load_balancers[0].target_group_arn: required"),
    (params(deployment_minimum_healthy_percent=101), "deployment_minimum_healthy_percent: 101 is out of range; allowed: 0-100"),
    (params(deployment_maximum_percent=0, deployment_minimum_healthy_percent=0), "deployment_maximum_percent: 0 must be 1 or more"),
    (params(deployment_maximum_percent=50, deployment_minimum_healthy_percent=75),
     "deployment_maximum_percent: 50 is below deployment_minimum_healthy_percent 75"),
    (params(health_check_grace_period_seconds=-1), "health_check_grace_period_seconds: -1 is out of range"),
    (params(capacity_provider_strategy=[]), "capacity_provider_strategy: give at least one provider"),
    (params(capacity_provider_strategy=[{"capacity_provider": "FARGATE", "weight": 1001}]),
     "capacity_provider_strategy[0].weight: 1001 is out of range; allowed: 0-1000"),
    (params(capacity_provider_strategy=[{"capacity_provider": "FARGATE", "base": -1}]),
     "capacity_provider_strategy[0].base: -1 is out of range; allowed: 0-100000"),
    (params(capacity_provider_strategy=[{"capacity_provider": "FARGATE", "weight": 1}, {"capacity_provider": "FARGATE"}]),
     "capacity_provider_strategy: each capacity provider may appear once"),
    (params(capacity_provider_strategy=[{"capacity_provider": "FARGATE", "base": 1, "weight": 1},
                                        {"capacity_provider": "FARGATE_SPOT", "base": 1}]),
     "only one capacity provider may have a base above 0"),
    (params(capacity_provider_strategy=[{"capacity_provider": "FARGATE"}, {"capacity_provider": "FARGATE_SPOT"}]),
     "with several providers, at least one needs a weight above 0"),
    (params(tags={es.DESIRED_COUNT_TAG: "3"}), "tags: pocstack:desired-count is set by this module from desired_count"),
]


@pytest.mark.parametrize("wanted, message", INVALID, ids=[f"{m.split(':')[0]}-{i}" for i, (_, m) in enumerate(INVALID)])
def test_bad_input_is_named(wanted, message):
    with pytest.raises(es.ServiceError) as error:
        es.validate(wanted)
    assert message in str(error.value)
