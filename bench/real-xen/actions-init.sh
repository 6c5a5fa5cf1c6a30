#!/bin/busybox sh
# dom0 /init of `bench/real-xen.sh --actions N`: uploads /b/bench-func.livepatch, then
# actions N apply + revert cycles by xen-livepatch and both builds of xc-livepatch
# (actions.c), prints
# its ACTION/ACTIONS lines, INIT-DONE, and powers off.
. /b/dom0-preamble.sh
if ! insmod /lib/modules/xen-privcmd.ko || [ ! -c /dev/xen/hypercall ]; then
    echo "BENCH-ERROR no /dev/xen/privcmd + /dev/xen/hypercall"
elif ! xen-livepatch upload bench-func /b/bench-func.livepatch; then
    echo "BENCH-ERROR upload of bench-func failed"
else
    echo "STAGE actions t=$(cut -d' ' -f1 /proc/uptime)"
    timeout 3000 actions "$ROUNDS" bench-func xen-livepatch=/usr/sbin/xen-livepatch \
        xc-livepatch=/usr/bin/xc-livepatch xc-livepatch-static=/usr/bin/xc-livepatch-static || echo "BENCH-ERROR actions exit $?"
    echo "STAGE actions-done t=$(cut -d' ' -f1 /proc/uptime)"
fi
dmesg | grep -E 'segfault|general protection|Oops|BUG' | head -20 | sed 's/^/KERNEL-LOG /'
echo INIT-DONE
sync
poweroff -f
sleep 5
halt -f
