"""Task definitions and the Fargate service as the fargate_service role asks
for them (and task definitions as AWS describes them), shared by the unit
tests of ecs_task_definition_revision and ecs_fargate_service."""
import datetime

SSM = "arn:aws:ssm:us-east-1:123456789012:parameter/pocstack/plotly/"
EXEC = "arn:aws:iam::123456789012:role/pocstack-plotly-exec"
TASK = "arn:aws:iam::123456789012:role/pocstack-plotly-task"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/plotly-8050/abc"


def service_params(**overrides):
    """The ecs_fargate_service options the fargate_service role passes."""
    base = {
        "cluster": "pocstack", "name": "plotly", "task_definition": "plotly:3", "desired_count": 1,
        "force_desired_count": False, "launch_type": "FARGATE", "capacity_provider_strategy": None,
        "platform_version": "LATEST", "subnets": ["subnet-a", "subnet-b"], "security_groups": ["sg-1"],
        "assign_public_ip": True,
        "load_balancers": [{"target_group_arn": TG, "container_name": "plotly", "container_port": 8050}],
        "deployment_maximum_percent": 200, "deployment_minimum_healthy_percent": 75,
        "deployment_circuit_breaker_enable": True, "deployment_circuit_breaker_rollback": True,
        "health_check_grace_period_seconds": 60, "enable_execute_command": False, "propagate_tags": "SERVICE",
        "state": "present", "wait": False, "wait_timeout": 300, "retry_failed_deployment": True,
        "tags": {"pocstack:service": "plotly"}, "purge_tags": True,
    }
    base.update(overrides)
    return base


def container(**overrides):
    """The container the fargate_service role asks for."""
    base = {
        "name": "plotly",
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/pocstack/plotly@sha256:" + "a" * 64,
        "essential": True,
        "portMappings": [{"containerPort": 8050, "protocol": "tcp"}],
        "environment": [{"name": "POCSTACK_SECRETS_FINGERPRINT", "value": "f00d"}, {"name": "PORT", "value": "8050"}],
        "secrets": [{"name": "PLOTLY_USER", "valueFrom": SSM + "PLOTLY_USER"},
                    {"name": "PLOTLY_PASS", "valueFrom": SSM + "PLOTLY_PASS"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/pocstack/plotly", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}},
    }
    base.update(overrides)
    return base


def described(containers=None, **overrides):
    """The revision the role registers, the way AWS describes it: defaults
    filled in, empty lists added, hostPort and protocol set, environment in
    another order, plus the fields about the revision itself."""
    c = container()
    aws_container = {
        "name": c["name"], "image": c["image"], "cpu": 0,
        "portMappings": [{"containerPort": 8050, "hostPort": 8050, "protocol": "tcp"}],
        "essential": True,
        "environment": list(reversed(c["environment"])),
        "mountPoints": [], "volumesFrom": [],
        "secrets": list(reversed(c["secrets"])),
        "logConfiguration": dict(c["logConfiguration"], secretOptions=[]),
        "systemControls": [],
    }
    result = {
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/plotly:3",
        "containerDefinitions": containers or [aws_container],
        "family": "plotly", "taskRoleArn": TASK, "executionRoleArn": EXEC, "networkMode": "awsvpc",
        "revision": 3, "volumes": [], "status": "ACTIVE",
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"},
                               {"name": "ecs.capability.secrets.ssm.environment-variables"}],
        "placementConstraints": [], "compatibilities": ["EC2", "FARGATE"], "requiresCompatibilities": ["FARGATE"],
        "cpu": "256", "memory": "512",
        "registeredAt": datetime.datetime(2026, 1, 1), "registeredBy": "arn:aws:iam::123456789012:root",
    }
    result.update(overrides)
    return result
