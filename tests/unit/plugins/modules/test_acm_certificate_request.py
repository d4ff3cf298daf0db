"""acm_certificate_request flows against recorded ACM responses (botocore Stubber, no network).

Each test queues exactly the calls AWS should see, in order; a call that is not
queued (a write in check mode, a second request) fails the test. Certificates
are found through amazon.aws ACMServiceManager (describe, then GetCertificate
once issued, then the tags); the waiter for the validation records sleeps on a
fake clock.
"""
import datetime

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.acm import ACMServiceManager
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
ALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pocstack/50dc6c495c0c9188"
DOMAIN = "plotly.poc.example.com"
VALUE = "_c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws."
KEY_TYPES = {"keyTypes": ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]}
OWNED = {cr.OWNER_TAG: DOMAIN}
CREATED = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def params(**overrides):
    base = {
        "domain_name": DOMAIN, "subject_alternative_names": None, "key_algorithm": None, "name": None,
        "state": "present", "tags": None, "purge_tags": True,
    }
    base.update(overrides)
    return base


@pytest.fixture
def aws(monkeypatch):
    acm = boto3.client("acm", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    clock = FakeClock()
    monkeypatch.setattr("botocore.waiter.time.sleep", clock.sleep)
    with Stubber(acm) as acm_stub:
        yield {"acm": acm, "acm_stub": acm_stub, "clock": clock}
        acm_stub.assert_no_pending_responses()


def run(aws, check_mode=False, diff=True, **overrides):
    mgr = module.CertificateRequest.__new__(module.CertificateRequest)
    mgr.module = FakeModule(params(**overrides), check_mode=check_mode, diff=diff)
    mgr.params = mgr.module.params
    mgr.acm = ACMServiceManager.__new__(ACMServiceManager)
    mgr.acm.module, mgr.acm.client = mgr.module, aws["acm"]
    mgr.client = RetryingBotoClientWrapper(aws["acm"], AWSRetry.jittered_backoff())
    mgr.changed = False
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


def listed(aws, *certs):
    aws["acm_stub"].add_response("list_certificates", {"CertificateSummaryList": [
        {"CertificateArn": c["CertificateArn"], "DomainName": c["DomainName"],
         "SubjectAlternativeNameSummaries": c["SubjectAlternativeNames"]} for c in certs]},
        {"Includes": KEY_TYPES})


def described(aws, cert):
    aws["acm_stub"].add_response("describe_certificate", {"Certificate": cert}, {"CertificateArn": cert["CertificateArn"]})


def found(aws, cert, tags=None):
    """What ACMServiceManager.get_certificates asks about a listed certificate of the wanted domain name."""
    described(aws, cert)
    if cert["Status"] not in ("PENDING_VALIDATION", "VALIDATION_TIMED_OUT", "FAILED"):
        aws["acm_stub"].add_response("get_certificate", {"Certificate": "PEM", "CertificateChain": "PEM"},
                                     {"CertificateArn": cert["CertificateArn"]})
    aws["acm_stub"].add_response("list_tags_for_certificate", {"Tags": tag_list(OWNED if tags is None else tags)},
                                 {"CertificateArn": cert["CertificateArn"]})


def requested(aws, key="RSA_2048", tags=None, **sans):
    aws["acm_stub"].add_response("request_certificate", {"CertificateArn": ARN}, {
        "DomainName": DOMAIN, "ValidationMethod": "DNS", "KeyAlgorithm": key, "Tags": tag_list(tags or OWNED), **sans})


# ------------------------------------------------------------------ present
def test_request_and_wait_until_acm_describes_the_records(aws):
    sans = ["*.poc.example.com", "poc.example.com"]
    listed(aws)
    requested(aws, tags={"team": "poc", **OWNED}, SubjectAlternativeNames=sans)
    # ACM needs a moment: first not found, then without records, then with them
    aws["acm_stub"].add_client_error("describe_certificate", "ResourceNotFoundException", expected_params={"CertificateArn": ARN})
    described(aws, certificate(sans=sans, status="PENDING_VALIDATION", records=False))
    described(aws, certificate(sans=sans, status="PENDING_VALIDATION"))
    described(aws, certificate(sans=sans, status="PENDING_VALIDATION"))

    result = run(aws, subject_alternative_names=["poc.example.com", "*.poc.example.com", DOMAIN.upper()],
                 tags={"team": "poc"})
    assert result["changed"] and not result.get("failed")
    assert result["certificate_arn"] == ARN and result["status"] == "PENDING_VALIDATION"
    assert result["subject_alternative_names"] == sans and result["key_algorithm"] == "RSA_2048"
    assert result["tags"] == {"team": "poc", **OWNED}
    # *.poc.example.com and poc.example.com share one record
    assert result["validation_records"] == [
        {"name": "_x1.plotly.poc.example.com.", "type": "CNAME", "value": VALUE, "domain_names": [DOMAIN]},
        {"name": "_x1.poc.example.com.", "type": "CNAME", "value": VALUE, "domain_names": sans},
    ]
    assert aws["clock"].sleeps == [2, 2]  # the records waiter: two polls more
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"] == {
        "domain_name": DOMAIN, "subject_alternative_names": sans, "key_algorithm": "RSA_2048",
        "tags": {cr.OWNER_TAG: DOMAIN, "team": "poc"}}


def test_found_again_in_any_san_order_changes_nothing(aws):
    sans = ["poc.example.com", "*.poc.example.com"]
    listed(aws, certificate(sans=sans))
    found(aws, certificate(sans=sans))
    result = run(aws, subject_alternative_names=["*.poc.example.com", "poc.example.com"])
    assert not result["changed"] and result["certificate_arn"] == ARN and result["status"] == "ISSUED"
    assert result["tags"] == OWNED and len(result["validation_records"]) == 2
    assert result["diff"]["before"] == result["diff"]["after"]
    assert aws["clock"].sleeps == []


def test_a_found_certificate_without_its_records_yet_is_waited_for(aws):
    listed(aws, certificate(status="PENDING_VALIDATION"))
    found(aws, certificate(status="PENDING_VALIDATION", records=False))
    described(aws, certificate(status="PENDING_VALIDATION"))  # the waiter
    described(aws, certificate(status="PENDING_VALIDATION"))
    result = run(aws)
    assert not result["changed"] and result["validation_records"][0]["name"] == "_x1.plotly.poc.example.com."
    assert result["tags"] == OWNED and aws["clock"].sleeps == []


def test_certificates_not_owned_or_for_other_names_are_left_alone(aws):
    theirs = certificate(arn="arn:aws:acm:us-east-1:123456789012:certificate/theirs")
    older = certificate(arn=ARN2, sans=["old.poc.example.com"])
    listed(aws, theirs, older, certificate(arn="arn:aws:acm:us-east-1:123456789012:certificate/x", domain="other.org"))
    found(aws, theirs, {"Name": "by hand"})  # no owner tag
    found(aws, older)
    requested(aws, key="EC_prime256v1")
    described(aws, certificate(status="PENDING_VALIDATION", key="EC_prime256v1"))  # the waiter
    described(aws, certificate(status="PENDING_VALIDATION", key="EC_prime256v1"))
    result = run(aws, key_algorithm="EC_prime256v1")
    assert result["changed"] and result["status"] == "PENDING_VALIDATION" and result["key_algorithm"] == "EC_prime256v1"
    assert len(result["warnings"]) == 1 and ARN2 in result["warnings"][0] and "left alone" in result["warnings"][0]


def test_an_issued_duplicate_wins_over_a_pending_one(aws):
    pending, issued = certificate(status="PENDING_VALIDATION"), certificate(arn=ARN2)
    listed(aws, pending, issued)
    found(aws, pending)
    found(aws, issued)
    result = run(aws)
    assert not result["changed"] and result["certificate_arn"] == ARN2


def test_tags_are_updated_and_purged_but_the_owner_tag_stays(aws):
    listed(aws, certificate())
    found(aws, certificate(), {**OWNED, "old": "1", "team": "x"})
    aws["acm_stub"].add_response("remove_tags_from_certificate", {}, {
        "CertificateArn": ARN, "Tags": [{"Key": "old", "Value": "1"}]})
    aws["acm_stub"].add_response("add_tags_to_certificate", {}, {
        "CertificateArn": ARN, "Tags": [{"Key": "team", "Value": "poc"}]})
    result = run(aws, tags={"team": "poc"})
    assert result["changed"] and result["tags"] == {**OWNED, "team": "poc"}
    assert result["diff"]["before"]["tags"] == {**OWNED, "old": "1", "team": "x"}


def test_records_never_described_after_a_request(aws):
    listed(aws)
    requested(aws)
    for _ in range(module.RECORDS_TIMEOUT // 2):  # 60 polls, 2 s apart
        described(aws, certificate(status="PENDING_VALIDATION", records=False))
    result = run(aws)
    assert result["failed"] and result["changed"] and result["certificate_arn"] == ARN
    assert "was requested, but ACM did not describe its DNS validation records within 120 s" in result["msg"]
    assert sum(aws["clock"].sleeps) == 118


@pytest.mark.parametrize("status", ["FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED"])
def test_an_unusable_owned_certificate_is_reported_not_replaced(aws, status):
    listed(aws, certificate(status=status))
    found(aws, certificate(status=status, FailureReason="DOMAIN_VALIDATION_DENIED"))
    result = run(aws)
    assert result["failed"] and result["status"] == status
    assert f"is {status} (reason: DOMAIN_VALIDATION_DENIED)" in result["msg"] and "state=absent" in result["msg"]


# ------------------------------------------------------------------ check mode
def test_check_mode_requests_nothing(aws):
    listed(aws)
    result = run(aws, check_mode=True, tags={"team": "poc"})
    assert result["changed"] and result["certificate_arn"] == "" and result["validation_records"] == []
    assert result["diff"] == {"before": {}, "after": {
        "domain_name": DOMAIN, "subject_alternative_names": [], "key_algorithm": "RSA_2048",
        "tags": {cr.OWNER_TAG: DOMAIN, "team": "poc"}}}


def test_check_mode_writes_no_tag_and_does_not_wait(aws):
    listed(aws, certificate(status="PENDING_VALIDATION"))
    found(aws, certificate(status="PENDING_VALIDATION", records=False))
    result = run(aws, check_mode=True, tags={"team": "poc"})
    assert result["changed"] and result["tags"] == OWNED  # as it is: nothing was written
    assert result["diff"]["after"]["tags"] == {**OWNED, "team": "poc"}
    assert aws["clock"].sleeps == []


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
    ({"state": "absent", "domain_name": "bad host.example.com"}, "domain_name='bad host.example.com'"),
])
def test_bad_options_fail_before_any_call(aws, overrides, message):
    result = run(aws, **overrides)  # nothing queued: any AWS call would fail the test
    assert result["failed"] and message in result["msg"], result["msg"]


# ------------------------------------------------------------------ absent
def test_absent_refuses_while_in_use_and_deletes_nothing(aws):
    used = certificate(in_use=[ALB])
    listed(aws, used)
    found(aws, used)
    result = run(aws, state="absent")
    assert result["failed"] and result["in_use_by"] == [ALB]
    assert result["msg"] == (f"certificate {ARN} is in use by {ALB}. Nothing was deleted: stop using it first "
                             "(switch or delete the listener), then run again.")


def test_absent_deletes_the_certificate_and_returns_its_records(aws):
    sans = ["www.poc.example.com"]
    mine = certificate(sans=sans)
    listed(aws, mine)
    found(aws, mine)
    aws["acm_stub"].add_response("delete_certificate", {}, {"CertificateArn": ARN})
    result = run(aws, state="absent", subject_alternative_names=sans)
    assert result["changed"] and result["deleted_certificate_arns"] == [ARN]
    assert [r["name"] for r in result["validation_records"]] == ["_x1.plotly.poc.example.com.", "_x1.www.poc.example.com."]
    assert result["certificate_arn"] == "" and result["status"] == ""
    assert result["diff"]["before"]["certificates"] == [{
        "certificate_arn": ARN, "domain_name": DOMAIN, "subject_alternative_names": sans, "key_algorithm": "RSA_2048",
        "tags": OWNED}]
    assert result["diff"]["after"] == {"certificates": []}


def test_absent_by_name_alone_deletes_every_certificate_it_owns(aws):
    listed(aws, certificate(), certificate(arn=ARN2, domain="old.poc.example.com"))
    found(aws, certificate(), {cr.OWNER_TAG: "plotly"})
    found(aws, certificate(arn=ARN2, domain="old.poc.example.com"), {cr.OWNER_TAG: "plotly"})
    aws["acm_stub"].add_response("delete_certificate", {}, {"CertificateArn": ARN})
    aws["acm_stub"].add_response("delete_certificate", {}, {"CertificateArn": ARN2})
    result = run(aws, state="absent", domain_name=None, name="plotly")
    assert result["changed"] and result["deleted_certificate_arns"] == [ARN, ARN2]


def test_absent_in_check_mode_deletes_nothing(aws):
    listed(aws, certificate())
    found(aws, certificate())
    result = run(aws, state="absent", check_mode=True)
    assert result["changed"] and result["deleted_certificate_arns"] == [ARN]


def test_absent_when_nothing_is_there(aws):
    listed(aws, certificate(arn=ARN2))
    found(aws, certificate(arn=ARN2), {"Name": "not ours"})
    result = run(aws, state="absent")
    assert not result["changed"] and result["deleted_certificate_arns"] == []
