#!/usr/bin/env bash
# Drop-in proof on a simulated hypervisor (tests/fakexen, see its README):
#  1. scenario suite: Debian's real `xen-livepatch list` with the real
#     libxenctrl vs. with our libxc_livepatch.so preloaded: byte-identical
#     stdout/stderr/exit status (documented differences against files);
#  2. differential harness: both libraries dlopen'ed in one process, an
#     argument matrix compared call by call, per static scenario;
#  3. strict memory mode: a caller's malloc'd xen_sysctl is caught (EFAULT);
#  4. relink tests: -lxc_livepatch alone, and -lxc_livepatch -lxenctrl;
#  5. management harness: upload/get/apply/revert/unload/replace of both
#     libraries in one process, call by call from the same state;
#  6. action suite: sequences of the real `xen-livepatch upload/apply/revert/
#     replace/unload/load/list` on one simulated hypervisor, real libxenctrl
#     vs. ours preloaded: byte-identical transcripts (documented differences
#     against files: interfaces 0x13/0x14/0x16, hostile replies);
#  7. fakexen's own unit tests (its range bookkeeping of hypercall-safe memory);
#  8. Debian 13's xen-livepatch 4.20 and libxenctrl 4.20: the action suite,
#     and the flags word of every UPLOAD (run-force.sh).
# Exits non-zero on any failure; prints counts.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

bash scripts/setup.sh || exit 1
XL=/usr/lib/xen-4.17/bin/xen-livepatch
XENCTRL=$(ls /usr/lib/*/libxenctrl.so.4.17 2>/dev/null | head -n1)
[ -x "$XL" ] && [ -n "$XENCTRL" ] || { echo "fakexen: xen-livepatch or libxenctrl.so.4.17 missing"; exit 1; }

cargo build --release -q || { echo "fakexen: cargo build --release failed"; exit 1; }
cargo build --release -q -p fakexen || { echo "fakexen: cargo build -p fakexen failed"; exit 1; }
FX=$root/target/release/libfakexen.so
OURS=$root/target/release/libxc_livepatch.so
# The shim must not carry our library's soname (build.rs keeps it to our
# own targets), or the loader would take it for libxc_livepatch.so.1.
if readelf -d "$FX" | grep -q 'SONAME.*libxc_livepatch'; then
  echo "fakexen: libfakexen.so carries libxc_livepatch's SONAME"; exit 1
fi
# Nor export the library's functions (hide.ver), or it would stand in for
# libxenctrl's in the "real" runs.
if nm -D --defined-only "$FX" | grep -q ' xc_livepatch_'; then
  echo "fakexen: libfakexen.so exports xc_livepatch_* (tests/fakexen/hide.ver):"
  nm -D --defined-only "$FX" | grep ' xc_livepatch_'; exit 1
fi

bin=$(mktemp -d "${TMPDIR:-/tmp}/fakexen-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
mkdir -p "$bin/lib"
ln -s "$OURS" "$bin/lib/libxc_livepatch.so.1"
CFLAGS="-O1 -g -Wall -Wextra -Werror"
gcc $CFLAGS -o "$bin/diffharness" tests/fakexen/c/diffharness.c -ldl &&
  gcc $CFLAGS -o "$bin/diffmanage" tests/fakexen/c/diffmanage.c -ldl &&
  gcc $CFLAGS -o "$bin/strict" tests/fakexen/c/strict.c &&
  gcc $CFLAGS -Iinclude -o "$bin/relink" tests/fakexen/c/relink.c -Ltarget/release -lxc_livepatch &&
  gcc $CFLAGS -DWITH_XENCTRL -Iinclude -o "$bin/relink-xenctrl" tests/fakexen/c/relink.c \
    -Ltarget/release -lxc_livepatch -lxenctrl || { echo "fakexen: C build failed"; exit 1; }

ok=0; bad=0
part() { # NAME COMMAND...: runs one part, keeps its last line
  local name=$1; shift
  echo "--- $name"
  if "$@"; then ok=$((ok + 1)); echo "--- $name: ok"; else bad=$((bad + 1)); echo "--- $name: FAILED"; fi
}

# 7 first: the simulator's own bookkeeping, which every other part relies on.
part "fakexen's unit tests" cargo test -q -p fakexen

# 1. The scenario suite (also prints the counters of 1025 and 5000 x 4 KiB).
part "scenario suite (xen-livepatch list, real vs ours)" bash tests/fakexen/run-suite.sh "$FX" "$OURS"

# 2. The differential harness, on every scenario without scheduled events or lies
#    (both libraries share one simulated hypervisor in that process).
harness() {
  local p=0 f=0 s out
  for s in tests/fakexen/scenarios/*.scn; do
    grep -qE '^(at |lie |privcmd absent)' "$s" && continue
    out=$(FAKEXEN_SCENARIO=$s FAKEXEN_LOG=$bin/harness.log LD_PRELOAD=$FX "$bin/diffharness" "$XENCTRL" "$OURS" 2>&1)
    local rc=$? last
    last=$(tail -n1 <<<"$out")
    if [ $rc -eq 0 ] && [[ $last =~ ^([0-9]+)\ passed,\ 0\ failed$ ]]; then
      p=$((p + ${BASH_REMATCH[1]}))
      grep -c "documented" <<<"$out" | xargs printf '  %-40s %s, %s documented differences\n' "$(basename "$s" .scn)" "$last"
    else
      f=$((f + 1)); echo "  $(basename "$s" .scn): FAILED"; grep -E "FAIL" <<<"$out" | head -n 5 | sed 's/^/    /'
      [[ $last =~ ([0-9]+)\ failed$ ]] && f=$((f + ${BASH_REMATCH[1]} - 1))
    fi
  done
  echo "$p passed, $f failed"
  [ $f -eq 0 ]
}
part "differential harness (argument matrix, real vs ours)" harness

# 3. Strict memory mode.
strict() {
  rm -f "$bin/strict.log"
  FAKEXEN_SCENARIO=tests/fakexen/scenarios/02-one-no-metadata.scn FAKEXEN_LOG=$bin/strict.log \
    FAKEXEN_COUNTERS=$bin/strict.cnt LD_PRELOAD=$FX "$bin/strict" || return 1
  local n; n=$(grep -c '^fakexen: strict:' "$bin/strict.log")
  echo "strict-mode log lines: $n; counters: $(grep strict_violations "$bin/strict.cnt")"
  [ "$n" -ge 1 ] && grep -q "strict_violations $n" "$bin/strict.cnt"
}
part "strict memory mode (malloc'd xen_sysctl -> EFAULT)" strict

# 4. Relink tests.
relink() {
  local out
  out=$(FAKEXEN_SCENARIO=tests/fakexen/scenarios/03-mixed-metadata.scn LD_LIBRARY_PATH=$bin/lib LD_PRELOAD=$FX "$bin/relink") || { echo "$out"; return 1; }
  diff <(echo "$out") tests/fakexen/expected/relink-03-mixed-metadata.dump || return 1
  echo "-lxc_livepatch only (xch = (xc_interface *)1): listed $(grep -c $'\t' <<<"$out") payloads, as expected"
  # Ours first, libxenctrl second, on an interface 0x16 hypervisor: only
  # ours can list there (the real 4.17 library gets EACCES).
  out=$(FAKEXEN_SCENARIO=tests/fakexen/scenarios/13-interface-0x16.scn LD_LIBRARY_PATH=$bin/lib LD_PRELOAD=$FX "$bin/relink-xenctrl") || { echo "$out"; return 1; }
  grep -q '^xc_livepatch_list from libxc_livepatch.so.1$' <<<"$out" || { echo "$out"; return 1; }
  grep -q '^done 2 left 0$' <<<"$out" || { echo "$out"; return 1; }
  echo "-lxc_livepatch -lxenctrl: dladdr says $(head -n1 <<<"$out" | cut -d' ' -f3), listed 2 payloads on interface 0x16"
}
part "relink tests" relink

# 5. The management harness, on every action-suite scenario without lies.
manage_harness() {
  local p=0 f=0 s out rc last
  for s in tests/fakexen/actions/*.scn; do
    grep -q '^lie ' "$s" && continue
    out=$(FAKEXEN_SCENARIO=$s FAKEXEN_LOG=$bin/manage.log LD_PRELOAD=$FX "$bin/diffmanage" "$XENCTRL" "$OURS" 2>&1)
    rc=$?; last=$(tail -n1 <<<"$out")
    if [ $rc -eq 0 ] && [[ $last =~ ^([0-9]+)\ passed,\ 0\ failed$ ]]; then
      p=$((p + ${BASH_REMATCH[1]}))
      printf '  %-40s %s, %s documented differences\n' "$(basename "$s" .scn)" "$last" "$(grep -c documented <<<"$out")"
    else
      f=$((f + 1)); echo "  $(basename "$s" .scn): FAILED (exit $rc)"; grep -E "FAIL|state" <<<"$out" | head -n 8 | sed 's/^/    /'
    fi
  done
  echo "$p passed, $f failed"
  [ $f -eq 0 ]
}
part "management harness (upload/get/actions, real vs ours, call by call)" manage_harness

# 6. The action suite.
part "action suite (xen-livepatch upload/apply/revert/replace/unload/load, real vs ours)" \
  bash tests/fakexen/run-actions.sh "$FX" "$OURS"

# 8. Debian 13 (Xen 4.20): its real xen-livepatch and libxenctrl 4.20 (a
#    private apt download, nothing installed), alone and with ours preloaded,
#    on every action scenario; then the flags word of each UPLOAD for Debian
#    12's and 13's tools and C callers of both prototypes (run-force.sh).
if TRIXIE=$(bash scripts/debian-suite.sh trixie trixie-xen libxen-dev xen-utils-4.20 libxenmisc4.20 libxencall1 \
      libxentoollog1 libxenevtchn1 libxengnttab1 libxenforeignmemory1 libxendevicemodel1 libxentoolcore1) &&
    BULLSEYE=$(bash scripts/debian-suite.sh bullseye bullseye-tools xen-utils-4.14 libxenmisc4.14); then
  part "action suite with Debian 13's xen-livepatch 4.20 (real libxenctrl 4.20 vs ours)" \
    env XEN_LIVEPATCH="$TRIXIE/usr/lib/xen-4.20/bin/xen-livepatch" LD_LIBRARY_PATH="$TRIXIE/usr/lib/x86_64-linux-gnu" \
    bash tests/fakexen/run-actions.sh "$FX" "$OURS"
  part "upload flags word (Debian 12's and 13's tools, C callers of both prototypes)" \
    bash tests/fakexen/run-force.sh "$FX" "$OURS" "$TRIXIE" "$BULLSEYE"
else
  echo "--- Debian 13's (or 11's) packages: FAILED to fetch"; bad=$((bad + 1))
fi

echo "fakexen: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
