# Debian 13's xen-livepatch 4.20 in dom0 (issue 24), sourced by init.sh (busybox sh)
# after lifecycle.sh: the tool at /opt/xen-4.20/bin/xen-livepatch, its libxenctrl 4.20
# and libraries in /opt/xen-4.20/lib (a directory of their own, beside Debian 12's).
# Where its libxenctrl speaks the booted hypervisor's interface (0x15: 4.17, 4.20) the
# lifecycle runs with the tool alone and with our library preloaded, byte-identical;
# elsewhere (4.14, 4.16, 4.22) preloaded only, the tool alone trying each step first
# and refused (EACCES). `--force upload` (LIVEPATCH_FLAG_FORCE) is accepted where the
# hypervisor takes the flag (4.19+), and our command's `upload --force` either sends
# it or says in one line that it cannot.
XL13=/opt/xen-4.20/bin/xen-livepatch
XL13_LIB=/opt/xen-4.20/lib

d13_force() { # d13_force NAME MODE : `--force upload lc-m1` by MODE, listed, unloaded
    local o=/tmp/force.$2 f=/t/p/lc-m1.livepatch
    lc_tool $2 --force upload lc-m1 $f > $o.out 2> $o.err; echo $? > $o.rc
    lc_list $2 $o.list > /dev/null
    lc_tool $2 unload lc-m1 > $o.unload.out 2> $o.unload.err
    check $1 "$(lc_brief $o); list after: $(grep '^lc-m1' $o.list.out | tr -s ' ')" \
        d13_force_ok $o "Uploading $f... completed"
}
d13_force_ok() { # d13_force_ok FILE-PREFIX STDOUT
    [ "$(cat $1.rc)" = 0 ] && [ "$(cat $1.out)" = "$2" ] && [ ! -s $1.err ] \
        && grep -q '^lc-m1 .*CHECKED' $1.list.out
}
xc_force() { # xc_force NAME : our command's `upload --force lc-m1` (flag sent or one line)
    local o=/tmp/force.xc f=/t/p/lc-m1.livepatch
    lc_tool xc upload --force lc-m1 $f > $o.out 2> $o.err; echo $? > $o.rc
    lc_list xc $o.list > /dev/null
    lc_tool xc unload lc-m1 > /dev/null 2>&1
    local lines=0; [ "$TAKES_FORCE" = 1 ] || lines=1
    check $1 "$(lc_brief $o); list after: $(grep '^lc-m1' $o.list.out | tr -s ' ')" \
        xc_force_ok $o "Uploading $f... completed" $lines
}
xc_force_ok() { # xc_force_ok FILE-PREFIX STDOUT NOTE-LINES
    [ "$(cat $1.rc)" = 0 ] && [ "$(cat $1.out)" = "$2" ] && [ "$(grep -c . $1.err)" = $3 ] \
        && [ "$(grep -c 'cannot be passed' $1.err)" = $3 ] && grep -q '^lc-m1 .*CHECKED' $1.list.out
}

stage debian13
if [ "$XL12_SPEAKS" = 1 ]; then
    lc_run d13 d13 0
    echo "SUMMARY lc-d13 $LC_SUMMARY"
    lc_run d13pre d13pre 0
    echo "SUMMARY lc-d13pre $LC_SUMMARY"
    lc_compare lifecycle-d13-identical d13 d13pre
else
    lc_run d13pre d13pre 1 d13
    echo "SUMMARY lc-d13pre $LC_SUMMARY"
    echo "SUMMARY lc-d13 $LC_ALONE_SUMMARY"
fi
if [ "$TAKES_FORCE" = 1 ]; then
    [ "$XL12_SPEAKS" = 1 ] && d13_force d13-force-upload-alone d13
    d13_force d13-force-upload-preloaded d13pre
fi
xc_force xc-upload-force
