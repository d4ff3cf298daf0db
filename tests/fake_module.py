"""A stand-in for AnsibleAWSModule: records what exit_json/fail_json got and
stops the flow there, as the real ones do; and a stubbed boto3 client."""
import collections
import contextlib

import boto3
from botocore.stub import Stubber


class Exited(Exception):
    pass


class FakeModule:
    def __init__(self, params, check_mode=False, diff=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.result = None
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def exit_json(self, **result):
        self.result = result
        raise Exited()

    def fail_json(self, **result):
        self.result = {"failed": True, **result}
        raise Exited()

    def fail_json_aws(self, error, msg):
        self.fail_json(msg=msg, error=str(error))


def manager(cls, client, params, check_mode=False, diff=True, **state):
    """A module's manager class around a FakeModule and a (stubbed) client
    wrapped for AWSRetry, as its __init__ would make it, without AWS."""
    from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
    from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

    mgr = cls.__new__(cls)
    mgr.module = FakeModule(params, check_mode=check_mode, diff=diff)
    mgr.client = RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff())
    mgr.params = mgr.module.params
    for name, value in state.items():
        setattr(mgr, name, value)
    return mgr
@contextlib.contextmanager
def stubbed_client(service):
    """(client, Stubber) for `service`, no network: a call that is not queued
    fails, and so does a queued response left unused."""
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def count_calls(client):
    """collections.Counter of the API operations `client` makes from now on,
    by name ("DescribeTargetGroups"): one per request sent, retries included,
    stubbed or not."""
    calls = collections.Counter()
    client.meta.events.register("before-parameter-build", lambda model, **_: calls.update([model.name]))
    return calls
