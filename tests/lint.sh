#!/usr/bin/env bash
# The quality gates, run by tests/run.sh before pytest (they take well under a
# minute together): ansible-lint (production profile, .ansible-lint),
# yamllint (.yamllint), ruff (ruff.toml), antsibull-changelog lint
# (changelogs/fragments), and the role READMEs against their argument specs
# (tests/role_docs.py). Every gate runs even when an earlier one fails, so one
# run lists everything; the exit code is non-zero when any gate failed.
#   bash tests/lint.sh            all gates
#   bash tests/lint.sh ruff yamllint   only those (names as printed below)
set -uo pipefail
cd "$(dirname "$0")/.."

# ansible-lint resolves FQCNs through the checkout-as-collection link (ansible.cfg).
if [ ! -e .collections/ansible_collections/pocstack/aws ]; then
  mkdir -p .collections/ansible_collections/pocstack
  ln -sfn ../../.. .collections/ansible_collections/pocstack/aws
fi
export ANSIBLE_CONFIG="$PWD/ansible.cfg"

declare -A GATES=(
  [ruff]="ruff check --no-cache ."
  [yamllint]="yamllint --strict ."
  [changelog]="antsibull-changelog lint"
  [role-docs]="python tests/role_docs.py --check"
  [ansible-lint]="ansible-lint --profile production --offline --nocolor -q"
)
ORDER=(ruff yamllint changelog role-docs ansible-lint)
[ "$#" -gt 0 ] && ORDER=("$@")

failed=()
for gate in "${ORDER[@]}"; do
  cmd="${GATES[$gate]:?unknown gate $gate; gates: ${!GATES[*]}}"
  start=$SECONDS
  echo "--- $gate: $cmd"
  if $cmd; then
    echo "--- $gate: ok ($((SECONDS - start)) s)"
  else
    echo "--- $gate: FAILED ($((SECONDS - start)) s)"
    failed+=("$gate")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "lint: failed gates: ${failed[*]}"
  exit 1
fi
echo "lint: all gates passed"
