"""The local bootstrap's access-logs bucket policy (inventories/local/bootstrap.yml),
rendered as Ansible renders the task: who may write the load balancer's access
logs, per region, after the ALB guide's "Enable access logs" -- the Elastic
Load Balancing account of a region available before August 2022, the log
delivery service principal in a region opened since."""
import pytest

from rendering import load
from rendering import named_task
from rendering import render
from rendering import trusted

TASK = "bootstrap | Bucket for the load balancer's access logs"


def bucket_task():
    return named_task(load("inventories", "local", "bootstrap.yml"), TASK)


def rendered_policy(region):
    task = bucket_task()
    variables = {"aws_region": region, "pocstack_alb_access_logs_bucket": "pocstack-local-alb-logs",
                 "pocstack_alb_name": "pocstack", **trusted(task.get("vars", {}))}
    return render(task["amazon.aws.s3_bucket"]["policy"], variables)


LOG_DELIVERY = {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}


@pytest.mark.parametrize("region, principal", [
    ("us-east-1", {"AWS": "arn:aws:iam::127311923021:root"}),
    ("eu-west-1", {"AWS": "arn:aws:iam::156460612806:root"}),
    ("ap-southeast-3", {"AWS": "arn:aws:iam::589379963580:root"}),
    # Opened since August 2022: Zurich, Melbourne.
    ("eu-central-2", LOG_DELIVERY),
    ("ap-southeast-4", LOG_DELIVERY),
    # Other partitions: their own account IDs, and ARNs of their partition.
    ("us-gov-west-1", {"AWS": "arn:aws-us-gov:iam::048591011584:root"}),
    ("cn-north-1", {"AWS": "arn:aws-cn:iam::638102146993:root"}),
])
def test_the_writer_of_the_access_logs_per_region(region, principal):
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws-cn" if region.startswith("cn-") else "aws"
    assert rendered_policy(region) == {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "ElbAccessLogs", "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
                       "Resource": f"arn:{partition}:s3:::pocstack-local-alb-logs/pocstack/AWSLogs/*"}],
    }


def test_every_account_id_is_twelve_digits_and_a_string():
    """YAML reads an unquoted 033677994240 as a number and drops the zero."""
    accounts = bucket_task()["vars"]["pocstack__local_elb_log_accounts"]
    assert len(accounts) == 26
    assert all(isinstance(a, str) and len(a) == 12 and a.isdigit() for a in accounts.values()), accounts
    assert len(set(accounts.values())) == len(accounts)


# The rendering helper itself (tests/unit/rendering.py), which every rendered-policy test relies on.
def test_nested_text_is_rendered_and_lazy_variables_resolve():
    variables = {"region": "eu-west-1", **trusted({"arn": "arn:aws:ecs:{{ region }}:1:*"})}
    assert render({"a": ["{{ arn }}", 1]}, variables) == {"a": ["arn:aws:ecs:eu-west-1:1:*", 1]}
