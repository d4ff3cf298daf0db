"""The emulator as ECR's image registry (`--registry`): GetAuthorizationToken's
proxyEndpoint, and the Docker registry v2 API forwarded to a registry and kept
in step with moto's ECR.

A small in-process registry stands in for Debian's docker-registry here (no
Docker needed); tests/container/ runs the real engine and registry against it.
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import uuid

import boto3
import pytest

LAUNCHER = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "pocstack-emulator"))
ACCOUNT = "123456789012"
TOKEN = base64.b64encode(f"AWS:{ACCOUNT}-auth-token".encode()).decode()
AUTH = {"Authorization": f"Basic {TOKEN}"}
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeRegistry(http.server.ThreadingHTTPServer):
    """Just enough of the registry v2 API: blob uploads, manifests by tag/digest."""

    def __init__(self):
        self.requests, self.blobs, self.manifests, self.uploads = [], {}, {}, {}
        super().__init__(("127.0.0.1", free_port()), RegistryHandler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"


class RegistryHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, code, body=b"", headers=()):
        self.send_response(code)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        reg = self.server
        body = self._body() if self.command in ("PUT", "PATCH", "POST") else b""
        reg.requests.append((self.command, self.path, dict(self.headers), body))
        path, _, query = self.path.partition("?")
        parts = path.split("/")
        if path == "/v2/":
            return self._send(200, b"{}")
        if "/blobs/uploads/" in path:
            name = path.split("/v2/", 1)[1].split("/blobs/uploads/")[0]
            upload = path.rsplit("/", 1)[1]
            if self.command == "POST":
                upload = uuid.uuid4().hex
                reg.uploads[upload] = b""
                return self._send(202, headers=[("Location", f"{reg.url}/v2/{name}/blobs/uploads/{upload}")])
            reg.uploads[upload] += body
            if self.command == "PATCH":
                return self._send(202, headers=[("Location", f"{reg.url}/v2/{name}/blobs/uploads/{upload}")])
            digest = dict(p.split("=", 1) for p in query.split("&"))["digest"].replace("%3A", ":")
            reg.blobs[digest] = reg.uploads.pop(upload)
            return self._send(201, headers=[("Docker-Content-Digest", digest)])
        if parts[-2] == "blobs":
            blob = reg.blobs.get(parts[-1])
            return self._send(200, blob) if blob is not None else self._send(404)
        if parts[-2] == "manifests":
            name, ref = "/".join(parts[2:-2]), parts[-1]
            if self.command == "PUT":
                digest = "sha256:" + hashlib.sha256(body).hexdigest()
                reg.manifests[(name, ref)] = reg.manifests[(name, digest)] = body
                return self._send(201, headers=[("Docker-Content-Digest", digest)])
            found = reg.manifests.get((name, ref))
            if found is None:
                return self._send(404)
            return self._send(200, found, [("Content-Type", MANIFEST_TYPE)])
        return self._send(404)

    do_GET = do_HEAD = do_PUT = do_PATCH = do_POST = do_DELETE = _handle


@pytest.fixture(scope="module")
def registry():
    server = FakeRegistry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def emulator(registry, tmp_path_factory):
    port = free_port()
    state = str(tmp_path_factory.mktemp("emulator-registry"))
    run = [sys.executable, LAUNCHER]
    started = subprocess.run([*run, "start", "--port", str(port), "--state-dir", state, "--registry", registry.url],
                             capture_output=True, text=True, timeout=90)
    assert started.returncode == 0, started.stdout + started.stderr
    yield f"http://127.0.0.1:{port}"
    subprocess.run([*run, "stop", "--port", str(port), "--state-dir", state], timeout=30, check=True)


@pytest.fixture
def ecr(emulator, registry):
    req = http.client.HTTPConnection("127.0.0.1", int(emulator.rsplit(":", 1)[1]))
    req.request("POST", "/moto-api/reset")
    req.getresponse().read()
    registry.requests.clear()
    return boto3.client("ecr", endpoint_url=emulator, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def call(emulator, method, path, body=None, headers=None, chunked=False):
    conn = http.client.HTTPConnection("127.0.0.1", int(emulator.rsplit(":", 1)[1]), timeout=10)
    conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, dict(resp.getheaders()), data


def manifest(layer_digest="sha256:" + "a" * 64):
    return json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                   "digest": "sha256:" + "c" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3,
                    "digest": layer_digest}],
    }, indent=3).encode()  # not moto's formatting: the digest must be of these exact bytes


def test_proxy_endpoint_is_the_emulator(ecr, emulator):
    data = ecr.get_authorization_token()["authorizationData"][0]
    # AWS: https://<account>.dkr.ecr.<region>.amazonaws.com; moto keeps that address without a registry.
    assert data["proxyEndpoint"] == emulator
    assert base64.b64decode(data["authorizationToken"]).decode().startswith("AWS:")


def test_api_check_challenges_then_accepts_the_token(ecr, emulator, registry):
    status, headers, _ = call(emulator, "GET", "/v2/")
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
    wrong = {"Authorization": "Basic " + base64.b64encode(b"AWS:guess").decode()}
    assert call(emulator, "GET", "/v2/", headers=wrong)[0] == 401
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    assert call(emulator, "GET", "/v2/", headers={"Authorization": f"Basic {token}"})[0] == 200
    # Only the authorised check reached the registry, and without our credentials.
    assert [(m, p) for m, p, _, _ in registry.requests] == [("GET", "/v2/")]
    assert "Authorization" not in registry.requests[0][2]


def test_push_to_a_missing_repository_is_name_unknown(ecr, emulator, registry):
    status, _, body = call(emulator, "POST", "/v2/pocstack/nope/blobs/uploads/", b"", AUTH)
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "NAME_UNKNOWN"
    assert registry.requests == []


def test_blob_upload_comes_back_through_the_emulator(ecr, emulator, registry):
    ecr.create_repository(repositoryName="pocstack/app")
    status, headers, _ = call(emulator, "POST", "/v2/pocstack/app/blobs/uploads/", b"", AUTH)
    assert status == 202
    location = headers["Location"]
    assert location.startswith(emulator + "/v2/pocstack/app/blobs/uploads/")  # rewritten from the registry's
    path = location[len(emulator):]
    blob = os.urandom(200_000)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    status, headers, _ = call(emulator, "PATCH", path, iter([blob[:70_000], blob[70_000:]]), AUTH, chunked=True)
    assert status == 202
    status, _, _ = call(emulator, "PUT", headers["Location"][len(emulator):] + f"?digest={digest}", b"", AUTH)
    assert status == 201
    assert registry.blobs[digest] == blob
    assert call(emulator, "GET", f"/v2/pocstack/app/blobs/{digest}", headers=AUTH)[2] == blob


def test_pushed_manifest_is_recorded_in_ecr_with_the_registry_digest(ecr, emulator):
    ecr.create_repository(repositoryName="pocstack/app")
    body = manifest()
    status, headers, _ = call(emulator, "PUT", "/v2/pocstack/app/manifests/v1", body,
                              {**AUTH, "Content-Type": MANIFEST_TYPE})
    assert status == 201
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    assert headers["Docker-Content-Digest"] == digest
    detail = ecr.describe_images(repositoryName="pocstack/app", imageIds=[{"imageTag": "v1"}])["imageDetails"][0]
    assert detail["imageDigest"] == digest and detail["imageTags"] == ["v1"]
    image = ecr.batch_get_image(repositoryName="pocstack/app", imageIds=[{"imageDigest": digest}])["images"][0]
    assert image["imageManifest"].encode() == body
    # Pushing it again (docker does on every push) changes nothing.
    assert call(emulator, "PUT", "/v2/pocstack/app/manifests/v1", body, {**AUTH, "Content-Type": MANIFEST_TYPE})[0] == 201
    assert len(ecr.describe_images(repositoryName="pocstack/app")["imageDetails"]) == 1


def test_manifest_deleted_through_ecr_is_gone_for_pulls(ecr, emulator):
    ecr.create_repository(repositoryName="pocstack/app")
    call(emulator, "PUT", "/v2/pocstack/app/manifests/v1", manifest(), {**AUTH, "Content-Type": MANIFEST_TYPE})
    assert call(emulator, "GET", "/v2/pocstack/app/manifests/v1", headers=AUTH)[0] == 200
    ecr.batch_delete_image(repositoryName="pocstack/app", imageIds=[{"imageTag": "v1"}])
    status, _, body = call(emulator, "GET", "/v2/pocstack/app/manifests/v1", headers=AUTH)
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"


def test_immutable_repository_refuses_to_move_a_tag(ecr, emulator, registry):
    ecr.create_repository(repositoryName="pocstack/app", imageTagMutability="IMMUTABLE")
    headers = {**AUTH, "Content-Type": MANIFEST_TYPE}
    first, second = manifest(), manifest("sha256:" + "b" * 64)
    assert call(emulator, "PUT", "/v2/pocstack/app/manifests/v1", first, headers)[0] == 201
    assert call(emulator, "PUT", "/v2/pocstack/app/manifests/v1", first, headers)[0] == 201  # same image: fine
    registry.requests.clear()
    status, _, body = call(emulator, "PUT", "/v2/pocstack/app/manifests/v1", second, headers)
    assert status == 400 and json.loads(body)["errors"][0]["code"] == "TAG_INVALID"
    assert registry.requests == []  # refused before the registry saw it
    detail = ecr.describe_images(repositoryName="pocstack/app")["imageDetails"]
    assert [d["imageDigest"] for d in detail] == ["sha256:" + hashlib.sha256(first).hexdigest()]
