#!/bin/busybox sh
# dom0 /init of `bench/real-xen.sh --actions N`: uploads /b/bench-func.livepatch, then
# actions N apply + revert cycles by xen-livepatch and both builds of xc-livepatch
# (actions.c), prints
# its ACTION/ACTIONS lines, INIT-DONE, and powers off.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
export PATH=/b/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C
dmesg -n 1 2>/dev/null
cd /b || exit 1
. /b/bench.env
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
