#!/usr/bin/env bash
# The benchmark: the real libxenctrl against ours, and ours against a floor
# program, on the simulated hypervisor. Builds what it needs; writes
# docs/bench.csv and docs/bench.svg.
#   bash bench/run.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -q
cargo build --release --locked -q -p fakexen
bin=$(mktemp -d); trap 'rm -rf "$bin"' EXIT
gcc -O2 -Wall -Wextra -Werror -o "$bin/bench" bench/bench.c -lxenctrl
gcc -O2 -Wall -Wextra -Werror -DLPBENCH_FLOOR -o "$bin/floor" bench/bench.c bench/floor.c
python3 bench/run.py --bench "$bin/bench" --floor "$bin/floor" "$@"
