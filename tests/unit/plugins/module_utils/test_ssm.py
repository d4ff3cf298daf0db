"""Validation and comparison of the SecureStrings under one path (no AWS calls)."""
import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import compare
from ansible_collections.pocstack.aws.plugins.module_utils import ssm


def p(name, value="v", **extra):
    return {"name": name, "value": value, **extra}


@pytest.mark.parametrize("path, parameters, message", [
    ("pocstack/plotly", [], "path: 'pocstack/plotly' must start with '/'"),
    ("/pocstack/plotly/", [], "no trailing '/'"),
    ("/pocstack/plo tly", [], "use only letters, digits"),
    ("/aws/plotly", [], "may not start with /aws or /ssm"),
    ("/SSM/plotly", [], "may not start with /aws or /ssm"),
    ("/p", [p("PLOTLY-PASS")], "parameters[0].name: 'PLOTLY-PASS' is not allowed"),
    ("/p", [p("1PASS")], "parameters[0].name: '1PASS' is not allowed"),
    ("/p", [p("A" * 129)], "at most 128 characters"),
    ("/p", [{"value": "x"}], "parameters[0].name: None is not allowed"),
    ("/p", [p("A"), p("A")], "parameters[1].name: A is given twice"),
    ("/p", [p("A", "")], "parameters[0].value: the value of A is empty"),
    ("/p", [p("A", None)], "parameters[0].value: the value of A is empty"),
    ("/p", [p("A", "x" * 4097)], "longer than 4096 bytes"),
    ("/p", [p("A", "é" * 2049)], "longer than 4096 bytes"),  # bytes, not characters
    ("/" + "p" * 1005, [p("ABCDEF")], "longer than 1011 characters"),
])
def test_validation_errors_name_the_option(path, parameters, message):
    with pytest.raises(ssm.ParameterError) as caught:
        ssm.validate(path, parameters)
    assert message in str(caught.value)


def test_validation_never_echoes_a_value():
    with pytest.raises(ssm.ParameterError) as caught:
        ssm.validate("/p", [p("A", "s3cr3t-" + "x" * 5000)])
    assert "s3cr3t" not in str(caught.value)


def test_validate_canonical_form_and_default_description():
    path, wanted = ssm.validate("/pocstack/plotly", [p("B", 7), p("A", "x", description="given")], "{name} of plotly")
    assert path == "/pocstack/plotly"
    assert wanted == {"B": {"value": "7", "description": "B of plotly"}, "A": {"value": "x", "description": "given"}}


def secure(value, version=1, key_id="alias/aws/ssm", description="A", type_="SecureString"):
    return {"value": value, "version": version, "type": type_, "arn": "arn", "key_id": key_id,
            "description": description}


WANT = {"A": {"value": "x", "description": "A"}}


@pytest.mark.parametrize("current, key_id, purge, expected", [
    ({}, None, True, {"create": ["A"], "update": [], "delete": []}),
    ({"A": secure("x")}, "alias/aws/ssm", True, {"create": [], "update": [], "delete": []}),
    # the AWS managed key compares equal whether reported by alias or not at all
    ({"A": secure("x", key_id=None)}, "alias/aws/ssm", True, {"create": [], "update": [], "delete": []}),
    ({"A": secure("x")}, None, True, {"create": [], "update": [], "delete": []}),
    ({"A": secure("y")}, None, True, {"create": [], "update": ["A"], "delete": []}),
    ({"A": secure("x", key_id="alias/poc")}, None, True, {"create": [], "update": ["A"], "delete": []}),
    ({"A": secure("x")}, "alias/poc", True, {"create": [], "update": ["A"], "delete": []}),
    ({"A": secure("x", description="old")}, None, True, {"create": [], "update": ["A"], "delete": []}),
    # a plain String with the same name is replaced by a SecureString
    ({"A": secure("x", type_="String")}, None, True, {"create": ["A"], "update": [], "delete": ["A"]}),
    ({"A": secure("x"), "OLD": secure("z")}, None, True, {"create": [], "update": [], "delete": ["OLD"]}),
    ({"A": secure("x"), "OLD": secure("z")}, None, False, {"create": [], "update": [], "delete": []}),
])
def test_plan(current, key_id, purge, expected):
    assert ssm.plan(current, WANT, key_id, purge) == expected


@pytest.mark.parametrize("current, wanted, purge, expected", [
    ({"a": "1"}, None, True, ({}, [])),                      # tags omitted: left alone
    ({}, {"a": "1"}, True, ({"a": "1"}, [])),
    ({"a": "1"}, {"a": "1"}, True, ({}, [])),
    ({"a": "1"}, {"a": "2"}, True, ({"a": "2"}, [])),
    ({"a": "1", "b": "2"}, {"a": "1"}, True, ({}, ["b"])),
    ({"a": "1", "b": "2"}, {"a": "1"}, False, ({}, [])),
    ({"aws:cloudformation:stack-name": "s"}, {}, True, ({}, [])),  # aws:* is never purged
])
def test_tag_changes(current, wanted, purge, expected):
    # ssm_secure_strings diffs a parameter's tags with compare.tag_changes
    assert compare.tag_changes(current, wanted, purge)[:2] == expected


def test_diff_masks_values_and_marks_changes():
    before = ssm.describe_for_diff({"B": secure("old-secret"), "A": secure("x")}, {"A": {"t": "1"}, "B": {}})
    after = ssm.describe_for_diff({"B": {"description": "B"}, "A": {"description": "A"}}, None, changed=["B"])
    assert list(before) == ["A", "B"]
    assert before["A"] == {"type": "SecureString", "value": "********", "key_id": "alias/aws/ssm",
                           "description": "A", "tags": {"t": "1"}}
    assert after["B"]["value"] == "******** (new value)" and after["A"]["value"] == "********"
    assert "old-secret" not in repr(before) + repr(after)


def test_fingerprint_changes_with_versions_only():
    one = ssm.fingerprint({"A": 1, "B": 4})
    assert one == ssm.fingerprint({"B": 4, "A": 1})
    assert len(one) == 16
    assert one != ssm.fingerprint({"A": 2, "B": 4})
    assert one != ssm.fingerprint({"A": 1, "C": 4})
    assert ssm.fingerprint({}) == ""
