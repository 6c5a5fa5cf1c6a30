#!/usr/bin/env bash
# The benchmark: the real libxenctrl against ours on the simulated hypervisor.
# Builds what it needs; writes docs/bench.csv and docs/bench.svg.
#   bash bench/run.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -q
cargo build --release --locked -q -p fakexen
gcc -O2 -Wall -Wextra -Werror -o /tmp/xc-livepatch-bench bench/bench.c -lxenctrl
exec python3 bench/run.py --bench /tmp/xc-livepatch-bench "$@"
