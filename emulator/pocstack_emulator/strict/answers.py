"""AWS's answer to a request that fails validation, in each protocol's shape
and each service's words (what botocore parses into a ClientError).

- JSON protocols: HTTP 400, `x-amzn-ErrorType`, body
  `{"__type": CODE, "message": "N validation error(s) detected: ...; ..."}`,
  every violation in one message. The code is `ValidationException`, AWS's
  common error, except where a service answers otherwise (SERVICE_CODES).
  ECR has words of its own for its first violation:
  "Invalid parameter at 'repositoryName' failed to satisfy constraint:
  'must satisfy regular expression '(?:[a-z0-9]+...''".
- query protocol (ELBv2, IAM, STS): HTTP 400,
  `<ErrorResponse xmlns=...><Error><Type>Sender</Type><Code>ValidationError`
  with the same message.
- ec2 protocol: HTTP 400, `<Response><Errors><Error>` with code
  `InvalidParameterValue` and EC2's sentence for its first violation:
  "Value ( 1 ) for parameter maxResults is invalid. Expecting a value greater
  than 5." (EC2 reports one error per request).
"""
import json
import uuid
from xml.sax.saxutils import escape

from pocstack_emulator.strict.constraints import number_text

# JSON services whose validation errors carry another code than
# ValidationException (seen in their answers to SDKs).
SERVICE_CODES = {
    "logs": "InvalidParameterException",
    "ecr": "InvalidParameterException",
}


def message(call, violations):
    """The error message AWS gives for these violations of `call`."""
    if call.protocol == "ec2":
        return _ec2_sentence(violations[0])
    if call.service == "ecr":
        return _ecr_sentence(violations[0])
    count = len(violations)
    errors = "error" if count == 1 else "errors"
    return f"{count} validation {errors} detected: " + "; ".join(v.coral() for v in violations)


def code(call):
    """The error code AWS answers a validation failure of `call` with."""
    if call.protocol == "ec2":
        return "InvalidParameterValue"
    if call.protocol == "query":
        return "ValidationError"
    return SERVICE_CODES.get(call.service, "ValidationException")


def respond(call, text, environ, start_response):
    """Answer the request as AWS does: HTTP 400, the protocol's error shape,
    `text` (from `message`) as the error message."""
    request_id = str(uuid.uuid4())
    error_code = code(call)
    if call.protocol == "json":
        body = json.dumps({"__type": error_code, "message": text}).encode()
        content_type = environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"
        headers = [("x-amzn-ErrorType", error_code), ("Content-Type", content_type)]
    elif call.protocol == "ec2":
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Response><Errors><Error><Code>{error_code}</Code><Message>{escape(text)}</Message></Error>"
                f"</Errors><RequestID>{request_id}</RequestID></Response>").encode()
        headers = [("Content-Type", "text/xml;charset=UTF-8")]
    else:
        namespace = call.operation.metadata.get("xmlNamespace", "")
        body = (f'<ErrorResponse xmlns="{escape(namespace)}"><Error><Type>Sender</Type><Code>{error_code}</Code>'
                f"<Message>{escape(text)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
                ).encode()
        headers = [("Content-Type", "text/xml")]
    start_response("400 Bad Request", headers + [("x-amzn-RequestId", request_id),
                                                 ("Content-Length", str(len(body)))])
    return [body]


def _ecr_sentence(violation):
    if violation.kind == "pattern":
        constraint = f"must satisfy regular expression '{violation.limit}'"
    else:
        constraint = violation.text.removeprefix("Member ")
    return f"Invalid parameter at '{violation.path}' failed to satisfy constraint: '{constraint}'"


def _ec2_sentence(violation):
    shown = "***" if violation.shown is None else violation.shown
    if violation.kind.endswith("_min"):
        expected = f"greater than {number_text(violation.limit)}"
    else:
        expected = f"less than {number_text(violation.limit)}"
    return f"Value ( {shown} ) for parameter {violation.path} is invalid. Expecting a value {expected}."
