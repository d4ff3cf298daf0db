"""Tag changes with module-owned keys, and the paths at which two resources differ."""
import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import compare


@pytest.mark.parametrize(
    "current, tags, purge, owned, expected",
    [
        ({"a": "1"}, {"a": "1"}, True, None, ({}, [], {"a": "1"})),
        ({"a": "1"}, {"a": "2"}, True, None, ({"a": "2"}, [], {"a": "2"})),
        ({"a": "1", "b": "2"}, {"a": "1"}, True, None, ({}, ["b"], {"a": "1"})),
        ({"a": "1", "b": "2"}, {"a": "1"}, False, None, ({}, [], {"a": "1", "b": "2"})),
        ({"a": "1", "b": "2"}, None, True, None, ({}, [], {"a": "1", "b": "2"})),
        ({"a": "1", "aws:cloudformation:stack-name": "x"}, {}, True, None,
         ({}, ["a"], {"aws:cloudformation:stack-name": "x"})),
        ({"own": "1", "a": "1"}, {}, True, {"own": "1"}, ({}, ["a"], {"own": "1"})),
        ({"own": "1"}, None, True, {"own": "2"}, ({"own": "2"}, [], {"own": "2"})),
        ({}, {"n": 3}, True, {"own": "1"}, ({"n": "3", "own": "1"}, [], {"n": "3", "own": "1"})),
    ],
    ids=["same", "value", "purge", "no-purge", "tags-unset-leaves-alone", "aws-reserved-kept", "owned-never-purged",
         "owned-set-without-tags", "values-as-strings"],
)
def test_tag_changes(current, tags, purge, owned, expected):
    assert compare.tag_changes(current, tags, purge, owned) == expected


@pytest.mark.parametrize(
    "before, after, paths",
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 2}, ["a"]),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}, ["a.c"]),
        ({}, {"a": 1}, ["a"]),
        ({"l": [{"name": "x", "v": 1}, {"name": "y", "v": 1}]}, {"l": [{"name": "y", "v": 2}, {"name": "x", "v": 1}]},
         ["l[y].v"]),
        ({"l": [{"name": "x"}]}, {"l": [{"name": "x"}, {"name": "z"}]}, ["l[z]"]),
        ({"l": [1, 2]}, {"l": [2, 1]}, ["l"]),
        ({"l": [{"v": 1}]}, {"l": [{"v": 2}]}, ["l"]),
        (None, {"a": 1}, [""]),
    ],
    ids=["equal", "scalar", "nested", "added", "named-list", "named-added", "plain-list", "unnamed-dicts", "none"],
)
def test_differences(before, after, paths):
    assert compare.differences(before, after) == paths


def test_sorted_data_sorts_keys_at_every_level():
    data = compare.sorted_data({"b": [{"z": 1, "a": 2}], "a": {"d": 1, "c": 2}})
    assert list(data) == ["a", "b"] and list(data["a"]) == ["c", "d"] and list(data["b"][0]) == ["a", "z"]
