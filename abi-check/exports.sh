#!/usr/bin/env bash
# Checks what the shared library exports: the names of its defined dynamic
# symbols must equal abi-check/exports.txt (sorted, one per line), and its
# SONAME must be libxc_livepatch.so.1. Expects `cargo build --release` to
# have run (scripts/test.d/20-abi-check.sh does that first).
#   SO=/path/to/lib.so   check another file (default target/release/libxc_livepatch.so)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
so=${SO:-${CARGO_TARGET_DIR:-$root/target}/release/libxc_livepatch.so}
want_soname=libxc_livepatch.so.1

[ -f "$so" ] || { echo "exports: $so not found (run cargo build --release)" >&2; exit 1; }
fail=0

# Names only (addresses and types vary between builds); a versioned name
# shows as name@@VERS (the default) or name@VERS (src/ffi/versions.rs).
actual=$(nm -D --defined-only "$so" | awk '{print $NF}' | LC_ALL=C sort)
expected=$(grep -v '^[[:space:]]*\(#\|$\)' "$here/exports.txt" | LC_ALL=C sort)
if [ "$actual" != "$expected" ]; then
  echo "exports: defined dynamic symbols of $so differ from abi-check/exports.txt:" >&2
  diff <(echo "$expected") <(echo "$actual") | sed 's/^/  /' >&2 || true
  fail=1
else
  echo "exports: $(echo "$actual" | wc -l) symbols match abi-check/exports.txt"
fi

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" != "$want_soname" ]; then
  echo "exports: SONAME of $so is '${soname:-<none>}', want '$want_soname'" >&2
  fail=1
else
  echo "exports: SONAME $soname"
fi
exit $fail
