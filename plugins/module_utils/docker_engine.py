# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The few Docker Engine API calls ecr_image_push makes, over the engine's unix
socket or plain tcp, with the standard library only.

Why not community.docker: its push (docker_image_push, docker_image with
push) reads registry credentials only from a Docker config file, so the ECR
password would have to be written to disk by docker_login first. Here the
credentials go in the X-Registry-Auth header of the one push request and
nowhere else.
"""

import base64
import http.client
import json
import os
import socket
from urllib.parse import quote
from urllib.parse import urlencode
from urllib.parse import urlsplit

DEFAULT_HOST = "unix:///var/run/docker.sock"
API = "/v1.41"  # Docker 20.10; every later engine still serves it


class EngineError(Exception):
    """The engine answered with an error, or did not answer."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class Engine:
    def __init__(self, host=None, timeout=600):
        self.host = host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
        self.timeout = timeout

    def _connection(self):
        url = urlsplit(self.host)
        if url.scheme == "unix":
            return _UnixConnection(url.path, self.timeout)
        if url.scheme in ("tcp", "http"):
            return http.client.HTTPConnection(url.hostname, url.port or 2375, timeout=self.timeout)
        raise EngineError(f"docker_host={self.host!r}: only unix:// and tcp:// (without TLS) are supported")

    def _call(self, method, path, params=None, headers=None):
        """(status, body bytes) of one call; EngineError when the engine does not answer."""
        conn = self._connection()
        url = API + path + ("?" + urlencode(params) if params else "")
        try:
            conn.request(method, url, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise EngineError(f"no Docker engine answers at {self.host}: {e}") from None
        finally:
            conn.close()

    @staticmethod
    def _message(body):
        try:
            return json.loads(body).get("message") or body.decode(errors="replace")
        except (ValueError, AttributeError):
            return body.decode(errors="replace")

    def image(self, name):
        """`docker image inspect` of a local image, or None when there is none of that name."""
        status, body = self._call("GET", f"/images/{quote(name, safe='/:@')}/json")
        if status == 404:
            return None
        if status != 200:
            raise EngineError(f"could not inspect image {name}: {self._message(body)}")
        return json.loads(body)

    def tag(self, image, repository, tag):
        status, body = self._call("POST", f"/images/{quote(image, safe='/:@')}/tag", {"repo": repository, "tag": tag})
        if status != 201:
            raise EngineError(f"could not tag {image} as {repository}:{tag}: {self._message(body)}")

    def untag(self, name):
        """Remove one name of an image (never the image's other names or its layers)."""
        self._call("DELETE", f"/images/{quote(name, safe='/:@')}", {"noprune": "1"})

    def push(self, repository, tag, username, password, server):
        """Push repository:tag with these registry credentials; returns the manifest digest."""
        auth = base64.urlsafe_b64encode(
            json.dumps({"username": username, "password": password, "serveraddress": server}).encode()
        ).decode()
        status, body = self._call(
            "POST", f"/images/{quote(repository, safe='/:')}/push", {"tag": tag}, {"X-Registry-Auth": auth}
        )
        if status != 200:
            raise EngineError(f"could not push {repository}:{tag}: {self._message(body)}")
        digest = None
        for line in body.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("error") or event.get("errorDetail"):
                detail = event.get("errorDetail", {}).get("message") or event.get("error")
                raise EngineError(f"could not push {repository}:{tag}: {detail}")
            digest = (event.get("aux") or {}).get("Digest", digest)
        return digest
