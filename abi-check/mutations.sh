#!/usr/bin/env bash
# Shows that the ABI checkers are alive: applies deliberate ABI mistakes to
# SCRATCH COPIES of src/abi.rs and include/xc_livepatch.h (the real files are
# never touched), points the checkers at them (ABI_RS, XC_LIVEPATCH_INCLUDE;
# read by abi-check/common/paths.rs) and expects each run to FAIL with the
# expected diagnostic. Passes only if the unmutated copies pass and every
# mutation is caught, each for the right reason.
#
# The scratch copies have abi.rs's own `const _: () = { assert!(...) }`
# layout block removed: otherwise rustc would reject some mutations before
# ctest ever looked at them, and this would not show that ctest catches them.
#
#   ABI_MUTATIONS_TARGET=dir   cargo target dir (default: the workspace's, so
#                              ctest and its dependencies are built once; each
#                              mutation reruns only the build scripts and
#                              relinks the tests, and the next normal run
#                              regenerates from the real files because ABI_RS
#                              and XC_LIVEPATCH_INCLUDE changed)
#   ONLY=name                  run only this mutation (plus the baseline)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export CARGO_TARGET_DIR=${ABI_MUTATIONS_TARGET:-${CARGO_TARGET_DIR:-$root/target}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/abi-mutations.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

base=$tmp/base
mkdir -p "$base/include"
sed '/^const _: () = {$/,/^};$/d' "$root/src/abi.rs" > "$base/abi.rs"
cp "$root/include/xc_livepatch.h" "$base/include/"
if grep -q 'assert!' "$base/abi.rs"; then
  echo "mutations: could not strip abi.rs's const-assert block" >&2; exit 1
fi

# run DIR PKG... : runs the checkers on DIR/abi.rs + DIR/include; log in DIR/log.
#   PKG "headers": abi-check/headers.sh (the header alone and after each
#   distribution's <xenctrl.h>) instead of a ctest package.
#   XEN_INCLUDE (environment): abi-check-xen against those Xen headers.
run() {
  local dir=$1; shift
  if [ "$1" = headers ]; then
    XC_LIVEPATCH_INCLUDE=$dir/include bash "$here/headers.sh" >"$dir/log" 2>&1
    return
  fi
  local args=()
  for p in "$@"; do args+=(-p "$p"); done
  (cd "$root" && ABI_RS=$dir/abi.rs XC_LIVEPATCH_INCLUDE=$dir/include \
     XEN_INCLUDE=${XEN_INCLUDE:-} cargo test --locked -q "${args[@]}" --no-fail-fast) >"$dir/log" 2>&1
}

echo "mutations: baseline (unmutated scratch copies)"
if ! run "$base" abi-check-xen abi-check-header; then
  echo "mutations: the UNMUTATED copies fail; log:" >&2
  grep -v '^ *\(cargo:\|[A-Z_a-z-]* = \)' "$base/log" | tail -40 >&2
  exit 1
fi
grep -h "^PASSED" "$base/log" | sed 's/^/  /'

caught=0; missed=0; broken=0; results=()

# mutate NAME PKG FILE SED EXPECT
#   FILE: abi (abi.rs) or header (include/xc_livepatch.h)
#   SED:  sed script applied to that file (must change it)
#   EXPECT: extended regex the failing run's output must match
mutate() {
  local name=$1 pkg=$2 file=$3 script=$4 expect=$5
  [ -n "${ONLY:-}" ] && [ "$ONLY" != "$name" ] && return 0
  local dir=$tmp/$name
  mkdir -p "$dir"
  cp -r "$base/abi.rs" "$base/include" "$dir/"
  local f=$dir/abi.rs
  [ "$file" = header ] && f=$dir/include/xc_livepatch.h
  sed -i -e "$script" "$f"
  local orig=$base/abi.rs
  [ "$file" = header ] && orig=$base/include/xc_livepatch.h
  if cmp -s "$orig" "$f"; then
    results+=("BROKEN  $name: the sed script did not change $file"); broken=$((broken + 1)); return
  fi
  if run "$dir" "$pkg"; then
    results+=("MISSED  $name ($pkg passed)"); missed=$((missed + 1))
  elif grep -Eq -- "$expect" "$dir/log"; then
    local why
    why=$(grep -Eo -m1 -- "$expect" "$dir/log")
    results+=("caught  $name ($pkg: $why)"); caught=$((caught + 1))
  else
    results+=("BROKEN  $name: $pkg failed, but not with /$expect/; log tail:")
    results+=("$(grep -v '^ *\(cargo:rerun\|[A-Z_a-z-]* = \)' "$dir/log" | tail -15 | sed 's/^/        /')")
    broken=$((broken + 1))
  fi
}

L='/^pub struct xen_sysctl_livepatch_list {/,/^}/'
OP='/^pub struct xen_sysctl_livepatch_op {/,/^}/'

# Dropped pads. ctest sees the first through the offsets that move; the
# other two are absorbed by alignment (no offset or size changes) and are
# caught only by tests/padding.rs.
mutate list-drop-pad      abi-check-xen abi "$L{/^    pub pad: u32,/d}" \
  'bad field offset `name_total_size` of `xen_sysctl_livepatch_list`'
mutate op-drop-pad        abi-check-xen abi "$OP{/^    pub pad: u32,/d}" \
  'implicit padding in `xen_sysctl_livepatch_op`'
mutate name-drop-pad      abi-check-xen abi '/^    pub pad: \[u16; 3\],/d' \
  'implicit padding in `xen_livepatch_name`'
# A private pad: ctest would skip the field without a word.
mutate list-private-pad   abi-check-xen abi "$L{s/^    pub pad: u32,/    pad: u32,/}" \
  'would be skipped by ctest'
# Fields of the wrong width or signedness.
mutate list-nr-u64        abi-check-xen abi "$L{s/^    pub nr: u32,/    pub nr: u64,/}" \
  "incompatible-pointer-types|bad field size .nr."
mutate list-metadata_len-u32 abi-check-xen abi "$L{s/^    pub metadata_len: __guest_handle_uint32,/    pub metadata_len: u32,/}" \
  "bad field size .metadata_len.|incompatible-pointer-types"
mutate status-rc-unsigned abi-check-xen abi 's/^    pub rc: i32,/    pub rc: u32,/' \
  "pointer-sign"
mutate privcmd-arg-4      abi-check-xen abi 's/^    pub arg: \[u64; 5\],/    pub arg: [u64; 4],/' \
  'bad `privcmd_hypercall` size|bad field size `arg`'
# Wrong constants.
mutate iface-version-0x14 abi-check-xen abi 's/^pub const XEN_SYSCTL_INTERFACE_VERSION: u32 = 0x0000_0015;/pub const XEN_SYSCTL_INTERFACE_VERSION: u32 = 0x0000_0014;/' \
  'bad `XEN_SYSCTL_INTERFACE_VERSION` value'
mutate list-cmd-3         abi-check-xen abi 's/^pub const XEN_SYSCTL_LIVEPATCH_LIST: u32 = 2;/pub const XEN_SYSCTL_LIVEPATCH_LIST: u32 = 3;/' \
  'bad `XEN_SYSCTL_LIVEPATCH_LIST` value'
mutate ioctl-number       abi-check-xen abi 's/= 0x0030_5000;/= 0x0028_5000;/' \
  'bad `IOCTL_PRIVCMD_HYPERCALL` value'
# Wrong prototypes in a copy of our header: gcc compiles it after <xenctrl.h>.
mutate proto-int32-name_total_size abi-check-xen header 's/^\( *\)uint32_t name_total_size,/\1int32_t name_total_size,/' \
  "conflicting types for .xc_livepatch_list."
mutate proto-done-int     abi-check-xen header 's/^\( *\)unsigned int \*done,/\1int *done,/' \
  "conflicting types for .xc_livepatch_list."
mutate proto-get_sizes-ret-long abi-check-xen header 's/^int xc_livepatch_list_get_sizes(/long xc_livepatch_list_get_sizes(/' \
  "conflicting types for .xc_livepatch_list_get_sizes."
# The management functions (issue 17): each family once.
mutate proto-upload-size-u64 abi-check-xen header 's/^\( *\)uint32_t size);/\1uint64_t size);/' \
  "conflicting types for .xc_livepatch_upload."
mutate proto-upload-payload-signed abi-check-xen header 's/^\( *\)unsigned char \*payload,/\1char *payload,/' \
  "conflicting types for .xc_livepatch_upload."
mutate proto-get-status-u32 abi-check-xen header 's/^\( *\)struct xen_livepatch_status \*status);/\1uint32_t *status);/' \
  "conflicting types for .xc_livepatch_get."
mutate proto-replace-timeout-u64 abi-check-xen header '/^int xc_livepatch_replace(/,/;/s/uint32_t timeout,/uint64_t timeout,/' \
  "conflicting types for .xc_livepatch_replace."
mutate action-apply-4     abi-check-xen abi 's/^pub const LIVEPATCH_ACTION_APPLY: u32 = 3;/pub const LIVEPATCH_ACTION_APPLY: u32 = 4;/' \
  'bad `LIVEPATCH_ACTION_APPLY` value'
mutate build-id-11        abi-check-xen abi 's/^pub const XENVER_build_id: u32 = 10;/pub const XENVER_build_id: u32 = 11;/' \
  'bad `XENVER_build_id` value'
# Debian 13's ABI (issue 24). The five-argument upload declared for a 4.17
# header, the four-argument one for a 4.20 header (ctest's C compile and
# headers.sh), the header's .symver binding lost, a wrong flag value or a
# 4.17-only field name against Debian 13's <xen/sysctl.h>.
FIVE='s/^#if !defined(LIVEPATCH_FLAG_FORCE)$/#if 0/; s/^#if defined(LIVEPATCH_FLAG_FORCE)$/#if 1/'
FOUR='s/^#if !defined(LIVEPATCH_FLAG_FORCE)$/#if 1/; s/^#if defined(LIVEPATCH_FLAG_FORCE)$/#if 0/'
mutate proto-upload-5-args-for-4.17 abi-check-xen header "$FIVE" \
  "conflicting types for .xc_livepatch_upload."
mutate headers-upload-5-args-alone headers header "$FIVE" \
  "headers: alone: FAILED"
if [ -n "${TRIXIE_INCLUDE:-}" ]; then
  XEN_INCLUDE=$TRIXIE_INCLUDE mutate proto-upload-4-args-for-4.20 abi-check-xen header "$FOUR" \
    "conflicting types for .xc_livepatch_upload."
  mutate headers-upload-unversioned-for-4.20 headers header '/^__asm__(".symver xc_livepatch_upload/d' \
    "0 .symver lines for xc_livepatch_upload@libxenctrl_4.20.0, want 1"
  XEN_INCLUDE=$TRIXIE_INCLUDE mutate force-flag-bit-1 abi-check-xen abi 's/^pub const LIVEPATCH_FLAG_FORCE: u32 = 1 << 0;/pub const LIVEPATCH_FLAG_FORCE: u32 = 1 << 1;/' \
    'bad `LIVEPATCH_FLAG_FORCE` value'
  XEN_INCLUDE=$TRIXIE_INCLUDE mutate op-flags-word-u16 abi-check-xen abi "$OP{s/^    pub pad: u32,/    pub pad: u16,\n    pub pad2: u16,/}" \
    'bad field size .flags.|incompatible-pointer-types|no member named .pad2.'
else
  results+=("BROKEN  Debian 13's mutations: TRIXIE_INCLUDE is not set"); broken=$((broken + 1))
fi

# Wrong struct in our header (checked by the header package only: with
# <xen/sysctl.h> included first, the header's own definition is guarded out).
mutate header-rc-int64    abi-check-header header 's/^  int32_t rc;/  int64_t rc;/' \
  'bad `xen_livepatch_status` size|incompatible-pointer-types'

echo "mutations:"
printf '  %s\n' "${results[@]}"
echo "mutations: $caught caught, $missed missed, $broken broken"
[ "$missed" -eq 0 ] && [ "$broken" -eq 0 ] && [ "$caught" -gt 0 ]
