"""Which AWS operation a request calls, and its parameters in the shape of
botocore's service model (what AWS's front end has in hand before it
validates).

- JSON protocols: `X-Amz-Target: <targetPrefix>.<Operation>` and the SigV4
  credential scope's service; the body is the input structure.
- query protocol (ELBv2, IAM, STS): the `Action` and `Version` parameters of
  the form body or query string, and the credential scope; the flat
  parameters (`Tags.member.1.Key`, `Attributes.entry.1.key`, flattened lists)
  are folded back into the input structure, the inverse of botocore's
  QuerySerializer.
- ec2 protocol: as query, with EC2's names (`queryName`, a capitalised
  `locationName`) and every list flattened (`Name.1`), the inverse of
  botocore's EC2Serializer.

Anything else (REST protocols, the Docker registry API, our own endpoints,
an unknown service, version or operation) is not identified: `identify`
returns None and the request is left alone.
"""
import base64
import binascii
import json
import re
import threading
from urllib.parse import parse_qsl

# The credential scope of a SigV4 Authorization header or presigned URL:
# <key>/<date>/<region>/<service>/aws4_request.
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"^[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request$")
# Scope names that are not botocore's service names; elasticloadbalancing is
# two services told apart by the API version.
_SCOPE_SERVICES = {
    "monitoring": "cloudwatch",
    "elasticloadbalancing": {"2015-12-01": "elbv2", "2012-06-01": "elb"},
}
# What no AWS API call ever is: our endpoints, moto's, the registry proxy.
_NOT_AWS = ("/_pocstack/", "/moto-api", "/v2/")

_models = {}
_models_lock = threading.Lock()


class Call:
    """One identified request: the botocore operation model, the wire
    protocol it came in ("json", "query" or "ec2") and its decoded input."""

    def __init__(self, service, operation, protocol, params):
        self.service = service
        self.operation = operation
        self.protocol = protocol
        self.params = params

    @property
    def name(self):
        return f"{self.service}:{self.operation.name}"


class Unreadable:
    """A query parameter that does not parse as its shape's type (an integer
    that is not a number): not validated here, moto answers for it."""

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return self.text


def service_model(name):
    """botocore's model of a service by its botocore name, loaded once; None
    when botocore has no such service."""
    with _models_lock:
        if name not in _models:
            import botocore.exceptions
            import botocore.session

            try:
                _models[name] = botocore.session.get_session().get_service_model(name)
            except botocore.exceptions.UnknownServiceError:
                _models[name] = None
        return _models[name]


def may_be_aws(environ):
    """False for what is surely no AWS API call (so its body is not read):
    our endpoints, moto's, the Docker registry's, anything unsigned."""
    path = environ.get("PATH_INFO", "")
    if path.startswith(_NOT_AWS) or path in ("/v2", "/favicon.ico"):
        return False
    return credential_scope(environ) is not None


def identify(environ, body):
    """The Call a request makes, or None when it is not an AWS API call this
    module can read."""
    if not may_be_aws(environ):
        return None
    scope = credential_scope(environ)
    if scope is None:
        return None
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return _json_call(scope, target, body)
    return _query_call(scope, environ, body)


def credential_scope(environ):
    """The service name of the SigV4 credential scope, or None (unsigned)."""
    found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found:
        return found.group(1)
    for key, value in parse_qsl(environ.get("QUERY_STRING", "")):
        if key == "X-Amz-Credential":
            found = _QUERY_SCOPE.match(value)
            return found.group(1) if found else None
    return None


def _model_for(scope, version=None):
    name = _SCOPE_SERVICES.get(scope, scope)
    if isinstance(name, dict):
        name = name.get(version)
    return (name, service_model(name)) if name else (None, None)


def _json_call(scope, target, body):
    prefix, _, operation = target.rpartition(".")
    service, model = _model_for(scope)
    if model is None or "json" not in _protocols(model) or model.metadata.get("targetPrefix") != prefix:
        return None
    if operation not in model.operation_names:
        return None
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        return None  # AWS: SerializationException; moto answers for it
    if not isinstance(params, dict):
        return None
    return Call(service, model.operation_model(operation), "json", params)


def _query_call(scope, environ, body):
    pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded") and body:
        pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    flat = dict(pairs)
    action, version = flat.get("Action"), flat.get("Version")
    if not action or not version:
        return None
    service, model = _model_for(scope, version)
    if model is None or model.metadata.get("apiVersion") != version:
        return None
    protocols = _protocols(model)
    protocol = "ec2" if "ec2" in protocols else "query" if "query" in protocols else None
    if protocol is None or action not in model.operation_names:
        return None
    operation = model.operation_model(action)
    shape = operation.input_shape
    params = decode_query(shape, nest(flat), protocol == "ec2") if shape is not None else {}
    return Call(service, operation, protocol, params if isinstance(params, dict) else {})


def _protocols(model):
    return model.metadata.get("protocols") or [model.metadata.get("protocol")]


# ------------------------------------------------------------ query and ec2 parameters
def nest(flat):
    """{"Tags.member.1.Key": "a"} -> {"Tags": {"member": {"1": {"Key": "a"}}}}.

    A name that is both a value and a prefix of others keeps the others
    (botocore sends `Tags=` only for an empty list, never beside its items).
    """
    tree = {}
    for key, value in flat.items():
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = value
    return tree


def decode_query(shape, node, ec2=False):
    """The value of `shape` from its nested query parameters; None when absent.

    The inverse of botocore's QuerySerializer (ec2=False) and EC2Serializer
    (ec2=True). Members the model does not know are dropped: AWS ignores them
    and so does validation.
    """
    if node is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(node, dict):
            return None
        found = {}
        for name, member in shape.members.items():
            value = decode_query(member, node.get(_member_key(member, name, ec2)), ec2)
            if value is not None:
                found[name] = value
        return found
    if kind == "list":
        if node == "":
            return []  # botocore's empty list: `Name=`
        if not isinstance(node, dict):
            return None
        if not ec2 and not shape.serialization.get("flattened"):
            node = node.get(shape.member.serialization.get("name", "member"))
            if not isinstance(node, dict):
                return None
        return [decode_query(shape.member, item, ec2) for item in _numbered(node)]
    if kind == "map":
        if not isinstance(node, dict):
            return None
        if not shape.serialization.get("flattened"):
            node = node.get("entry")
            if not isinstance(node, dict):
                return None
        key_name = _serialized_name(shape.key, "key", ec2)
        value_name = _serialized_name(shape.value, "value", ec2)
        found = {}
        for entry in _numbered(node):
            if isinstance(entry, dict) and isinstance(entry.get(key_name), str):
                found[entry[key_name]] = decode_query(shape.value, entry.get(value_name), ec2)
        return found
    if not isinstance(node, str):
        return None
    return _scalar(kind, node)


def _member_key(member, name, ec2):
    """The parameter name a structure member is sent under."""
    if not ec2 and member.type_name == "list" and member.serialization.get("flattened") \
            and member.member.serialization.get("name"):
        return member.member.serialization["name"]  # QuerySerializer replaces the list's own name
    return _serialized_name(member, name, ec2)


def _serialized_name(shape, default, ec2):
    if ec2:
        if "queryName" in shape.serialization:
            return shape.serialization["queryName"]
        if "name" in shape.serialization:
            name = shape.serialization["name"]
            return name[0].upper() + name[1:]
        return default
    return shape.serialization.get("name", default)


def _numbered(node):
    """The values under "1", "2", ... in their numeric order."""
    numbered = sorted((int(key), value) for key, value in node.items() if key.isdigit())
    return [value for _, value in numbered]


def _scalar(kind, text):
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return Unreadable(text)
    if kind in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return Unreadable(text)
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, Unreadable(text))
    return text  # string, blob (base64), timestamp: as sent


def blob_length(text):
    """Length in bytes of a base64 blob as sent, or None if it is not base64."""
    try:
        return len(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, TypeError):
        return None
