#!/usr/bin/env bash
# Copies the collection (ansible/) into DIR/ansible_collections/xen/livepatch,
# a git work tree of its own with every file added, as ansible-test wants it,
# and prints that path:  bash scripts/ansible-tree.sh DIR
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1/ansible_collections/xen/livepatch
rm -rf "$dir"
mkdir -p "$dir"
# the committed and the working files of ansible/, not what a test left behind
git ls-files -co --exclude-standard ansible | sed 's|^ansible/||' | (cd ansible && xargs -d '\n' cp --parents -t "$dir")
(cd "$dir" && git init -q && git add -A)
echo "$dir"
