#!/usr/bin/env bash
# The main job: build the library and list live patches with it.
# On a Xen dom0 it lists the real hypervisor's live patches; elsewhere it
# lists a simulated hypervisor's sample payloads. Then `ensure` (always on a
# simulated hypervisor: it changes what it runs on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -q
# 1. Debian's real `xen-livepatch list` with our library preloaded (over
#    the simulated privcmd when there is no Xen here).
bash tests/fakexen/demo.sh
# 2. The xc-livepatch command (cli/): on a dom0 the real hypervisor, elsewhere
#    the same simulated hypervisor, asked for explicitly with --sim (the
#    command never falls back to it by itself).
cargo build --release --locked -q -p xc-livepatch-cli
cli=target/release/xc-livepatch
if [ -c /dev/xen/privcmd ]; then sim=(); else sim=(--sim tests/fakexen/demo.scn); fi
echo
echo "demo: $cli ${sim[*]} list"
"$cli" "${sim[@]}" list
echo
echo "demo: $cli ${sim[*]} list --json"
"$cli" "${sim[@]}" list --json
# 3. The live patches a hypervisor must have: inspect, ensure --dry-run,
#    ensure, the same ensure again (no change), list, on a simulated
#    hypervisor whose state is carried between the commands.
CLI=$PWD/$cli bash tests/fakexen/ensure-demo.sh
