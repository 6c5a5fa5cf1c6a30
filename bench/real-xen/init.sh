#!/bin/busybox sh
# dom0 /init of the real-Xen benchmark (busybox sh). Reads /b/bench.env:
#   SETS="small big"  ROUNDS_small=200 ROUNDS_big=20  COUNT_CALLS=20
#   IMPLS="libxenctrl ours=/b/lib/ours.so floor ..."  UNITS="unit-getpid unit-probe"
# For each set, in order: upload it (one process), count (LD_PRELOAD counter,
# one process), time (one process, interleaved rounds), unload it.
# Prints STAGE / UPLOADED / CHECK / COUNT / BENCH / UNLOADED lines, then INIT-DONE,
# and powers off (Xen enters S5 and QEMU exits).
. /b/dom0-preamble.sh
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
stage() { echo "STAGE $* t=$(cut -d' ' -f1 /proc/uptime)"; }

stage init
if ! insmod /lib/modules/xen-privcmd.ko || [ ! -c /dev/xen/hypercall ]; then
    echo "BENCH-ERROR no /dev/xen/privcmd + /dev/xen/hypercall"
else
    echo "DOM0 $(uname -r) $(grep -c ^processor /proc/cpuinfo) vcpu, MemTotal $(awk '/MemTotal/ {print $2}' /proc/meminfo) kB"
    for s in $SETS; do
        eval rounds=\$ROUNDS_$s
        stage "upload-$s"
        timeout 1500 driver upload /b/$s.list || echo "BENCH-ERROR upload of set $s failed"
        # what really got uploaded (a set that did not fully fit is listed as it is)
        stage "count-$s"
        LD_PRELOAD=/b/lib/counter.so timeout 900 driver count "$COUNT_CALLS" "$s" $IMPLS \
            || echo "BENCH-ERROR count $s exit $?"
        stage "time-$s"
        timeout 1500 driver time "$rounds" "$s" $IMPLS $UNITS || echo "BENCH-ERROR time $s exit $?"
        # the next set is measured alone (the last one stays: power-off follows)
        [ "$s" = "${SETS##* }" ] && continue
        stage "unload-$s"
        timeout 900 driver unload /b/$s.list || echo "BENCH-ERROR unload $s"
    done
fi
dmesg | grep -E 'segfault|general protection|Oops|BUG' | head -20 | sed 's/^/KERNEL-LOG /'
stage done
echo INIT-DONE
sync
poweroff -f
sleep 5
halt -f
