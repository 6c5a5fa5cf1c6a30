#!/bin/bash
# Real-hypervisor test: boots real Xen hypervisors under QEMU (TCG), one after another,
# each with a PV dom0 from an initramfs, and checks the xc-livepatch library against
# the real LIST hypercall on every sysctl interface:
#
#   Xen 4.14.6 (0x13, Debian 11)   Xen 4.16.7 (0x14, ../shared/xen-images)
#   Xen 4.17.7 (0x15, Debian 12)   Xen 4.20   (0x15, Debian 13)
#   Xen 4.22.0 (0x16, ../shared/xen-images)
#
#   bash tests/real-xen/run.sh                   # all five
#   bash tests/real-xen/run.sh --xen "4.16 4.22" # some of them
#
# Environment knobs (defaults in brackets): REAL_XEN_MANY [1100] small payloads on 4.17
# and 4.22 (more than 1024: several LIST batches), REAL_XEN_MANY_SMALL [64] on the others,
# REAL_XEN_LOOP [20] / REAL_XEN_LOOP_SMALL [8] checked snapshots during churn,
# REAL_XEN_TIMEOUT [1200] s per boot (a cycle: 54-78 s at load 7-9, 436 s at load 19), REAL_XEN_IMAGES [$ROOT/../shared/xen-images],
# REAL_XEN_SSH ["4.17 4.22"] the boots where the host's ansible-playbook manages dom0 over SSH (ssh-host.sh),
# REAL_XEN_CACHE [$XDG_CACHE_HOME/xc-livepatch-real-xen or ~/.cache/...] download cache.
# Exit status 0 only if every expected check passed. Last line: "N passed, M failed".
set -u -o pipefail
{ # the whole script is one compound command: bash reads it completely before running it,
  # so editing this file during a run cannot change the running one

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${REAL_XEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xc-livepatch-real-xen}
DEB_CACHE=$CACHE/debs
IMAGES=${REAL_XEN_IMAGES:-$ROOT/../shared/xen-images}
APT_OPTS=()
MANY_BIG=${REAL_XEN_MANY:-1100}
MANY_SMALL=${REAL_XEN_MANY_SMALL:-64}
LOOP_BIG=${REAL_XEN_LOOP:-20}
LOOP_SMALL=${REAL_XEN_LOOP_SMALL:-8}
TOOL_LOOP=${REAL_XEN_TOOL_LOOP:-2}
BOOT_TIMEOUT=${REAL_XEN_TIMEOUT:-1200}   # hang guard, far above every measured cycle
VERSIONS="4.14 4.16 4.17 4.20 4.22"
. "$HERE/fetch.sh"
. "$HERE/ssh-host.sh"

while [ $# -gt 0 ]; do
    case $1 in
        --xen) VERSIONS=$2; shift 2;;
        --xen=*) VERSIONS=${1#--xen=}; shift;;
        -h|--help) sed -n '2,20p' "$0"; exit 0;;
        *) die "unknown argument $1";;
    esac
done
for v in $VERSIONS; do
    case $v in 4.14|4.16|4.17|4.20|4.22) ;; *) die "unsupported --xen $v (4.14 4.16 4.17 4.20 4.22)";; esac
done

# Per hypervisor: its sysctl interface; who uploads and acts (Debian 12's tools speak
# only 0x15, Debian 11's 0x13, lpraw any); how many payloads and snapshots.
xen_config() {
    XL12_SPEAKS=0 REF_XL="" MANY=$MANY_SMALL LOOP=$LOOP_SMALL RUST_LOOP=$LOOP_SMALL
    case $1 in
        4.14) IFACE=0x13 ACT_TOOL=ref BULK_TOOL=raw REF_XL=/usr/sbin/xen-livepatch-4.14;;
        4.16) IFACE=0x14 ACT_TOOL=raw BULK_TOOL=raw;;
        4.17) IFACE=0x15 ACT_TOOL=xl BULK_TOOL=lpxc XL12_SPEAKS=1 MANY=$MANY_BIG LOOP=$(( (LOOP_BIG + 1) / 2 ));;
        4.20) IFACE=0x15 ACT_TOOL=xl BULK_TOOL=lpxc XL12_SPEAKS=1;;
        4.22) IFACE=0x16 ACT_TOOL=raw BULK_TOOL=raw MANY=$MANY_BIG LOOP=$LOOP_BIG RUST_LOOP=$LOOP_BIG;;
    esac
}

# The checks a boot must report (parse-results.py fails any that is missing).
expected_checks() {
    local t c
    c="boot iface-version upload-all apply-lp-func apply-lp-stack func-patch-applied
       apply-refused-lp-rcfail c-and-rust-identical-full rust-table-equals-xl-full
       comparator-catches-wrong-metadata-byte churn-ran list-during-churn-consistent
       rust-list-during-churn-consistent tools-during-churn func-patch-reverted
       growth-race-c-enobufs growth-race-rust-reprobes c-abi-dump-after-race
       rust-dump-after-race last127-exact-name-buffer
       json-equals-expected-full prometheus-valid-full prometheus-checked-alert"
    [ "$PACKAGED" = 1 ] && c="$c library-from-package"
    c="$c lifecycle-preloaded lifecycle-reapply-refused-preloaded lifecycle-xc lifecycle-reapply-refused-xc"
    c="$c xc-upload-wrong-build-id-refused json-build-id-equals-console"
    c="$c objcopy-add-lifecycle objcopy-bin-lifecycle objcopy-2note-refused"
    c="$c ensure-stack-from-empty ensure-again-no-change ensure-replace-prune ensure-absent ensure-killed-completed"
    c="$c ensure-replace-keeps-checked prometheus-replace-checked-alert"
    [ "$SSH" = 1 ] && c="$c $(ssh_checks "$XEN_V")"
    if [ "$XL12_SPEAKS" = 1 ]; then
        c="$c lifecycle-alone lifecycle-reapply-refused-alone lifecycle-alone-identical"
    else
        c="$c lifecycle-alone-eacces"
    fi
    [ -n "$REF_XL" ] && c="$c lifecycle-ref lifecycle-reapply-refused-ref lifecycle-ref-identical"
    [ -n "$STATIC" ] && c="$c static-list-equals-package-full lifecycle-xcs lifecycle-reapply-refused-xcs lifecycle-static-identical"
    [ "$MANY" -gt 1024 ] && c="$c more-than-one-batch"
    c="$c $(debian13_checks)"
    [ "$IFACE" = 0x16 ] && c="$c churn-hypervisor-enobufs"
    for t in empty full after-churn; do
        c="$c c-abi-dump-$t rust-dump-$t preloaded-equals-table-$t"
        if [ "$XL12_SPEAKS" = 1 ]; then c="$c xl-list-identical-$t"; else c="$c xl-alone-eacces-$t"; fi
        [ -n "$REF_XL" ] && c="$c ref-list-identical-$t"
    done
    echo $c
}

T_START=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $T_START" | awk '{printf "%.1f", $1-$2}'; }
WORK=$(mktemp -d -p /tmp)  # the run's scratch directory (console logs are kept here)
log "work directory $WORK, cache $CACHE"
mkdir -p "$CACHE"

# ---------------------------------------------------------------- hypervisor images
# 4.16.7 and 4.22.0: no Debian release has them; the project builds them from upstream.
SKIPPED=""
if printf '%s\n' $VERSIONS | grep -qE '^4\.(16|22)$'; then
    if [ -s "$IMAGES/xen-4.16.7.gz" ] && [ -s "$IMAGES/xen-4.22.0.gz" ]; then
        if [ -f "$IMAGES/SHA256SUMS" ]; then
            (cd "$IMAGES" && sha256sum --quiet -c SHA256SUMS) || die "$IMAGES: images do not match SHA256SUMS"
        fi
    else
        SKIPPED=$(printf '%s\n' $VERSIONS | grep -E '^4\.(16|22)$' | tr '\n' ' ')
        VERSIONS=$(printf '%s\n' $VERSIONS | grep -vE '^4\.(16|22)$' | tr '\n' ' ')
        echo "[real-xen] SKIP Xen ${SKIPPED% }: no xen-4.16.7.gz / xen-4.22.0.gz in $IMAGES (no Debian release carries Xen 4.16 or 4.21+); build them from a xen-project/xen git tree with build-from-source.sh GIT_DIR RELEASE-4.22.0 (and stable-4.16, saved as xen-4.16.7.gz) into that directory, or point REAL_XEN_IMAGES at them"
        [ -n "$(echo $VERSIONS)" ] || { rm -rf "$WORK"; echo "0 passed, 0 failed (everything skipped)"; exit 0; }
    fi
fi

# ---------------------------------------------------------------- host tools, packages
ensure_host_tools
# what check-formats.py runs on the host over what each dom0 shipped: promtool and
# Debian's python3-jsonschema (for /usr/bin/python3, whatever python3 is on PATH)
FMT_MISSING=()
command -v promtool >/dev/null || FMT_MISSING+=(prometheus)
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null || FMT_MISSING+=(python3-jsonschema)
if [ ${#FMT_MISSING[@]} -gt 0 ]; then
    log "installing host packages: ${FMT_MISSING[*]}"
    apt_install "${FMT_MISSING[@]}" || die "cannot install ${FMT_MISSING[*]}"
fi
command -v cargo >/dev/null || die "cargo not found (the Rust toolchain builds the library under test)"
log "qemu: $QEMU"

KPKG=$(current_kernel_pkg)
KVER=${KPKG#linux-image-}
DOM0=$(fetch_and_unpack dom0 "$KPKG" busybox-static xen-utils-4.17 libxenmisc4.17 libxencall1 \
       libxentoollog1 libxenevtchn1 libxengnttab1 libxenforeignmemory1 libxendevicemodel1 \
       libxentoolcore1) || die "cannot fetch the dom0 packages"
XL_BIN=$DOM0/usr/lib/xen-4.17/bin/xen-livepatch
XLIBS=$DOM0/usr/lib/x86_64-linux-gnu
PRIVCMD=$(find "$DOM0/lib/modules/$KVER" -name xen-privcmd.ko | head -1)
for f in "$XL_BIN" "$XLIBS/libxenctrl.so.4.17" "$DOM0/bin/busybox" "$PRIVCMD" "$DOM0/boot/vmlinuz-$KVER"; do
    [ -e "$f" ] || die "missing $f in the unpacked packages"
done
VMLINUX=$CACHE/vmlinux-$KVER-$(basename "$(fetch_debs "$KPKG")" .deb | sha1sum | cut -c1-8)
if [ ! -s "$VMLINUX" ]; then
    python3 "$HERE/extract-vmlinux.py" "$DOM0/boot/vmlinuz-$KVER" "$VMLINUX.tmp.$$" \
        && mv "$VMLINUX.tmp.$$" "$VMLINUX" || die "cannot extract vmlinux"
fi
# Xen 4.14's own tools (Debian 11): the reference listing on 4.14, and its apply/revert.
XL414="" BULLSEYE=""
if printf '%s\n' $VERSIONS | grep -qx 4.14; then
    setup_suite_apt bullseye
    BULLSEYE=$(fetch_and_unpack bullseye-tools xen-utils-4.14 libxenmisc4.14) \
        || die "cannot fetch Debian 11's Xen 4.14 tools"
    APT_OPTS=()
    XL414=$BULLSEYE/usr/lib/xen-4.14/bin/xen-livepatch
    [ -x "$XL414" ] && [ -e "$BULLSEYE/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.14" ] \
        || die "no xen-livepatch or libxenctrl.so.4.14 in Debian 11's packages"
fi

# Debian 13's xen-livepatch 4.20 and its libraries (libxenctrl 4.20 and what it needs),
# for dom0's /opt/xen-4.20 (tests/real-xen/debian13.sh)
TRIXIE=$(bash "$ROOT/scripts/debian-suite.sh" trixie trixie-xen libxen-dev xen-utils-4.20 libxenmisc4.20 \
         libxencall1 libxentoollog1 libxenevtchn1 libxengnttab1 libxenforeignmemory1 libxendevicemodel1 \
         libxentoolcore1) || die "cannot fetch Debian 13's Xen 4.20 tools"
XL13_BIN=$TRIXIE/usr/lib/xen-4.20/bin/xen-livepatch
[ -x "$XL13_BIN" ] || die "no xen-livepatch in Debian 13's xen-utils-4.20"
# The checks debian13.sh reports on the booted hypervisor ($XL12_SPEAKS: interface 0x15).
debian13_checks() {
    if [ "$XL12_SPEAKS" = 1 ]; then
        echo "lifecycle-d13 lifecycle-reapply-refused-d13 lifecycle-d13pre lifecycle-reapply-refused-d13pre lifecycle-d13-identical"
        [ "$TAKES_FORCE" = 1 ] && echo d13-force-upload-alone
    else
        echo "lifecycle-d13pre lifecycle-reapply-refused-d13pre lifecycle-d13-eacces"
    fi
    [ "$TAKES_FORCE" = 1 ] && echo d13-force-upload-preloaded
    echo xc-upload-force
}

# ---------------------------------------------------------------- code under test
# The library and the command come from the project's Debian packages
# (scripts/package.sh), installed in dom0 at their installed paths
# (/usr/lib/x86_64-linux-gnu/libxc_livepatch.so.1 -> .so.1.x.y, /usr/bin/xc-livepatch),
# and the relinked C programs are built with nothing but `pkg-config xc-livepatch`
# over the -dev package unpacked in a sysroot.
SYSROOT=$WORK/sysroot
MULTIARCH=usr/lib/x86_64-linux-gnu
if [ -n "${REAL_XEN_DEV_LIB:-}" ]; then
    # harness development only: test another library/command/header, skip packaging
    log "WARNING: REAL_XEN_DEV_LIB set: testing $REAL_XEN_DEV_LIB, not this repository's packages"
    PACKAGED=0
    mkdir -p "$SYSROOT/$MULTIARCH" "$SYSROOT/usr/include" "$SYSROOT/usr/bin"
    cp "$REAL_XEN_DEV_LIB" "$SYSROOT/$MULTIARCH/libxc_livepatch.so.1"
    ln -s libxc_livepatch.so.1 "$SYSROOT/$MULTIARCH/libxc_livepatch.so"
    cp "$REAL_XEN_DEV_INCLUDE/xc_livepatch.h" "$SYSROOT/usr/include/"
    cp "$REAL_XEN_DEV_CLI" "$SYSROOT/usr/bin/xc-livepatch"
    LIBFLAGS="-I$SYSROOT/usr/include -L$SYSROOT/$MULTIARCH -lxc_livepatch"
    LPRS=${REAL_XEN_DEV_LPRS:-}
    STATIC=${REAL_XEN_DEV_STATIC:-}
else
    PACKAGED=1
    log "scripts/package.sh (the three Debian packages), cargo build --example real-xen-lprs"
    bash "$ROOT/scripts/package.sh" "$WORK/debs" "$WORK/static" >&2 || die "scripts/package.sh failed"
    (cd "$ROOT" && cargo build --release --example real-xen-lprs >&2) || die "cargo build failed"
    for deb in "$WORK"/debs/libxc-livepatch1_*.deb "$WORK"/debs/libxc-livepatch-dev_*.deb "$WORK"/debs/xc-livepatch_*.deb; do
        [ -f "$deb" ] || die "scripts/package.sh made no $(basename "$deb")"
        dpkg-deb -x "$deb" "$SYSROOT" || die "dpkg-deb -x $deb failed"
    done
    LIBFLAGS=$(PKG_CONFIG_SYSROOT_DIR=$SYSROOT PKG_CONFIG_LIBDIR=$SYSROOT/$MULTIARCH/pkgconfig \
        pkg-config --cflags --libs xc-livepatch) || die "pkg-config xc-livepatch failed over the -dev package"
    LPRS=$ROOT/target/release/examples/real-xen-lprs
    STATIC=$WORK/static/xc-livepatch   # the static command (x86_64-unknown-linux-musl)
fi
OURSO=$SYSROOT/$MULTIARCH/libxc_livepatch.so.1
RUSTEX=$SYSROOT/usr/bin/xc-livepatch
[ -f "$OURSO" ] || die "$OURSO missing"
[ -x "$RUSTEX" ] || die "$RUSTEX missing"
[ -x "$LPRS" ] || die "${LPRS:-real-xen-lprs} missing (cargo build --example real-xen-lprs)"
[ -z "$STATIC" ] || [ -x "$STATIC" ] || die "$STATIC missing"
log "library $(readlink -f "$OURSO" | sed "s|$SYSROOT||"), relink flags: $LIBFLAGS"

B=$WORK/bin; mkdir -p "$B"
CFLAGS="-O2 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-format-truncation -Wno-unused-function -Werror"
# relinked C programs: our header and -lxc_livepatch only (no libxenctrl)
gcc $CFLAGS -I"$HERE" -o "$B/lpdump" "$HERE/lpdump.c" $LIBFLAGS \
    || die "lpdump does not build with $LIBFLAGS"
gcc $CFLAGS -I"$HERE" -o "$B/lprace" "$HERE/lprace.c" $LIBFLAGS \
    || die "lprace does not build with $LIBFLAGS"
for p in lpdump lprace; do
    if readelf -d "$B/$p" | grep NEEDED | grep -q xenctrl; then die "$p links libxenctrl"; fi
done
gcc $CFLAGS -I"$HERE" -o "$B/lpcmp" "$HERE/lpcmp.c" || die "lpcmp build failed"
gcc $CFLAGS -o "$B/lpxc" "$HERE/lpxc.c" "$XLIBS/libxenctrl.so.4.17" -Wl,-rpath-link,"$XLIBS" \
    || die "lpxc build failed"
# raw requests with the booted hypervisor's interface version (test helper only)
gcc $CFLAGS -I"$HERE" -o "$B/lpraw" "$HERE/lpraw.c" || die "lpraw build failed"
cp "$LPRS" "$B/lprs"
strip "$B/lprs" 2>/dev/null   # programs only: a smaller initramfs

# ---------------------------------------------------------------- initramfs (common part)
IR=$WORK/initramfs-common
mkdir -p "$IR"/{bin,lib/x86_64-linux-gnu,lib64,lib/modules,usr/sbin,t/bin}
cp "$DOM0/bin/busybox" "$IR/bin/busybox"
cp "$XL_BIN" "$IR/usr/sbin/xen-livepatch"
[ -n "$XL414" ] && cp "$XL414" "$IR/usr/sbin/xen-livepatch-4.14"
cp "$PRIVCMD" "$IR/lib/modules/xen-privcmd.ko"
cp "$B"/* "$IR/t/bin/"
# the packages' library and command at their installed paths (the Debian package
# files exactly: already stripped), nothing else named libxc_livepatch anywhere
mkdir -p "$IR/$MULTIARCH" "$IR/usr/bin"
cp -P "$SYSROOT/$MULTIARCH"/libxc_livepatch.so.1* "$IR/$MULTIARCH/"
cp "$RUSTEX" "$IR/usr/bin/xc-livepatch"
# the static command alone in /static (dom0 runs it chrooted there, /dev mounted)
[ -z "$STATIC" ] || { mkdir -p "$IR/static/dev" && cp "$STATIC" "$IR/static/xc-livepatch"; }
cp "$HERE/init.sh" "$IR/init"; chmod +x "$IR/init"
cp "$HERE/lifecycle.sh" "$IR/t/lifecycle.sh"
cp "$HERE/objcopy.sh" "$IR/t/objcopy.sh"
cp "$HERE/ensure.sh" "$IR/t/ensure.sh"
cp "$HERE/debian13.sh" "$IR/t/debian13.sh"
# Debian 13's tool and the libraries ldd finds for it in its own packages, in a
# directory of their own (its libxencall.so.1 etc. must not replace Debian 12's)
mkdir -p "$IR/opt/xen-4.20/bin" "$IR/opt/xen-4.20/lib"
cp "$XL13_BIN" "$IR/opt/xen-4.20/bin/xen-livepatch"
LD_LIBRARY_PATH=$TRIXIE/usr/lib/x86_64-linux-gnu ldd "$XL13_BIN" | awk '/=> \// {print $3}' | grep "^$TRIXIE/" \
    | while read -r l; do cp -L "$l" "$IR/opt/xen-4.20/lib/"; done
[ -e "$IR/opt/xen-4.20/lib/libxenctrl.so.4.20" ] || die "no libxenctrl.so.4.20 for Debian 13's tool"
# shared libraries: whatever ldd resolves (Xen libraries from the unpacked packages;
# for Debian 11's xen-livepatch its libxenctrl.so.4.14, the other Xen libraries by their
# usual sonames from Debian 12, and the host libc6's libpthread.so.0 stub)
LDP=$XLIBS:$IR/$MULTIARCH${BULLSEYE:+:$BULLSEYE/usr/lib/x86_64-linux-gnu}
for exe in "$IR"/usr/sbin/xen-livepatch* "$IR"/t/bin/* "$IR"/usr/bin/xc-livepatch "$IR/$MULTIARCH/libxc_livepatch.so.1"; do
    LD_LIBRARY_PATH=$LDP ldd "$exe" || die "ldd $exe failed"
done | awk '/=> \// {print $3} /^\t\/lib64\// {print $1}' | sort -u > "$WORK/libs.txt"
grep -q 'not found' <(for exe in "$IR"/t/bin/* "$IR"/usr/bin/xc-livepatch "$IR"/usr/sbin/xen-livepatch*; do LD_LIBRARY_PATH=$LDP ldd "$exe"; done) \
    && die "unresolved shared libraries"
while read -r l; do
    case $l in
        /lib64/*) cp -L "$l" "$IR/lib64/";;
        */libxc_livepatch.so*) ;;
        *) cp -L "$l" "$IR/lib/x86_64-linux-gnu/";;
    esac
done < "$WORK/libs.txt"
# One initramfs for every boot: this common archive, then a small one per hypervisor
# (its payloads and settings), concatenated (the kernel unpacks one after the other).
(cd "$IR" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$WORK/common.cpio" || die "cpio failed"
log "common initramfs $(du -h "$WORK/common.cpio" | cut -f1)"
ssh_prepare

# ---------------------------------------------------------------- one boot per hypervisor
fetch_xen() { # fetch_xen VERSION -> path of the gunzipped xen ELF
    local v=$1 root="" gz="" out
    case $v in
        4.14) setup_suite_apt bullseye; root=$(fetch_and_unpack xen414 xen-hypervisor-4.14-amd64) || exit 1;;
        4.17) root=$(fetch_and_unpack xen417 xen-hypervisor-4.17-amd64) || exit 1;;
        4.20) setup_suite_apt trixie; root=$(fetch_and_unpack xen420 xen-hypervisor-4.20-amd64) || exit 1;;
        4.16) gz=$IMAGES/xen-4.16.7.gz;;
        4.22) gz=$IMAGES/xen-4.22.0.gz;;
    esac
    APT_OPTS=()
    [ -n "$gz" ] || gz=$(ls "$root"/boot/xen-"$v"*-amd64.gz | head -1)
    [ -f "$gz" ] || die "no Xen $v image ($gz)"
    out=$WORK/xen-$v
    zcat "$gz" > "$out" || die "gunzip $gz failed"
    echo "$out"
}

TOTAL_PASS=0; TOTAL_FAIL=0
run_one() {
    local v=$1 d=$WORK/run-$v xen t0 rc
    mkdir -p "$d/ir/t"
    log "=== Xen $v ==="
    xen=$(fetch_xen "$v")
    [ -s "$xen" ] || { echo "[xen-$v] FAIL fetch no hypervisor"; TOTAL_FAIL=$((TOTAL_FAIL+1)); return; }
    log "build id $(readelf -n "$xen" | awk '/Build ID/ {print $3}')"
    xen_config "$v"
    XEN_V=$v
    ssh_boot_args "$v" "$d"
    case $v in 4.20|4.22) TAKES_FORCE=1;; *) TAKES_FORCE=0;; esac   # LIVEPATCH_FLAG_FORCE: 4.19+
    python3 "$HERE/gen-payloads.py" --xen "$xen" --out "$d/ir/t" --many "$MANY" >&2 || die "payload generation failed"
    python3 "$HERE/../fakexen/ensure-payloads.py" "$d/ir/t/e" "$(readelf -n "$xen" | awk '/Build ID/ {print $3}')" >&2 \
        || die "ensure payload generation failed"
    cat > "$d/ir/t/run.env" <<EOF
IFACE=$IFACE
XL12_SPEAKS=$XL12_SPEAKS
REF_XL=$REF_XL
ACT_TOOL=$ACT_TOOL
BULK_TOOL=$BULK_TOOL
PACKAGED=$PACKAGED
TAKES_FORCE=$TAKES_FORCE
STATIC=$([ -n "$STATIC" ] && echo 1 || echo 0)
MULTI_BATCH=$([ "$MANY" -gt 1024 ] && echo 1 || echo 0)
LOOP_SNAPSHOTS=$LOOP
RUST_LOOP=$RUST_LOOP
TOOL_SNAPSHOTS=$TOOL_LOOP
CHURN_ROUNDS=100000
SSH=$SSH
EOF
    (cd "$d/ir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$d/own.cpio" || die "cpio failed"
    cat "$WORK/common.cpio" $([ "$SSH" = 1 ] && echo "$WORK/ssh.cpio") "$d/own.cpio" > "$d/initrd.cpio" \
        || die "cannot write the initramfs"
    QEMU_FW=""; for fw in /usr/share/qemu /usr/share/seabios; do [ -d $fw ] && QEMU_FW="$QEMU_FW -L $fw"; done
    log "initramfs $(du -h "$d/initrd.cpio" | cut -f1), booting (timeout ${BOOT_TIMEOUT}s)"
    t0=$(date +%s.%N)
    # One CPU: dom0 has one vCPU anyway, and with a second (idle) pCPU Xen's livepatch
    # rendezvous ("IRQ quiesce", 30 ms default timeout) timed out on this loaded 2-core
    # host under TCG: apply/revert failed with EBUSY (seen on 4.17).
    python3 "$HERE/boot.py" --timeout "$BOOT_TIMEOUT" --log "$d/console.log" "${BOOT_RUN[@]}" -- "$QEMU" -machine pc -m 2048 -smp 1 -nographic -no-reboot \
        $QEMU_NIC -accel tcg -monitor none -serial stdio $QEMU_FW \
        -kernel "$xen" \
        -append 'console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=1 loglvl=all guest_loglvl=all noreboot' \
        -initrd "$VMLINUX console=hvc0 earlyprintk=xen loglevel=4 rdinit=/init,$d/initrd.cpio"
    rc=$?
    local secs
    secs=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1-$2}')
    log "QEMU exited with status $rc after ${secs}s; console log: $d/console.log"
    # the Ansible checks over SSH (ansible-ssh.py's RESULT lines), then checks on the host of
    # what the guest shipped (the command's JSON and Prometheus text)
    [ "$SSH" = 1 ] && cat "$d/ansible.out" >> "$d/console.log" 2>/dev/null
    python3 "$HERE/check-formats.py" "$d/console.log" "$d/ir/t/expected.dump" "$IFACE" "$ROOT" "$d/files" \
        >> "$d/console.log"
    python3 "$HERE/parse-results.py" --tag "xen-$v" --qemu-rc "$rc" --seconds "$secs" \
        --timeout "$BOOT_TIMEOUT" --expect "$(expected_checks)" "$d/console.log" > "$d/summary.txt"
    cat "$d/summary.txt"
    local p f
    p=$(awk '/^PASSED / {print $2}' "$d/summary.txt"); f=$(awk '/^FAILED / {print $2}' "$d/summary.txt")
    TOTAL_PASS=$((TOTAL_PASS + ${p:-0})); TOTAL_FAIL=$((TOTAL_FAIL + ${f:-1}))
}

for v in $VERSIONS; do run_one "$v"; done
python3 "$HERE/compat-table.py" "$WORK" $VERSIONS
[ -n "$SKIPPED" ] && echo "[real-xen] SKIPPED Xen ${SKIPPED% }: no images in $IMAGES (see the SKIP line above)"
ok=0; [ "$TOTAL_FAIL" = 0 ] && [ "$TOTAL_PASS" -gt 0 ] && ok=1
if [ "$ok" = 1 ] && [ -z "${REAL_XEN_KEEP:-}" ]; then
    # About 130 MB of initramfs and unpacked packages: kept only on failure
    # (or with REAL_XEN_KEEP=1), for the console logs.
    rm -rf "$WORK"
    echo "total time $(elapsed)s (versions: $(echo $VERSIONS))"
else
    echo "total time $(elapsed)s (versions: $(echo $VERSIONS); work dir kept: $WORK)"
fi
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$ok" = 1 ]
exit
}
