"""A stand-in for AnsibleAWSModule: records what exit_json/fail_json got and
stops the flow there, as the real ones do."""


class Exited(Exception):
    pass


class FakeModule:
    def __init__(self, params, check_mode=False, diff=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.result = None

    def exit_json(self, **result):
        self.result = result
        raise Exited()

    def fail_json(self, **result):
        self.result = {"failed": True, **result}
        raise Exited()

    def fail_json_aws(self, error, msg):
        self.fail_json(msg=msg, error=str(error))
