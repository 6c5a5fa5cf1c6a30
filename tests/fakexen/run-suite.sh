#!/usr/bin/env bash
# The scenario suite: for each tests/fakexen/scenarios/*.scn, runs the real
# Debian `xen-livepatch list` on the simulated hypervisor (fakexen) twice:
#   real: LD_PRELOAD=libfakexen.so                     (Debian's libxenctrl)
#   ours: LD_PRELOAD="libfakexen.so libxc_livepatch.so" (our two functions)
# and requires stdout, stderr and the exit status to be byte-identical.
#
# Scenario header lines starting with "#!" add checks:
#   #! rc N           exit status (both runs)
#   #! lines N        number of stdout lines (both runs)
#   #! counters       print the fakexen counters of both runs side by side
#   #! differs TAG    a documented, intended difference: instead of comparing
#                     the runs with each other, each run must equal its
#                     expected file, expected/NAME.real and expected/NAME.ours
#                     (FAKEXEN_UPDATE=1 rewrites them; review the diff!)
#   #! violations N   strict-mode violations expected per run (default 0)
#
# Usage: run-suite.sh FAKEXEN_SO OURS_SO [SCENARIO...]
# Prints one line per scenario and a final "N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
FX=$(realpath "$1"); OURS=$(realpath "$2"); shift 2
XL=${XEN_LIVEPATCH:-/usr/lib/xen-4.17/bin/xen-livepatch}
work=$(mktemp -d)  # the suite's scratch directory
trap 'rm -rf "$work"' EXIT

if [ $# -gt 0 ]; then scenarios=("$@"); else scenarios=("$here"/scenarios/*.scn); fi

passed=0; failed=0
counter_tables=()

directive() { sed -n "s/^#! $1 *//p" "$2" | head -n1; }
has_directive() { grep -q "^#! $1\b" "$2"; }

# run SCENARIO MODE OUTPREFIX
run() {
  local pre="$FX"
  [ "$2" = ours ] && pre="$FX $OURS"
  rm -f "$3".log
  FAKEXEN_SCENARIO="$1" FAKEXEN_COUNTERS="$3.counters" FAKEXEN_LOG="$3.log" \
    LD_PRELOAD="$pre" "$XL" list >"$3.stdout" 2>"$3.stderr"
  echo $? >"$3.rc"
  { echo "--- stdout"; cat "$3.stdout"; echo "--- stderr"; cat "$3.stderr"; echo "--- exit $(cat "$3.rc")"; } >"$3.all"
}

counter() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

for scn in "${scenarios[@]}"; do
  name=$(basename "$scn" .scn)
  r=$work/$name.real; o=$work/$name.ours
  run "$scn" real "$r"
  run "$scn" ours "$o"
  problems=()
  tag=$(directive differs "$scn")
  if [ -n "$tag" ]; then
    for m in real ours; do
      exp=$here/expected/$name.$m
      if [ "${FAKEXEN_UPDATE:-0}" = 1 ]; then cp "$work/$name.$m.all" "$exp"; fi
      if [ ! -f "$exp" ]; then problems+=("missing expected/$name.$m")
      elif ! cmp -s "$exp" "$work/$name.$m.all"; then
        problems+=("$m run differs from expected/$name.$m")
        diff "$exp" "$work/$name.$m.all" | head -n 20 | sed 's/^/    /'
      fi
    done
  else
    for part in stdout stderr rc; do
      if ! cmp -s "$r.$part" "$o.$part"; then
        problems+=("$part differs")
        diff "$r.$part" "$o.$part" | head -n 10 | sed 's/^/    /'
      fi
    done
  fi
  want_rc=$(directive rc "$scn")
  want_lines=$(directive lines "$scn")
  want_viol=$(directive violations "$scn"); want_viol=${want_viol:-0}
  for m in real ours; do
    p=$work/$name.$m
    if [ -n "$want_rc" ] && [ "$(cat "$p.rc")" != "$want_rc" ]; then
      [ -z "$tag" ] || [ "$m" = ours ] && problems+=("$m: exit $(cat "$p.rc"), want $want_rc")
    fi
    if [ -n "$want_lines" ] && [ -z "$tag" ] && [ "$(wc -l <"$p.stdout")" != "$want_lines" ]; then
      problems+=("$m: $(wc -l <"$p.stdout") stdout lines, want $want_lines")
    fi
    if [ ! -f "$p.counters" ] && [ -n "$tag" ] && [ "$(cat "$p.rc")" -ge 128 ]; then
      continue # a documented crash of the real library: no exit handlers ran
    fi
    v=$(counter strict_violations "$p.counters" 2>/dev/null)
    if [ "${v:-missing}" != "$want_viol" ]; then
      problems+=("$m: strict_violations=${v:-missing}, want $want_viol")
      [ -f "$p.log" ] && sed 's/^/    /' "$p.log" | head -n 5
    fi
  done
  if [ ${#problems[@]} -eq 0 ]; then
    passed=$((passed + 1))
    printf 'PASS %-36s exit %s, %s stdout lines%s\n' "$name" "$(cat "$o.rc")" "$(wc -l <"$o.stdout")" "${tag:+ (documented difference: $tag)}"
  else
    failed=$((failed + 1))
    printf 'FAIL %-36s %s\n' "$name" "$(IFS=';'; echo "${problems[*]}")"
  fi
  if has_directive counters "$scn"; then
    t="counters for $name:"$'\n'
    t+=$(printf '  %-18s %12s %12s' counter libxenctrl xc_livepatch)$'\n'
    for k in hypercalls list_calls probes e2big version_mismatch buffer_mappings bytes_mapped entries; do
      t+=$(printf '  %-18s %12s %12s' "$k" "$(counter "$k" "$r.counters")" "$(counter "$k" "$o.counters")")$'\n'
    done
    counter_tables+=("$t")
  fi
done

for t in "${counter_tables[@]}"; do printf '%s' "$t"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
