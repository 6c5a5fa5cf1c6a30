#!/bin/bash
# Real-hypervisor test: boots Debian's real Xen under QEMU (TCG) with a PV dom0 from an
# initramfs and checks the xc-livepatch library against the real LIST hypercall.
#
#   bash tests/real-xen/run.sh                 # Xen 4.17 (bookworm) and Xen 4.20 (trixie)
#   bash tests/real-xen/run.sh --xen 4.17      # one hypervisor only (4.17 or 4.20)
#
# Environment knobs (defaults in brackets): REAL_XEN_MANY [1100] small payloads,
# REAL_XEN_LOOP [60] checked snapshots during churn, REAL_XEN_TIMEOUT [300] s per boot,
# REAL_XEN_CACHE [$XDG_CACHE_HOME/xc-livepatch-real-xen or ~/.cache/...] download cache.
# Exit status 0 only if every expected check passed. Last line: "N passed, M failed".
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${REAL_XEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xc-livepatch-real-xen}
DEB_CACHE=$CACHE/debs
APT_OPTS=()
MANY=${REAL_XEN_MANY:-1100}
LOOP=${REAL_XEN_LOOP:-60}
TOOL_LOOP=${REAL_XEN_TOOL_LOOP:-5}
BOOT_TIMEOUT=${REAL_XEN_TIMEOUT:-300}
VERSIONS="4.17 4.20"
. "$HERE/fetch.sh"

while [ $# -gt 0 ]; do
    case $1 in
        --xen) VERSIONS=$2; shift 2;;
        --xen=*) VERSIONS=${1#--xen=}; shift;;
        -h|--help) sed -n '2,12p' "$0"; exit 0;;
        *) die "unknown argument $1";;
    esac
done
for v in $VERSIONS; do case $v in 4.17|4.20) ;; *) die "unsupported --xen $v (4.17 or 4.20)";; esac; done

T_START=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) $T_START" | awk '{printf "%.1f", $1-$2}'; }
WORK=$(mktemp -d -p /tmp)  # the run's scratch directory (console logs are kept here)
log "work directory $WORK, cache $CACHE"
mkdir -p "$CACHE"

# ---------------------------------------------------------------- host tools, packages
ensure_host_tools
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
    python3 "$HERE/extract-vmlinux.py" "$DOM0/boot/vmlinuz-$KVER" "$VMLINUX.tmp" && mv "$VMLINUX.tmp" "$VMLINUX" \
        || die "cannot extract vmlinux"
fi

# ---------------------------------------------------------------- code under test
INCLUDE=$ROOT/include
if [ -n "${REAL_XEN_DEV_LIB:-}" ]; then
    # harness development only: test another library/example/header, skip cargo
    log "WARNING: REAL_XEN_DEV_LIB set: testing $REAL_XEN_DEV_LIB, not this repository's build"
    OURSO=$REAL_XEN_DEV_LIB RUSTEX=$REAL_XEN_DEV_RUST_EXAMPLE INCLUDE=$REAL_XEN_DEV_INCLUDE
else
    log "cargo build --release (library and example)"
    (cd "$ROOT" && cargo build --release >&2 && cargo build --release --example xc-livepatch-list >&2) \
        || die "cargo build failed"
    OURSO=$ROOT/target/release/libxc_livepatch.so
    RUSTEX=$ROOT/target/release/examples/xc-livepatch-list
fi
[ -f "$INCLUDE/xc_livepatch.h" ] || die "$INCLUDE/xc_livepatch.h missing"
[ -f "$OURSO" ] || die "$OURSO missing after cargo build"
[ -x "$RUSTEX" ] || die "$RUSTEX missing after cargo build --example xc-livepatch-list"

B=$WORK/bin; mkdir -p "$B" "$WORK/lib"
cp "$OURSO" "$WORK/lib/libxc_livepatch.so"
ln -sf libxc_livepatch.so "$WORK/lib/libxc_livepatch.so.1"
CFLAGS="-O2 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-format-truncation -Wno-unused-function -Werror"
# relinked C program: our header and -lxc_livepatch only (no libxenctrl)
gcc $CFLAGS -I"$INCLUDE" -I"$HERE" -o "$B/lpdump" "$HERE/lpdump.c" -L"$WORK/lib" -lxc_livepatch \
    || die "lpdump does not build against include/xc_livepatch.h + -lxc_livepatch"
if readelf -d "$B/lpdump" | grep NEEDED | grep -q xenctrl; then die "lpdump links libxenctrl"; fi
gcc $CFLAGS -I"$HERE" -o "$B/lpcmp" "$HERE/lpcmp.c" || die "lpcmp build failed"
gcc $CFLAGS -o "$B/lpxc" "$HERE/lpxc.c" "$XLIBS/libxenctrl.so.4.17" -Wl,-rpath-link,"$XLIBS" \
    || die "lpxc build failed"
cp "$RUSTEX" "$B/xc-livepatch-list"

# ---------------------------------------------------------------- initramfs (common part)
IR=$WORK/initramfs-common
mkdir -p "$IR"/{bin,lib/x86_64-linux-gnu,lib64,lib/modules,usr/sbin,t/bin}
cp "$DOM0/bin/busybox" "$IR/bin/busybox"
cp "$XL_BIN" "$IR/usr/sbin/xen-livepatch"
cp "$PRIVCMD" "$IR/lib/modules/xen-privcmd.ko"
cp "$B"/* "$IR/t/bin/"
cp "$WORK/lib/libxc_livepatch.so" "$IR/lib/libxc_livepatch.so"
cp "$WORK/lib/libxc_livepatch.so" "$IR/lib/x86_64-linux-gnu/libxc_livepatch.so.1"
cp "$HERE/init.sh" "$IR/init"; chmod +x "$IR/init"
# shared libraries: whatever ldd resolves (Xen libraries from the unpacked packages)
for exe in "$IR/usr/sbin/xen-livepatch" "$IR"/t/bin/* "$IR/lib/libxc_livepatch.so"; do
    LD_LIBRARY_PATH=$XLIBS:$WORK/lib ldd "$exe" || die "ldd $exe failed"
done | awk '/=> \// {print $3} /^\t\/lib64\// {print $1}' | sort -u > "$WORK/libs.txt"
grep -q 'not found' <(for exe in "$IR"/t/bin/* "$IR/usr/sbin/xen-livepatch"; do LD_LIBRARY_PATH=$XLIBS:$WORK/lib ldd "$exe"; done) \
    && die "unresolved shared libraries"
while read -r l; do
    case $l in
        /lib64/*) cp -L "$l" "$IR/lib64/";;
        */libxc_livepatch.so*) ;;
        *) cp -L "$l" "$IR/lib/x86_64-linux-gnu/";;
    esac
done < "$WORK/libs.txt"

# ---------------------------------------------------------------- one boot per hypervisor
fetch_xen() { # fetch_xen VERSION -> path of the gunzipped xen ELF
    local v=$1 root gz out
    if [ "$v" = 4.17 ]; then
        APT_OPTS=()
        root=$(fetch_and_unpack xen417 xen-hypervisor-4.17-amd64) || exit 1
    else
        setup_trixie_apt
        root=$(fetch_and_unpack xen420 xen-hypervisor-4.20-amd64) || exit 1
        APT_OPTS=()
    fi
    gz=$(ls "$root"/boot/xen-"$v"*-amd64.gz | head -1)
    [ -f "$gz" ] || die "no /boot/xen-$v*-amd64.gz in the package"
    out=$WORK/xen-$v
    zcat "$gz" > "$out" || die "gunzip $gz failed"
    echo "$out"
}

TOTAL_PASS=0; TOTAL_FAIL=0
run_one() {
    local v=$1 d=$WORK/run-$v xen t0 rc
    mkdir -p "$d"
    log "=== Xen $v ==="
    xen=$(fetch_xen "$v")
    [ -s "$xen" ] || { echo "[xen-$v] RESULT fetch FAIL no hypervisor"; TOTAL_FAIL=$((TOTAL_FAIL+1)); return; }
    log "build id $(readelf -n "$xen" | awk '/Build ID/ {print $3}')"
    python3 "$HERE/gen-payloads.py" --xen "$xen" --out "$d/t" --many "$MANY" >&2 || die "payload generation failed"
    cat > "$d/t/run.env" <<EOF
EXPECT_IFACE=0x15
LOOP_SNAPSHOTS=$LOOP
TOOL_SNAPSHOTS=$TOOL_LOOP
CHURN_ROUNDS=100000
EOF
    rm -rf "$d/ir"; cp -a "$IR" "$d/ir"; cp -a "$d/t/." "$d/ir/t/"
    (cd "$d/ir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$d/initrd.cpio" || die "cpio failed"
    QEMU_FW=""; for fw in /usr/share/qemu /usr/share/seabios; do [ -d $fw ] && QEMU_FW="$QEMU_FW -L $fw"; done
    log "initramfs $(du -h "$d/initrd.cpio" | cut -f1), booting (timeout ${BOOT_TIMEOUT}s)"
    t0=$(date +%s.%N)
    python3 "$HERE/boot.py" --timeout "$BOOT_TIMEOUT" --log "$d/console.log" -- "$QEMU" -machine pc -m 2048 -smp 2 -nographic -no-reboot \
        -nic none -accel tcg -monitor none -serial stdio $QEMU_FW \
        -kernel "$xen" \
        -append 'console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=1 loglvl=all guest_loglvl=all noreboot' \
        -initrd "$VMLINUX console=hvc0 earlyprintk=xen rdinit=/init,$d/initrd.cpio" \

    rc=$?
    local secs
    secs=$(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1-$2}')
    log "QEMU exited with status $rc after ${secs}s; console log: $d/console.log"
    python3 "$HERE/parse-results.py" --tag "xen-$v" --qemu-rc "$rc" --seconds "$secs" \
        --timeout "$BOOT_TIMEOUT" "$d/console.log" > "$d/summary.txt"
    cat "$d/summary.txt"
    local p f
    p=$(awk '/^PASSED / {print $2}' "$d/summary.txt"); f=$(awk '/^FAILED / {print $2}' "$d/summary.txt")
    TOTAL_PASS=$((TOTAL_PASS + ${p:-0})); TOTAL_FAIL=$((TOTAL_FAIL + ${f:-1}))
}

for v in $VERSIONS; do run_one "$v"; done
ok=0; [ "$TOTAL_FAIL" = 0 ] && [ "$TOTAL_PASS" -gt 0 ] && ok=1
if [ "$ok" = 1 ] && [ -z "${REAL_XEN_KEEP:-}" ]; then
    # About 130 MB of initramfs and unpacked packages: kept only on failure
    # (or with REAL_XEN_KEEP=1), for the console logs.
    rm -rf "$WORK"
    echo "total time $(elapsed)s (versions: $VERSIONS)"
else
    echo "total time $(elapsed)s (versions: $VERSIONS; work dir kept: $WORK)"
fi
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$ok" = 1 ]
