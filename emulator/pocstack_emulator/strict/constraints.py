"""AWS's server-side validation of an input against botocore's service model,
with AWS's member paths and constraint sentences.

What AWS checks before an operation runs (and botocore's client does not,
except types and minimums): required members, the length of strings, blobs,
lists and maps (`min`/`max`), a string's `pattern` (the whole value must
match, as Java's `Pattern.matches`), its `enum` values, and an integer's or
double's range (`min`/`max`). Members the model does not know are ignored.

Paths are AWS's: each member name with its first letter in lower case
(`Tags` -> `tags`), list items `.N.member` from 1 (`tags.1.member.value`).
A list of scalars, or a map's keys or values, fail as a whole, at the list
or map, with every constraint of the member listed:
"Member must satisfy constraint: [Member must have length less than or
equal to 1024, ...]", "Map value must satisfy constraint: [...]".
The value of a member the model marks `sensitive` is never shown: AWS
writes "Value at 'value' failed to satisfy constraint: ..." (an SSM
SecureString's value, for example); inside a shown list or structure a
sensitive value is written `***`.
"""
import threading

import regex

from pocstack_emulator.strict.wire import Unreadable
from pocstack_emulator.strict.wire import blob_length

# What each protocol's front end checks. EC2's is not AWS's common validation
# layer: it answers with its own words per parameter (and patterns, enums and
# lengths of its model are not what it enforces), so only value ranges
# (MaxResults, ports) are checked there.
CHECKS = {
    "json": frozenset({"required", "length", "pattern", "enum", "range"}),
    "query": frozenset({"required", "length", "pattern", "enum", "range"}),
    "ec2": frozenset({"range"}),
}
_SCALARS = ("string", "blob", "integer", "long", "float", "double", "boolean", "timestamp")
_NUMBERS = ("integer", "long", "float", "double")


class Violation:
    """One failed constraint: where (AWS's path), the value and its shape,
    whether it may be shown, and the constraint (`kind`, `limit`, AWS's
    `text`)."""

    def __init__(self, path, shape, value, sensitive, kind, limit, text):
        self.path = path
        self.shape = shape
        self.value = value
        self.sensitive = sensitive
        self.kind = kind
        self.limit = limit
        self.text = text

    @property
    def shown(self):
        """The value as AWS prints it; None when it must not be shown."""
        if self.kind == "null" or self.sensitive:
            return None
        return render(self.shape, self.value)

    def coral(self):
        """AWS's sentence: "Value 'x' at 'p' failed to satisfy constraint: Member must ..."."""
        if self.kind == "null":
            value = "Value null"
        elif self.sensitive:
            value = "Value"
        else:
            value = f"Value '{self.shown}'"
        return f"{value} at '{self.path}' failed to satisfy constraint: {self.text}"


class Patterns:
    """The models' patterns compiled once with the `regex` package (which has
    Java's \\p{L}, \\p{Z}, \\p{N} classes). Java reads a UTF-16 surrogate pair
    such as \\uD800\\uDC00 as one code point: rewritten as \\U00010000 first.
    A pattern that still does not compile is not checked, and counted."""

    _pair = regex.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", regex.IGNORECASE)

    def __init__(self):
        self.lock = threading.Lock()
        self.compiled = {}
        self.skipped = set()

    def get(self, pattern):
        with self.lock:
            if pattern not in self.compiled:
                try:
                    self.compiled[pattern] = regex.compile(self._pair.sub(self._code_point, pattern))
                except regex.error:
                    self.compiled[pattern] = None
                    self.skipped.add(pattern)
            return self.compiled[pattern]

    @staticmethod
    def _code_point(match):
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


PATTERNS = Patterns()


def validate(shape, params, protocol):
    """Every Violation of `params` (a decoded input structure) against `shape`."""
    found = []
    if shape is not None:
        _check(shape, params, "", False, CHECKS[protocol], found)
    return found


def _check(shape, value, path, sensitive, checks, found):
    if value is None or isinstance(value, Unreadable) or not _typed(shape, value):
        return  # absent, or a type AWS refuses before validating (SerializationException): moto answers
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))
    kind = shape.type_name
    if kind == "structure":
        if shape.metadata.get("document"):
            return
        required = set(shape.required_members) if "required" in checks else set()
        for name, member in shape.members.items():
            member_path = f"{path}.{_lower(name)}" if path else _lower(name)
            member_value = value.get(name)
            if member_value is None:
                if name in required:
                    found.append(Violation(member_path, member, None, False, "null", None, "Member must not be null"))
                continue
            _check(member, member_value, member_path, sensitive, checks, found)
        return
    found.extend(_own_violations(shape, value, path, sensitive, checks))
    if kind == "list":
        _check_items(shape, shape.member, list(enumerate(value, 1)), value, path, sensitive, checks, found, "Member")
    elif kind == "map":
        _check_items(shape, shape.key, [(None, k) for k in value], value, path, sensitive, checks, found, "Map keys")
        _check_items(shape, shape.value, list(value.items()), value, path, sensitive, checks, found, "Map value")


def _check_items(container, shape, items, whole, path, sensitive, checks, found, label):
    """A list's members or a map's keys/values: composite ones are checked
    one by one (a list item at `path.N.member`, a map value at `path.KEY`);
    scalar ones fail together, once, at the list or map."""
    if shape.type_name in _SCALARS:
        if any(_own_violations(shape, item, path, sensitive, checks) for _, item in items):
            texts = ", ".join(text for _, _, text in constraints_of(shape, checks))
            found.append(Violation(path, container, whole, sensitive, "member", None,
                                   f"{label} must satisfy constraint: [{texts}]"))
        return
    for key, item in items:
        item_path = f"{path}.{key}.member" if isinstance(key, int) else f"{path}.{key}"
        _check(shape, item, item_path, sensitive, checks, found)


def constraints_of(shape, checks):
    """(kind, limit, AWS's sentence) of every constraint of a shape that the
    protocol checks, in the order AWS lists them."""
    meta = shape.metadata
    found = []
    measure = "value" if shape.type_name in _NUMBERS else "length"
    wanted = "range" if measure == "value" else "length"
    if wanted in checks:
        if "max" in meta:
            found.append((f"{measure}_max", meta["max"], f"Member must have {measure} less than or equal to "
                                                          f"{number_text(meta['max'])}"))
        if "min" in meta:
            found.append((f"{measure}_min", meta["min"], f"Member must have {measure} greater than or equal to "
                                                          f"{number_text(meta['min'])}"))
    if "pattern" in checks and shape.type_name == "string" and "pattern" in meta:
        found.append(("pattern", meta["pattern"], f"Member must satisfy regular expression pattern: {meta['pattern']}"))
    if "enum" in checks and shape.type_name == "string" and meta.get("enum"):
        found.append(("enum", meta["enum"], f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]"))
    return found


def _own_violations(shape, value, path, sensitive, checks):
    """The Violations of a value's own constraints (not its members'),
    pattern first: the order in which AWS lists a value failing both its
    pattern and its length."""
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))
    failed = []
    for kind, limit, text in constraints_of(shape, checks):
        if _fails(shape, value, kind, limit):
            failed.append(Violation(path, shape, value, sensitive, kind, limit, text))
    return sorted(failed, key=lambda v: v.kind != "pattern")


def _fails(shape, value, kind, limit):
    if isinstance(value, Unreadable) or not _typed(shape, value):
        return False
    if kind == "pattern":
        compiled = PATTERNS.get(limit)
        return compiled is not None and compiled.fullmatch(value) is None
    if kind == "enum":
        return value not in limit
    if kind.startswith("length"):
        size = _length(shape, value)
        if size is None:
            return False
        return size > limit if kind == "length_max" else size < limit
    if kind.startswith("value"):
        return value > limit if kind == "value_max" else value < limit
    return False


def _length(shape, value):
    if shape.type_name == "blob":
        return blob_length(value)
    if shape.type_name in ("string", "list", "map"):
        return len(value)
    return None


def _typed(shape, value):
    """Whether a decoded value has its shape's type (JSON can carry anything)."""
    kind = shape.type_name
    if kind in ("structure", "map"):
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    if kind in ("string", "blob"):
        return isinstance(value, str)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return True


def _lower(name):
    return name[:1].lower() + name[1:]


def number_text(limit):
    """A model limit as AWS writes it (300, not 300.0)."""
    return str(int(limit)) if isinstance(limit, float) and limit.is_integer() else str(limit)


def render(shape, value, sensitive=False):
    """A value as AWS's Java front end prints it: strings and numbers bare,
    lists `[a, b]`, maps `{k=v, ...}`, structures `{Key: a,Value: b}`; a
    sensitive value inside them `***`."""
    if sensitive or shape.metadata.get("sensitive"):
        return "***"
    kind = shape.type_name
    if kind == "list" and isinstance(value, list):
        return "[" + ", ".join(render(shape.member, item) for item in value) + "]"
    if kind == "map" and isinstance(value, dict):
        return "{" + ", ".join(f"{render(shape.key, k)}={render(shape.value, v)}" for k, v in value.items()) + "}"
    if kind == "structure" and isinstance(value, dict):
        return "{" + ",".join(f"{name}: {render(member, value[name])}"
                              for name, member in shape.members.items() if value.get(name) is not None) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
