"""certificate_requests: validation, identity, record planning and the waiter (no AWS)."""
import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import certificate_requests as cr
from fake_clock import FakeClock

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
VALUE = "_c9edd76ee4a0e2a74388032f3861cc50.ykybfrwcxw.acm-validations.aws."


# ------------------------------------------------------------------ domain names
@pytest.mark.parametrize("given, expected", [
    ("plotly.poc.example.com", "plotly.poc.example.com"),
    ("Plotly.POC.Example.com.", "plotly.poc.example.com"),
    ("  poc.example.com ", "poc.example.com"),
    ("*.poc.example.com", "*.poc.example.com"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("a-b.c-d.example.com", "a-b.c-d.example.com"),
    ("0.example.com", "0.example.com"),
    ("a" * 63 + ".com", "a" * 63 + ".com"),
    (".".join(["a" * 63] * 3) + "." + "b" * 61, ".".join(["a" * 63] * 3) + "." + "b" * 61),  # 253
])
def test_good_domain_names(given, expected):
    assert cr.normalize_domain(given, "subject_alternative_names[0]") == expected


@pytest.mark.parametrize("given, fragment", [
    ("", "is not a domain name"),
    ("   ", "is not a domain name"),
    (None, "is not a domain name"),
    (42, "is not a domain name"),
    ("localhost", "is not a fully qualified domain name"),
    ("*", "is not a fully qualified domain name"),
    ("plotly.*.example.com", "a wildcard is allowed only as the whole first label"),
    ("plo*.example.com", "a wildcard is allowed only as the whole first label"),
    ("**.example.com", "a wildcard is allowed only as the whole first label"),
    ("*.*.example.com", "a wildcard is allowed only as the whole first label"),
    ("bad_host.example.com", "label 'bad_host' is not valid"),
    ("-plotly.example.com", "label '-plotly' is not valid"),
    ("plotly-.example.com", "label 'plotly-' is not valid"),
    ("plotly..example.com", "label '' is not valid"),
    ("a" * 64 + ".com", "is not valid"),
    ("bücher.example", "label 'bücher' is not valid"),
    ("10.0.0.1", "looks like an IP address"),
    (".".join(["a" * 63] * 3) + "." + "b" * 62, "has 254 characters; at most 253"),
])
def test_bad_domain_names_name_the_option_and_the_rule(given, fragment):
    with pytest.raises(cr.CertificateError) as error:
        cr.normalize_domain(given, "subject_alternative_names[2]")
    assert str(error.value).startswith("subject_alternative_names[2]=")
    assert fragment in str(error.value)


def test_the_first_domain_name_has_at_most_64_characters():
    sixty_four = "a" * 52 + ".example.com"
    assert len(sixty_four) == 64
    assert cr.desired_names(sixty_four, None) == (sixty_four, [])
    with pytest.raises(cr.CertificateError, match=r"domain_name='a{53}\.example\.com' has 65 characters; at most 64"):
        cr.desired_names("a" + sixty_four, None)
    # a further name may be longer
    assert cr.desired_names("example.com", ["a" * 60 + ".b" * 20 + ".example.com"])[1]


def test_desired_names_sorted_unique_without_the_domain_name():
    assert cr.desired_names("Plotly.poc.example.com", [
        "poc.example.com", "*.poc.example.com", "POC.example.com.", "plotly.poc.example.com"]) == (
        "plotly.poc.example.com", ["*.poc.example.com", "poc.example.com"])
    assert cr.desired_names("poc.example.com", None) == ("poc.example.com", [])
    assert cr.desired_names("poc.example.com", []) == ("poc.example.com", [])


def test_at_most_100_names():
    ninety_nine = [f"h{i}.example.com" for i in range(99)]
    assert len(cr.desired_names("example.com", ninety_nine)[1]) == 99
    with pytest.raises(cr.CertificateError, match="subject_alternative_names: 101 names with domain_name; .* at most 100"):
        cr.desired_names("example.com", ninety_nine + ["h99.example.com"])


def test_a_bad_alternative_name_is_named_by_its_index():
    with pytest.raises(cr.CertificateError, match=r"^subject_alternative_names\[1\]='a\.\*\.example\.com'"):
        cr.desired_names("example.com", ["ok.example.com", "a.*.example.com"])


# ------------------------------------------------------------------ identity
def described(domain="plotly.poc.example.com", sans=None, key="RSA_2048", status="ISSUED", arn=ARN, **extra):
    return {"CertificateArn": arn, "DomainName": domain, "SubjectAlternativeNames": sans or [domain],
            "KeyAlgorithm": key, "Status": status, **extra}


def test_matches_ignores_order_case_and_the_repeated_domain_name():
    cert = described(sans=["plotly.poc.example.com", "POC.example.com", "*.poc.example.com"])
    assert cr.names_of(cert) == ("plotly.poc.example.com", ["*.poc.example.com", "poc.example.com"])
    assert cr.matches(cert, "plotly.poc.example.com", ["*.poc.example.com", "poc.example.com"], "RSA_2048")
    assert not cr.matches(cert, "plotly.poc.example.com", ["poc.example.com"], "RSA_2048")
    assert not cr.matches(cert, "poc.example.com", ["*.poc.example.com", "plotly.poc.example.com"], "RSA_2048")
    assert not cr.matches(cert, "plotly.poc.example.com", ["*.poc.example.com", "poc.example.com"], "EC_prime256v1")
    # None: any (state=absent without the option)
    assert cr.matches(cert, "plotly.poc.example.com", None, None)


# ------------------------------------------------------------------ tags
def test_tags_carry_the_owner_tag():
    assert cr.validate_tags("plotly", {"team": "poc"}) == {"team": "poc", cr.OWNER_TAG: "plotly"}
    assert cr.validate_tags("plotly", None) == {cr.OWNER_TAG: "plotly"}
    assert cr.validate_tags("plotly", {cr.OWNER_TAG: "plotly"}) == {cr.OWNER_TAG: "plotly"}


@pytest.mark.parametrize("tags, fragment", [
    ({cr.OWNER_TAG: "other"}, f"tags: {cr.OWNER_TAG} is set by this module from name ('plotly')"),
    ({"aws:team": "x"}, "tags: key 'aws:team' uses the prefix aws:"),
    ({"AWS:team": "x"}, "uses the prefix aws:"),
    ({"k" * 129: "x"}, "must have 1-128 characters"),
    ({"": "x"}, "must have 1-128 characters"),
    ({"team": "v" * 257}, "tags: value of 'team' has 257 characters; at most 256"),
    ({f"t{i}": "x" for i in range(50)}, "tags: 51 tags with pocstack:certificate-name; a certificate has at most 50"),
])
def test_bad_tags(tags, fragment):
    with pytest.raises(cr.CertificateError) as error:
        cr.validate_tags("plotly", tags)
    assert fragment in str(error.value)


def test_a_wildcard_name_is_kept_in_a_tag_acm_accepts():
    # ACM refuses "*" in a tag value ([\p{L}\p{Z}\p{N}_.:\/=+\-@]*): the default name writes it "_".
    assert cr.default_name("*.poc.example.com") == "_.poc.example.com"
    assert cr.default_name("plotly.poc.example.com") == "plotly.poc.example.com"
    assert cr.validate_tags(cr.default_name("*.poc.example.com"), {"team": "Équipe 7 @ poc/x+y=z"})[cr.OWNER_TAG] == (
        "_.poc.example.com")


@pytest.mark.parametrize("name, tags, fragment", [
    ("*.poc.example.com", None, "name='*.poc.example.com' (kept in the tag pocstack:certificate-name): '*' is not allowed"),
    ("plotly", {"team": "a,b"}, "tags: 'team': ',' is not allowed; ACM allows letters, numbers, spaces and _ . : / = + - @"),
    ("plotly", {"owner#": "x"}, "tags: 'owner#': '#' is not allowed"),
])
def test_characters_acm_refuses_in_tags(name, tags, fragment):
    with pytest.raises(cr.CertificateError) as error:
        cr.validate_tags(name, tags)
    assert fragment in str(error.value)


def test_tag_changes_keep_the_owner_tag_and_purge_only_when_tags_are_given():
    current = {cr.OWNER_TAG: "plotly", "old": "1", "keep": "2"}
    assert cr.tag_changes(current, "plotly", {"keep": "2", "new": "3"}, True) == (
        {"new": "3"}, ["old"], {cr.OWNER_TAG: "plotly", "keep": "2", "new": "3"})
    assert cr.tag_changes(current, "plotly", {"keep": "2"}, False) == ({}, [], current)
    assert cr.tag_changes(current, "plotly", None, True) == ({}, [], current)


# ------------------------------------------------------------------ zones and options
@pytest.mark.parametrize("given, expected", [
    ("Z0123456789ABCDEFGHIJ", "Z0123456789ABCDEFGHIJ"),
    ("/hostedzone/Z0123456789ABCDEFGHIJ", "Z0123456789ABCDEFGHIJ"),
    (" Z1 ", "Z1"),
])
def test_zone_ids(given, expected):
    assert cr.normalize_zone_id(given) == expected


@pytest.mark.parametrize("given", ["", "z0123", "Z01-23", "/hostedzone/", "poc.example.com"])
def test_bad_zone_ids(given):
    with pytest.raises(cr.CertificateError, match=r"hosted_zone_id=.* is not a Route 53 hosted zone ID"):
        cr.normalize_zone_id(given)


@pytest.mark.parametrize("option, value, bounds, ok", [
    ("wait_timeout", 1, cr.WAIT_TIMEOUT_RANGE, True),
    ("wait_timeout", 7200, cr.WAIT_TIMEOUT_RANGE, True),
    ("wait_timeout", 0, cr.WAIT_TIMEOUT_RANGE, False),
    ("wait_timeout", 7201, cr.WAIT_TIMEOUT_RANGE, False),
    ("validation_record_ttl", 0, cr.TTL_RANGE, True),
    ("validation_record_ttl", -1, cr.TTL_RANGE, False),
    ("validation_record_ttl", 2147483648, cr.TTL_RANGE, False),
])
def test_ranges(option, value, bounds, ok):
    if ok:
        assert cr.validate_range(option, value, bounds) == value
    else:
        with pytest.raises(cr.CertificateError, match=rf"^{option}={value} is out of range; allowed: {bounds[0]}-{bounds[1]}$"):
            cr.validate_range(option, value, bounds)


@pytest.mark.parametrize("domain, zone, inside", [
    ("plotly.poc.example.com", "poc.example.com.", True),
    ("poc.example.com", "poc.example.com", True),
    ("*.poc.example.com", "poc.example.com", True),  # validated at poc.example.com
    ("*.example.com", "poc.example.com", False),
    ("example.com", "poc.example.com", False),
    ("badpoc.example.com", "poc.example.com", False),
    ("plotly.poc.example.com", "example.com", True),
])
def test_in_zone(domain, zone, inside):
    assert cr.in_zone(domain, zone) is inside


def test_check_zone_names_every_outsider():
    with pytest.raises(cr.CertificateError) as error:
        cr.check_zone(["plotly.poc.example.com", "example.com", "other.org"], "poc.example.com.")
    assert "hosted zone 'poc.example.com' cannot hold the validation records of example.com, other.org" in str(error.value)
    cr.check_zone(["plotly.poc.example.com", "*.poc.example.com"], "poc.example.com.")


# ------------------------------------------------------------------ records
def option(domain, name=None, value=VALUE, status="PENDING_VALIDATION", record=True):
    base = domain[2:] if domain.startswith("*.") else domain
    found = {"DomainName": domain, "ValidationDomain": domain, "ValidationStatus": status, "ValidationMethod": "DNS"}
    if record:
        found["ResourceRecord"] = {"Name": name or f"_abc.{base}.", "Type": "CNAME", "Value": value}
    return found


def test_record_names_compare_as_route53_does():
    assert cr.record_name("\\052.Example.COM") == "*.example.com."
    assert cr.record_name("_abc.example.com.") == "_abc.example.com."


def test_validation_records_once_per_record_with_their_domains():
    cert = described(DomainValidationOptions=[
        option("poc.example.com"), option("plotly.poc.example.com"), option("*.poc.example.com"),
        option("late.poc.example.com", record=False)])
    assert cr.validation_records(cert) == [
        {"name": "_abc.plotly.poc.example.com.", "type": "CNAME", "value": VALUE, "domain_names": ["plotly.poc.example.com"]},
        {"name": "_abc.poc.example.com.", "type": "CNAME", "value": VALUE,
         "domain_names": ["*.poc.example.com", "poc.example.com"]},
    ]
    assert not cr.records_ready(cert, 4)
    assert cr.records_ready(described(DomainValidationOptions=[option("a.example.com")]), 1)
    assert not cr.records_ready(described(DomainValidationOptions=[option("a.example.com")]), 2)
    assert not cr.records_ready(described(), 1)


RECORD = {"name": "_abc.poc.example.com.", "type": "CNAME", "value": VALUE, "domain_names": ["poc.example.com"]}
OTHER = dict(RECORD, name="_abc.plotly.poc.example.com.", domain_names=["plotly.poc.example.com"])


def record_set(name="_abc.poc.example.com.", value=VALUE, ttl=300, rtype="CNAME"):
    return {"Name": name, "Type": rtype, "TTL": ttl, "ResourceRecords": [{"Value": value}]}


def test_upserts_only_what_is_missing_or_different():
    existing = {
        RECORD["name"]: record_set(ttl=60, value=VALUE.upper()),  # same record, other TTL, other case: kept
        OTHER["name"]: record_set(name="_abc.plotly.poc.example.com.", value="_old.acm-validations.aws."),
    }
    assert cr.upserts([RECORD, OTHER], existing, 300) == [{
        "Action": "UPSERT",
        "ResourceRecordSet": {"Name": OTHER["name"], "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": VALUE}]},
    }]
    assert [c["ResourceRecordSet"]["Name"] for c in cr.upserts([RECORD, OTHER], {}, 60)] == [RECORD["name"], OTHER["name"]]
    # ListResourceRecordSets starts at the name: the next record is not ours
    assert len(cr.upserts([RECORD], {RECORD["name"]: record_set(name="_abd.poc.example.com.")}, 300)) == 1
    assert len(cr.upserts([RECORD], {RECORD["name"]: record_set(rtype="TXT")}, 300)) == 1
    alias = dict(record_set(), AliasTarget={"DNSName": VALUE})
    assert len(cr.upserts([RECORD], {RECORD["name"]: alias}, 300)) == 1


def test_deletions_repeat_the_record_set_and_leave_hand_edits():
    found = record_set(ttl=60)
    assert cr.deletions([RECORD], {RECORD["name"]: found}) == [{"Action": "DELETE", "ResourceRecordSet": found}]
    assert cr.deletions([RECORD], {RECORD["name"]: record_set(value="_edited.example.com.")}) == []
    assert cr.deletions([RECORD], {RECORD["name"]: None}) == []


# ------------------------------------------------------------------ status
def test_failure_reason_names_the_status_the_reason_and_the_domains():
    assert cr.failure(described(status="ISSUED")) is None
    assert cr.failure(described(status="PENDING_VALIDATION")) is None
    text = cr.failure(described(status="FAILED", FailureReason="CAA_ERROR", DomainValidationOptions=[
        option("plotly.poc.example.com", status="FAILED"), option("poc.example.com", status="SUCCESS")]))
    assert text == f"certificate {ARN} is FAILED (reason: CAA_ERROR); domains: plotly.poc.example.com: FAILED"
    assert cr.failure(described(status="VALIDATION_TIMED_OUT")) == f"certificate {ARN} is VALIDATION_TIMED_OUT"


def test_choose_prefers_issued_then_oldest_and_never_an_unusable_one():
    old = described(arn="a", status="PENDING_VALIDATION", CreatedAt="2024-01-01")
    new = described(arn="b", status="ISSUED", CreatedAt="2025-01-01")
    newer = described(arn="c", status="ISSUED", CreatedAt="2026-01-01")
    assert cr.choose([old, newer, new])["CertificateArn"] == "b"
    assert cr.choose([old, described(arn="d", status="FAILED")])["CertificateArn"] == "a"
    assert cr.choose([described(status=s) for s in cr.UNUSABLE]) is None
    assert cr.choose([]) is None


# ------------------------------------------------------------------ waiting
def test_poll_delays_double_up_to_15_seconds():
    delays = cr.poll_delays()
    assert [next(delays) for _ in range(7)] == [1, 2, 4, 8, 15, 15, 15]


def test_wait_until_done():
    clock, answers = FakeClock(1000.0), iter(["PENDING", "PENDING", "ISSUED", "unused"])
    assert cr.wait_until(lambda: next(answers), lambda a: a == "ISSUED", 60, clock, clock.sleep) == ("ISSUED", True)
    assert clock.sleeps == [1, 2]


def test_wait_until_times_out_exactly_at_the_deadline():
    clock, reads = FakeClock(1000.0), []
    result, done = cr.wait_until(lambda: reads.append(clock()) or "PENDING", lambda a: False, 20, clock, clock.sleep)
    assert (result, done) == ("PENDING", False)
    assert clock.sleeps == [1, 2, 4, 8, 5]  # the last sleep ends at the deadline, then one last read
    assert reads[-1] == 1020.0 and len(reads) == 6
