#!/usr/bin/env bash
# What `make test` runs (with .venv/bin first on PATH): the quality gates
# (tests/lint.sh: ansible-lint, yamllint, ruff, changelog, role READMEs), the
# Docker engine of the emulator's data plane, unit tests, the emulator's,
# data plane and preflight tests and every molecule scenario, then
# ansible-test sanity of the plugins.
set -euo pipefail
cd "$(dirname "$0")/.."

# Fast and without an emulator: first, so a lint finding fails in seconds.
bash tests/lint.sh

# The emulator's data plane (ECS tasks as containers) for the data plane tests
# and the molecule site scenario: Docker engine, registry, base image and
# wheelhouse (installed with apt-get as root). In CI it must work; elsewhere
# those tests are skipped with the reason.
if bash emulator/docker-setup.sh start; then
  export POCSTACK_EMULATOR_REGISTRY="http://127.0.0.1:${POCSTACK_REGISTRY_PORT:-5000}"
elif [ -n "${CI:-}" ]; then
  echo "tests/run.sh: no Docker engine for the emulator's data plane (see above)" >&2
  exit 1
else
  echo "tests/run.sh: no Docker engine: the data plane tests will be skipped" >&2
fi
# A real browser for what a person sees (Playwright drives Debian's chromium).
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "tests/run.sh: apt-get install chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
      || { [ -z "${CI:-}" ] || exit 1; }
  elif [ -n "${CI:-}" ]; then
    echo "tests/run.sh: chromium is missing; as root: apt-get install chromium" >&2
    exit 1
  fi
fi
# Every other emulator the tests start is a control plane only, which is all
# their subject needs (and keeps two cores enough for the suite).
export POCSTACK_EMULATOR_DATA_PLANE=off

# The unit tests, the integration modules and every molecule scenario
# (tests/integration/test_molecule.py; ecr_image_docker needs a Docker engine:
# `make test-container` runs it) on both cores. Each module starts an emulator
# of its own on a free port, never the demo's (4566); tests/conftest.py groups
# and orders them. Made once first: the local certificate's key material,
# which the parallel deploys would otherwise race to make.
ANSIBLE_CONFIG="$PWD/ansible.cfg" ansible-playbook -i inventories/local/services.pocstack.yml tests/key_material.yml >/dev/null
env -u POCSTACK_EMULATOR_PORT python -m pytest tests/unit tests/integration emulator/tests -q -rs -p no:cacheprovider --durations=25 \
  -n "${POCSTACK_TEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder
bash tests/sanity.sh
