#!/usr/bin/env bash
# The main job, on a simulated hypervisor whose state is carried from one
# command to the next (--sim-state, the FAKEXEN_STATE format), never on a
# real one (ensure changes what it runs on): what a payload file is
# (inspect), the plan (ensure --dry-run), ensure, the same ensure again (no
# change), then list. Payload files: tests/fakexen/ensure-payloads.py
# (real ELF live patches, built with binutils for the simulator's build id).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cli=${CLI:-$root/target/release/xc-livepatch}
work=$(mktemp -d "${TMPDIR:-/tmp}/ensure-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 "$root/tests/fakexen/ensure-payloads.py" "$work/p" >/dev/null
# Xen 4.17 with nothing loaded; each module line says what a payload's
# file says (build id, depends, .modinfo).
{ echo "interface 0x15"; cat "$work/p/modules.scn"; } >"$work/hv.scn"
cd "$work"
show() { echo; echo "demo: xc-livepatch $*"; "$cli" --sim hv.scn --sim-state state "$@"; }
if "$cli" inspect --help >/dev/null 2>&1; then
  show inspect p/top2.livepatch --no-hypervisor
fi
show ensure --dry-run p/base.livepatch p/top2.livepatch
show ensure p/base.livepatch p/top2.livepatch
show ensure p/base.livepatch p/top2.livepatch
show list
