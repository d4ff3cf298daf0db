"""The build-context hash that tags the ecr_image role's builds: what changes it and what does not."""
import os

import pytest

from ansible_collections.pocstack.aws.plugins.module_utils.build_context import context_files
from ansible_collections.pocstack.aws.plugins.module_utils.build_context import context_hash

APP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "files", "app"))


@pytest.fixture
def context(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / ".dockerignore").write_text("# comment\n*.md\nsecrets/\n!keep.md\n")
    (tmp_path / "README.md").write_text("docs\n")
    (tmp_path / "keep.md").write_text("kept\n")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text("s3cret\n")
    return tmp_path


def test_dockerignore_applies_and_dockerfile_is_always_in(context):
    files = context_files(str(context))
    assert "app.py" in files and "keep.md" in files and "Dockerfile" in files
    assert not {"README.md", "secrets", "secrets/token"} & set(files)
    (context / ".dockerignore").write_text("*\n")
    assert "Dockerfile" in context_files(str(context))


def test_same_context_same_hash_anywhere(context, tmp_path_factory):
    digest, files = context_hash(str(context))
    assert len(digest) == 64 and files == sorted(files)
    copy = tmp_path_factory.mktemp("copy")
    for name in files:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((context / name).read_bytes())
    assert context_hash(str(copy))[0] == digest


@pytest.mark.parametrize("change", [
    lambda c: (c / "app.py").write_text("print('changed')\n"),
    lambda c: (c / "new.py").write_text("x = 1\n"),
    lambda c: (c / "keep.md").unlink(),
    lambda c: os.chmod(c / "app.py", 0o755),
    lambda c: (c / "Dockerfile").write_text("FROM scratch\n"),
], ids=["content", "new-file", "removed-file", "executable-bit", "dockerfile"])
def test_a_change_that_reaches_the_image_changes_the_hash(context, change):
    before = context_hash(str(context))[0]
    change(context)
    assert context_hash(str(context))[0] != before


@pytest.mark.parametrize("change", [
    lambda c: (c / "README.md").write_text("other docs\n"),
    lambda c: (c / "secrets" / "token").write_text("rotated\n"),
    lambda c: (c / "CHANGES.md").write_text("ignored\n"),
    lambda c: os.utime(c / "app.py", (0, 0)),
], ids=["ignored-file", "ignored-dir", "new-ignored", "mtime"])
def test_what_never_reaches_the_image_leaves_the_hash(context, change):
    before = context_hash(str(context))[0]
    change(context)
    assert context_hash(str(context))[0] == before


def test_build_args_and_dockerfile_name_count(context):
    plain = context_hash(str(context))[0]
    assert context_hash(str(context), build_args={"BASE_IMAGE": "a"})[0] != plain
    assert context_hash(str(context), build_args={"BASE_IMAGE": "a"})[0] != context_hash(
        str(context), build_args={"BASE_IMAGE": "b"})[0]
    (context / "Other.Dockerfile").write_text("FROM scratch\nCOPY app.py /\n")
    assert context_hash(str(context), dockerfile="Other.Dockerfile")[0] != plain


def test_the_platform_counts_when_given(context):
    plain = context_hash(str(context))[0]
    amd64 = context_hash(str(context), platform="linux/amd64")[0]
    assert amd64 != plain and amd64 != context_hash(str(context), platform="linux/arm64")[0]
    assert context_hash(str(context), platform=None)[0] == plain


def test_the_app_context_is_only_what_the_image_needs():
    files = [f for f in context_files(APP) if not f.startswith("wheelhouse")]
    assert files == [".dockerignore", "Dockerfile", "app.py", "gunicorn.conf.py", "requirements.lock"]
