#!/usr/bin/env bash
# Stage: ABI checks (abi-check/README.md).
#  1. the .so's exported names and SONAME (abi-check/exports.sh);
#  2. ctest: src/abi.rs + include/xc_livepatch.h against Debian 12's Xen 4.17
#     headers (abi-check/xen), and against our own header (abi-check/header);
#     the same against Debian 13's Xen 4.20 headers (libxen-dev from trixie);
#  3. the header alone and after Debian 11's, 12's and 13's <xenctrl.h>
#     (abi-check/headers.sh);
#  4. the checkers catch deliberate mistakes (abi-check/mutations.sh).
# Prints the number of checks each package ran; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

# The checks compile C against the system's Xen headers: install them here
# rather than rely on what a machine happens to have.
bash scripts/setup.sh || exit 1
# Debian 11's and 13's libxen-dev: downloaded and unpacked privately (a cache
# shared with the real-Xen stage), never installed.
BULLSEYE=$(bash scripts/debian-suite.sh bullseye bullseye-dev libxen-dev) || { echo "abi-check: cannot fetch Debian 11's libxen-dev" >&2; exit 1; }
TRIXIE=$(bash scripts/debian-suite.sh trixie trixie-dev libxen-dev) || { echo "abi-check: cannot fetch Debian 13's libxen-dev" >&2; exit 1; }
export BULLSEYE_INCLUDE=$BULLSEYE/usr/include TRIXIE_INCLUDE=$TRIXIE/usr/include

failed=()

echo "--- cargo build --release"
cargo build --release --locked || { echo "abi-check: cargo build --release failed" >&2; exit 1; }

echo "--- exports"
bash abi-check/exports.sh || failed+=(exports)

for run in abi-check-xen abi-check-xen@trixie abi-check-header; do
  pkg=${run%@*} xen=""
  [ "$run" = abi-check-xen@trixie ] && xen=$TRIXIE_INCLUDE
  echo "--- ctest: $run"
  log=$(mktemp)
  if XEN_INCLUDE=$xen cargo test --locked -p "$pkg" >"$log" 2>&1; then
    # One "PASSED n ..." line per test target (ctest, and padding for xen).
    n=$(grep -h '^PASSED' "$log" | sed 's/^/  /')
    echo "$run: ok"; echo "$n"
  else
    grep -v '^ *\(cargo:rerun\|[A-Z_a-z-]* = \)' "$log" | tail -60
    echo "$run: FAILED" >&2
    failed+=("$run")
  fi
  rm -f "$log"
done

echo "--- headers"
bash abi-check/headers.sh || failed+=(headers)

echo "--- mutations"
bash abi-check/mutations.sh || failed+=(mutations)

if [ ${#failed[@]} -gt 0 ]; then
  echo "abi-check: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "abi-check: all ok"
