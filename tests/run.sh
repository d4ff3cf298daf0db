#!/usr/bin/env bash
# What `make test` runs (with .venv/bin first on PATH): unit tests, the
# emulator's and preflight tests, ansible-test sanity of the plugins, then
# every molecule scenario against a test emulator
# on POCSTACK_EMULATOR_PORT (4567), never the demo's (4566).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${POCSTACK_EMULATOR_PORT:-4567}"
state=.pocstack/test-emulator
emulator() { python tests/emulator/pocstack_emulator.py "$1" --port "$port" --state-dir "$state"; }

emulator start
trap 'emulator stop' EXIT

python -m pytest tests/unit tests/integration -q -p no:cacheprovider
bash tests/sanity.sh
# Molecule remembers a scenario as prepared across runs; forget that so each
# scenario's prepare empties the emulator again.
for scenario in extensions/molecule/*/molecule.yml; do
  molecule reset -s "$(basename "$(dirname "$scenario")")" >/dev/null 2>&1 || true
done
molecule test --all
