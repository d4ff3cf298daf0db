"""ACM fidelity fixes: where moto 5.2.5 answers otherwise than AWS."""
import inspect


def patch_acm_imported_certificate_chain():
    """ACM GetCertificate for an imported certificate.

    AWS: CertificateChain is the chain that was imported; a certificate
    imported without a chain returns the certificate itself as its chain.
    community.aws.acm_certificate relies on exactly that to find a re-import
    unchanged (its own integration tests against AWS assert `not changed`).
    moto 5.2.5: appends a fixed Amazon root CA to the given chain, or returns
    that root alone, so every re-import of the same certificate reports
    `changed` and overwrites it.
    Fix: imported certificates return the imported chain, else the certificate.
    """
    from moto.acm import models

    original = models.CertBundle.__init__
    signature = inspect.signature(original)

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.type == "IMPORTED":
            given = signature.bind(self, *args, **kwargs).arguments
            chain = given.get("chain")
            self.chain = chain.strip() + b"\n" if chain else given["certificate"]

    models.CertBundle.__init__ = __init__


def patch_acm_reimport_keeps_tags():
    """ACM ImportCertificate with CertificateArn (re-import).

    AWS: re-importing into an existing ARN replaces the certificate but keeps
    the ARN, its tags and its associations (AWS does not take tags on a
    re-import at all).
    moto 5.2.5: replaces the whole record, so every tag (e.g. the Name tag
    acm_certificate finds its certificate by) is lost.
    Fix: carry the old tags and in-use list over to the new record.
    """
    from moto.acm import models

    backend_cls = models.AWSCertificateManagerBackend
    original = backend_cls.import_certificate

    def import_certificate(self, certificate, private_key, chain, arn, tags):
        old = self._certificates.get(arn) if arn else None
        result = original(self, certificate, private_key, chain, arn, tags)
        if old is not None:
            new = self._certificates[result]
            kept = old.tags.copy()
            kept.update(new.tags)
            new.tags.clear()
            new.tags.update(kept)
            new.in_use_by = old.in_use_by
        return result

    backend_cls.import_certificate = import_certificate


def _acm_certificate_place(cert):
    """(partition, account, region) of an ACM certificate, from its ARN."""
    _, partition, _, region, account = cert.arn.split(":")[:5]
    return partition, account, region


def patch_acm_request_key_algorithm():
    """ACM RequestCertificate KeyAlgorithm.

    AWS: a requested certificate has the key algorithm asked for
    (RSA_2048, the default, EC_prime256v1 or EC_secp384r1), and
    DescribeCertificate/ListCertificates report it as KeyAlgorithm.
    moto 5.2.5: ignores KeyAlgorithm; every requested certificate has an
    RSA 2048 key, so a module comparing the key algorithm would request an
    EC certificate again on every run.
    Fix: re-key a freshly requested certificate with the asked-for EC curve
    (same subject, issuer, SANs and validity).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from moto.acm import responses

    curves = {"EC_prime256v1": (ec.SECP256R1, hashes.SHA256), "EC_secp384r1": (ec.SECP384R1, hashes.SHA384)}
    cls = responses.AWSCertificateManagerResponse
    original = cls.request_certificate

    def request_certificate(self):
        result = original(self)
        wanted = curves.get(self._get_param("KeyAlgorithm") or "RSA_2048")
        if wanted:
            bundle = self.acm_backend._certificates[result.result["CertificateArn"]]
            curve, digest = wanted
            key = ec.generate_private_key(curve())
            old = bundle._cert
            builder = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(old.issuer)
                       .public_key(key.public_key()).serial_number(old.serial_number)
                       .not_valid_before(old.not_valid_before_utc)
                       .not_valid_after(old.not_valid_after_utc))
            for extension in old.extensions:
                builder = builder.add_extension(extension.value, critical=extension.critical)
            cert = builder.sign(key, digest())
            bundle.key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
            bundle.cert = cert.public_bytes(serialization.Encoding.PEM)
            bundle._key, bundle._cert = key, cert
        return result

    cls.request_certificate = request_certificate


# Domain names whose validation records never resolve (POST /_pocstack/acm/hold).
HELD = set()


def patch_acm_dns_validation_needs_records():
    """ACM DNS validation of a requested certificate.

    AWS: a certificate requested with DNS validation stays
    PENDING_VALIDATION until the CNAME record of every domain
    (DomainValidationOptions[].ResourceRecord) resolves in public DNS; then
    it turns ISSUED. Without the records it never does (VALIDATION_TIMED_OUT
    after 72 hours).
    moto 5.2.5: turns ISSUED MOTO_ACM_VALIDATION_WAIT seconds after the
    request whether or not any record exists, so a module that forgot the
    records, or wrote wrong ones, would pass.
    Fix: after that wait, ISSUED only once every validation record exists as
    a CNAME with that value in a public Route 53 hosted zone of the account,
    and none of its domain names is in HELD (POST /_pocstack/acm/hold: names
    whose records do not resolve yet, as when their zone is not delegated, so
    that a test can see a certificate stay pending however slow the machine).
    """
    from moto.acm import models
    from moto.route53.models import route53_backends

    def published(cert):
        partition, account, _ = _acm_certificate_place(cert)
        zones = [z for z in route53_backends[account][partition].zones.values() if not z.private_zone]
        have = {(r.name.rstrip(".").lower(), value.rstrip(".").lower())
                for zone in zones for r in zone.rrsets if r.type == "CNAME" for value in r.records}
        for option in cert.describe()["Certificate"].get("DomainValidationOptions", []):
            record = option["ResourceRecord"]
            if option["DomainName"].lower() in HELD:
                return False
            if (record["Name"].rstrip(".").lower(), record["Value"].rstrip(".").lower()) not in have:
                return False
        return True

    original = models.CertBundle.check

    def check(self):
        pending = self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION"
        original(self)
        if pending and self.status == "ISSUED" and not published(self):
            self.status = "PENDING_VALIDATION"

    models.CertBundle.check = check


def patch_acm_in_use_by_load_balancers():
    """ACM InUseBy and DeleteCertificate of a certificate that is in use.

    AWS: DescribeCertificate's InUseBy lists the load balancers whose
    listeners use the certificate (ListCertificates: InUse true), and
    DeleteCertificate of such a certificate fails with
    ResourceInUseException, so a teardown must delete the listener first.
    moto 5.2.5: ELBv2 CreateListener records the listener's ARN (not the
    load balancer's) and nothing ever removes it: after the listener or the
    load balancer is deleted, or ModifyListener switched certificates, the
    certificate stays "in use" (and a new one given to ModifyListener never
    is); DeleteCertificate succeeds even while a listener uses it.
    Fix: InUseBy lists the ELBv2 load balancers whose listeners hold the
    certificate now (classic ELB entries are kept); DeleteCertificate
    refuses while InUseBy is not empty.
    """
    from moto.acm import models
    from moto.acm.exceptions import AWSError
    from moto.elbv2.models import elbv2_backends

    class ResourceInUse(AWSError):
        TYPE = "ResourceInUseException"

    def users(cert):
        _, account, region = _acm_certificate_place(cert)
        found = {user for user in cert.in_use_by if ":listener/" not in user}  # moto's stale ELBv2 entries
        for lb in elbv2_backends[account][region].load_balancers.values():
            if any(cert.arn in (listener.certificates or []) for listener in lb.listeners.values()):
                found.add(lb.arn)
        return sorted(found)

    original_describe = models.CertBundle.describe

    def describe(self):
        result = original_describe(self)
        result["Certificate"]["InUseBy"] = users(self)
        return result

    backend_cls = models.AWSCertificateManagerBackend
    original_delete = backend_cls.delete_certificate

    def delete_certificate(self, arn):
        cert = self._certificates.get(arn)
        in_use = users(cert) if cert is not None else []
        if in_use:
            raise ResourceInUse(f"Certificate {arn} in use by {', '.join(in_use)}")
        return original_delete(self, arn)

    models.CertBundle.describe = describe
    backend_cls.delete_certificate = delete_certificate


# AWS does not publish ACM's message for this case. The wording is that of
# AWS's documented error for the same mismatch at IAM's certificate import
# (UploadServerCertificate, KeyPairMismatchException: "The request was
# rejected because the public key certificate and the private key do not
# match."), with ACM's error code for import mistakes, ValidationException
# (as ACM answers an unparsable, expired or multi-certificate import).
KEY_MISMATCH = "The public key certificate and the private key do not match."


def patch_acm_import_key_must_match():
    """ACM ImportCertificate (new, or a re-import into an ARN) of a key that is not the certificate's.

    AWS: refused with ValidationException; the ImportCertificate reference
    requires "the private key that matches the certificate you are importing",
    and nothing is stored (a re-import leaves the old certificate in place).
    moto 5.2.5: parses the key and the certificate separately and never
    compares them, so any key imports, and an HTTPS listener with that
    certificate could not complete a TLS handshake.
    Fix: the key's public key must be the certificate's (compared as
    SubjectPublicKeyInfo DER), else ValidationException with KEY_MISMATCH.
    Texts that do not parse are left to moto's own messages.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from moto.acm import models
    from moto.acm.exceptions import AWSValidationException

    def spki(public_key):
        return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    backend_cls = models.AWSCertificateManagerBackend
    original = backend_cls.import_certificate

    def import_certificate(self, certificate, private_key, chain, arn, tags):
        try:
            cert = x509.load_pem_x509_certificate(certificate)
            key = serialization.load_pem_private_key(private_key, password=None)
        except (TypeError, ValueError):  # moto's own checks name these
            cert = key = None
        if cert is not None and spki(key.public_key()) != spki(cert.public_key()):
            raise AWSValidationException(KEY_MISMATCH)
        return original(self, certificate, private_key, chain, arn, tags)

    backend_cls.import_certificate = import_certificate
