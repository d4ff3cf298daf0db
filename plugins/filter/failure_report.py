# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site playbook's report of a failed run: what it changed in the shared
resources first, then the failure, then how to finish or undo (see
module_utils/shared_changes.py and failure_report.yml)."""

from ansible.errors import AnsibleError

from ansible_collections.pocstack.aws.plugins.module_utils import shared_changes
from ansible_collections.pocstack.aws.plugins.module_utils.compare import sorted_data


def failure_report(after, before, failure, rerun, teardown, region=None, endpoint_url=None):
    if not isinstance(after, dict):
        raise AnsibleError("failure_report: the input must be the shared resources as read after the failure")
    # plain data, not ansible-core's lazy containers
    return shared_changes.report(sorted_data(before), sorted_data(after), failure, {"rerun": rerun, "teardown": teardown},
                                 region, endpoint_url or None)


class FilterModule:
    def filters(self):
        return {"failure_report": failure_report}
