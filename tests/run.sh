#!/usr/bin/env bash
# What `make test` runs (with .venv/bin first on PATH): the quality gates
# (tests/lint.sh: ansible-lint, yamllint, ruff, changelog, role READMEs), unit tests, the
# emulator's and preflight tests and every molecule scenario, then
# ansible-test sanity of the plugins.
set -euo pipefail
cd "$(dirname "$0")/.."

# Fast and without an emulator: first, so a lint finding fails in seconds.
bash tests/lint.sh

# The unit tests, the integration modules and every molecule scenario
# (tests/integration/test_molecule.py; ecr_image_docker needs a Docker engine:
# `make test-container` runs it) on both cores. Each module starts an emulator
# of its own on a free port, never the demo's (4566); tests/conftest.py groups
# and orders them. Made once first: the local certificate's key material,
# which the parallel deploys would otherwise race to make.
ANSIBLE_CONFIG="$PWD/ansible.cfg" ansible-playbook -i inventories/local/services.pocstack.yml tests/key_material.yml >/dev/null
env -u POCSTACK_EMULATOR_PORT python -m pytest tests/unit tests/integration emulator/tests -q -p no:cacheprovider --durations=25 \
  -n "${POCSTACK_TEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder
bash tests/sanity.sh
