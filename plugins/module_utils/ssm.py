# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SecureString parameters under one SSM path: reading, comparing, writing.

Values are read decrypted only to be compared in memory; nothing here returns
a value, and every diff shows a mask in its place.
"""

import hashlib
import re

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import paginated_query_with_retries
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

DEFAULT_KEY = "alias/aws/ssm"
MASK = "********"
# A parameter's own name (the last path element): AWS allows a-zA-Z0-9_.-;
# it also becomes the container's environment variable, so no '.' or '-'.
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
PATH = re.compile(r"^(/[A-Za-z0-9_.\-]+)+$")
MAX_PATH = 1011  # parameter names are at most 1011 characters, path included
MAX_STANDARD_VALUE = 4096  # bytes, Standard tier
RESERVED_PREFIXES = ("/aws", "/ssm")


class ParameterError(ValueError):
    """Input AWS would reject, with a message naming the option."""


def validate(path, parameters, description_default=""):
    """(path, {name: {"value", "description"}}) in canonical form, or ParameterError."""
    if not isinstance(path, str) or not PATH.match(path):
        raise ParameterError(
            f"path: {path!r} must start with '/', have no trailing '/', and use only letters, digits and _ . -"
        )
    if path.lower().startswith(RESERVED_PREFIXES):
        raise ParameterError(f"path: {path!r} may not start with /aws or /ssm (reserved by AWS)")
    wanted = {}
    for index, item in enumerate(parameters or []):
        name = (item or {}).get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise ParameterError(
                f"parameters[{index}].name: {name!r} is not allowed; use letters, digits and _, starting with a "
                "letter or _ (it is also the container's environment variable), at most 128 characters"
            )
        if name in wanted:
            raise ParameterError(f"parameters[{index}].name: {name} is given twice")
        if len(f"{path}/{name}") > MAX_PATH:
            raise ParameterError(f"parameters[{index}].name: {path}/{name} is longer than {MAX_PATH} characters")
        value = item.get("value")
        if value is None or value == "":
            raise ParameterError(f"parameters[{index}].value: the value of {name} is empty; give it a value")
        value = str(value)
        if len(value.encode("utf-8")) > MAX_STANDARD_VALUE:
            raise ParameterError(
                f"parameters[{index}].value: the value of {name} is longer than {MAX_STANDARD_VALUE} bytes "
                "(the Standard tier's limit)"
            )
        wanted[name] = {"value": value, "description": item.get("description") or description_default.format(name=name)}
    return path, wanted


# ------------------------------------------------------------------- reading
def read_path(client, path, with_children=False):
    """{name: {"value", "version", "type", "arn", ..., "key_id", "description"}} of the parameters
    directly under `path` (one level): GetParametersByPath items in snake_case, with the key and
    description that only DescribeParameters returns. With `with_children`, (that, child paths):
    the same one listing, recursive, also gives the sorted names of the paths directly below `path`
    that hold parameters at any depth (proxy for <path>/proxy/TOKEN); their values stay unused."""
    by_path = paginated_query_with_retries(client, "get_parameters_by_path", Path=path, Recursive=with_children,
                                           WithDecryption=True)
    direct = [p for p in by_path["Parameters"] if p["Name"].rsplit("/", 1)[0] == path]
    below = (p["Name"][len(path) + 1:] for p in by_path["Parameters"] if p["Name"].startswith(path + "/"))
    children = sorted({rest.split("/", 1)[0] for rest in below if "/" in rest})
    found = {p["Name"].rsplit("/", 1)[-1]: camel_dict_to_snake_dict(p) for p in direct}
    if found:
        filters = [{"Key": "Path", "Option": "OneLevel", "Values": [path]}]
        for meta in paginated_query_with_retries(client, "describe_parameters", ParameterFilters=filters)["Parameters"]:
            name = meta["Name"].rsplit("/", 1)[-1]
            if name in found:
                found[name]["key_id"] = meta.get("KeyId")
                found[name]["description"] = meta.get("Description", "")
    return (found, children) if with_children else found


def read_tags(client, path, names):
    return {
        name: boto3_tag_list_to_ansible_dict(
            client.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{path}/{name}", aws_retry=True)
            .get("TagList", [])
        )
        for name in names
    }


# ----------------------------------------------------------------- comparing
def foreign(current, current_tags, owner_tags, touched):
    """Names in `touched` that exist under the path without every owner tag
    (another tool's parameters); none when owner_tags is None."""
    if owner_tags is None:
        return []
    return sorted(name for name in touched if name in current
                  and any((current_tags or {}).get(name, {}).get(key) != str(value) for key, value in owner_tags.items()))


def foreign_message(path, names, owner_tags):
    shown = ", ".join(f"{key}={value}" for key, value in sorted(owner_tags.items()))
    return (f"parameters: {', '.join(f'{path}/{name}' for name in names)} already exist without the tags {shown}: "
            "another tool's (or made by hand), and this run would overwrite or delete them; nothing was written. "
            "Give the secrets other names, use another path, or set adopt=true to take them over")


def same_key(current, wanted):
    """KMS keys compare as given; the AWS managed key may be reported by alias or not at all."""
    return (current or DEFAULT_KEY) == (wanted or DEFAULT_KEY)


def plan(current, wanted, key_id, purge):
    """What must happen: {"create": [...], "update": [...], "delete": [...]} of names,
    each sorted. A parameter that is not a SecureString is re-created as one."""
    create, update, delete = [], [], []
    for name, want in wanted.items():
        have = current.get(name)
        if have is None:
            create.append(name)
        elif have.get("type") != "SecureString":
            delete.append(name)
            create.append(name)
        elif (
            have.get("value") != want["value"]
            or not same_key(have.get("key_id"), key_id)
            or (have.get("description") or "") != want["description"]
        ):
            update.append(name)
    if purge:
        delete.extend(name for name in current if name not in wanted)
    return {"create": sorted(create), "update": sorted(update), "delete": sorted(set(delete))}


def describe_for_diff(parameters, tags=None, changed=()):
    """{name: {...}} for --diff, values masked; names in `changed` show that their value changes."""
    result = {}
    for name in sorted(parameters):
        item = parameters[name]
        entry = {
            "type": item.get("type", "SecureString"),
            "value": MASK + (" (new value)" if name in changed else ""),
            "key_id": item.get("key_id") or DEFAULT_KEY,
            "description": item.get("description") or "",
        }
        if tags is not None and name in tags:
            entry["tags"] = dict(sorted(tags[name].items()))
        result[name] = entry
    return result


def fingerprint(versions):
    """16 hex characters that change whenever a parameter's version changes (and so its
    value), computed from names and versions only, never from values."""
    text = ",".join(f"{name}={versions[name]}" for name in sorted(versions))
    return hashlib.sha256(text.encode()).hexdigest()[:16] if versions else ""


# ------------------------------------------------------------------- writing
def put(client, path, name, value, key_id, description, overwrite, tags=None):
    kwargs = {
        "Name": f"{path}/{name}",
        "Value": value,
        "Type": "SecureString",
        "KeyId": key_id or DEFAULT_KEY,
        "Description": description,
        "Overwrite": overwrite,
    }
    if tags and not overwrite:  # AWS refuses Tags together with Overwrite
        kwargs["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.put_parameter(aws_retry=True, **kwargs)["Version"]


def delete(client, path, names):
    for start in range(0, len(names), 10):  # DeleteParameters takes at most 10 names
        client.delete_parameters(Names=[f"{path}/{n}" for n in names[start:start + 10]], aws_retry=True)


def add_tags(client, path, name, tags):
    client.add_tags_to_resource(
        ResourceType="Parameter", ResourceId=f"{path}/{name}", Tags=ansible_dict_to_boto3_tag_list(tags), aws_retry=True
    )


def remove_tags(client, path, name, keys):
    client.remove_tags_from_resource(ResourceType="Parameter", ResourceId=f"{path}/{name}", TagKeys=keys, aws_retry=True)
