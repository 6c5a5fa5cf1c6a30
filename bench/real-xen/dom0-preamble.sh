# The start both dom0 /init scripts of the real-Xen benchmark share (init.sh,
# actions-init.sh; sourced by busybox sh from /b/dom0-preamble.sh, where
# bench/real-xen.sh and bench/real-xen/actions.sh put it): busybox's applets
# installed, /proc /sys /dev /tmp mounted, PATH, the kernel's console quiet,
# then in /b with /b/bench.env read.
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
