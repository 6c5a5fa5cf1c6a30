#!/usr/bin/env bash
# include/xc_livepatch.h compiles with -Wall -Wextra -Werror on its own and
# after each distribution's <xenctrl.h> (Debian 11: Xen 4.14, 12: 4.17, 13:
# 4.20), included twice, and each time declares the xc_livepatch_upload that
# header's programs call: four arguments up to 4.18, five (with `bool force`)
# from 4.19, bound to xc_livepatch_upload@libxenctrl_4.20.0 (.symver in the
# assembler output) exactly then. gcc rejects any other prototype as
# "conflicting types" (after <xenctrl.h>) or "incompatible pointer types".
#   BULLSEYE_INCLUDE=dir TRIXIE_INCLUDE=dir   the other two releases' headers
#                                             (scripts/debian-suite.sh)
#   XC_LIVEPATCH_INCLUDE=dir                  check another copy of the header
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
inc=${XC_LIVEPATCH_INCLUDE:-$here/../include}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/abi-headers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/t.c" <<'C'
#include <stdbool.h>
#include <stdint.h>
#ifdef WITH_XENCTRL
#include <xenctrl.h>
#endif
#include "xc_livepatch.h"
#include "xc_livepatch.h"
#if ARGS == 5
typedef int (*upload_t)(xc_interface *, char *, unsigned char *, uint32_t, bool);
#else
typedef int (*upload_t)(xc_interface *, char *, unsigned char *, uint32_t);
#endif
int call(upload_t);
int use(void) { return call(xc_livepatch_upload) + xc_livepatch_list_get_sizes(0, 0, 0, 0); }
C
fail=0 n=0
# check LABEL ARGS [XEN_INCLUDE_DIR|system|none]
check() {
  local label=$1 args=$2 xen=$3 flags=(-std=gnu11 -Wall -Wextra -Werror -DARGS="$2" -I"$inc")
  case $xen in
    none) ;;
    system) flags+=(-DWITH_XENCTRL) ;;
    *) flags+=(-DWITH_XENCTRL -I"$xen") ;;
  esac
  if ! gcc "${flags[@]}" -S -o "$tmp/t.s" "$tmp/t.c" 2>"$tmp/err"; then
    echo "headers: $label: FAILED to compile with the $args-argument xc_livepatch_upload:"; sed 's/^/  /' "$tmp/err" | head -20
    fail=1; return
  fi
  local want=0 got; [ "$args" = 5 ] && want=1
  got=$(grep -c 'symver.*xc_livepatch_upload@libxenctrl_4\.20\.0' "$tmp/t.s")
  if [ "$got" != "$want" ]; then
    echo "headers: $label: $got .symver lines for xc_livepatch_upload@libxenctrl_4.20.0, want $want"; fail=1; return
  fi
  n=$((n + 1)); echo "headers: $label: ok ($args arguments)"
}
check "alone" 4 none
[ -n "${BULLSEYE_INCLUDE:-}" ] && check "after Debian 11's xenctrl.h (4.14)" 4 "$BULLSEYE_INCLUDE"
check "after Debian 12's xenctrl.h (4.17)" 4 system
[ -n "${TRIXIE_INCLUDE:-}" ] && check "after Debian 13's xenctrl.h (4.20)" 5 "$TRIXIE_INCLUDE"
echo "headers: $n compiled"
[ $fail = 0 ]
