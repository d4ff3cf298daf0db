"""What the module tests share: an ELBv2 client under a botocore Stubber."""
import boto3
import pytest
from botocore.stub import Stubber


@pytest.fixture
def aws():
    """(client, stubber): each test queues the calls AWS should see, in order;
    any other call fails it, and so does a queued call left unused."""
    client = boto3.client("elbv2", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
