#!/usr/bin/env bash
# Runs Debian's real `xen-livepatch list` with our libxc_livepatch.so.
#  - On a Xen dom0 (a real /dev/xen/privcmd): against the real hypervisor,
#    LD_PRELOAD of our library only.
#  - Elsewhere: on the simulated hypervisor (fakexen, the project's sim
#    model) with the sample scenario tests/fakexen/demo.scn (or $1).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
XL=${XEN_LIVEPATCH:-/usr/lib/xen-4.17/bin/xen-livepatch}
bash scripts/setup.sh >&2  # the real xen-livepatch (xen-utils-4.17), libxenctrl
cargo build --release -q
OURS=$root/target/release/libxc_livepatch.so
if [ -c /dev/xen/privcmd ] && [ -z "${LD_PRELOAD:-}" ]; then
  echo "demo: real Xen dom0: $XL list with LD_PRELOAD=$OURS" >&2
  exec env LD_PRELOAD="$OURS" "$XL" list
fi
cargo build --release -q -p fakexen
FX=$root/target/release/libfakexen.so
scn=${1:-$root/tests/fakexen/demo.scn}
echo "demo: no Xen here: $XL list on the simulated hypervisor ($(basename "$scn")), with our library" >&2
echo "demo: LD_PRELOAD=\"libfakexen.so libxc_livepatch.so\"" >&2
FAKEXEN_SCENARIO=$scn LD_PRELOAD="$FX $OURS" "$XL" list
