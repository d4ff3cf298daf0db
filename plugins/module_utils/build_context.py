# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A content hash of a Docker build context: the files `docker build` would send
(.dockerignore applied, the Dockerfile always in), their contents and
executable bits, the Dockerfile's name and the build arguments.

The same context gives the same hash on any machine, so the ecr_image role can
tag an image with it and skip the build and the push when ECR already has that
tag. File selection is community.docker's own (the code docker_image uses to
make the context tar), so the hash covers exactly what the engine gets.
"""

import hashlib
import os
import stat

from ansible_collections.community.docker.plugins.module_utils._api.utils.build import exclude_paths


def dockerignore_patterns(root):
    """The patterns of root/.dockerignore, read the way community.docker.docker_image reads them."""
    path = os.path.join(root, ".dockerignore")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line for line in (raw.strip() for raw in f.read().splitlines()) if line and line[0] != "#"]


def context_files(root, dockerfile="Dockerfile"):
    """Sorted relative paths (files and directories) docker would send from root."""
    return sorted(exclude_paths(os.path.abspath(root), dockerignore_patterns(root), dockerfile=dockerfile))


def _file_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def context_hash(root, dockerfile="Dockerfile", build_args=None, platform=None):
    """(sha256 hex of the context, sorted list of the files in it); the target
    platform, when given, is part of it (one context, two images)."""
    root = os.path.abspath(root)
    digest = hashlib.sha256()
    digest.update(f"dockerfile {dockerfile}\n".encode())
    if platform:
        digest.update(f"platform {platform}\n".encode())
    for key, value in sorted((build_args or {}).items()):
        digest.update(f"arg {key}={value}\n".encode())
    files = []
    for rel in context_files(root, dockerfile):
        path = os.path.join(root, rel)
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            digest.update(f"link {rel} {os.readlink(path)}\n".encode())
        elif stat.S_ISDIR(info.st_mode):
            digest.update(f"dir {rel}\n".encode())
        else:
            executable = bool(info.st_mode & stat.S_IXUSR)
            digest.update(f"file {rel} {int(executable)} {_file_digest(path)}\n".encode())
            files.append(rel)
    return digest.hexdigest(), files
