#!/usr/bin/env bash
# Stage: exact hypercall and buffer-mapping counts of our library on the
# simulated hypervisor, listing and managing (upload, get, actions): the
# benchmark's regression guard; timings stay in bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q
cargo build --release -q -p fakexen
bin=$(mktemp -d); trap 'rm -rf "$bin"' EXIT
gcc -O2 -Wall -Wextra -Werror -o "$bin/bench" bench/bench.c -lxenctrl
gcc -O2 -Wall -Wextra -Werror -o "$bin/manage" bench/manage.c -lxenctrl
python3 bench/counts.py "$bin/bench" "$bin/manage"
