#!/usr/bin/env bash
# The static command: writes OUTDIR/xc-livepatch (default target/static), the
# xc-livepatch command built for x86_64-unknown-linux-musl, stripped, with no
# program interpreter, no shared library and not position-independent (ELF type
# EXEC), so that one file runs in any x86_64 dom0 (XCP-ng's, Qubes', Alpine's).
# Called by scripts/package.sh and by bench/real-xen.sh --actions.
#
# Not position-independent because in a PV dom0 every page a process start
# writes costs a trip through the hypervisor: measured on Xen 4.17 under QEMU
# (bench/real-xen.sh --actions), an apply or revert by this command took 18-22
# ms as a fixed-address executable against 50-66 ms as a static-pie (which
# relocates itself at start: ~2,000 relocations over 27 KiB of .data.rel.ro,
# written before main) and 66-91 ms dynamically linked. The stack, heap and
# mmap areas are still randomised; only the executable's own addresses are fixed.
#
# musl's libc.a and start files come with the rustup target (self-contained
# linking through the system's cc), and the command has no C code of its own:
# no musl-gcc (musl-tools) is needed. The library's cdylib cannot be built for
# this target: cargo says it drops it (a warning).
#   bash scripts/static-build.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
static_out=${1:-$root/target/static}
say() { echo "static: $*"; }
die() { echo "static: $*" >&2; exit 1; }
musl=x86_64-unknown-linux-musl
[ "$(uname -m)" = x86_64 ] || die "the static build is made for $musl, on x86_64 only (this is $(uname -m))"
if [ ! -d "$(rustc --print target-libdir --target "$musl")" ]; then
  command -v rustup >/dev/null || die "no Rust standard library for $musl, and no rustup to add it"
  say "rustup target add $musl"
  rustup target add "$musl" >/dev/null || die "rustup target add $musl failed"
fi
say "cargo build --release --target $musl -p xc-livepatch-cli (static, relocation-model=static)"
# The target's own variable, so that a RUSTFLAGS of the caller's is not replaced.
CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C relocation-model=static" \
  cargo build --release --locked --target "$musl" -p xc-livepatch-cli
mkdir -p "$static_out"
rm -f "$static_out/xc-livepatch"
cp "${CARGO_TARGET_DIR:-$root/target}/$musl/release/xc-livepatch" "$static_out/xc-livepatch.tmp"
strip --remove-section=.comment --remove-section=.note "$static_out/xc-livepatch.tmp"
chmod 0755 "$static_out/xc-livepatch.tmp"
mv "$static_out/xc-livepatch.tmp" "$static_out/xc-livepatch"
headers=$(readelf -l -d "$static_out/xc-livepatch") || die "readelf cannot read $static_out/xc-livepatch"
! grep -qE 'INTERP|\(NEEDED\)' <<<"$headers" || die "$static_out/xc-livepatch is not static: $(grep -E 'INTERP|NEEDED' <<<"$headers")"
type=$(readelf -h "$static_out/xc-livepatch" | awk '/Type:/ {print $2}')
[ "$type" = EXEC ] || die "$static_out/xc-livepatch is of ELF type $type, not EXEC (position-independent)"
say "built $static_out/xc-livepatch ($(stat -c %s "$static_out/xc-livepatch") bytes, static, not position-independent)"
