#!/usr/bin/env bash
# Stage: ABI checks (abi-check/README.md).
#  1. the .so's exported names and SONAME (abi-check/exports.sh);
#  2. ctest: src/abi.rs + include/xc_livepatch.h against Debian 12's Xen 4.17
#     headers (abi-check/xen), and against our own header (abi-check/header);
#  3. the checkers catch deliberate mistakes (abi-check/mutations.sh).
# Prints the number of checks each package ran; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

# The checks compile C against the system's Xen headers: install them here
# rather than rely on what a machine happens to have.
bash scripts/setup.sh || exit 1

failed=()

echo "--- cargo build --release"
cargo build --release --locked || { echo "abi-check: cargo build --release failed" >&2; exit 1; }

echo "--- exports"
bash abi-check/exports.sh || failed+=(exports)

for pkg in abi-check-xen abi-check-header; do
  echo "--- ctest: $pkg"
  log=$(mktemp)
  if cargo test --locked -p "$pkg" >"$log" 2>&1; then
    # One "PASSED n ..." line per test target (ctest, and padding for xen).
    n=$(grep -h '^PASSED' "$log" | sed 's/^/  /')
    echo "$pkg: ok"; echo "$n"
  else
    grep -v '^ *\(cargo:rerun\|[A-Z_a-z-]* = \)' "$log" | tail -60
    echo "$pkg: FAILED" >&2
    failed+=("$pkg")
  fi
  rm -f "$log"
done

echo "--- mutations"
bash abi-check/mutations.sh || failed+=(mutations)

if [ ${#failed[@]} -gt 0 ]; then
  echo "abi-check: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "abi-check: all ok"
