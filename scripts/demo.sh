#!/usr/bin/env bash
# The main job: build the library and list live patches with it.
# On a Xen dom0 it lists the real hypervisor's live patches; elsewhere it
# lists a simulated hypervisor's sample payloads.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -q
if [ -x tests/fakexen/demo.sh ] || [ -f tests/fakexen/demo.sh ]; then
  # The real Debian `xen-livepatch list` with our library preloaded
  # (over the simulated privcmd when there is no Xen here).
  exec bash tests/fakexen/demo.sh
fi
cargo build --release --locked -q --features sim --example xc-livepatch-list
exec target/release/examples/xc-livepatch-list
