# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tags of a resource that one of our modules owns through an identity tag.

The module's `name` option lives in an owner tag (for instance
pocstack:rule-name); users give their own tags next to it with amazon.aws
semantics (tags None leaves them alone, purge_tags removes the others). No AWS
calls here.
"""

from ansible_collections.pocstack.aws.plugins.module_utils import compare


def wanted_tags(owner_key, name, tags, error=ValueError):
    """The tags the resource must carry: the user's plus the owner tag, whose
    value only the name option sets."""
    tags = dict(tags or {})
    if owner_key in tags and tags[owner_key] != name:
        raise error(f"tags: {owner_key} is set by this module from name ({name!r}); remove it from tags")
    tags[owner_key] = name
    return {str(k): str(v) for k, v in tags.items()}


def tag_changes(current, owner_key, name, tags, purge_tags, error=ValueError):
    """compare.tag_changes with the owner tag as a key the module owns."""
    want = wanted_tags(owner_key, name, tags, error)
    return compare.tag_changes(current, None if tags is None else want, purge_tags, {owner_key: name})
