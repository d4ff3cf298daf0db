"""tagged_resources_info: tag filters and the names read from ARNs (no AWS calls)."""
import pytest

from ansible_collections.pocstack.aws.plugins.modules import tagged_resources_info as module

P = "arn:aws:{}:us-east-1:123456789012:{}"


@pytest.mark.parametrize("service, resource, kind, name", [
    ("elasticloadbalancing", "targetgroup/plotly-8050/6d0ecf831eec9f09", "elasticloadbalancing:targetgroup", "plotly-8050"),
    ("elasticloadbalancing", "loadbalancer/app/pocstack/50dc6c495c0c9188", "elasticloadbalancing:loadbalancer", "pocstack"),
    ("elasticloadbalancing", "listener-rule/app/pocstack/50dc/f2f7/9683", "elasticloadbalancing:listener-rule",
     "app/pocstack/50dc/f2f7/9683"),
    ("ecs", "service/pocstack/plotly", "ecs:service", "plotly"),
    ("ecs", "task-definition/plotly:3", "ecs:task-definition", "plotly:3"),
    ("ecs", "cluster/pocstack", "ecs:cluster", "pocstack"),
    ("logs", "log-group:/pocstack/plotly:*", "logs:log-group", "/pocstack/plotly"),
    ("logs", "log-group:/pocstack/plotly", "logs:log-group", "/pocstack/plotly"),
    ("ssm", "parameter/pocstack/plotly/PLOTLY_PASS", "ssm:parameter", "/pocstack/plotly/PLOTLY_PASS"),
    ("ecr", "repository/pocstack/plotly", "ecr:repository", "pocstack/plotly"),
    ("ec2", "security-group/sg-0123456789abcdef0", "ec2:security-group", "sg-0123456789abcdef0"),
    ("acm", "certificate/1f2e3d4c-0000-4000-8000-000000000000", "acm:certificate", "1f2e3d4c-0000-4000-8000-000000000000"),
])
def test_describe_arn(service, resource, kind, name):
    assert module.describe_arn(P.format(service, resource)) == (kind, name)


def test_tag_filters():
    assert module.tag_filters({"b": ["x", "y"], "a": "1", "c": None, "d": 5}) == [
        {"Key": "a", "Values": ["1"]}, {"Key": "b", "Values": ["x", "y"]}, {"Key": "c"}, {"Key": "d", "Values": ["5"]}]
