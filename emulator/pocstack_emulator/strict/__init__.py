"""Strict mode: AWS's validation of request parameters, before moto sees them.

AWS checks every request against the service's model before the operation
runs and refuses what does not fit with HTTP 400; moto checks little of it.
A value that passes the emulator and fails on AWS is a bug found only in
the real account: ACM's tag values, for example, must match
`[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*`, and AWS answers a tag value
`*.poc.example.com` with "1 validation error detected: Value
'*.poc.example.com' at 'tags.1.member.value' failed to satisfy constraint:
Member must satisfy regular expression pattern: ..." where moto accepts it.
botocore's client checks only types and minimums.

`StrictValidation` (WSGI middleware, on unless `--strict off`) identifies the
operation (`wire`), decodes its parameters into botocore's model of it,
checks them (`constraints`) and answers a violation as AWS does
(`answers`); what passes goes on to moto with its body unchanged. JSON
protocols (ECS, SSM, ECR, CloudWatch Logs, ACM, KMS, Application Auto
Scaling, Secrets Manager, ...), the query protocol (ELBv2, IAM, STS) and
EC2's value ranges are validated; REST protocols (Route 53, S3) are not.
"""
import io
import os

from pocstack_emulator.strict import answers
from pocstack_emulator.strict.constraints import PATTERNS
from pocstack_emulator.strict.constraints import validate
from pocstack_emulator.strict.wire import identify
from pocstack_emulator.strict.wire import may_be_aws

STRICT_ENV = "POCSTACK_EMULATOR_STRICT"
# environ key telling the call counter that strict mode answered the request
REJECTED = "pocstack.strict.rejected"


def strict_default():
    """--strict's default: $POCSTACK_EMULATOR_STRICT, else on."""
    return os.environ.get(STRICT_ENV) or "on"


class StrictValidation:
    """WSGI middleware: refuse, as AWS does, the AWS API calls whose
    parameters break their service model's constraints; hand every other
    request on with its body as received."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if not may_be_aws(environ):
            return self.app(environ, start_response)  # the registry's streamed /v2/ bodies stay untouched
        call = identify(environ, read_body(environ))
        if call is not None:
            violations = validate(call.operation.input_shape, call.params, call.protocol)
            if violations:
                environ[REJECTED] = call.name
                text = answers.message(call, violations)
                # the log says why a deploy failed; sensitive values are not in the text
                print(f"strict mode rejected {call.name}: {answers.code(call)}: {text}", flush=True)
                return answers.respond(call, text, environ, start_response)
        return self.app(environ, start_response)

    @staticmethod
    def describe():
        """What GET /_pocstack/strict reports besides the counts."""
        return {"patterns_skipped": sorted(PATTERNS.skipped)}


def read_body(environ):
    """The request body, put back so that the next reader gets it whole. A
    body without Content-Length (chunked) is not read: AWS SDKs always send
    one, so such a request is no AWS API call."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    if length <= 0:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body
