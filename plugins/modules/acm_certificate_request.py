#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: acm_certificate_request
short_description: Request an ACM certificate with DNS validation
version_added: 0.2.0
description:
  - Requests a public certificate from AWS Certificate Manager (ACM) with DNS validation and returns the
    validation CNAME records ACM wants to see in DNS (RV(validation_records)). Publish them with
    M(amazon.aws.route53) and wait for C(ISSUED) with M(community.aws.acm_certificate_info) and C(until), as the
    role C(pocstack.aws.alb_tls) does.
  - The certificate is identified by O(name), kept in the tag C(pocstack:certificate-name) that this
    module owns, together with its domain names (O(domain_name) and O(subject_alternative_names), order
    and case ignored) and O(key_algorithm). A run that finds that certificate changes nothing; certificates
    without the tag are never changed. ACM cannot change the names of a certificate, so other names or
    another key algorithm mean a new certificate; the old one is left alone (a warning names it when it has
    the same O(domain_name)) and O(state=absent) with only O(name) deletes every certificate of that name.
  - A record that several names share (V(example.com) and V(*.example.com)) is returned once. Right after the
    request, the module waits (up to 120 s) until ACM describes the record of every name.
  - O(state=absent) deletes the certificate, and refuses while a load balancer or another service uses it;
    RV(validation_records) then lists the records the deleted certificates had, for removal from DNS.
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
  state:
    description: Whether the certificate should exist.
    type: str
    choices: [present, absent]
    default: present
author:
  - pocstack.aws maintainers (@pocstack)
notes:
  - Written because M(community.aws.acm_certificate) only imports certificates, and nothing in amazon.aws or
    community.aws requests an ACM certificate (C(RequestCertificate)); finding, describing and tagging go through
    amazon.aws's ACM helpers.
  - In check mode a certificate that does not exist yet has no validation records to show; ACM makes them
    up when it is requested.
  - A certificate owned by O(name) that ACM reports as C(FAILED), C(VALIDATION_TIMED_OUT), C(REVOKED),
    C(EXPIRED) or C(INACTIVE) makes the module fail with the reason; delete it (O(state=absent)) and run
    again to request a new one.
  - ACM validates through public DNS; the records must be in a public hosted zone delegated from its parent
    domain, or the certificate stays C(PENDING_VALIDATION).
  - The tag C(pocstack:certificate-name) is always set to O(name) and never purged; O(tags) must not give it
    another value.
  - "IAM actions used: C(acm:ListCertificates), C(acm:DescribeCertificate), C(acm:GetCertificate),
    C(acm:ListTagsForCertificate), C(acm:RequestCertificate), C(acm:AddTagsToCertificate),
    C(acm:RemoveTagsFromCertificate), C(acm:DeleteCertificate)."
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
    description: No call that changes anything is made (no request, tag or deletion) and nothing is waited
      for. C(changed) and C(deleted_certificate_arns) are what a real run would report; a
      certificate that would be requested has no ARN and no validation records yet.
  diff_mode:
    support: partial
    description: Sorted before/after of the certificate (domain names, key algorithm, tags); with O(state=absent),
      the certificates deleted.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Certificate for the plotly PoC
  pocstack.aws.acm_certificate_request:
    domain_name: plotly.poc.example.com
  register: plotly_certificate

- name: Its validation records in the public zone poc.example.com
  amazon.aws.route53:
    zone: poc.example.com
    private_zone: false
    record: "{{ item.name }}"
    type: "{{ item.type }}"
    value: "{{ item.value }}"
    ttl: 300
    overwrite: true
    state: present
  loop: "{{ plotly_certificate.validation_records }}"

- name: Wait until ACM has issued it (up to 600 s)
  community.aws.acm_certificate_info:
    certificate_arn: "{{ plotly_certificate.certificate_arn }}"
  register: plotly_issued
  until: plotly_issued.certificates[0].status != 'PENDING_VALIDATION'
  retries: 120
  delay: 5
  failed_when: plotly_issued.certificates[0].status not in ['ISSUED', 'PENDING_VALIDATION']

- name: One certificate for the zone apex and every host below it, EC key, tagged
  pocstack.aws.acm_certificate_request:
    name: poc-wildcard
    domain_name: poc.example.com
    subject_alternative_names: ["*.poc.example.com"]
    key_algorithm: EC_prime256v1
    tags:
      pocstack:managed-by: pocstack.aws

- name: Delete the certificate (its validation records are returned, for removal from DNS)
  pocstack.aws.acm_certificate_request:
    domain_name: plotly.poc.example.com
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
deleted_certificate_arns:
  description: ARNs of the certificates deleted (or that would be, in check mode) with O(state=absent).
  returned: always
  type: list
  elements: str
  sample: []
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
    from botocore.exceptions import WaiterError
    from botocore.waiter import WaiterModel
    from botocore.waiter import create_waiter_with_client
except ImportError:
    pass  # AnsibleAWSModule reports the missing botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.acm import ACMServiceManager
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.pocstack.aws.plugins.module_utils import certificate_requests as cr

# Right after RequestCertificate ACM needs a few seconds before it describes the
# validation records (and, rarely, the certificate itself): botocore has no
# waiter for that, so here is one in its format (60 polls 2 s apart).
RECORDS_TIMEOUT = 120
RECORDS_WAITER = {
    "version": 2,
    "waiters": {
        "ValidationRecordsDescribed": {
            "operation": "DescribeCertificate",
            "delay": 2,
            "maxAttempts": RECORDS_TIMEOUT // 2,
            "acceptors": [
                {
                    "state": "success", "matcher": "path", "expected": True,
                    "argument": "length(Certificate.DomainValidationOptions[?ResourceRecord])"
                    " >= length(Certificate.SubjectAlternativeNames)",
                },
                {"state": "retry", "matcher": "error", "expected": "ResourceNotFoundException"},
            ],
        }
    },
}


class CertificateRequest:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.acm = ACMServiceManager(module)
        self.client = module.client("acm", retry_decorator=AWSRetry.jittered_backoff())
        self.changed = False

    def validated(self):
        """Everything that can be checked without AWS, or fail_json naming the option."""
        p = self.params
        try:
            domain, others = None, None
            if p["domain_name"] is not None:
                domain, others = cr.desired_names(p["domain_name"], p["subject_alternative_names"])
                if p["subject_alternative_names"] is None and p["state"] == "absent":
                    others = None
            key_algorithm = p["key_algorithm"] or ("RSA_2048" if p["state"] == "present" else None)
            name = p["name"] or cr.default_name(domain)
            if not name or not str(name).strip():
                raise cr.CertificateError("name: must not be empty")
            tags = cr.validate_tags(name, p["tags"])
        except cr.CertificateError as e:
            self.module.fail_json(msg=str(e))
        return {"domain": domain, "others": others, "key_algorithm": key_algorithm, "name": name, "tags": tags}

    def owned(self, wanted):
        """The certificates owned by the name whose domain name is the wanted one (any, when none is given),
        described and with their tags."""
        return self.acm.get_certificates(domain_name=wanted["domain"], only_tags={cr.OWNER_TAG: wanted["name"]})

    # ------------------------------------------------------------ present
    def present(self, wanted):
        owned = self.owned(wanted)
        same = [c for c in owned if cr.matches(c, wanted["domain"], wanted["others"], wanted["key_algorithm"])]
        for cert in owned:
            if cert not in same:
                self.module.warn(
                    f"certificate {cert['certificate_arn']} is also owned by name {wanted['name']!r} but has other "
                    "names or another key algorithm; it is left alone (delete it with state=absent once nothing uses it)"
                )
        chosen = cr.choose(same)
        if same and chosen is None:
            reasons = "; ".join(cr.failure(c) for c in same)
            self.module.fail_json(
                msg=f"{reasons}. Delete it (state=absent) and run again to request a new certificate.",
                certificate_arn=same[0]["certificate_arn"], status=same[0]["status"],
            )
        after_tags = wanted["tags"] if chosen is None else self.retag(chosen["certificate_arn"], wanted["name"], chosen["tags"])
        diff = {"before": cr.summary(chosen), "after": {
            "domain_name": wanted["domain"], "subject_alternative_names": wanted["others"],
            "key_algorithm": wanted["key_algorithm"], "tags": dict(sorted(after_tags.items())),
        }}
        if chosen is None:
            self.changed = True
            if self.module.check_mode:
                return self.exit(None, diff)
            chosen = self.with_records(self.request(wanted), after_tags, requested=True)
        elif not self.module.check_mode:
            chosen["tags"] = after_tags
            if not cr.records_ready(chosen):
                chosen = self.with_records(chosen["certificate_arn"], after_tags)
        return self.exit(chosen, diff)

    def request(self, wanted):
        kwargs = {"SubjectAlternativeNames": wanted["others"]} if wanted["others"] else {}
        try:
            return self.client.request_certificate(
                DomainName=wanted["domain"], ValidationMethod="DNS", KeyAlgorithm=wanted["key_algorithm"],
                Tags=ansible_dict_to_boto3_tag_list(wanted["tags"]), aws_retry=True, **kwargs,
            )["CertificateArn"]
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Could not request a certificate for {wanted['domain']}")

    def with_records(self, arn, tags, requested=False):
        """The certificate once ACM has made up the validation record of each of its domain names."""
        waiter = create_waiter_with_client("ValidationRecordsDescribed", WaiterModel(RECORDS_WAITER), self.client)
        try:
            waiter.wait(CertificateArn=arn)
        except WaiterError as e:
            self.module.fail_json(
                msg=f"certificate {arn} {'was requested, but ' if requested else ''}ACM did not describe its DNS "
                f"validation records within {RECORDS_TIMEOUT} s ({e}); run again",
                changed=self.changed, certificate_arn=arn,
            )
        error = f"Could not describe certificate {arn}"
        certificate = self.acm.describe_certificate_with_backoff(arn, module=self.module, error=error)
        return dict(camel_dict_to_snake_dict(certificate), tags=tags)

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
                # RemoveTagsFromCertificate removes a key only when the value given matches too.
                unset = ansible_dict_to_boto3_tag_list({k: current[k] for k in to_unset})
                self.client.remove_tags_from_certificate(CertificateArn=arn, Tags=unset, aws_retry=True)
            if to_set:
                self.acm.tag_certificate_with_backoff(arn, to_set)
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Could not update the tags of certificate {arn}")
        return after

    # ------------------------------------------------------------ absent
    def absent(self, wanted):
        doomed = sorted(
            (c for c in self.owned(wanted)
             if wanted["domain"] is None or cr.matches(c, wanted["domain"], wanted["others"], wanted["key_algorithm"])),
            key=lambda c: c["certificate_arn"],
        )
        used = [c for c in doomed if c.get("in_use_by")]
        if used:
            self.module.fail_json(
                msg="; ".join(f"certificate {c['certificate_arn']} is in use by {', '.join(sorted(c['in_use_by']))}"
                              for c in used)
                + ". Nothing was deleted: stop using it first (switch or delete the listener), then run again.",
                in_use_by=sorted({u for c in used for u in c["in_use_by"]}),
            )
        arns = [c["certificate_arn"] for c in doomed]
        records = []
        for cert in doomed:
            records.extend(r for r in cr.validation_records(cert) if r not in records)
        self.changed = bool(arns)
        if not self.module.check_mode:
            for arn in arns:
                self.acm.delete_certificate_with_backoff(
                    arn, module=self.module, error=f"Could not delete certificate {arn}",
                    ignore_error_codes=["ResourceNotFoundException"],
                )
        diff = {"before": {"certificates": [dict(cr.summary(c), certificate_arn=c["certificate_arn"]) for c in doomed]},
                "after": {"certificates": []}}
        self.exit(None, diff, validation_records=sorted(records, key=lambda r: r["name"]), deleted_certificate_arns=arns)

    def exit(self, certificate, diff, **extra):
        certificate = certificate or {}
        domain, others = cr.names_of(certificate) if certificate else ("", [])
        result = dict(
            changed=self.changed,
            certificate_arn=certificate.get("certificate_arn", ""),
            status=certificate.get("status", ""),
            domain_name=domain,
            subject_alternative_names=others,
            key_algorithm=certificate.get("key_algorithm", ""),
            in_use_by=sorted(certificate.get("in_use_by", [])),
            tags=dict(sorted(certificate.get("tags", {}).items())),
            validation_records=cr.validation_records(certificate),
            deleted_certificate_arns=[],
        )
        result.update(extra)
        if self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)

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
            state=dict(type="str", choices=["present", "absent"], default="present"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
        ),
        required_one_of=[["domain_name", "name"]],
        required_if=[["state", "present", ["domain_name"]]],
        supports_check_mode=True,
    )
    CertificateRequest(module).run()


if __name__ == "__main__":
    main()
