"""roles/ecr_image/tasks/repository.yml as Ansible renders it: the lifecycle
policy never expires an image a deployment used (a first rule keeps every
image tagged with the deployed-digest prefix), and the tag mutability is set on
a repository the role creates, left alone on an existing one unless asked for."""
import json
import os
import re

import pytest
from ansible.template import trust_as_template
from moto.ecr.policy_validation import EcrLifecyclePolicyValidator

from rendering import ROOT
from rendering import load as load_checkout
from rendering import named_task
from rendering import templar as make_templar
from rendering import trusted

ROLE = os.path.join(ROOT, "roles", "ecr_image")
ECS_ECR = "repository | ECR repository (scan on push, tag mutability, lifecycle policy)"
ALLOWED = "repository | Tag mutability is one the role knows"
KEEP = "repository | An existing repository's tag mutability is kept unless asked for"


def load(path):
    return load_checkout("roles", "ecr_image", path)


def task(name):
    return named_task(load("tasks/repository.yml"), name)


def templar(existing=None, **variables):
    """The role's defaults, an ecr_image_info answer (existing: the repository's
    imageTagMutability, or None for no repository), and the caller's variables."""
    repository = {} if existing is None else {"image_tag_mutability": existing}
    known = {**trusted(load("defaults/main.yml")), "inventory_hostname": "plotly", "role_path": ROLE,
             "ecr_image__existing": {"repository": repository}, **variables}
    return make_templar(known)


def rendered_var(name, existing=None, **variables):
    return templar(existing, **variables).template(trusted(task(ECS_ECR)["vars"][name]))


def test_the_lifecycle_policy_keeps_deployed_images_before_counting():
    policy = rendered_var("ecr_image__lifecycle_policy")
    assert policy == {"rules": [
        {"rulePriority": 1, "description": "Keep every image a deployment used (pocstack.aws)",
         "selection": {"tagStatus": "tagged", "tagPrefixList": ["pocstack-deployed-"],
                       "countType": "imageCountMoreThan", "countNumber": 9999},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "Keep the newest 10 images (pocstack.aws)",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10},
         "action": {"type": "expire"}},
    ]}


@pytest.mark.parametrize("keep_last", [1, 10, 10000])
def test_the_lifecycle_policy_is_one_ecr_accepts(keep_last):
    """ECR's constraints (moto's validator, and the ones it leaves out): unique
    priorities, `any` last, a tagged rule with a tag list, counts of at least 1."""
    policy = rendered_var("ecr_image__lifecycle_policy", ecr_image_keep_last=keep_last)
    EcrLifecyclePolicyValidator(json.dumps(policy)).validate()
    rules = sorted(policy["rules"], key=lambda r: r["rulePriority"])
    assert len({r["rulePriority"] for r in rules}) == len(rules)
    assert [r["selection"]["tagStatus"] for r in rules] == ["tagged", "any"]
    assert rules[0]["selection"]["tagPrefixList"] and rules[-1]["selection"]["countNumber"] == keep_last


def test_the_deployed_tag_is_a_valid_ecr_tag():
    """The prefix and a digest's 64 hex digits make an ECR tag (at most 128 of [A-Za-z0-9_.-])."""
    prefix = load("defaults/main.yml")["ecr_image__deployed_tag_prefix"]
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", prefix + "0" * 64)


@pytest.mark.parametrize("existing, variables, expected", [
    # A repository the role creates: immutable, mutable for a mirror.
    (None, {}, "immutable"),
    (None, {"ecr_image_source": "mirror"}, "mutable"),
    (None, {"ecr_image_source": "build"}, "immutable"),
    # An existing one keeps its setting...
    ("MUTABLE", {}, "mutable"),
    ("IMMUTABLE", {"ecr_image_source": "mirror"}, "immutable"),
    # ... unless the variable asks.
    ("MUTABLE", {"ecr_image_tag_mutability": "immutable"}, "immutable"),
    ("IMMUTABLE", {"ecr_image_tag_mutability": "mutable"}, "mutable"),
    (None, {"ecr_image_tag_mutability": "mutable"}, "mutable"),
])
def test_tag_mutability_passed_to_ecs_ecr(existing, variables, expected):
    assert rendered_var("ecr_image__tag_mutability", existing, **variables) == expected


@pytest.mark.parametrize("value, allowed", [
    ("", True), ("mutable", True), ("immutable", True), ("IMMUTABLE", False), ("keep", False),
])
def test_allowed_values(value, allowed):
    check = task(ALLOWED)["ansible.builtin.assert"]
    t = templar(ecr_image_tag_mutability=value)
    assert t.evaluate_conditional(trust_as_template(check["that"])) is allowed
    if not allowed:
        message = t.template(trust_as_template(check["fail_msg"]))
        assert message.startswith(f"ecr_image_tag_mutability='{value}' is not allowed; allowed: ''")
        assert message.endswith("mutable, immutable")


def test_the_argument_spec_allows_the_same_values_with_the_same_default():
    spec = load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]["ecr_image_tag_mutability"]
    assert spec["choices"] == ["", "mutable", "immutable"] and spec["default"] == ""
    assert load("defaults/main.yml")["ecr_image_tag_mutability"] == ""


@pytest.mark.parametrize("existing, variables, stops", [
    ("IMMUTABLE_WITH_EXCLUSION", {}, True),
    ("MUTABLE_WITH_EXCLUSION", {}, True),
    ("IMMUTABLE_WITH_EXCLUSION", {"ecr_image_tag_mutability": "immutable"}, False),
    ("MUTABLE", {}, False),
])
def test_a_setting_ecs_ecr_cannot_keep_stops_the_role(existing, variables, stops):
    check = task(KEEP)
    t = templar(existing, **variables)
    applies = all(t.evaluate_conditional(trust_as_template(c)) for c in check["when"])
    holds = t.evaluate_conditional(trust_as_template(check["ansible.builtin.assert"]["that"]))
    assert (applies and not holds) is stops
