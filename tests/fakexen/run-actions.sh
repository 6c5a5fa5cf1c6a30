#!/usr/bin/env bash
# The action suite: for each tests/fakexen/actions/*.scn, runs a sequence of
# Debian's real `xen-livepatch` commands (upload, apply, revert, replace,
# unload, load, list) on one simulated hypervisor (fakexen; FAKEXEN_STATE
# carries its state from one process to the next) twice:
#   real: LD_PRELOAD=libfakexen.so                     (Debian's libxenctrl)
#   ours: LD_PRELOAD="libfakexen.so libxc_livepatch.so" (our functions first)
# and requires the two transcripts (each step's stdout, stderr and exit
# status, then the hypervisor's final state) to be byte-identical.
#
# Scenario header lines starting with "#!":
#   #! run ARGS...    one step: `xen-livepatch ARGS...` in the suite's
#                     scratch directory, which holds the payload files
#                     p1..p4.livepatch (4 KiB ELF), max.livepatch (2 MiB),
#                     big.livepatch (2 MiB + 1), notelf.livepatch
#   #! differs TAG    a documented difference: each transcript must equal
#                     expected/actions/NAME.real and .ours instead
#                     (FAKEXEN_UPDATE=1 rewrites them; review the diff!)
#   #! expect TEXT    a line both transcripts (or, with differs, ours) must hold
# Every step must end with strict_violations 0. ACTIONS_KEEP=DIR keeps both
# transcripts of every scenario there.
#
# Usage: run-actions.sh FAKEXEN_SO OURS_SO [SCENARIO...]
# Prints one line per scenario and a final "N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
FX=$(realpath "$1"); OURS=$(realpath "$2"); shift 2
XL=${XEN_LIVEPATCH:-/usr/lib/xen-4.17/bin/xen-livepatch}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -gt 0 ]; then scenarios=("$@"); else scenarios=("$here"/actions/*.scn); fi

# The payload files: an ELF header's magic and zeros (the model checks the
# magic; what else Xen would check is the scenario's `module` directive).
files=$work/files
mkdir -p "$files"
elf() { { printf '\177ELF'; head -c "$(($2 - 4))" /dev/zero; } >"$files/$1"; }
for p in p1 p2 p3 p4; do elf $p.livepatch 4096; done
elf max.livepatch $((2 << 20))
elf big.livepatch $(((2 << 20) + 1))
head -c 4096 /dev/zero >"$files/notelf.livepatch"

passed=0; failed=0

# transcript SCENARIO MODE OUT: runs every step, writes the transcript to OUT.
transcript() {
  local scn=$1 pre="$FX" state=$work/state.$2 step=0 args
  [ "$2" = ours ] && pre="$FX $OURS"
  : >"$state"; : >"$3"
  while IFS= read -r args; do
    step=$((step + 1))
    local c=$work/c.$2.$step
    (cd "$files" && FAKEXEN_SCENARIO=$scn FAKEXEN_STATE=$state FAKEXEN_COUNTERS=$c FAKEXEN_LOG=$work/log.$2 \
      LD_PRELOAD="$pre" "$XL" $args >"$work/out" 2>"$work/err")
    local rc=$?
    { echo "\$ xen-livepatch $args"; cat "$work/out"; echo "--- stderr"; cat "$work/err"; echo "--- exit $rc"; } >>"$3"
    local v; v=$(awk '$1 == "strict_violations" { print $2 }' "$c" 2>/dev/null)
    [ "${v:-missing}" = 0 ] || echo "!!! step $step: strict_violations=${v:-missing}" >>"$3"
  done < <(sed -n 's/^#! run //p' "$scn")
  # The hypervisor's final state, the due time of a pending action left out.
  { echo "=== hypervisor state"; awk '$1 == "work" { NF = 4 } { print }' "$state"; } >>"$3"
}

for scn in "${scenarios[@]}"; do
  name=$(basename "$scn" .scn)
  scn=$(realpath "$scn")
  r=$work/$name.real; o=$work/$name.ours
  transcript "$scn" real "$r"
  transcript "$scn" ours "$o"
  [ -n "${ACTIONS_KEEP:-}" ] && mkdir -p "$ACTIONS_KEEP" && cp "$r" "$o" "$ACTIONS_KEEP/"
  problems=()
  tag=$(sed -n 's/^#! differs *//p' "$scn" | head -n1)
  if [ -n "$tag" ]; then
    for m in real ours; do
      exp=$here/expected/actions/$name.$m
      if [ "${FAKEXEN_UPDATE:-0}" = 1 ]; then mkdir -p "$(dirname "$exp")"; cp "$work/$name.$m" "$exp"; fi
      if [ ! -f "$exp" ]; then problems+=("missing expected/actions/$name.$m")
      elif ! cmp -s "$exp" "$work/$name.$m"; then
        problems+=("$m transcript differs from expected/actions/$name.$m")
        diff "$exp" "$work/$name.$m" | head -n 20 | sed 's/^/    /'
      fi
    done
  elif ! cmp -s "$r" "$o"; then
    problems+=("transcripts differ")
    diff "$r" "$o" | head -n 20 | sed 's/^/    /'
  fi
  while IFS= read -r want; do
    for m in real ours; do
      [ -n "$tag" ] && [ $m = real ] && continue
      grep -qxF -- "$want" "$work/$name.$m" || problems+=("$m: no line '$want'")
    done
  done < <(sed -n 's/^#! expect //p' "$scn")
  grep -q '^!!! ' "$r" "$o" && problems+=("strict-mode violations")
  steps=$(grep -c '^#! run ' "$scn")
  if [ ${#problems[@]} -eq 0 ]; then
    passed=$((passed + 1))
    printf 'PASS %-36s %2s steps, exits %s%s\n' "$name" "$steps" \
      "$(sed -n 's/^--- exit //p' "$o" | tr '\n' ' ')" "${tag:+(documented difference: $tag)}"
  else
    failed=$((failed + 1))
    printf 'FAIL %-36s %s\n' "$name" "$(IFS=';'; echo "${problems[*]}")"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
