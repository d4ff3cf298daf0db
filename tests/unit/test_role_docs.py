"""Each role README's variables section is what tests/role_docs.py generates
from the role's meta/argument_specs.yml: a changed argument spec without a
regenerated README fails here, naming the README and the command that fixes it."""
import os
import shutil
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import role_docs  # noqa: E402

MARKED = role_docs.roles()


def test_the_roles_with_generated_sections_are_found():
    # ecr_image and ssm_secrets carry the markers; a README that loses them
    # would silently drop out of the check.
    assert {"ecr_image", "ssm_secrets"} <= set(MARKED)


@pytest.mark.parametrize("role", MARKED)
def test_readme_variables_match_argument_specs(role):
    current, expected = role_docs.expected_readme(role)
    assert current == expected, (
        f"roles/{role}/README.md's variables section differs from roles/{role}/meta/argument_specs.yml; "
        "run `python tests/role_docs.py` and commit the README"
    )


@pytest.mark.parametrize("role", MARKED)
def test_every_option_has_a_row(role):
    import yaml

    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as fh:
        specs = yaml.safe_load(fh)
    with open(os.path.join(ROOT, "roles", role, "README.md")) as fh:
        readme = fh.read()
    for entry in specs["argument_specs"].values():
        for name in entry.get("options", {}):
            assert f"| `{name}` |" in readme, f"roles/{role}/README.md has no row for {name}"


def test_check_fails_and_names_a_stale_readme(tmp_path, monkeypatch, capsys):
    role = MARKED[0]
    copy = tmp_path / "roles" / role
    shutil.copytree(os.path.join(ROOT, "roles", role), copy)
    specs = copy / "meta" / "argument_specs.yml"
    specs.write_text(specs.read_text().replace("options:", "options:\n      brand_new_option:\n"
                                               "        description: Added without regenerating.\n"
                                               "        type: str\n", 1))
    monkeypatch.setattr(role_docs, "ROOT", str(tmp_path))
    assert role_docs.main(["--check"]) == 1
    assert f"roles/{role}/README.md" in capsys.readouterr().out
    # without --check it rewrites the section, and the check passes again
    assert role_docs.main([]) == 0
    assert "| `brand_new_option` | str |  | Added without regenerating. |" in (copy / "README.md").read_text()
    assert role_docs.main(["--check"]) == 0


def test_markup_becomes_markdown():
    assert role_docs._text(["C(a) and O(b)", "E(DOCKER_HOST)."]) == "`a` and `b` `$DOCKER_HOST`."
