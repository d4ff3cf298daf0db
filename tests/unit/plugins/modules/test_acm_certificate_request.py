"""acm_certificate_request flows against recorded ACM and Route 53 responses (botocore Stubber, no network).

Each test queues exactly the calls AWS should see, in order; a call that is not
queued (a write in check mode, a second request) fails the test. The clock is a
fake that moves only when the module sleeps.
"""
import datetime

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import Stubber

from ansible_collections.pocstack.aws.plugins.module_utils import certificate_requests as cr
from ansible_collections.pocstack.aws.plugins.modules import acm_certificate_request as module
from fake_clock import FakeClock
from fake_module import Exited
from fake_module import FakeModule

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
ARN2 = "arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000"
ZONE = "Z0123456789ABCDEFGHIJ"
ALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pocstack/50dc6c495c0c9188"
DOMAIN = "plotly.poc.example.com"
VALUE = "_c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws."
KEY_TYPES = {"keyTypes": list(cr.ALL_KEY_TYPES)}
OWNED = {cr.OWNER_TAG: DOMAIN}
CREATED = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def params(**overrides):
    base = {
        "domain_name": DOMAIN, "subject_alternative_names": None, "key_algorithm": None, "name": None,
        "hosted_zone_id": None, "hosted_zone_name": "poc.example.com", "validation_record_ttl": 300,
        "keep_validation_records": False, "wait": True, "wait_timeout": 600, "state": "present",
        "tags": None, "purge_tags": True,
    }
    base.update(overrides)
    return base


@pytest.fixture
def aws():
    kw = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    acm, route53 = boto3.client("acm", **kw), boto3.client("route53", **kw)
    with Stubber(acm) as acm_stub, Stubber(route53) as r53_stub:
        yield {"acm": acm, "route53": route53, "acm_stub": acm_stub, "r53_stub": r53_stub, "clock": FakeClock()}
        acm_stub.assert_no_pending_responses()
        r53_stub.assert_no_pending_responses()


def run(aws, check_mode=False, diff=True, **overrides):
    mgr = module.CertificateManager.__new__(module.CertificateManager)
    mgr.module = FakeModule(params(**overrides), check_mode=check_mode, diff=diff)
    mgr.params = mgr.module.params
    mgr.acm = RetryingBotoClientWrapper(aws["acm"], AWSRetry.jittered_backoff())
    mgr.route53 = RetryingBotoClientWrapper(aws["route53"], AWSRetry.jittered_backoff())
    mgr.clock, mgr.sleep = aws["clock"], aws["clock"].sleep
    mgr.changed, mgr.records_changed = False, []
    with pytest.raises(Exited):
        mgr.run()
    mgr.module.result["warnings"] = mgr.module.warnings
    return mgr.module.result


# ------------------------------------------------------------------ responses
def option(domain, status="PENDING_VALIDATION", record=True):
    base = domain[2:] if domain.startswith("*.") else domain
    found = {"DomainName": domain, "ValidationDomain": domain, "ValidationStatus": status, "ValidationMethod": "DNS"}
    if record:
        found["ResourceRecord"] = {"Name": f"_x1.{base}.", "Type": "CNAME", "Value": VALUE}
    return found


def certificate(arn=ARN, domain=DOMAIN, sans=(), status="ISSUED", key="RSA_2048", records=True, in_use=(), **extra):
    names = [domain] + [s for s in sans if s != domain]
    validation = "SUCCESS" if status == "ISSUED" else status
    return {
        "CertificateArn": arn, "DomainName": domain, "SubjectAlternativeNames": names, "KeyAlgorithm": key,
        "Status": status, "Type": "AMAZON_ISSUED", "InUseBy": list(in_use), "CreatedAt": CREATED,
        "DomainValidationOptions": [option(n, validation, records) for n in names], **extra,
    }


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def zone_by_name(aws, private=False, count=1, name="poc.example.com."):
    zones = [{"Id": f"/hostedzone/{ZONE}{i or ''}", "Name": name, "CallerReference": f"r{i}",
              "Config": {"PrivateZone": private}} for i in range(count)]
    aws["r53_stub"].add_response("list_hosted_zones_by_name", {
        "HostedZones": zones, "IsTruncated": False, "MaxItems": "100"}, {"DNSName": "poc.example.com."})


def listed(aws, *certs):
    aws["acm_stub"].add_response("list_certificates", {"CertificateSummaryList": [
        {"CertificateArn": c["CertificateArn"], "DomainName": c["DomainName"],
         "SubjectAlternativeNameSummaries": c["SubjectAlternativeNames"]} for c in certs]},
        {"Includes": KEY_TYPES})


def tags_are(aws, arn, tags):
    aws["acm_stub"].add_response("list_tags_for_certificate", {"Tags": tag_list(tags)}, {"CertificateArn": arn})


def described(aws, cert):
    aws["acm_stub"].add_response("describe_certificate", {"Certificate": cert}, {"CertificateArn": cert["CertificateArn"]})


def owned(aws, cert, tags=None):
    tags_are(aws, cert["CertificateArn"], OWNED if tags is None else tags)
    described(aws, cert)


def record_sets(aws, name, found=None):
    aws["r53_stub"].add_response("list_resource_record_sets", {
        "ResourceRecordSets": [found] if found else [], "IsTruncated": False, "MaxItems": "1"},
        {"HostedZoneId": ZONE, "StartRecordName": name, "StartRecordType": "CNAME", "MaxItems": "1"})


def cname(name, value=VALUE, ttl=300):
    return {"Name": name, "Type": "CNAME", "TTL": ttl, "ResourceRecords": [{"Value": value}]}


def changed_records(aws, changes, comment="ACM DNS validation (pocstack.aws.acm_certificate_request)"):
    aws["r53_stub"].add_response("change_resource_record_sets", {
        "ChangeInfo": {"Id": "/change/C1", "Status": "PENDING", "SubmittedAt": CREATED}},
        {"HostedZoneId": ZONE, "ChangeBatch": {"Comment": comment, "Changes": changes}})


def upsert(name, ttl=300):
    return {"Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": "CNAME", "TTL": ttl,
                                                      "ResourceRecords": [{"Value": VALUE}]}}


# ------------------------------------------------------------------ present
def test_request_publish_and_wait_until_issued(aws):
    sans = ["*.poc.example.com", "poc.example.com"]
    zone_by_name(aws)
    listed(aws)
    aws["acm_stub"].add_response("request_certificate", {"CertificateArn": ARN}, {
        "DomainName": DOMAIN, "ValidationMethod": "DNS", "KeyAlgorithm": "RSA_2048",
        "Tags": tag_list({"team": "poc", **OWNED}), "SubjectAlternativeNames": sans})
    # ACM needs a moment: first not found, then without records, then with them
    aws["acm_stub"].add_client_error("describe_certificate", "ResourceNotFoundException", expected_params={"CertificateArn": ARN})
    described(aws, certificate(sans=sans, status="PENDING_VALIDATION", records=False))
    described(aws, certificate(sans=sans, status="PENDING_VALIDATION"))
    record_sets(aws, "_x1.plotly.poc.example.com.")
    record_sets(aws, "_x1.poc.example.com.")
    # one change for both records; *.poc.example.com and poc.example.com share one
    changed_records(aws, [upsert("_x1.plotly.poc.example.com."), upsert("_x1.poc.example.com.")])
    described(aws, certificate(sans=sans, status="PENDING_VALIDATION"))
    described(aws, certificate(sans=sans, status="PENDING_VALIDATION"))
    described(aws, certificate(sans=sans))

    result = run(aws, subject_alternative_names=["poc.example.com", "*.poc.example.com", DOMAIN.upper()],
                 tags={"team": "poc"})
    assert result["changed"] and not result.get("failed")
    assert result["certificate_arn"] == ARN and result["status"] == "ISSUED"
    assert result["hosted_zone_id"] == ZONE
    assert result["subject_alternative_names"] == sans and result["key_algorithm"] == "RSA_2048"
    assert result["records_changed"] == ["_x1.plotly.poc.example.com.", "_x1.poc.example.com."]
    assert result["tags"] == {"team": "poc", **OWNED}
    assert [r["domain_names"] for r in result["validation_records"]] == [[DOMAIN], sans]
    assert aws["clock"].sleeps == [1, 2, 1, 2]  # records: two polls; issue: two polls
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["certificate"] == {
        "domain_name": DOMAIN, "subject_alternative_names": sans, "key_algorithm": "RSA_2048",
        "tags": {cr.OWNER_TAG: DOMAIN, "team": "poc"}}


def test_found_again_in_any_san_order_changes_nothing(aws):
    sans = ["poc.example.com", "*.poc.example.com"]
    zone_by_name(aws)
    listed(aws, certificate(sans=sans))
    owned(aws, certificate(sans=sans))
    record_sets(aws, "_x1.plotly.poc.example.com.", cname("_x1.plotly.poc.example.com."))
    record_sets(aws, "_x1.poc.example.com.", cname("_x1.poc.example.com.", ttl=60))  # another TTL: kept
    result = run(aws, subject_alternative_names=["*.poc.example.com", "poc.example.com"])
    assert not result["changed"] and result["certificate_arn"] == ARN and result["status"] == "ISSUED"
    assert result["records_changed"] == [] and result["tags"] == OWNED
    assert result["diff"]["before"] == result["diff"]["after"]
    assert aws["clock"].sleeps == []


def test_missing_record_is_written_again_alone(aws):
    zone_by_name(aws)
    sans = ["www.poc.example.com"]
    listed(aws, certificate(sans=sans))
    owned(aws, certificate(sans=sans))
    record_sets(aws, "_x1.plotly.poc.example.com.", cname("_x1.plotly.poc.example.com."))
    record_sets(aws, "_x1.www.poc.example.com.", cname("_x1.www.poc.example.com.", value="_stale.example.com."))
    changed_records(aws, [upsert("_x1.www.poc.example.com.", ttl=120)])
    result = run(aws, subject_alternative_names=sans, validation_record_ttl=120)
    assert result["changed"] and result["records_changed"] == ["_x1.www.poc.example.com."]
    assert [r["name"] for r in result["diff"]["before"]["validation_records"]] == ["_x1.plotly.poc.example.com."]


def test_certificates_not_owned_or_for_other_names_are_left_alone(aws):
    zone_by_name(aws)
    theirs = certificate(arn="arn:aws:acm:us-east-1:123456789012:certificate/theirs")
    older = certificate(arn=ARN2, sans=["old.poc.example.com"])
    listed(aws, theirs, older, certificate(arn="arn:aws:acm:us-east-1:123456789012:certificate/x", domain="other.org"))
    tags_are(aws, theirs["CertificateArn"], {"Name": "by hand"})  # no owner tag: never described
    owned(aws, older)
    aws["acm_stub"].add_response("request_certificate", {"CertificateArn": ARN}, {
        "DomainName": DOMAIN, "ValidationMethod": "DNS", "KeyAlgorithm": "EC_prime256v1", "Tags": tag_list(OWNED)})
    described(aws, certificate(status="PENDING_VALIDATION", key="EC_prime256v1"))
    record_sets(aws, "_x1.plotly.poc.example.com.")
    changed_records(aws, [upsert("_x1.plotly.poc.example.com.")])
    result = run(aws, key_algorithm="EC_prime256v1", wait=False)
    assert result["changed"] and result["status"] == "PENDING_VALIDATION" and result["key_algorithm"] == "EC_prime256v1"
    assert len(result["warnings"]) == 1 and ARN2 in result["warnings"][0] and "left alone" in result["warnings"][0]


def test_an_issued_duplicate_wins_over_a_pending_one(aws):
    zone_by_name(aws)
    pending, issued = certificate(status="PENDING_VALIDATION"), certificate(arn=ARN2)
    listed(aws, pending, issued)
    owned(aws, pending)
    owned(aws, issued)
    record_sets(aws, "_x1.plotly.poc.example.com.", cname("_x1.plotly.poc.example.com."))
    result = run(aws)
    assert not result["changed"] and result["certificate_arn"] == ARN2


def test_tags_are_updated_and_purged_but_the_owner_tag_stays(aws):
    zone_by_name(aws)
    listed(aws, certificate())
    owned(aws, certificate(), {**OWNED, "old": "1", "team": "x"})
    aws["acm_stub"].add_response("remove_tags_from_certificate", {}, {
        "CertificateArn": ARN, "Tags": [{"Key": "old", "Value": "1"}]})
    aws["acm_stub"].add_response("add_tags_to_certificate", {}, {
        "CertificateArn": ARN, "Tags": [{"Key": "team", "Value": "poc"}]})
    record_sets(aws, "_x1.plotly.poc.example.com.", cname("_x1.plotly.poc.example.com."))
    result = run(aws, tags={"team": "poc"})
    assert result["changed"] and result["tags"] == {**OWNED, "team": "poc"}
    assert result["diff"]["before"]["certificate"]["tags"] == {**OWNED, "old": "1", "team": "x"}


@pytest.mark.parametrize("ends, reason, message", [
    ("FAILED", "CAA_ERROR", f"certificate {ARN} is FAILED (reason: CAA_ERROR); domains: {DOMAIN}: FAILED"),
    ("VALIDATION_TIMED_OUT", None, f"certificate {ARN} is VALIDATION_TIMED_OUT; domains: {DOMAIN}: VALIDATION_TIMED_OUT"),
])
def test_wait_fails_with_acms_reason(aws, ends, reason, message):
    zone_by_name(aws)
    listed(aws, certificate(status="PENDING_VALIDATION"))
    owned(aws, certificate(status="PENDING_VALIDATION"))
    record_sets(aws, "_x1.plotly.poc.example.com.", cname("_x1.plotly.poc.example.com."))
    described(aws, certificate(status="PENDING_VALIDATION"))
    described(aws, certificate(status=ends, **({"FailureReason": reason} if reason else {})))
    result = run(aws)
    assert result["failed"] and result["status"] == ends and result["certificate_arn"] == ARN
    assert message in result["msg"] and "Delete it (state=absent) and run again" in result["msg"]
    assert aws["clock"].sleeps == [1]


def test_wait_times_out_after_wait_timeout_on_the_clock(aws):
    zone_by_name(aws)
    listed(aws, certificate(status="PENDING_VALIDATION"))
    owned(aws, certificate(status="PENDING_VALIDATION"))
    record_sets(aws, "_x1.plotly.poc.example.com.", cname("_x1.plotly.poc.example.com."))
    for _ in range(6):  # t = 0, 1, 3, 7, 15, 30
        described(aws, certificate(status="PENDING_VALIDATION"))
    result = run(aws, wait_timeout=30)
    assert result["failed"] and not result["changed"]
    assert result["msg"].startswith(f"certificate {ARN} is still PENDING_VALIDATION after wait_timeout=30 s")
    assert f"_x1.plotly.poc.example.com. CNAME {VALUE}" in result["msg"]
    assert aws["clock"].now == 30 and aws["clock"].sleeps == [1, 2, 4, 8, 15]


def test_wait_false_returns_the_pending_certificate(aws):
    zone_by_name(aws)
    listed(aws, certificate(status="PENDING_VALIDATION"))
    owned(aws, certificate(status="PENDING_VALIDATION"))
    record_sets(aws, "_x1.plotly.poc.example.com.", cname("_x1.plotly.poc.example.com."))
    result = run(aws, wait=False)
    assert not result["changed"] and result["status"] == "PENDING_VALIDATION" and aws["clock"].sleeps == []


def test_records_never_described_after_a_request(aws):
    zone_by_name(aws)
    listed(aws)
    aws["acm_stub"].add_response("request_certificate", {"CertificateArn": ARN}, {
        "DomainName": DOMAIN, "ValidationMethod": "DNS", "KeyAlgorithm": "RSA_2048", "Tags": tag_list(OWNED)})
    for _ in range(12):  # 0 1 3 7 15 30 45 60 75 90 105 120
        described(aws, certificate(status="PENDING_VALIDATION", records=False))
    result = run(aws)
    assert result["failed"] and result["changed"] and result["certificate_arn"] == ARN
    assert "was requested, but ACM did not describe its DNS validation records within 120 s" in result["msg"]


@pytest.mark.parametrize("status", ["FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED"])
def test_an_unusable_owned_certificate_is_reported_not_replaced(aws, status):
    zone_by_name(aws)
    listed(aws, certificate(status=status))
    owned(aws, certificate(status=status, FailureReason="DOMAIN_VALIDATION_DENIED"))
    result = run(aws)
    assert result["failed"] and result["status"] == status
    assert f"is {status} (reason: DOMAIN_VALIDATION_DENIED)" in result["msg"] and "state=absent" in result["msg"]


def test_without_a_zone_the_records_are_only_returned(aws):
    listed(aws, certificate(status="PENDING_VALIDATION"))
    owned(aws, certificate(status="PENDING_VALIDATION"))
    result = run(aws, hosted_zone_name=None, wait=False)
    assert not result["changed"] and result["hosted_zone_id"] == ""
    assert result["validation_records"][0]["name"] == "_x1.plotly.poc.example.com."


# ------------------------------------------------------------------ check mode
def test_check_mode_requests_nothing(aws):
    zone_by_name(aws)
    listed(aws)
    result = run(aws, check_mode=True, tags={"team": "poc"})
    assert result["changed"] and result["certificate_arn"] == "" and result["validation_records"] == []
    assert result["diff"] == {"before": {}, "after": {"certificate": {
        "domain_name": DOMAIN, "subject_alternative_names": [], "key_algorithm": "RSA_2048",
        "tags": {cr.OWNER_TAG: DOMAIN, "team": "poc"}}, "validation_records": []}}


def test_check_mode_writes_no_record_no_tag_and_does_not_wait(aws):
    zone_by_name(aws)
    listed(aws, certificate(status="PENDING_VALIDATION"))
    owned(aws, certificate(status="PENDING_VALIDATION"))
    record_sets(aws, "_x1.plotly.poc.example.com.")
    result = run(aws, check_mode=True, tags={"team": "poc"})
    assert result["changed"] and result["records_changed"] == ["_x1.plotly.poc.example.com."]
    assert result["tags"] == OWNED  # as it is: nothing was written
    assert result["diff"]["after"]["certificate"]["tags"] == {**OWNED, "team": "poc"}
    assert aws["clock"].sleeps == []


# ------------------------------------------------------------------ zones
def test_zone_by_id_must_be_public(aws):
    aws["r53_stub"].add_response("get_hosted_zone", {"HostedZone": {
        "Id": f"/hostedzone/{ZONE}", "Name": "poc.example.com.", "CallerReference": "r",
        "Config": {"PrivateZone": True}}, "DelegationSet": {"NameServers": ["ns"]}}, {"Id": ZONE})
    result = run(aws, hosted_zone_name=None, hosted_zone_id=f"/hostedzone/{ZONE}")
    assert result["failed"] and "is a private zone; ACM validates through public DNS" in result["msg"]


def test_zone_by_id_not_found(aws):
    aws["r53_stub"].add_client_error("get_hosted_zone", "NoSuchHostedZone", expected_params={"Id": ZONE})
    result = run(aws, hosted_zone_name=None, hosted_zone_id=ZONE)
    assert result["failed"] and result["msg"] == f"hosted_zone_id: no hosted zone {ZONE}; create it first or fix the ID"


@pytest.mark.parametrize("private, count, name, fragment", [
    (False, 0, "poc.example.com.", "hosted_zone_name: no public hosted zone named 'poc.example.com'"),
    (True, 1, "poc.example.com.", "(only private ones; ACM validates through public DNS)"),
    (False, 2, "poc.example.com.", f"2 public hosted zones are named 'poc.example.com' ({ZONE}, {ZONE}1); give hosted_zone_id"),
    (False, 1, "x.poc.example.com.", "no public hosted zone named 'poc.example.com'"),  # the next name is not a match
])
def test_zone_by_name_must_be_one_public_zone(aws, private, count, name, fragment):
    zone_by_name(aws, private=private, count=count, name=name)
    result = run(aws)
    assert result["failed"] and fragment in result["msg"]


def test_names_outside_the_zone_fail_before_any_acm_call(aws):
    zone_by_name(aws)
    result = run(aws, subject_alternative_names=["plotly.example.org", "*.example.com"])
    assert result["failed"]
    assert result["msg"].startswith("hosted zone 'poc.example.com' cannot hold the validation records of "
                                    "*.example.com, plotly.example.org")


# ------------------------------------------------------------------ validation (no call at all)
@pytest.mark.parametrize("overrides, message", [
    ({"domain_name": "plotly_poc.example.com"}, "domain_name='plotly_poc.example.com': label 'plotly_poc' is not valid"),
    ({"domain_name": "plotly.*.example.com"}, "a wildcard is allowed only as the whole first label"),
    ({"domain_name": "a" * 60 + ".example.com"}, "has 72 characters; at most 64 are allowed"),
    ({"domain_name": "poc"}, "domain_name='poc' is not a fully qualified domain name"),
    ({"subject_alternative_names": ["ok.poc.example.com", "x..poc.example.com"]}, "subject_alternative_names[1]="),
    ({"subject_alternative_names": [f"h{i}.poc.example.com" for i in range(100)]}, "101 names with domain_name"),
    ({"tags": {cr.OWNER_TAG: "someone-else"}}, "tags: pocstack:certificate-name is set by this module from name"),
    ({"tags": {"aws:x": "1"}}, "tags: key 'aws:x' uses the prefix aws:"),
    ({"name": "  "}, "name: must not be empty"),
    ({"hosted_zone_name": None, "hosted_zone_id": "zone-1"}, "hosted_zone_id='zone-1' is not a Route 53 hosted zone ID"),
    ({"hosted_zone_name": "poc_zone.example.com"}, "hosted_zone_name='poc_zone.example.com'"),
    ({"wait_timeout": 0}, "wait_timeout=0 is out of range; allowed: 1-7200"),
    ({"validation_record_ttl": -5}, "validation_record_ttl=-5 is out of range; allowed: 0-2147483647"),
    ({"state": "absent", "domain_name": "bad host.example.com"}, "domain_name='bad host.example.com'"),
])
def test_bad_options_fail_before_any_call(aws, overrides, message):
    result = run(aws, **overrides)  # nothing queued: any AWS call would fail the test
    assert result["failed"] and message in result["msg"], result["msg"]


# ------------------------------------------------------------------ absent
def test_absent_refuses_while_in_use_and_deletes_nothing(aws):
    zone_by_name(aws)
    used = certificate(in_use=[ALB])
    listed(aws, used)
    owned(aws, used)
    result = run(aws, state="absent")
    assert result["failed"] and result["in_use_by"] == [ALB]
    assert result["msg"] == (f"certificate {ARN} is in use by {ALB}. Nothing was deleted: stop using it first "
                             "(switch or delete the listener), then run again.")


def test_absent_deletes_the_certificate_then_its_records_but_not_shared_ones(aws):
    sans = ["www.poc.example.com"]
    mine = certificate(sans=sans)
    sibling = certificate(arn=ARN2, domain="www.poc.example.com")  # same account, same domain: same record
    zone_by_name(aws)
    listed(aws, mine, sibling)
    owned(aws, mine)
    described(aws, sibling)  # needs _x1.www...: that record stays
    found = cname("_x1.plotly.poc.example.com.", ttl=60)
    record_sets(aws, "_x1.plotly.poc.example.com.", found)
    aws["acm_stub"].add_response("delete_certificate", {}, {"CertificateArn": ARN})
    changed_records(aws, [{"Action": "DELETE", "ResourceRecordSet": found}],
                    comment="ACM DNS validation removed (pocstack.aws.acm_certificate_request)")
    result = run(aws, state="absent", subject_alternative_names=sans)
    assert result["changed"] and result["deleted_certificate_arns"] == [ARN]
    assert result["records_changed"] == ["_x1.plotly.poc.example.com."]
    assert result["certificate_arn"] == "" and result["status"] == ""
    assert result["diff"]["before"]["validation_records"] == ["_x1.plotly.poc.example.com."]
    assert result["diff"]["after"] == {"certificates": [], "validation_records": []}


def test_absent_keeps_records_when_told(aws):
    zone_by_name(aws)
    listed(aws, certificate())
    owned(aws, certificate())
    aws["acm_stub"].add_response("delete_certificate", {}, {"CertificateArn": ARN})
    result = run(aws, state="absent", keep_validation_records=True)
    assert result["changed"] and result["records_changed"] == []


def test_absent_by_name_alone_deletes_every_certificate_it_owns(aws):
    listed(aws, certificate(), certificate(arn=ARN2, domain="old.poc.example.com"))
    owned(aws, certificate(), {cr.OWNER_TAG: "plotly"})
    owned(aws, certificate(arn=ARN2, domain="old.poc.example.com"), {cr.OWNER_TAG: "plotly"})
    aws["acm_stub"].add_response("delete_certificate", {}, {"CertificateArn": ARN})
    aws["acm_stub"].add_response("delete_certificate", {}, {"CertificateArn": ARN2})
    result = run(aws, state="absent", domain_name=None, name="plotly", hosted_zone_name=None)
    assert result["changed"] and result["deleted_certificate_arns"] == [ARN, ARN2]


def test_absent_in_check_mode_deletes_nothing(aws):
    zone_by_name(aws)
    listed(aws, certificate())
    owned(aws, certificate())
    record_sets(aws, "_x1.plotly.poc.example.com.", cname("_x1.plotly.poc.example.com."))
    result = run(aws, state="absent", check_mode=True)
    assert result["changed"] and result["deleted_certificate_arns"] == [ARN]
    assert result["records_changed"] == ["_x1.plotly.poc.example.com."]


def test_absent_when_nothing_is_there(aws):
    zone_by_name(aws)
    listed(aws, certificate(arn=ARN2))
    tags_are(aws, ARN2, {"Name": "not ours"})
    result = run(aws, state="absent")
    assert not result["changed"] and result["deleted_certificate_arns"] == []
