"""ECR's registry: moto has ECR's API but no registry behind it.

With --registry the emulator forwards the Docker registry v2 API to a real
registry (Debian's docker-registry) and keeps moto's ECR in step, so `docker
login/push/pull` against the proxyEndpoint from GetAuthorizationToken work as
on AWS and DescribeImages/BatchGetImage return the digest the registry computed.
"""
import base64
import hashlib
import io
import json
import os
import re
import threading

from pocstack_emulator import HOST

REGISTRY_ENV = "POCSTACK_EMULATOR_REGISTRY"


def registry_url():
    """The registry /v2/ is forwarded to ('' when the emulator has none)."""
    return os.environ.get(REGISTRY_ENV, "").rstrip("/")


def patch_ecr_authorization_proxy_endpoint():
    """ECR GetAuthorizationToken proxyEndpoint.

    AWS: proxyEndpoint is the account's registry,
    https://<account>.dkr.ecr.<region>.amazonaws.com, where `docker login`
    with user AWS and the decoded token's password, then push and pull, work.
    moto 5.2.5: returns that AWS address, which has no registry behind it.
    Fix (only with --registry): proxyEndpoint is the emulator itself,
    http://127.0.0.1:<port> (Docker allows plain HTTP to 127.0.0.0/8), whose
    /v2/ the RegistryProxy below serves; token and expiry stay moto's.
    """
    from moto.ecr import responses

    cls = responses.ECRResponse
    original = cls.get_authorization_token

    def get_authorization_token(self):
        result = original(self)
        if registry_url():
            for data in result.result["authorizationData"]:
                data["proxyEndpoint"] = f"http://{HOST}:{os.environ['MOTO_PORT']}"
        return result

    cls.get_authorization_token = get_authorization_token


class RegistryProxy:
    """WSGI middleware: /v2/ (the Docker registry API) forwarded to a real registry.

    As ECR does: every call but the API check (GET /v2/) needs basic auth
    with user AWS and the password of moto's GetAuthorizationToken (else 401
    with a Basic challenge, so `docker login` sends it); a repository must
    exist in ECR (else 404 NAME_UNKNOWN); an IMMUTABLE repository refuses to
    move a tag (400 TAG_INVALID); a manifest is only served while ECR lists
    it, so images deleted through ECR's API are gone for `docker pull` too.
    A pushed manifest (registry answered 201) is recorded in moto's ECR with
    the registry's Docker-Content-Digest. One registry serves every region: a
    repository is looked up in the regions that have one of that name.
    Absolute Location headers of the registry are rewritten to the emulator,
    so blob uploads come back through it. Bodies are streamed.
    """

    HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                  "proxy-authorization", "proxy-authenticate", "host", "authorization"}
    _path = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|tags)/(?P<rest>.*)$")

    def __init__(self, app, registry, lock=None):
        self.app = app
        self.registry = registry
        self.lock = lock or threading.RLock()  # the data plane's: moto's ECR state is shared with it

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path != "/v2" and not path.startswith("/v2/"):
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if not self._authorized(environ):
            return self._error(start_response, "401 Unauthorized", "DENIED", "Not Authorized",
                               [("WWW-Authenticate", f'Basic realm="http://{environ.get("HTTP_HOST", HOST)}/",'
                                                     ' service="ecr.amazonaws.com"')])
        match = self._path.match(path)
        if not match:  # GET /v2/ (API check) and the catalog
            return self._forward(environ, start_response)
        name, kind, ref = match.group("name"), match.group("kind"), match.group("rest")
        with self.lock:
            backend = self._backend(name)
            listed = backend is not None and self._listed(backend, name, ref)
        if backend is None:
            return self._error(start_response, "404 Not Found", "NAME_UNKNOWN",
                               f"The repository with name '{name}' does not exist in the registry")
        if kind != "manifests":
            return self._forward(environ, start_response)
        if method in ("GET", "HEAD") and not listed:
            return self._error(start_response, "404 Not Found", "MANIFEST_UNKNOWN",
                               f"Requested image not found: {name}:{ref}")
        if method != "PUT":
            return self._forward(environ, start_response)
        body = self._read_body(environ)
        tag = None if ref.startswith("sha256:") else ref
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        with self.lock:
            taken = bool(tag) and self._tag_is_taken(backend, name, tag, digest)
        if taken:
            return self._error(start_response, "400 Bad Request", "TAG_INVALID",
                               f"The image tag '{tag}' already exists in the '{name}' repository "
                               "and cannot be overwritten because the repository is immutable.")
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        status, headers, chunks = self._request(environ)
        if status.startswith("201"):
            digest = dict((k.lower(), v) for k, v in headers).get("docker-content-digest", digest)
            with self.lock:
                self._record(backend, name, body, tag, environ.get("CONTENT_TYPE"), digest)
        start_response(status, headers)
        return chunks

    # -- ECR side (moto) --------------------------------------------------------
    @staticmethod
    def _authorized(environ):
        from moto.core import DEFAULT_ACCOUNT_ID

        if environ.get("PATH_INFO") in ("/v2", "/v2/") and not environ.get("HTTP_AUTHORIZATION"):
            return False  # the API check is how `docker login` learns it must authenticate
        header = environ.get("HTTP_AUTHORIZATION", "")
        expected = "Basic " + base64.b64encode(f"AWS:{DEFAULT_ACCOUNT_ID}-auth-token".encode()).decode()
        return header == expected

    @staticmethod
    def _backend(name):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ecr.models import ecr_backends

        for _region, backend in sorted(ecr_backends[DEFAULT_ACCOUNT_ID].items()):
            if name in backend.repositories:
                return backend
        return None

    @staticmethod
    def _listed(backend, name, ref):
        return any(ref == image.image_digest or ref in image.image_tags for image in backend.repositories[name].images)

    @staticmethod
    def _tag_is_taken(backend, name, tag, digest):
        repository = backend.repositories[name]
        return repository.image_tag_mutability.startswith("IMMUTABLE") and any(
            tag in image.image_tags and image.image_digest != digest for image in repository.images
        )

    @staticmethod
    def _record(backend, name, body, tag, media_type, digest):
        from moto.ecr.exceptions import ImageAlreadyExistsException

        try:
            backend.put_image(name, body.decode("utf-8"), tag, media_type or None, digest)
        except ImageAlreadyExistsException:
            pass  # the same manifest under the same tag: a re-push, nothing to record

    # -- registry side ----------------------------------------------------------
    @staticmethod
    def _read_body(environ):
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH")
        if length:
            return stream.read(int(length))
        return stream.read() if environ.get("wsgi.input_terminated") else b""

    def _forward(self, environ, start_response):
        status, headers, chunks = self._request(environ)
        start_response(status, headers)
        return chunks

    def _request(self, environ):
        import http.client
        from urllib.parse import urlsplit

        target = urlsplit(self.registry)
        conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=600)
        url = environ.get("PATH_INFO", "") + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in self.HOP_BY_HOP}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        method = environ.get("REQUEST_METHOD", "GET")
        if environ.get("CONTENT_LENGTH"):
            headers["Content-Length"] = environ["CONTENT_LENGTH"]
            body = self._chunks(environ["wsgi.input"], int(environ["CONTENT_LENGTH"]))
            conn.request(method, url, body=body, headers=headers)
        elif environ.get("wsgi.input_terminated"):  # a chunked request
            conn.request(method, url, body=self._chunks(environ["wsgi.input"], None), headers=headers,
                         encode_chunked=True)
        else:
            conn.request(method, url, headers=headers)
        resp = conn.getresponse()
        ours = f"http://{environ.get('HTTP_HOST', HOST)}"
        out = []
        for key, value in resp.getheaders():
            if key.lower() in self.HOP_BY_HOP:
                continue
            if key.lower() == "location" and value.startswith(self.registry):
                value = ours + value[len(self.registry):]
            out.append((key, value))
        return f"{resp.status} {resp.reason}", out, self._response_chunks(resp, conn)

    @staticmethod
    def _chunks(stream, length):
        while length is None or length > 0:
            data = stream.read(65536 if length is None else min(65536, length))
            if not data:
                return
            if length is not None:
                length -= len(data)
            yield data

    @staticmethod
    def _response_chunks(resp, conn):
        try:
            while True:
                data = resp.read(65536)
                if not data:
                    return
                yield data
        finally:
            conn.close()

    @staticmethod
    def _error(start_response, status, code, message, extra=()):
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
        start_response(status, [("Content-Type", "application/json; charset=utf-8"),
                                ("Content-Length", str(len(body))), *extra])
        return [body]


def registry_proxy(app, lock=None):
    """`app` behind a RegistryProxy when the emulator has a registry, else `app`."""
    return RegistryProxy(app, registry_url(), lock) if registry_url() else app
