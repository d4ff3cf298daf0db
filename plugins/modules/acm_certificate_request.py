#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: acm_certificate_request
short_description: Request an ACM certificate validated through Route 53 DNS
version_added: 0.2.0
description:
  - Requests a public certificate from AWS Certificate Manager (ACM) with DNS validation, writes the
    validation CNAME records into a Route 53 hosted zone, and waits until ACM has issued it.
  - The certificate is identified by O(name), kept in the tag C(pocstack:certificate-name) that this
    module owns, together with its domain names (O(domain_name) and O(subject_alternative_names), order
    and case ignored) and O(key_algorithm). A run that finds that certificate changes nothing; certificates
    without the tag are never changed. ACM cannot change the names of a certificate, so other names or
    another key algorithm mean a new certificate; the old one is left alone (a warning names it when it has
    the same O(domain_name)) and O(state=absent) with only O(name) deletes every certificate of that name.
  - Validation records of several domain names go into the zone in one change; a record that several names
    share (V(example.com) and V(*.example.com)) is written once, and a record that already exists is not
    written again.
  - O(state=absent) deletes the certificate (and its validation records, unless
    O(keep_validation_records=true)), and refuses while a load balancer or another service uses it.
  - Every option is checked before the first call that changes anything.
options:
  domain_name:
    description:
      - The certificate's first domain name (its subject), at most 64 characters. A wildcard is allowed
        only as the whole first label (V(*.poc.example.com)).
      - Required when O(state=present). With O(state=absent), when omitted, every certificate owned by
        O(name) is deleted.
    type: str
    aliases: [domain]
  subject_alternative_names:
    description:
      - Further domain names of the certificate, each at most 253 characters; order, case, duplicates and a
        repeat of O(domain_name) do not matter.
      - With O(state=absent), when omitted, certificates of O(domain_name) with any further names match.
    type: list
    elements: str
  key_algorithm:
    description:
      - Algorithm of the certificate's key pair.
      - Defaults to V(RSA_2048) when O(state=present); with O(state=absent), when omitted, any key
        algorithm matches.
    type: str
    choices: [RSA_2048, EC_prime256v1, EC_secp384r1]
  name:
    description:
      - Identity of the certificate, stored in the tag C(pocstack:certificate-name). Defaults to
        O(domain_name), with a wildcard first label written V(_) (V(*.poc.example.com) is named
        V(_.poc.example.com)), because ACM allows only letters, numbers, spaces and V(_.:/=+-@) in tag values.
    type: str
  hosted_zone_id:
    description:
      - ID of the public Route 53 hosted zone that receives the validation records (V(Z...) or
        V(/hostedzone/Z...)). Every domain name must be in that zone.
      - Without O(hosted_zone_id) and O(hosted_zone_name), no record is written; RV(validation_records)
        says what to publish elsewhere.
    type: str
  hosted_zone_name:
    description:
      - Name of the public Route 53 hosted zone that receives the validation records (V(poc.example.com)).
        Mutually exclusive with O(hosted_zone_id); there must be exactly one public zone of that name.
    type: str
  validation_record_ttl:
    description: TTL in seconds of the validation records this module writes.
    type: int
    default: 300
  keep_validation_records:
    description:
      - With O(state=absent), leave the validation records in the zone.
      - Records that another certificate of the account still needs (one for the same domain name) are
        never deleted.
    type: bool
    default: false
  wait:
    description:
      - Wait until ACM has issued the certificate. Fails when ACM reports C(FAILED) or
        C(VALIDATION_TIMED_OUT) (with ACM's reason), or when O(wait_timeout) has passed.
      - Not in check mode.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the certificate to be issued, 1-7200.
    type: int
    default: 600
  state:
    description: Whether the certificate should exist.
    type: str
    choices: [present, absent]
    default: present
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Written because M(community.aws.acm_certificate) only imports certificates, and nothing in amazon.aws or
    community.aws requests an ACM certificate, publishes its DNS validation records in Route 53 and waits until it is
    issued.
  - In check mode a certificate that does not exist yet has no validation records to show; ACM makes them
    up when it is requested.
  - A certificate owned by O(name) that ACM reports as C(FAILED), C(VALIDATION_TIMED_OUT), C(REVOKED),
    C(EXPIRED) or C(INACTIVE) makes the module fail with the reason; delete it (O(state=absent)) and run
    again to request a new one.
  - ACM validates through public DNS; the hosted zone must be public and delegated from its parent
    domain, or the certificate stays C(PENDING_VALIDATION).
  - The tag C(pocstack:certificate-name) is always set to O(name) and never purged; O(tags) must not give it
    another value.
  - "IAM actions used: C(acm:ListCertificates), C(acm:DescribeCertificate), C(acm:ListTagsForCertificate),
    C(acm:RequestCertificate), C(acm:AddTagsToCertificate), C(acm:RemoveTagsFromCertificate),
    C(acm:DeleteCertificate), C(route53:GetHostedZone), C(route53:ListHostedZonesByName),
    C(route53:ListResourceRecordSets), C(route53:ChangeResourceRecordSets)."
seealso:
  - module: community.aws.acm_certificate
  - module: community.aws.acm_certificate_info
  - module: amazon.aws.route53
  - module: amazon.aws.elb_application_lb
    description: Puts the certificate on the HTTPS listener.
  - module: pocstack.aws.elb_listener_rule
attributes:
  check_mode:
    support: full
    description: No call that changes anything is made (no request, tag, record or deletion) and nothing is waited
      for. C(changed), C(records_changed) and C(deleted_certificate_arns) are what a real run would report; a
      certificate that would be requested has no ARN and no validation records yet.
  diff_mode:
    support: partial
    description: Sorted before/after of the certificate (domain names, key algorithm, tags) and of its validation
      records in the hosted zone; with O(state=absent), the certificates and the names of the records deleted. In
      check mode a certificate that would be requested shows no validation records, since ACM makes them up only when
      it is requested.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Certificate for the plotly PoC, validated through the zone poc.example.com
  pocstack.aws.acm_certificate_request:
    domain_name: plotly.poc.example.com
    hosted_zone_name: poc.example.com
  register: plotly_certificate

- name: Use it on the HTTPS listener
  ansible.builtin.debug:
    msg: "{{ plotly_certificate.certificate_arn }} is {{ plotly_certificate.status }}"

- name: One certificate for the zone apex and every host below it, EC key, tagged
  pocstack.aws.acm_certificate_request:
    name: poc-wildcard
    domain_name: poc.example.com
    subject_alternative_names: ["*.poc.example.com"]
    key_algorithm: EC_prime256v1
    hosted_zone_id: Z0123456789ABCDEFGHIJ
    wait_timeout: 1200
    tags:
      pocstack:managed-by: pocstack.aws

- name: Request without waiting, and publish the records in DNS outside Route 53
  pocstack.aws.acm_certificate_request:
    domain_name: grafana.poc.example.org
    wait: false
  register: grafana_certificate

- name: Delete the certificate and its validation records
  pocstack.aws.acm_certificate_request:
    domain_name: plotly.poc.example.com
    hosted_zone_name: poc.example.com
    state: absent
"""

RETURN = r"""
certificate_arn:
  description: ARN of the certificate; empty when absent (deleted, or not yet requested in check mode).
  returned: always
  type: str
  sample: arn:aws:acm:us-east-1:123456789012:certificate/0b6cf4f4-3d4a-4f0e-9d1b-5c1e6d0a5f3e
status:
  description:
    - ACM status of the certificate, for example C(PENDING_VALIDATION) or C(ISSUED); empty when absent.
  returned: always
  type: str
  sample: ISSUED
domain_name:
  description: The certificate's first domain name, lower case; empty when absent.
  returned: always
  type: str
  sample: plotly.poc.example.com
subject_alternative_names:
  description: The certificate's further domain names, sorted, without O(domain_name).
  returned: always
  type: list
  elements: str
  sample: ["*.poc.example.com"]
key_algorithm:
  description: Algorithm of the certificate's key; empty when absent.
  returned: always
  type: str
  sample: RSA_2048
in_use_by:
  description: ARNs of the resources (load balancers, ...) that use the certificate.
  returned: always
  type: list
  elements: str
  sample: []
tags:
  description: Tags of the certificate.
  returned: always
  type: dict
  sample: {"pocstack:certificate-name": "plotly.poc.example.com"}
hosted_zone_id:
  description: ID of the hosted zone of the validation records (without C(/hostedzone/)); empty without a zone.
  returned: always
  type: str
  sample: Z0123456789ABCDEFGHIJ
validation_records:
  description:
    - The DNS records that validate the certificate, one per distinct record, sorted by name.
    - With O(state=absent), the records of the deleted certificates.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Record name, with the trailing dot.
      type: str
      sample: _3b7c5e0d3f1e2a4b6c8d9e0f1a2b3c4d.plotly.poc.example.com.
    type:
      description: Record type.
      type: str
      sample: CNAME
    value:
      description: Record value.
      type: str
      sample: _9f8e7d6c5b4a39281706f5e4d3c2b1a0.xlfgrmvvlj.acm-validations.aws.
    domain_names:
      description: The certificate's domain names this record validates.
      type: list
      elements: str
      sample: ["plotly.poc.example.com"]
records_changed:
  description: Names of the records written (or, with O(state=absent), deleted) in the hosted zone, sorted.
  returned: always
  type: list
  elements: str
  sample: [_3b7c5e0d3f1e2a4b6c8d9e0f1a2b3c4d.plotly.poc.example.com.]
deleted_certificate_arns:
  description: ARNs of the certificates deleted (or that would be, in check mode) with O(state=absent).
  returned: always
  type: list
  elements: str
  sample: []
"""

import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    BOTO_ERRORS = (BotoCoreError, ClientError)
except ImportError:
    BOTO_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.pocstack.aws.plugins.module_utils import acm
from ansible_collections.pocstack.aws.plugins.module_utils import certificate_requests as cr
from ansible_collections.pocstack.aws.plugins.module_utils import route53

# Right after RequestCertificate ACM needs a few seconds before it describes the
# validation records (and, rarely, the certificate itself).
RECORDS_TIMEOUT = 120


class CertificateManager:
    def __init__(self, module, clock=time.monotonic, sleep=time.sleep):
        self.module = module
        self.params = module.params
        retry = AWSRetry.jittered_backoff()
        self.acm = module.client("acm", retry_decorator=retry)
        self.route53 = module.client("route53", retry_decorator=retry)
        self.clock, self.sleep = clock, sleep
        self.changed = False
        self.records_changed = []

    def fail(self, error, msg):
        self.module.fail_json_aws(error, msg=msg)

    # ------------------------------------------------------------ validation
    def validated(self):
        """Everything that can be checked without AWS, or fail_json naming the option."""
        p = self.params
        try:
            wanted = {"others": None, "key_algorithm": p["key_algorithm"], "zone_id": None}
            if p["domain_name"] is not None:
                wanted["domain"], wanted["others"] = cr.desired_names(p["domain_name"], p["subject_alternative_names"])
                if p["subject_alternative_names"] is None and p["state"] == "absent":
                    wanted["others"] = None
            else:
                wanted["domain"] = None
            if p["state"] == "present":
                wanted["key_algorithm"] = p["key_algorithm"] or "RSA_2048"
            wanted["name"] = p["name"] or cr.default_name(wanted["domain"])
            if not wanted["name"] or not str(wanted["name"]).strip():
                raise cr.CertificateError("name: must not be empty")
            wanted["tags"] = cr.validate_tags(wanted["name"], p["tags"])
            if p["hosted_zone_id"] is not None:
                wanted["zone_id"] = cr.normalize_zone_id(p["hosted_zone_id"])
            wanted["zone_name"] = (
                cr.normalize_domain(p["hosted_zone_name"], "hosted_zone_name") if p["hosted_zone_name"] is not None else None
            )
            cr.validate_range("validation_record_ttl", p["validation_record_ttl"], cr.TTL_RANGE)
            cr.validate_range("wait_timeout", p["wait_timeout"], cr.WAIT_TIMEOUT_RANGE)
        except cr.CertificateError as e:
            self.module.fail_json(msg=str(e))
        return wanted

    # ------------------------------------------------------------ reading
    def zone(self, wanted):
        """(zone id, zone name) of the validation records, or (None, None)."""
        if wanted["zone_id"]:
            try:
                found = route53.get_zone(self.route53, wanted["zone_id"])
            except is_boto3_error_code("NoSuchHostedZone") as e:
                self.fail(e, f"hosted_zone_id: no hosted zone {wanted['zone_id']}; create it first or fix the ID")
            except BOTO_ERRORS as e:  # pylint: disable=duplicate-except
                self.fail(e, f"Could not read hosted zone {wanted['zone_id']}")
            if found.get("Config", {}).get("PrivateZone"):
                self.module.fail_json(
                    msg=f"hosted_zone_id: {wanted['zone_id']} ({found['Name']}) is a private zone; ACM validates "
                    "through public DNS, give a public zone"
                )
            return wanted["zone_id"], found["Name"]
        if wanted["zone_name"]:
            try:
                zones = route53.zones_named(self.route53, wanted["zone_name"])
            except BOTO_ERRORS as e:
                self.fail(e, f"Could not list the hosted zones named {wanted['zone_name']}")
            public = [z for z in zones if not z.get("Config", {}).get("PrivateZone")]
            if not public:
                self.module.fail_json(
                    msg=f"hosted_zone_name: no public hosted zone named {wanted['zone_name']!r}"
                    + (" (only private ones; ACM validates through public DNS)" if zones else "")
                )
            if len(public) > 1:
                ids = ", ".join(sorted(cr.normalize_zone_id(z["Id"]) for z in public))
                self.module.fail_json(
                    msg=f"hosted_zone_name: {len(public)} public hosted zones are named {wanted['zone_name']!r} "
                    f"({ids}); give hosted_zone_id instead"
                )
            return cr.normalize_zone_id(public[0]["Id"]), public[0]["Name"]
        return None, None

    def describe(self, arn):
        try:
            return acm.describe_certificate(self.acm, arn)
        except BOTO_ERRORS as e:
            self.fail(e, f"Could not describe certificate {arn}")

    def tags_of(self, arn):
        try:
            return acm.list_tags(self.acm, arn)
        except BOTO_ERRORS as e:
            self.fail(e, f"Could not read the tags of certificate {arn}")

    def summaries(self):
        try:
            return acm.list_certificates(self.acm, cr.ALL_KEY_TYPES)
        except BOTO_ERRORS as e:
            self.fail(e, "Could not list the ACM certificates")

    def owned(self, summaries, wanted):
        """[(described certificate, tags)] of the certificates owned by the name whose
        domain name is the wanted one (any, when none is given)."""
        found = []
        for summary in summaries:
            if wanted["domain"] and summary.get("DomainName", "").lower().rstrip(".") != wanted["domain"]:
                continue
            tags = self.tags_of(summary["CertificateArn"])
            if tags.get(cr.OWNER_TAG) != wanted["name"]:
                continue
            found.append((self.describe(summary["CertificateArn"]), tags))
        return found

    def existing_records(self, zone_id, records):
        existing = {}
        for record in records:
            try:
                existing[record["name"]] = route53.record_set(self.route53, zone_id, record["name"], record["type"])
            except BOTO_ERRORS as e:
                self.fail(e, f"Could not read record {record['name']} of hosted zone {zone_id}")
        return existing

    # ------------------------------------------------------------ present
    def present(self, wanted):
        zone_id, zone_name = self.zone(wanted)
        if zone_name:
            try:
                cr.check_zone([wanted["domain"]] + wanted["others"], zone_name)
            except cr.CertificateError as e:
                self.module.fail_json(msg=str(e))

        owned = self.owned(self.summaries(), wanted)
        same = [(c, t) for c, t in owned if cr.matches(c, wanted["domain"], wanted["others"], wanted["key_algorithm"])]
        same_arns = {c["CertificateArn"] for c, _t in same}
        for cert, _tags in owned:
            if cert["CertificateArn"] not in same_arns:
                self.module.warn(
                    f"certificate {cert['CertificateArn']} is also owned by name {wanted['name']!r} but has other "
                    "names or another key algorithm; it is left alone (delete it with state=absent once nothing uses it)"
                )
        chosen = cr.choose([c for c, _t in same])
        if same and chosen is None:
            reasons = "; ".join(cr.failure(c) for c, _t in same)
            self.module.fail_json(
                msg=f"{reasons}. Delete it (state=absent) and run again to request a new certificate.",
                certificate_arn=same[0][0]["CertificateArn"], status=same[0][0]["Status"],
            )
        current_tags = dict(next((t for c, t in same if c is chosen), {}))
        before = {"certificate": cr.summary(chosen, current_tags)}
        after_certificate = {
            "domain_name": wanted["domain"], "subject_alternative_names": wanted["others"],
            "key_algorithm": wanted["key_algorithm"],
        }

        if chosen is None:
            self.changed = True
            after_certificate["tags"] = dict(sorted(wanted["tags"].items()))
            if self.module.check_mode:
                diff = {"before": {}, "after": {"certificate": after_certificate, "validation_records": []}}
                return self.exit(None, {}, zone_id, [], diff)
            chosen = self.with_records(self.request(wanted), len(wanted["others"]) + 1, requested=True)
            tags = wanted["tags"]
        else:
            after_tags = self.retag(chosen["CertificateArn"], wanted["name"], current_tags)
            after_certificate["tags"] = dict(sorted(after_tags.items()))
            tags = current_tags if self.module.check_mode else after_tags
            if not cr.records_ready(chosen, len(wanted["others"]) + 1) and not self.module.check_mode:
                chosen = self.with_records(chosen["CertificateArn"], len(wanted["others"]) + 1)

        records = cr.validation_records(chosen)
        before_records, after_records = [], records
        if zone_id:
            existing = self.existing_records(zone_id, records)
            before_records = [r for r in records if cr.record_matches(existing.get(r["name"]), r)]
            self.publish(zone_id, records, existing)
        else:
            before_records = records
        diff = {
            "before": dict(before, validation_records=before_records) if before["certificate"] else {},
            "after": {"certificate": after_certificate, "validation_records": after_records},
        }
        if self.params["wait"] and not self.module.check_mode and chosen.get("Status") != "ISSUED":
            chosen = self.wait_issued(chosen)
        return self.exit(chosen, tags, zone_id, records, diff)

    def request(self, wanted):
        try:
            return acm.request_certificate(
                self.acm, wanted["domain"], wanted["others"], wanted["key_algorithm"], wanted["tags"]
            )
        except BOTO_ERRORS as e:
            self.fail(e, f"Could not request a certificate for {wanted['domain']}")

    def with_records(self, arn, names, requested=False):
        """The certificate's description once ACM has made up the validation record
        of each of its `names` domain names (seconds after RequestCertificate)."""

        def read():
            try:
                return acm.describe_certificate(self.acm, arn)
            except is_boto3_error_code("ResourceNotFoundException"):
                return None  # a new certificate is not visible at once
            except BOTO_ERRORS as e:  # pylint: disable=duplicate-except
                self.fail(e, f"Could not describe certificate {arn}")

        certificate, ready = cr.wait_until(
            read, lambda c: c is not None and cr.records_ready(c, names), RECORDS_TIMEOUT, self.clock, self.sleep
        )
        if not ready:
            self.module.fail_json(
                msg=f"certificate {arn} {'was requested, but ' if requested else ''}ACM did not describe its DNS "
                f"validation records within {RECORDS_TIMEOUT} s; run again to publish them",
                changed=self.changed, certificate_arn=arn,
            )
        return certificate

    def retag(self, arn, name, current):
        """Tags afterwards; AddTags/RemoveTags only for a difference (none in check mode)."""
        to_set, to_unset, after = cr.tag_changes(current, name, self.params["tags"], self.params["purge_tags"])
        if not (to_set or to_unset):
            return after
        self.changed = True
        if self.module.check_mode:
            return after
        try:
            if to_unset:
                acm.remove_tags(self.acm, arn, to_unset, current)
            if to_set:
                acm.add_tags(self.acm, arn, to_set)
        except BOTO_ERRORS as e:
            self.fail(e, f"Could not update the tags of certificate {arn}")
        return after

    def publish(self, zone_id, records, existing):
        """One UPSERT change for every validation record that is missing or different."""
        changes = cr.upserts(records, existing, self.params["validation_record_ttl"])
        if not changes:
            return
        self.changed = True
        self.records_changed = sorted(c["ResourceRecordSet"]["Name"] for c in changes)
        if self.module.check_mode:
            return
        try:
            route53.change_record_sets(self.route53, zone_id, changes, "ACM DNS validation (pocstack.aws.acm_certificate_request)")
        except BOTO_ERRORS as e:
            self.fail(e, f"Could not write the validation records {', '.join(self.records_changed)} into hosted zone {zone_id}")

    def wait_issued(self, certificate):
        arn = certificate["CertificateArn"]
        timeout = self.params["wait_timeout"]
        certificate, issued = cr.wait_until(
            lambda: self.describe(arn),
            lambda c: c.get("Status") == "ISSUED" or cr.failure(c) is not None,
            timeout, self.clock, self.sleep,
        )
        reason = cr.failure(certificate)
        if reason:
            self.module.fail_json(
                msg=f"{reason}. Delete it (state=absent) and run again to request a new certificate.",
                changed=self.changed, certificate_arn=arn, status=certificate["Status"],
                validation_records=cr.validation_records(certificate),
            )
        if not issued:
            records = ", ".join(f"{r['name']} CNAME {r['value']}" for r in cr.validation_records(certificate))
            self.module.fail_json(
                msg=f"certificate {arn} is still {certificate.get('Status')} after wait_timeout={timeout} s. ACM issues it "
                f"once these records resolve in public DNS: {records}. Check that the hosted zone is delegated "
                "(its NS records at the parent), then run again or raise wait_timeout.",
                changed=self.changed, certificate_arn=arn, status=certificate.get("Status"),
                validation_records=cr.validation_records(certificate),
            )
        return certificate

    # ------------------------------------------------------------ absent
    def absent(self, wanted):
        zone_id, _zone_name = self.zone(wanted)
        summaries = self.summaries()
        doomed = [
            (c, t) for c, t in self.owned(summaries, wanted)
            if wanted["domain"] is None or cr.matches(c, wanted["domain"], wanted["others"], wanted["key_algorithm"])
        ]
        doomed.sort(key=lambda ct: ct[0]["CertificateArn"])
        used = [c for c, _t in doomed if c.get("InUseBy")]
        if used:
            self.module.fail_json(
                msg="; ".join(f"certificate {c['CertificateArn']} is in use by {', '.join(sorted(c['InUseBy']))}" for c in used)
                + ". Nothing was deleted: stop using it first (switch or delete the listener), then run again.",
                in_use_by=sorted({u for c in used for u in c["InUseBy"]}),
            )
        arns = [c["CertificateArn"] for c, _t in doomed]
        records = []
        for cert, _t in doomed:
            records.extend(r for r in cr.validation_records(cert) if r not in records)
        records.sort(key=lambda r: r["name"])
        removals = []
        if zone_id and records and not self.params["keep_validation_records"]:
            needed = self.records_of_others(summaries, set(arns), records)
            mine = [r for r in records if (r["name"], r["value"]) not in needed]
            removals = cr.deletions(mine, self.existing_records(zone_id, mine))
        self.records_changed = sorted(change["ResourceRecordSet"]["Name"] for change in removals)
        self.changed = bool(arns or removals)
        diff = {
            "before": {"certificates": [dict(cr.summary(c, t), certificate_arn=c["CertificateArn"]) for c, t in doomed],
                       "validation_records": self.records_changed},
            "after": {"certificates": [], "validation_records": []},
        }
        if not self.module.check_mode:
            for arn in arns:
                try:
                    acm.delete_certificate(self.acm, arn)
                except is_boto3_error_code("ResourceNotFoundException"):
                    pass
                except is_boto3_error_code("ResourceInUseException") as e:  # pylint: disable=duplicate-except
                    self.fail(e, f"certificate {arn} came into use; stop using it first, then run again")
                except BOTO_ERRORS as e:  # pylint: disable=duplicate-except
                    self.fail(e, f"Could not delete certificate {arn}")
            if removals:
                try:
                    route53.change_record_sets(
                        self.route53, zone_id, removals, "ACM DNS validation removed (pocstack.aws.acm_certificate_request)"
                    )
                except BOTO_ERRORS as e:
                    self.fail(e, f"Could not delete the validation records {', '.join(self.records_changed)} "
                                 f"from hosted zone {zone_id}")
        result = self.result(None, {}, zone_id, records, diff)
        result["deleted_certificate_arns"] = arns
        self.module.exit_json(**result)

    def records_of_others(self, summaries, deleted, records):
        """Validation records (name, value) that certificates not being deleted still need:
        ACM gives every certificate of an account the same record for the same domain name."""
        names = {n for r in records for n in r["domain_names"]}
        needed = set()
        for summary in summaries:
            if summary["CertificateArn"] in deleted:
                continue
            cert_names = {summary.get("DomainName", "").lower()} | {
                n.lower() for n in summary.get("SubjectAlternativeNameSummaries", [])
            }
            if summary.get("HasAdditionalSubjectAlternativeNames") or cert_names & names:
                for record in cr.validation_records(self.describe(summary["CertificateArn"])):
                    needed.add((record["name"], record["value"]))
        return needed

    # ------------------------------------------------------------ result
    def result(self, certificate, tags, zone_id, records, diff):
        certificate = certificate or {}
        domain, others = cr.names_of(certificate) if certificate else ("", [])
        result = dict(
            changed=self.changed,
            certificate_arn=certificate.get("CertificateArn", ""),
            status=certificate.get("Status", ""),
            domain_name=domain,
            subject_alternative_names=others,
            key_algorithm=certificate.get("KeyAlgorithm", ""),
            in_use_by=sorted(certificate.get("InUseBy", [])),
            tags=dict(sorted(tags.items())),
            hosted_zone_id=zone_id or "",
            validation_records=records,
            records_changed=self.records_changed,
            deleted_certificate_arns=[],
        )
        if self.module._diff:
            result["diff"] = diff
        return result

    def exit(self, certificate, tags, zone_id, records, diff):
        self.module.exit_json(**self.result(certificate, tags, zone_id, records, diff))

    def run(self):
        wanted = self.validated()
        if self.params["state"] == "absent":
            return self.absent(wanted)
        return self.present(wanted)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            domain_name=dict(type="str", aliases=["domain"]),
            subject_alternative_names=dict(type="list", elements="str"),
            key_algorithm=dict(type="str", choices=list(cr.KEY_ALGORITHMS)),
            name=dict(type="str"),
            hosted_zone_id=dict(type="str"),
            hosted_zone_name=dict(type="str"),
            validation_record_ttl=dict(type="int", default=300),
            keep_validation_records=dict(type="bool", default=False),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=600),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        mutually_exclusive=[["hosted_zone_id", "hosted_zone_name"]],
        required_one_of=[["domain_name", "name"]],
        required_if=[["state", "present", ["domain_name"]]],
        supports_check_mode=True,
    )
    CertificateManager(module).run()


if __name__ == "__main__":
    main()
