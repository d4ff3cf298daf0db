#!/usr/bin/env bash
# ansible-test sanity for the collection's plugins, run by tests/run.sh.
# ansible-test needs the collection under .../ansible_collections/pocstack/aws
# with its dependencies beside it, so this builds that tree from the checkout's
# tracked files in .pocstack/sanity (gitignored) and runs there.
set -euo pipefail
cd "$(dirname "$0")/.."

root=.pocstack/sanity/ansible_collections
rm -rf .pocstack/sanity
mkdir -p "$root/pocstack/aws" "$root/amazon" "$root/community"
git ls-files -z | xargs -0 cp --parents -t "$root/pocstack/aws"
bundled="$(python -c 'import ansible_collections.amazon.aws as m, os; print(os.path.dirname(os.path.dirname(m.__path__[0])))')"
cp -r "$bundled/amazon/aws" "$root/amazon/"
# plugins/module_utils/build_context.py uses community.docker's .dockerignore matching.
cp -r "$bundled/community/docker" "$root/community/"

# ansible-test fetches a pip bootstrap script from ci-files.testing.ansible.com,
# which this network does not reach; give it one that uses the interpreter's
# own ensurepip and PyPI instead.
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
cp tests/sanity_get_pip.py "$cache/get_pip_24_2.py"

cd "$root/pocstack/aws"
git init -q && git add -A
ansible-test sanity --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" plugins/
