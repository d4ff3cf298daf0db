# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Comparison helpers shared by our modules (no AWS calls): tag changes with
keys a module owns, and the paths at which two normalised resources differ."""

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags


def tag_changes(current, tags, purge_tags, owned=None):
    """(tags to set, keys to remove, tags afterwards) by amazon.aws's
    compare_aws_tags: `tags` None leaves the user's tags alone; purging never
    removes AWS's aws:* keys nor the keys in `owned` ({key: value} the module
    itself sets, whatever `tags` says). Every module of the collection that
    manages tags diffs them here."""
    want = {**{str(k): str(v) for k, v in (tags or {}).items()}, **(owned or {})}
    to_set, to_unset = compare_aws_tags(current, want, purge_tags and tags is not None)
    after = {k: v for k, v in sorted({**current, **want}.items()) if k not in to_unset}
    return dict(sorted(to_set.items())), sorted(to_unset), after


def _keyed(items):
    """A list of dicts that all carry a distinct "name" -> {name: item}, else None."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    keyed = {i["name"]: i for i in items}
    return keyed if len(keyed) == len(items) else None


def differences(before, after, path=""):
    """Sorted paths at which two plain data trees differ, e.g.
    ["containerDefinitions[web].image", "cpu"]. Lists of named dicts (containers,
    environment, secrets) are matched by name, other lists compared whole."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        return [change for key in sorted(set(before) | set(after), key=str)
                for change in differences(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))]
    if isinstance(before, list) and isinstance(after, list):
        old, new = _keyed(before), _keyed(after)
        if old is not None and new is not None:
            return [change for name in sorted(set(old) | set(new))
                    for change in differences(old.get(name), new.get(name), f"{path}[{name}]")]
    return [path]


def sorted_data(value):
    """Plain data with every dict's keys sorted, for --diff output."""
    if isinstance(value, dict):
        return {k: sorted_data(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [sorted_data(v) for v in value]
    return value
