#!/usr/bin/env bash
# The flags word of each UPLOAD (the shim's `upload_forced` counter: UPLOADs
# carrying LIVEPATCH_FLAG_FORCE), for every caller of xc_livepatch_upload:
#   d12      Debian 12's xen-livepatch 4.17 (no --force): never a flag
#   d13      Debian 13's xen-livepatch 4.20: a flag exactly with --force
#   c-4.20   a C program built against Debian 13's <xenctrl.h> + our header,
#            linked with our library alone: a flag exactly when force is true
#   c-4.17   a C program built against Debian 12's header, linked with our
#            library alone, its fifth argument register left at 1: no flag
#   c-4.20-bare  built against Debian 13's <xenctrl.h> only, linked with our
#            library alone: reaches the default, four-argument definition
#   c-4.20-relinked, c-4.17-relinked  as c-4.20 and c-4.17, linked with
#            -lxc_livepatch before that release's -lxenctrl
#   c-4.20-static, c-4.17-static  as c-4.20 and c-4.17, linked with
#            libxc_livepatch.a
# each tool over its own libxenctrl ("alone") and with ours preloaded
# ("ours"), on a 4.20 and a 4.17 model (which answers EINVAL to a flag).
# One line per run ("CASE exit N upload_calls U upload_forced F"), compared
# with tests/fakexen/expected/force.txt (FAKEXEN_UPDATE=1 rewrites it).
#
#   d11      Debian 11's xen-livepatch 4.14, whose references carry no version
#            (glibc binds them to the oldest: the four-argument definition), on a
#            4.20 model speaking interface 0x13
#
# Usage: run-force.sh FAKEXEN_SO OURS_SO TRIXIE_ROOT BULLSEYE_ROOT
#   TRIXIE_ROOT: Debian 13's libxen-dev, xen-utils-4.20 and libxenctrl's
#   libraries unpacked (scripts/debian-suite.sh); BULLSEYE_ROOT: Debian 11's
#   xen-utils-4.14 and libxenmisc4.14
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
FX=$(realpath "$1"); OURS=$(realpath "$2"); T=$(realpath "$3"); B=$(realpath "$4")
D11=$B/usr/lib/xen-4.14/bin/xen-livepatch
D12=/usr/lib/xen-4.17/bin/xen-livepatch
D13=$T/usr/lib/xen-4.20/bin/xen-livepatch
D13LIB=$T/usr/lib/x86_64-linux-gnu
for f in "$D11" "$D12" "$D13" "$D13LIB/libxenctrl.so.4.20" "$T/usr/include/xenctrl.h"; do
  [ -e "$f" ] || { echo "force: $f missing"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/fakexen-force.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lib"
ln -s "$OURS" "$work/lib/libxc_livepatch.so.1"
{ printf '\177ELF'; head -c 4092 /dev/zero; } >"$work/p1.livepatch"

CFLAGS="-O1 -Wall -Wextra -Werror"
gcc $CFLAGS -DWITH_XENCTRL_H -I"$T/usr/include" -I"$root/include" -o "$work/c-4.20" "$here/c/upload.c" \
    -L"$work/lib" -l:libxc_livepatch.so.1 &&
  gcc $CFLAGS -I"$root/include" -o "$work/c-4.17" "$here/c/upload.c" -L"$work/lib" -l:libxc_livepatch.so.1 &&
  gcc $CFLAGS -DWITH_XENCTRL_H -DWITHOUT_OUR_HEADER -I"$T/usr/include" -o "$work/c-4.20-bare" "$here/c/upload.c" \
    -L"$work/lib" -l:libxc_livepatch.so.1 &&
  gcc $CFLAGS -DWITH_XENCTRL_H -I"$T/usr/include" -I"$root/include" -o "$work/c-4.20-relinked" "$here/c/upload.c" \
    -L"$work/lib" -l:libxc_livepatch.so.1 -Wl,--no-as-needed "$D13LIB/libxenctrl.so.4.20" -Wl,-rpath-link,"$D13LIB" &&
  gcc $CFLAGS -I"$root/include" -o "$work/c-4.17-relinked" "$here/c/upload.c" \
    -L"$work/lib" -l:libxc_livepatch.so.1 -Wl,--no-as-needed -l:libxenctrl.so.4.17 || { echo "force: C build failed"; exit 1; }
# and with the static library (libxc_livepatch.a beside the .so)
STATIC_LIB=${OURS%.so}.a
RUST_LIBS="-lgcc_s -lpthread -ldl -lm -lrt -lutil"
gcc $CFLAGS -DWITH_XENCTRL_H -I"$T/usr/include" -I"$root/include" -o "$work/c-4.20-static" "$here/c/upload.c" \
    "$STATIC_LIB" $RUST_LIBS &&
  gcc $CFLAGS -I"$root/include" -o "$work/c-4.17-static" "$here/c/upload.c" "$STATIC_LIB" $RUST_LIBS ||
  { echo "force: C build against $STATIC_LIB failed"; exit 1; }
for p in c-4.20-relinked c-4.17-relinked; do
  readelf -d "$work/$p" | grep -q 'NEEDED.*libxenctrl' || { echo "force: $p does not need libxenctrl"; exit 1; }
done

out=$work/force.txt
: >"$out"
# one CASE SCENARIO LD_LIBRARY_PATH PRELOAD COMMAND...
one() {
  local case=$1 scn=$here/force/$2.scn lib=$3 pre=$4; shift 4
  local c=$work/counters
  rm -f "$c"
  (cd "$work" && FAKEXEN_SCENARIO=$scn FAKEXEN_STATE=$work/state.$$ FAKEXEN_COUNTERS=$c \
     LD_LIBRARY_PATH=$lib LD_PRELOAD="$pre" "$@" >"$work/o" 2>"$work/e")
  local rc=$?
  rm -f "$work/state.$$"
  printf '%-34s exit %d upload_calls %s upload_forced %s\n' "$case" "$rc" \
    "$(awk '$1 == "upload_calls" {print $2}' "$c")" "$(awk '$1 == "upload_forced" {print $2}' "$c")" >>"$out"
  grep -h . "$work/e" | sed 's/^/    stderr: /' >>"$out"
}
for mode in alone ours; do
  pre=$FX; [ $mode = ours ] && pre="$FX $OURS"
  one "d11 $mode upload (4.20, 0x13)" xen-4.20-iface-0x13 "$B/usr/lib/x86_64-linux-gnu" "$pre" "$D11" upload p1 p1.livepatch
done
for xen in 4.20 4.17; do
  one "d12 alone upload ($xen)" xen-$xen "" "$FX" "$D12" upload p1 p1.livepatch
  one "d12 ours upload ($xen)" xen-$xen "" "$FX $OURS" "$D12" upload p1 p1.livepatch
  for mode in alone ours; do
    pre=$FX; [ $mode = ours ] && pre="$FX $OURS"
    one "d13 $mode upload ($xen)" xen-$xen "$D13LIB" "$pre" "$D13" upload p1 p1.livepatch
    one "d13 $mode --force upload ($xen)" xen-$xen "$D13LIB" "$pre" "$D13" --force upload p1 p1.livepatch
  done
  one "c-4.20 ($xen)" xen-$xen "$work/lib" "$FX" "$work/c-4.20" p1 p1.livepatch
  one "c-4.20 force ($xen)" xen-$xen "$work/lib" "$FX" "$work/c-4.20" p1 p1.livepatch force
  one "c-4.17 fifth register 1 ($xen)" xen-$xen "$work/lib" "$FX" "$work/c-4.17" p1 p1.livepatch force
  one "c-4.20-bare force ($xen)" xen-$xen "$work/lib" "$FX" "$work/c-4.20-bare" p1 p1.livepatch force
  one "c-4.20 relinked force ($xen)" xen-$xen "$work/lib:$D13LIB" "$FX" "$work/c-4.20-relinked" p1 p1.livepatch force
  one "c-4.17 relinked fifth reg. 1 ($xen)" xen-$xen "$work/lib" "$FX" "$work/c-4.17-relinked" p1 p1.livepatch force
  one "c-4.20 static force ($xen)" xen-$xen "" "$FX" "$work/c-4.20-static" p1 p1.livepatch force
  one "c-4.17 static fifth reg. 1 ($xen)" xen-$xen "" "$FX" "$work/c-4.17-static" p1 p1.livepatch force
done
cat "$out"
exp=$here/expected/force.txt
[ "${FAKEXEN_UPDATE:-0}" = 1 ] && cp "$out" "$exp"
if diff -u "$exp" "$out"; then
  echo "force: $(wc -l <"$exp") lines as expected/force.txt"
else
  echo "force: FAILED: the flags words differ from expected/force.txt"; exit 1
fi
