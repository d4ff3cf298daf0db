#!/usr/bin/env bash
# What `make test-container` runs (with .venv/bin first on PATH): the Docker
# side (emulator/docker-setup.sh start: engine, local registry, base image,
# wheelhouse), an emulator acting as ECR with --registry on
# POCSTACK_EMULATOR_PORT, then the container tests (tests/container) and the
# molecule scenario ecr_image_docker. What this script started is stopped at
# the end; an engine or registry that was already running is left running.
set -euo pipefail
cd "$(dirname "$0")/../.."

port="${POCSTACK_EMULATOR_PORT:-4567}"
registry="${POCSTACK_REGISTRY:-http://127.0.0.1:${POCSTACK_REGISTRY_PORT:-5000}}"
state=.pocstack/test-container-emulator
emulator() { python emulator/pocstack-emulator "$@" --port "$port" --state-dir "$state"; }

if bash emulator/docker-setup.sh status; then docker_was_up=1; else docker_was_up=0; fi
cleanup() {
  emulator stop || true
  if [ "$docker_was_up" = 0 ]; then bash emulator/docker-setup.sh stop || true; fi
}
trap cleanup EXIT

bash emulator/docker-setup.sh start
emulator start --registry "$registry"
export POCSTACK_REGISTRY="$registry"

python -m pytest tests/container -q -p no:cacheprovider
molecule reset -s ecr_image_docker >/dev/null 2>&1 || true
molecule test -s ecr_image_docker
