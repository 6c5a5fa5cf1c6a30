#!/usr/bin/env bash
# The benchmark on a real hypervisor: Debian 12's Xen 4.17 under QEMU (TCG), one boot.
#
#   bash bench/real-xen.sh [--quick] [--profile] [--variant NAME=PATH.so]... [--no-write]
#   bash bench/real-xen.sh --actions N
#
# --actions N: a boot of its own (-smp 1, as tests/real-xen: no rendezvous to time out)
# that times N apply + revert cycles of one func payload by whole processes of
# Debian 12's xen-livepatch and of xc-livepatch (the command, target/release),
# alternating, outputs checked (bench/real-xen/actions.c), and reports the time per
# completed action, the ratio and how often `Operation didn't complete.` was printed
# (bench/real-xen/actions-report.py). Without it:
#
# In dom0, for each payload set (1000 x 48 B of metadata; then 5000 x 4 KiB, or as
# many as the hypervisor takes), in one process per step: upload, count per call
# (hypercalls, buffer mappings: an LD_PRELOAD counter), time get_sizes + list of
# everything with interleaved rounds for the real libxenctrl 4.17 (dlopen), this
# library (target/release) and a second copy of it (a noise control), the floor
# (bench/floor.c) and any --variant builds of the library. Writes docs/bench-real-xen.csv and prints the README rows.
# --profile adds scratch builds of this commit with one cost removed each
# (bench/real-xen/variant.py: getpid, nocheck, nocap), timed in the same processes.
# Reuses tests/real-xen (fetch.sh, boot.py, extract-vmlinux.py, gen-payloads.py)
# read-only. Knobs: BENCH_REAL_XEN_ROUNDS_SMALL [1000], BENCH_REAL_XEN_ROUNDS_BIG [30],
# BENCH_REAL_XEN_BIG [5000], BENCH_REAL_XEN_TIMEOUT [2400 s], REAL_XEN_CACHE.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RX=$ROOT/tests/real-xen
CACHE=${REAL_XEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xc-livepatch-real-xen}
DEB_CACHE=$CACHE/debs
APT_OPTS=()
. "$RX/fetch.sh"

ROUNDS_SMALL=${BENCH_REAL_XEN_ROUNDS_SMALL:-1000}
ROUNDS_BIG=${BENCH_REAL_XEN_ROUNDS_BIG:-30}
BIG=${BENCH_REAL_XEN_BIG:-5000}
TIMEOUT=${BENCH_REAL_XEN_TIMEOUT:-2400}
WRITE=1
PROFILE=0
ACTIONS=0
VARIANTS=()
while [ $# -gt 0 ]; do
    case $1 in
        --quick) ROUNDS_SMALL=40; ROUNDS_BIG=5; BIG=${BENCH_REAL_XEN_BIG:-1000}; WRITE=0; shift;;
        --variant) VARIANTS+=("$2"); shift 2;;
        --no-write) WRITE=0; shift;;
        --profile) PROFILE=1; shift;;
        --actions) ACTIONS=$2; shift 2;;
        -h|--help) sed -n '2,24p' "$0"; exit 0;;
        *) die "unknown argument $1";;
    esac
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CACHE"
log "work directory $WORK, cache $CACHE"
ensure_host_tools
bash "$ROOT/scripts/setup.sh" >&2 || die "scripts/setup.sh failed"   # libxen-dev headers

KPKG=$(current_kernel_pkg)
KVER=${KPKG#linux-image-}
DOM0=$(fetch_and_unpack dom0 "$KPKG" busybox-static xen-utils-4.17 libxenmisc4.17 libxencall1 \
       libxentoollog1 libxenevtchn1 libxengnttab1 libxenforeignmemory1 libxendevicemodel1 \
       libxentoolcore1) || die "cannot fetch the dom0 packages"
XEN_ROOT=$(fetch_and_unpack xen417 xen-hypervisor-4.17-amd64) || die "cannot fetch Xen 4.17"
XLIBS=$DOM0/usr/lib/x86_64-linux-gnu
PRIVCMD=$(find "$DOM0/lib/modules/$KVER" -name xen-privcmd.ko | head -1)
for f in "$XLIBS/libxenctrl.so.4.17" "$DOM0/bin/busybox" "$PRIVCMD" "$DOM0/boot/vmlinuz-$KVER"; do
    [ -e "$f" ] || die "missing $f in the unpacked packages"
done
VMLINUX=$CACHE/vmlinux-$KVER-$(basename "$(fetch_debs "$KPKG")" .deb | sha1sum | cut -c1-8)
if [ ! -s "$VMLINUX" ]; then
    python3 "$RX/extract-vmlinux.py" "$DOM0/boot/vmlinuz-$KVER" "$VMLINUX.tmp.$$" && mv "$VMLINUX.tmp.$$" "$VMLINUX" \
        || die "cannot extract vmlinux"
fi
zcat "$(ls "$XEN_ROOT"/boot/xen-4.17*-amd64.gz | head -1)" > "$WORK/xen" || die "no Xen 4.17 image"

if [ "$ACTIONS" -gt 0 ]; then
    . "$HERE/real-xen/actions.sh"
    exit
fi

# ---------------------------------------------------------------- programs
log "cargo build --release"
(cd "$ROOT" && cargo build --release -q >&2) || die "cargo build failed"
if [ "$PROFILE" = 1 ]; then
    for n in getpid nocheck nocap; do
        d=$WORK/variant-$n
        mkdir -p "$d"
        (cd "$ROOT" && git ls-files -z | tar --null -T - -c) | tar -x -C "$d" || die "copy for variant $n failed"
        python3 "$HERE/real-xen/variant.py" "$n" "$d" || die "variant $n"
        log "cargo build --release (variant $n)"
        (cd "$d" && CARGO_TARGET_DIR=$WORK/variant-target cargo build --release -q -p xc-livepatch 2>/dev/null) \
            || die "variant $n does not build"
        cp "$WORK/variant-target/release/libxc_livepatch.so" "$WORK/$n.so"
        VARIANTS+=("$n=$WORK/$n.so")
    done
fi
IR=$WORK/ir
mkdir -p "$IR"/{bin,lib/x86_64-linux-gnu,lib64,lib/modules,b/bin,b/lib}
CFLAGS="-O2 -Wall -Wextra -Werror"
gcc $CFLAGS -o "$IR/b/bin/driver" "$HERE/real-xen/driver.c" "$HERE/floor.c" "$HERE/real-xen/unload.c" -ldl || die "driver build failed"
gcc $CFLAGS -shared -fPIC -o "$IR/b/lib/counter.so" "$HERE/real-xen/counter.c" -ldl || die "counter build failed"
cp "$ROOT/target/release/libxc_livepatch.so" "$IR/b/lib/ours.so"
# ours-copy: the same library once more, a noise control (it differs from ours
# only by chance; their ratio shows how far apart two identical ones come out)
cp "$ROOT/target/release/libxc_livepatch.so" "$IR/b/lib/ours-copy.so"
IMPLS="libxenctrl ours=/b/lib/ours.so floor ours-copy=/b/lib/ours-copy.so"
for v in ${VARIANTS[@]+"${VARIANTS[@]}"}; do
    name=${v%%=*} so=${v#*=}
    [ -f "$so" ] || die "variant $name: no file $so"
    cp "$so" "$IR/b/lib/$name.so"
    IMPLS="$IMPLS $name=/b/lib/$name.so"
done
cp "$DOM0/bin/busybox" "$IR/bin/busybox"
cp "$PRIVCMD" "$IR/lib/modules/xen-privcmd.ko"
cp "$HERE/real-xen/init.sh" "$IR/init"; chmod +x "$IR/init"
cp "$HERE/real-xen/dom0-preamble.sh" "$IR/b/dom0-preamble.sh"
# shared libraries: the driver's, and libxenctrl 4.17's from the unpacked packages
for exe in "$IR/b/bin/driver" "$XLIBS/libxenctrl.so.4.17" "$IR/b/lib/ours.so"; do
    LD_LIBRARY_PATH=$XLIBS ldd "$exe" || die "ldd $exe failed"
done | awk '/=> \// {print $3} /^\t\/lib64\// {print $1}' | sort -u > "$WORK/libs.txt"
echo "$XLIBS/libxenctrl.so.4.17" >> "$WORK/libs.txt"
while read -r l; do
    case $l in
        /lib64/*) cp -L "$l" "$IR/lib64/";;
        *) cp -L "$l" "$IR/lib/x86_64-linux-gnu/";;
    esac
done < "$WORK/libs.txt"

# ---------------------------------------------------------------- payloads, boot
python3 "$HERE/real-xen/gen.py" --xen "$WORK/xen" --out "$IR/b" --set "small:1000:48" --set "big:$BIG:4096" >&2 \
    || die "payload generation failed"
rm -rf "$IR/b/p"
cat > "$IR/b/bench.env" <<EOV
SETS="small big"
ROUNDS_small=$ROUNDS_SMALL
ROUNDS_big=$ROUNDS_BIG
COUNT_CALLS=20
IMPLS="$IMPLS"
UNITS="unit-getpid unit-probe"
EOV
(cd "$IR" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$WORK/initrd.cpio" || die "cpio failed"
QEMU_FW=""; for fw in /usr/share/qemu /usr/share/seabios; do [ -d $fw ] && QEMU_FW="$QEMU_FW -L $fw"; done
log "initramfs $(du -h "$WORK/initrd.cpio" | cut -f1); booting Xen 4.17 (timeout ${TIMEOUT}s)"
LOGF=$WORK/console.log
python3 "$RX/boot.py" --timeout "$TIMEOUT" --log "$LOGF" -- "$QEMU" -machine pc -m 2048 -smp 2 -nographic \
    -no-reboot -nic none -accel tcg -monitor none -serial stdio $QEMU_FW \
    -kernel "$WORK/xen" \
    -append 'console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=1 noreboot' \
    -initrd "$VMLINUX console=hvc0 earlyprintk=xen rdinit=/init,$WORK/initrd.cpio"
rc=$?
mkdir -p "$ROOT/target"
cp "$LOGF" "$ROOT/target/bench-real-xen-console.log"
log "QEMU exited with status $rc; console log copied to target/bench-real-xen-console.log"
args=(--console "$LOGF" --qemu-rc "$rc")
[ "$WRITE" = 1 ] && args+=(--csv "$ROOT/docs/bench-real-xen.csv")
python3 "$HERE/real-xen/report.py" "${args[@]}"
