#!/usr/bin/env bash
# Where this library's user-space work above the floor goes, in instructions
# (deterministic, unlike the timings): the real-Xen benchmark's driver, run on
# the host over the simulated hypervisor (fakexen) under callgrind, 1000 x 48 B.
# Prints instructions per get_sizes + list, inclusive (the simulated hypervisor's
# work is the same on both sides), for ours and the floor, and ours' reply checks.
#   bash bench/real-xen/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh valgrind >&2
cargo build --release -q && cargo build --release -q -p fakexen
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
gcc -O2 -g -Wall -Wextra -Werror -o "$T/driver" bench/real-xen/driver.c bench/floor.c bench/real-xen/unload.c -ldl
cp target/release/libxc_livepatch.so "$T/ours.so"
printf 'generate 1000 48\n' > "$T/scn"
ROUNDS=100
FAKEXEN_SCENARIO=$T/scn LD_PRELOAD=$PWD/target/release/libfakexen.so valgrind --tool=callgrind \
    --callgrind-out-file="$T/cg.out" "$T/driver" time $ROUNDS sim "ours=$T/ours.so" floor > /dev/null 2> "$T/err" \
    || { tail "$T/err"; exit 1; }
callgrind_annotate --inclusive=yes --threshold=100 "$T/cg.out" > "$T/inc.txt"
# calls per implementation: rounds + 3 warm-up + 1 output check
python3 - "$T/inc.txt" $((ROUNDS + 4)) <<'PY'
import re, sys
calls = int(sys.argv[2])
tot = {}
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*:(\S+) \[", line)
    if m:
        tot.setdefault(m.group(2).split("::")[-1], int(m.group(1).replace(",", "")))
def f(name):
    return tot.get(name, 0) / calls
ours = f("xc_livepatch_list_get_sizes") + f("xc_livepatch_list")
floor = f("floor_get_sizes") + f("floor_list")
print("instructions per get_sizes + list (inclusive, simulated hypervisor included):")
print("  ours %.0f, floor %.0f, ours - floor %.0f" % (ours, floor, ours - floor))
print("  of which ours' reply checks (list::check_batch) %.0f" % f("check_batch"))
PY
