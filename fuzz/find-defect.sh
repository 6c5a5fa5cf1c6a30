#!/usr/bin/env bash
# Shows that the fuzz target catches a broken bound: copies the crate to a
# scratch directory, removes one check from src/list.rs there (never here),
# fuzzes the copy from the committed seed corpus only, and reports how many
# seconds libFuzzer took to report a failure.
#
#   fuzz/find-defect.sh [MUTANT...] [-t SECONDS]
#
# Mutants (default: all):
#   name-cap   drop `r.name_total_size > caps.name - p.name_used` from the capacity check
#   meta-cap   drop `r.metadata_total_size > caps.metadata - p.meta_used` from it
#   count-nr   drop `.filter(|&c| c <= nr)` (more entries than requested)
#   no-progress drop the `count == 0 && r.left > 0` guard
# Exit status: 0 if every mutant was caught within the time limit.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
limit=300
mutants=()
while [ $# -gt 0 ]; do
  case $1 in
    -t) limit=$2; shift 2 ;;
    *) mutants+=("$1"); shift ;;
  esac
done
[ ${#mutants[@]} -gt 0 ] || mutants=(name-cap meta-cap count-nr no-progress)
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked || exit 1

scratch=${SCRATCH:-/tmp/xc-livepatch-mutants}
# One target directory for all mutants: dependencies build once.
tdir=$scratch/target
mkdir -p "$scratch" "$tdir"
fail=0
for m in "${mutants[@]}"; do
  w=$scratch/$m
  rm -rf "$w"
  mkdir -p "$w"
  # The crate and the fuzz crate, without build outputs.
  (cd "$here" && tar --exclude=./target --exclude=./fuzz/target --exclude=./fuzz/artifacts \
      --exclude=./tests/fakexen/target --exclude=./.git -cf - .) | (cd "$w" && tar -xf -)
  python3 - "$w/src/list.rs" "$m" <<'PY' || { echo "$m: could not apply the mutation"; fail=1; continue; }
import re, sys
path, m = sys.argv[1], sys.argv[2]
s = open(path).read()
pats = {
    "name-cap": r"r\.name_total_size > caps\.name - p\.name_used \|\| ",
    "meta-cap": r" \|\| r\.metadata_total_size > caps\.metadata - p\.meta_used",
    "count-nr": r"\.filter\(\|&c\| c <= nr\)",
    "no-progress": r"\n\s*if count == 0 && r\.left > 0 \{\n[^}]*\}",
}
t, n = re.subn(pats[m], "", s, count=1)
if n != 1:
    sys.exit(f"pattern for {m} not found")
open(path, "w").write(t)
PY
  (cd "$w" && diff -u "$here/src/list.rs" src/list.rs | sed 's/^/    /' | head -20)
  corpus=$(mktemp -d)
  (cd "$w" && cargo fuzz build --target-dir "$tdir" list_hostile >"$scratch/$m.build.log" 2>&1) \
    || { echo "$m: build failed (see $scratch/$m.build.log)"; fail=1; continue; }
  t0=$(date +%s.%N)
  (cd "$w" && cargo fuzz run --target-dir "$tdir" list_hostile "$corpus" fuzz/corpus/list_hostile -- \
      -max_total_time="$limit" -print_final_stats=1 >"$scratch/$m.log" 2>&1)
  rc=$?
  t1=$(date +%s.%N)
  secs=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$m.log" | grep -o '[0-9]*$')
  why=$(grep -m1 -A1 "panicked at" "$scratch/$m.log" | tail -1)
  if [ $rc -ne 0 ] && grep -q "Test unit written\|panicked\|deadly signal\|ERROR: libFuzzer" "$scratch/$m.log"; then
    echo "$m: CAUGHT after ${secs}s (${execs:-?} executions): ${why:-see $scratch/$m.log}"
  else
    echo "$m: NOT caught within ${limit}s (${execs:-?} executions)"
    fail=1
  fi
  rm -rf "$corpus"
done
exit $fail
