#!/usr/bin/env bash
# Stage: Miri (issue #13). Runs, under Miri's interpreter with
# -Zmiri-strict-provenance (no pointer is ever made from a bare integer):
#   - the library's unit tests,
#   - tests/list.rs: the listing algorithm over the simulated hypervisor,
#   - tests/ffi.rs: the C entry points called from Rust,
#   - tests/manage.rs: upload, status and the actions (library and C entry
#     points) over a hypervisor that records the wire bytes,
#   - tests/uninit_caller_memory.rs: listings into uninitialised caller
#     arrays of exactly the sizes passed, as a C caller's,
# so that undefined behaviour in the library's unsafe code (writes through
# `list::Out`, the simulator's guest-memory access, aliasing of references
# with raw writes, reads of uninitialised memory, out-of-bounds or
# out-of-provenance pointers) fails the stage.
#
# Kernel-only tests (mmap of guard pages, fork, /dev/xen) are ignored under
# cfg(miri), each with its reason; sizes that only make a test slow are
# reduced there (tests/list.rs, `mod size`). Both show in the output.
#
# Installs its own toolchain, idempotently: the pinned nightly below with the
# miri and rust-src components (rustup), then Miri's sysroot. If that is not
# possible here, it says so in one line and FAILS. The tests take about
# 100 s of one core; MIRI_TIMEOUT (default 480 s, room for a loaded machine)
# stops a run that hangs.
set -uo pipefail
cd "$(dirname "$0")/../.."
t0=$SECONDS

# Pinned: the nightly of 2026-05-20 (rustc 1.97.0-nightly e50aa6fba), so a
# run is reproducible; Miri's rules change between nightlies.
TOOLCHAIN=nightly-2026-05-20
log=$(mktemp "${TMPDIR:-/tmp}/miri-stage.XXXXXX")
trap 'rm -f "$log"' EXIT

cannot() { # WHY: the one line saying Miri cannot run here, then fail
  echo "miri: CANNOT RUN: $1" >&2
  exit 1
}

command -v rustup >/dev/null || cannot "rustup not found: the $TOOLCHAIN toolchain with the miri component cannot be installed without it"
if ! rustup run "$TOOLCHAIN" cargo miri --version >/dev/null 2>&1; then
  echo "miri: installing toolchain $TOOLCHAIN with miri and rust-src"
  rustup toolchain install "$TOOLCHAIN" --profile minimal --component miri,rust-src >"$log" 2>&1 &&
    rustup component add --toolchain "$TOOLCHAIN" miri rust-src >>"$log" 2>&1 ||
    cannot "rustup could not install $TOOLCHAIN with miri: $(grep -m1 -i error "$log" || tail -n1 "$log")"
fi
rustup run "$TOOLCHAIN" cargo miri --version >/dev/null 2>&1 || cannot "cargo miri is not usable after installing $TOOLCHAIN"
# Miri's own standard library build (cached in ~/.cache/miri after the first).
cargo "+$TOOLCHAIN" miri setup >"$log" 2>&1 || cannot "cargo miri setup failed: $(grep -m1 -i error "$log" || tail -n1 "$log")"
echo "miri: $(cargo "+$TOOLCHAIN" miri --version 2>/dev/null), ready after $((SECONDS - t0)) s"

export MIRIFLAGS="-Zmiri-strict-provenance ${MIRIFLAGS:-}"
t1=$SECONDS
timeout "${MIRI_TIMEOUT:-480}" cargo "+$TOOLCHAIN" miri test --locked --no-fail-fast -p xc-livepatch \
  --lib --test list --test ffi --test uninit_caller_memory --test manage >"$log" 2>&1
rc=$?
[ $rc -eq 124 ] && echo "miri: TIMED OUT after ${MIRI_TIMEOUT:-480} s"

# Per test binary: its result line; every ignored test with its reason.
grep -E "^     Running |^test result:|^test .* ignored" "$log" | sed -E 's/^ +Running /  /; s/^test /    /'
if [ $rc -ne 0 ]; then
  # Miri's report: the error, where, and the stack.
  grep -E -A24 "error: (Undefined Behavior|unsupported operation)|panicked at" "$log" | head -60
  grep -E "^error: [0-9]+ targets? failed|^    \`-p " "$log"
fi
# A test that hits undefined behaviour aborts its binary before the binary's
# result line: it counts as failed ("test NAME ... error: ...").
read -r p f i < <(awk '/^test result:/ { p += $4; f += $6; i += $8 }
  /^test .* \.\.\. error: / { f++ }
  END { print p + 0, f + 0, i + 0 }' "$log")
echo "miri: tests ran in $((SECONDS - t1)) s; stage $((SECONDS - t0)) s"
echo "miri: $p passed, $f failed, $i ignored"
[ $rc -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ]
