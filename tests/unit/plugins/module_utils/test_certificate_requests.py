"""certificate_requests: validation, identity, records and status (no AWS)."""
import pytest

from ansible_collections.pocstack.aws.plugins.module_utils import certificate_requests as cr

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
    """A certificate as amazon.aws ACMServiceManager.get_certificates returns it (snake_case)."""
    return {"certificate_arn": arn, "domain_name": domain, "subject_alternative_names": sans or [domain],
            "key_algorithm": key, "status": status, **extra}


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


# ------------------------------------------------------------------ records
def option(domain, name=None, value=VALUE, status="PENDING_VALIDATION", record=True):
    base = domain[2:] if domain.startswith("*.") else domain
    found = {"domain_name": domain, "validation_domain": domain, "validation_status": status, "validation_method": "DNS"}
    if record:
        found["resource_record"] = {"name": name or f"_abc.{base}.", "type": "CNAME", "value": value}
    return found


def test_validation_records_once_per_record_with_their_domains():
    cert = described(sans=["poc.example.com", "plotly.poc.example.com", "*.poc.example.com", "late.poc.example.com"],
                     domain_validation_options=[
        option("poc.example.com"), option("plotly.poc.example.com", name="_abc.Plotly.poc.example.com"),
        option("*.poc.example.com"), option("late.poc.example.com", record=False)])
    assert cr.validation_records(cert) == [
        {"name": "_abc.plotly.poc.example.com.", "type": "CNAME", "value": VALUE, "domain_names": ["plotly.poc.example.com"]},
        {"name": "_abc.poc.example.com.", "type": "CNAME", "value": VALUE,
         "domain_names": ["*.poc.example.com", "poc.example.com"]},
    ]
    assert cr.validation_records({}) == []


def test_records_are_ready_once_every_name_has_its_record():
    assert not cr.records_ready(described(sans=["a.example.com", "b.example.com"], domain_validation_options=[
        option("a.example.com"), option("b.example.com", record=False)]))
    assert cr.records_ready(described(domain="a.example.com", domain_validation_options=[option("a.example.com")]))
    assert not cr.records_ready(described(sans=["a.example.com", "b.example.com"],
                                          domain_validation_options=[option("a.example.com")]))
    assert not cr.records_ready(described())


# ------------------------------------------------------------------ status
def test_failure_reason_names_the_status_the_reason_and_the_domains():
    assert cr.failure(described(status="ISSUED")) is None
    assert cr.failure(described(status="PENDING_VALIDATION")) is None
    text = cr.failure(described(status="FAILED", failure_reason="CAA_ERROR", domain_validation_options=[
        option("plotly.poc.example.com", status="FAILED"), option("poc.example.com", status="SUCCESS")]))
    assert text == f"certificate {ARN} is FAILED (reason: CAA_ERROR); domains: plotly.poc.example.com: FAILED"
    assert cr.failure(described(status="VALIDATION_TIMED_OUT")) == f"certificate {ARN} is VALIDATION_TIMED_OUT"


def test_choose_prefers_issued_then_oldest_and_never_an_unusable_one():
    old = described(arn="a", status="PENDING_VALIDATION", created_at="2024-01-01")
    new = described(arn="b", status="ISSUED", created_at="2025-01-01")
    newer = described(arn="c", status="ISSUED", created_at="2026-01-01")
    assert cr.choose([old, newer, new])["certificate_arn"] == "b"
    assert cr.choose([old, described(arn="d", status="FAILED")])["certificate_arn"] == "a"
    assert cr.choose([described(status=s) for s in cr.UNUSABLE]) is None
    assert cr.choose([]) is None
