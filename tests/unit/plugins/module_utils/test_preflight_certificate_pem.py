"""preflight.check_certificate_pem: a PEM pair that ACM's ImportCertificate
would refuse (texts that do not parse, a key that is not the certificate's, a
certificate out of its validity) is named before any AWS call, by the site's
preflight (pocstack_certificate_pem) and by alb_tls used alone
(alb_tls_certificate_pem), and no message ever holds the key's text."""
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.pocstack.aws.plugins.filter.preflight import role_variables
from ansible_collections.pocstack.aws.plugins.module_utils import preflight

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
VAR = "pocstack_certificate_pem"


def new_key(kind="ec"):
    return rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())


def key_pem(key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def certificate(key, name="plotly.pocstack.localhost", issuer=None, issuer_key=None, start=NOW - DAY, end=NOW + 30 * DAY,
                ca=False):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture(scope="module")
def keys():
    return {"ec": new_key(), "other": new_key(), "rsa": new_key("rsa"), "ca": new_key()}


@pytest.fixture(scope="module")
def pair(keys):
    return {"certificate": cert_pem(certificate(keys["ec"])), "private_key": key_pem(keys["ec"])}


@pytest.fixture(scope="module")
def current(keys):
    """A pair valid now (the role's check reads the clock)."""
    today = datetime.datetime.now(datetime.timezone.utc)
    return {"certificate": cert_pem(certificate(keys["ec"], start=today - DAY, end=today + DAY)),
            "private_key": key_pem(keys["ec"])}


def checked(pem, var=VAR, now=NOW):
    errors = []
    preflight.check_certificate_pem(errors, pem, var, now=now)
    return errors


def key_lines(pem):
    """The key's base64 lines: none may appear in any message."""
    return [line for line in pem["private_key"].splitlines() if line and not line.startswith("-----")]


def assert_no_key_text(errors, pem):
    text = "\n".join(errors)
    assert not [line for line in key_lines(pem) if line in text]


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_a_matching_pair_passes(keys, kind):
    pem = {"certificate": cert_pem(certificate(keys[kind])), "private_key": key_pem(keys[kind]), "name": "poc-tls"}
    assert checked(pem) == []


def test_a_pair_with_its_chain_passes(keys):
    ca = certificate(keys["ca"], name="PoC test CA", ca=True)
    leaf = certificate(keys["ec"], issuer=ca.subject, issuer_key=keys["ca"])
    pem = {"certificate": cert_pem(leaf), "private_key": key_pem(keys["ec"]), "certificate_chain": cert_pem(ca)}
    assert checked(pem) == []


@pytest.mark.parametrize("var", [VAR, "alb_tls_certificate_pem"])
@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_a_key_that_is_not_the_certificates_is_named_never_shown(keys, pair, var, kind):
    pem = {**pair, "private_key": key_pem(keys["other" if kind == "ec" else "rsa"])}
    errors = checked(pem, var)
    assert errors == [f"{var}.private_key does not match the certificate's public key ({var}.certificate "
                      "'CN=plotly.pocstack.localhost'); ACM refuses the pair (ValidationException)"]
    assert_no_key_text(errors, pem)


GARBAGE_CERT = "-----BEGIN CERTIFICATE-----\nMIIBnotreallyacertificate\n-----END CERTIFICATE-----\n"
GARBAGE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQs3cretButBroken0123456789abcdef\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize("field, value, expected", [
    ("certificate", GARBAGE_CERT, f"{VAR}.certificate does not parse as a PEM X.509 certificate"),
    ("certificate", "not pem at all", f"{VAR}.certificate must be PEM text (-----BEGIN CERTIFICATE-----)"),
    ("private_key", GARBAGE_KEY, f"{VAR}.private_key does not parse as a PEM private key"),
    ("private_key", "s3cret-not-pem", f"{VAR}.private_key must be a PEM private key (-----BEGIN ... PRIVATE KEY-----)"),
    ("certificate_chain", GARBAGE_CERT, f"{VAR}.certificate_chain does not parse as PEM X.509 certificates"),
    ("certificate_chain", "intermediate.pem", f"{VAR}.certificate_chain must be PEM text"),
], ids=["cert-garbage", "cert-not-pem", "key-garbage", "key-not-pem", "chain-garbage", "chain-not-pem"])
def test_texts_that_do_not_parse(pair, field, value, expected):
    pem = {**pair, field: value}
    errors = checked(pem)
    assert len(errors) == 1 and errors[0].startswith(expected), errors
    assert "s3cret" not in errors[0]
    assert_no_key_text(errors, pem)


def test_an_encrypted_key_is_refused(keys, pair):
    pem = {**pair, "private_key": key_pem(keys["ec"], password=b"passphrase")}
    errors = checked(pem)
    assert errors == [f"{VAR}.private_key is encrypted; ACM imports only an unencrypted private key"]
    assert_no_key_text(errors, pem)


def test_two_certificates_in_the_certificate_field(keys, pair):
    ca = certificate(keys["ca"], name="PoC test CA", ca=True)
    errors = checked({**pair, "certificate": pair["certificate"] + cert_pem(ca)})
    assert errors == [f"{VAR}.certificate holds more than one certificate; put the issuer's certificates in "
                      f"{VAR}.certificate_chain (ACM takes one certificate in this field)"]


@pytest.mark.parametrize("start, end, expected", [
    (NOW - 60 * DAY, NOW - DAY, f"{VAR}.certificate ('CN=plotly.pocstack.localhost') expired on 2026-05-31 12:00 UTC; "
                                "ACM does not import an expired certificate"),
    (NOW + DAY, NOW + 60 * DAY, f"{VAR}.certificate ('CN=plotly.pocstack.localhost') is not valid before 2026-06-02 "
                                "12:00 UTC; ACM does not import a certificate that is not yet valid"),
], ids=["expired", "not-yet-valid"])
def test_a_certificate_out_of_its_validity(keys, start, end, expected):
    pem = {"certificate": cert_pem(certificate(keys["ec"], start=start, end=end)), "private_key": key_pem(keys["ec"])}
    assert checked(pem) == [expected]


def test_an_expired_chain_certificate_and_a_mismatch_are_both_named(keys):
    ca = certificate(keys["ca"], name="Old CA", ca=True, start=NOW - 90 * DAY, end=NOW - DAY)
    leaf = certificate(keys["ec"], issuer=ca.subject, issuer_key=keys["ca"])
    pem = {"certificate": cert_pem(leaf), "private_key": key_pem(keys["other"]), "certificate_chain": cert_pem(ca)}
    errors = checked(pem)
    assert errors[0] == (f"{VAR}.certificate_chain[0] ('CN=Old CA') expired on 2026-05-31 12:00 UTC; "
                         "ACM does not import an expired certificate")
    assert errors[1].startswith(f"{VAR}.private_key does not match the certificate's public key")
    assert len(errors) == 2


def test_the_current_time_is_the_default_clock(keys):
    today = datetime.datetime.now(datetime.timezone.utc)
    pem = {"certificate": cert_pem(certificate(keys["ec"], start=today - DAY, end=today + DAY)),
           "private_key": key_pem(keys["ec"])}
    assert checked(pem, now=None) == []
    old = {**pem, "certificate": cert_pem(certificate(keys["ec"], start=today - 3 * DAY, end=today - DAY))}
    assert "ACM does not import an expired certificate" in checked(old, now=None)[0]


def test_the_site_preflight_names_the_inventory_variable(keys, current):
    pem = {**current, "private_key": key_pem(keys["other"])}
    errors = preflight.check_shared({"pocstack_certificate_pem": pem})
    assert [e for e in errors if e.startswith(f"{VAR}.private_key does not match the certificate's public key")]
    assert_no_key_text(errors, pem)


def test_alb_tls_alone_refuses_a_mismatched_pair_before_its_first_write(keys, current):
    pem = {**current, "private_key": key_pem(keys["other"])}
    for entry_point in ("main", "shared"):
        found = role_variables({"alb_tls_certificate_pem": pem}, "alb_tls", entry_point)
        assert [m for m in found if m.startswith("alb_tls_certificate_pem.private_key does not match the "
                                                 "certificate's public key")], found
        assert_no_key_text(found, pem)
    assert role_variables({"alb_tls_certificate_pem": current}, "alb_tls", "shared") == []
    assert role_variables({"alb_tls_certificate_pem": None}, "alb_tls", "shared") == []


def test_alb_tls_alone_never_shows_a_key_given_in_place_of_the_mapping(current):
    pair = current
    # a PEM text where the mapping belongs: the form is named, the text is not shown
    found = role_variables({"alb_tls_certificate_pem": pair["private_key"]}, "alb_tls", "shared")
    assert found == ["alb_tls_certificate_pem must be a mapping with the keys certificate, private_key, "
                     "certificate_chain, name"]
    found = role_variables({"alb_tls_certificate_pem": {**pair, "privat_key": pair["private_key"]}}, "alb_tls", "shared")
    assert "alb_tls_certificate_pem.privat_key is not known; allowed: certificate, private_key, certificate_chain, name" in found
    assert_no_key_text(found, pair)
