#!/usr/bin/env bash
# `xc-livepatch ensure` and the lock over the simulated hypervisor, with real
# payload files (tests/fakexen/ensure-payloads.py, binutils):
#  1. cargo test --test ensure: --sim with --sim-state (one hypervisor across
#     commands): a stack from empty, a second run plans nothing, --dry-run,
#     --replace --prune, --absent, the JSON document, a failed apply, two
#     drivers serialised (the second plans from the first's result) and
#     --lock-wait 0 naming the holder's PID, SIGINT/SIGTERM at a step boundary;
#  2. tests/fakexen/ensure-suite.py under the fakexen shim (the command's real
#     privcmd path, FAKEXEN_STATE): SIGKILL after each hypercall in turn
#     (FAKEXEN_KILL_AFTER) then a new run reaches the target; the exact
#     hypercall counts of a no-change run and of a plan; xapi's sequence by
#     Debian's xen-livepatch and ensure --replace --prune reach the same state;
#     every --json document checked by cli/tests/check_ensure_json.py.
set -uo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3 # Debian's, which has python3-jsonschema
# The library, the command, then the shim (see 32-cli.sh: one build order).
cargo build --release -q && cargo build --release -q -p xc-livepatch-cli &&
  cargo build --release -q -p fakexen || { echo "34-ensure: build failed"; exit 1; }
ok=0; bad=0
part() { # NAME COMMAND...
  local name=$1; shift
  local t0=$SECONDS
  echo "--- $name"
  if "$@"; then ok=$((ok + 1)); echo "--- $name: ok ($((SECONDS - t0)) s)"; else bad=$((bad + 1)); echo "--- $name: FAILED ($((SECONDS - t0)) s)"; fi
}
part "cargo test --test ensure" bash -c 'cargo test --release -q -p xc-livepatch-cli --test ensure 2>&1 | grep -E "^test result|FAILED|panicked|^error" ; exit ${PIPESTATUS[0]}'
part "ensure under fakexen: kills, counts, xapi, --force" "$PY" tests/fakexen/ensure-suite.py kill counts xapi force
echo "34-ensure: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
