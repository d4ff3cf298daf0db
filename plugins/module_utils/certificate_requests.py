# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and identity for acm_certificate_request (no AWS calls).

A certificate is ours when it carries the owner tag with the module's name and
has exactly the wanted domain names (domain name + subject alternative names,
order and case ignored) and key algorithm. Certificates are described as
amazon.aws ACMServiceManager returns them (snake_case, with their tags). ACM
describes the validation CNAME of every domain; domains that share one
(example.com and *.example.com) need it once.
"""

import re
import unicodedata

from ansible_collections.pocstack.aws.plugins.module_utils import owner_tags

OWNER_TAG = "pocstack:certificate-name"
# RequestCertificate accepts only these (the other ACM key types are for imports).
KEY_ALGORITHMS = ("RSA_2048", "EC_prime256v1", "EC_secp384r1")
# A certificate in one of these never becomes usable; it must be replaced.
UNUSABLE = ("FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED", "INACTIVE")
# ACM: the first domain name becomes the certificate's CN (at most 64 octets);
# every name at most 253; at most 100 names per certificate (default quota 10).
MAX_DOMAIN_NAME = 64
MAX_NAME = 253
MAX_NAMES = 100
MAX_TAGS = 50

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
NAME_RULE = (
    "allowed: at least two dot-separated labels of 1-63 letters, digits and '-' (not first or last in a label; "
    "internationalised names in punycode, xn--...), a wildcard only as the whole first label (*.example.com)"
)


class CertificateError(ValueError):
    """Input that ACM or Route 53 would reject, with a message naming the option."""


def normalize_domain(value, option, max_length=MAX_NAME):
    """A domain name as ACM compares it (lower case, no trailing dot), or CertificateError."""
    if not isinstance(value, str) or not value.strip():
        raise CertificateError(f"{option}={value!r} is not a domain name; {NAME_RULE}")
    name = value.strip().lower()
    name = name[:-1] if name.endswith(".") else name
    if len(name) > max_length:
        raise CertificateError(f"{option}={value!r} has {len(name)} characters; at most {max_length} are allowed")
    labels = name.split(".")
    if len(labels) < 2:
        raise CertificateError(f"{option}={value!r} is not a fully qualified domain name; {NAME_RULE}")
    for index, label in enumerate(labels):
        if "*" in label:
            if index == 0 and label == "*":
                continue
            raise CertificateError(
                f"{option}={value!r}: a wildcard is allowed only as the whole first label (*.example.com)"
            )
        if not _LABEL.match(label):
            raise CertificateError(f"{option}={value!r}: label {label!r} is not valid; {NAME_RULE}")
    if labels[-1].isdigit():
        raise CertificateError(f"{option}={value!r} looks like an IP address; ACM issues certificates for domain names only")
    return name


def desired_names(domain_name, subject_alternative_names):
    """(domain name, sorted other names) after validation; the domain name is
    never repeated among the others."""
    domain = normalize_domain(domain_name, "domain_name", MAX_DOMAIN_NAME)
    others = set()
    for index, value in enumerate(subject_alternative_names or []):
        others.add(normalize_domain(value, f"subject_alternative_names[{index}]"))
    others.discard(domain)
    if len(others) + 1 > MAX_NAMES:
        raise CertificateError(
            f"subject_alternative_names: {len(others) + 1} names with domain_name; a certificate has at most {MAX_NAMES}"
        )
    return domain, sorted(others)


def names_of(certificate):
    """(domain name, sorted other names) of a described certificate."""
    domain = certificate["domain_name"].lower().rstrip(".")
    others = {n.lower().rstrip(".") for n in certificate.get("subject_alternative_names", [])} - {domain}
    return domain, sorted(others)


def matches(certificate, domain, others, key_algorithm):
    """Whether a described certificate has these names (None: any) and key algorithm (None: any)."""
    got_domain, got_others = names_of(certificate)
    same_names = got_domain == domain and others in (None, got_others)
    return same_names and key_algorithm in (None, certificate.get("key_algorithm"))


# ACM's tag key and value pattern, [\p{L}\p{Z}\p{N}_.:\/=+\-@]* (Python's re has
# no \p{...}): letters, separators (spaces), numbers and these punctuation marks.
TAG_PUNCTUATION = "_.:/=+-@"


def tag_text_problem(text):
    """The first character ACM refuses in a tag key or value, as a message; else None."""
    for char in text:
        if char not in TAG_PUNCTUATION and unicodedata.category(char)[0] not in "LZN":
            return (f"{char!r} is not allowed; ACM allows letters, numbers, spaces and {' '.join(TAG_PUNCTUATION)}")
    return None


def default_name(domain):
    """The certificate's name (owner tag value) when none is given: the domain
    name, with a wildcard label written "_" (ACM refuses "*" in tag values;
    domain names never hold "_", so no other name collides)."""
    return "_" + domain[1:] if domain and domain.startswith("*.") else domain


def validate_tags(name, tags):
    """The tags the certificate must carry (ours included), or CertificateError."""
    problem = tag_text_problem(str(name))
    if problem:
        raise CertificateError(f"name={name!r} (kept in the tag {OWNER_TAG}): {problem}")
    wanted = owner_tags.wanted_tags(OWNER_TAG, name, tags, CertificateError)
    for key, value in wanted.items():
        if not 1 <= len(key) <= 128:
            raise CertificateError(f"tags: key {key!r} must have 1-128 characters")
        problem = tag_text_problem(key) or tag_text_problem(value)
        if problem:
            raise CertificateError(f"tags: {key!r}: {problem}")
        if key.lower().startswith("aws:"):
            raise CertificateError(f"tags: key {key!r} uses the prefix aws:, which AWS reserves")
        if len(value) > 256:
            raise CertificateError(f"tags: value of {key!r} has {len(value)} characters; at most 256 are allowed")
    if len(wanted) > MAX_TAGS:
        raise CertificateError(f"tags: {len(wanted)} tags with {OWNER_TAG}; a certificate has at most {MAX_TAGS}")
    return wanted


def tag_changes(current, name, tags, purge_tags):
    return owner_tags.tag_changes(current, OWNER_TAG, name, tags, purge_tags, CertificateError)


def records_ready(certificate):
    """Whether ACM has produced the validation record of every name yet
    (right after RequestCertificate it has not)."""
    options = certificate.get("domain_validation_options") or []
    names = certificate.get("subject_alternative_names") or [certificate.get("domain_name")]
    return len(options) >= len(names) and all(o.get("resource_record") for o in options)


def validation_records(certificate):
    """Unique validation records, sorted by name: [{name, type, value, domain_names}]."""
    records = {}
    for option in certificate.get("domain_validation_options") or []:
        record = option.get("resource_record")
        if not record:
            continue
        name = record["name"].lower().rstrip(".") + "."
        records.setdefault((name, record["type"], record["value"]), []).append(option["domain_name"])
    return [
        {"name": name, "type": rtype, "value": value, "domain_names": sorted(domains)}
        for (name, rtype, value), domains in sorted(records.items())
    ]


def failure(certificate):
    """A sentence saying why a certificate cannot be used, or None when it can (or may yet)."""
    status = certificate.get("status")
    if status not in UNUSABLE:
        return None
    reason = certificate.get("failure_reason")
    text = f"certificate {certificate['certificate_arn']} is {status}" + (f" (reason: {reason})" if reason else "")
    failed = [
        f"{o['domain_name']}: {o.get('validation_status')}" for o in certificate.get("domain_validation_options") or []
        if o.get("validation_status") not in (None, "SUCCESS", "PENDING_VALIDATION")
    ]
    return text + (f"; domains: {', '.join(failed)}" if failed else "")


def choose(certificates):
    """The certificate to keep among matching ones: an ISSUED one before a pending
    one, then the oldest; None when none can still become usable."""
    usable = [c for c in certificates if c.get("status") not in UNUSABLE]
    return min(
        usable, key=lambda c: (c.get("status") != "ISSUED", str(c.get("created_at", "")), c["certificate_arn"]), default=None
    )


def summary(certificate):
    """The certificate as diff mode shows it."""
    if not certificate:
        return {}
    domain, others = names_of(certificate)
    return {
        "domain_name": domain,
        "subject_alternative_names": others,
        "key_algorithm": certificate.get("key_algorithm"),
        "tags": dict(sorted(certificate.get("tags", {}).items())),
    }
