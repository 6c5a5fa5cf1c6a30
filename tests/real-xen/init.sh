#!/bin/busybox sh
# dom0 /init of the real-Xen harness (busybox sh). Runs the checks and prints
#   STAGE <name>                     progress (the host reports the last one on failure)
#   RESULT <check> PASS|FAIL <detail>
#   BEGIN-DUMP <name> ... END-DUMP <name>   human-readable excerpts
#   INIT-DONE                        all checks ran
# then powers off (Xen enters S5 and QEMU exits).
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
export PATH=/t/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C
dmesg -n 1 2>/dev/null   # keep kernel messages from splitting RESULT lines
cd /t || exit 1
. /t/expected.env
. /t/run.env

XL=/usr/sbin/xen-livepatch
OURLIB=/lib/libxc_livepatch.so
RUST=/t/bin/xc-livepatch-list
T=timeout   # every command that touches Xen is bounded

uptime_s() { cut -d' ' -f1 /proc/uptime; }
stage() { echo "STAGE $* t=$(uptime_s)"; }
result() { # result NAME PASS|FAIL detail...
    n=$1; s=$2; shift 2
    echo "RESULT $n $s $*"
}
check() { # check NAME DETAIL CMD... : PASS if CMD exits 0
    n=$1; d=$2; shift 2
    if "$@"; then result "$n" PASS "$d"; else result "$n" FAIL "$d"; fi
}
dump() { # dump NAME FILE [MAXLINES] : excerpt, lines cut at 160 bytes
    echo "BEGIN-DUMP $1 ($(wc -c < "$2") bytes, $(wc -l < "$2") lines, sha1 $(sha1sum < "$2" | cut -c1-40))"
    head -n "${3:-12}" "$2" | cut -c1-160
    echo "END-DUMP $1"
}
finish() {
    # kernel messages are kept off the console (dmesg -n 1): report crashes explicitly
    dmesg | grep -E 'segfault|general protection|trap |invalid opcode|Oops|BUG' | head -20 \
        | sed 's/^/KERNEL-LOG /'
    stage done
    echo INIT-DONE
    sync
    poweroff -f
    sleep 5
    echo "poweroff failed"
    halt -f
}

# (a) real xen-livepatch list with and without our library preloaded.
parity() { # parity TAG
    tag=$1
    $T 120 $XL list > /tmp/xl.$tag.out 2> /tmp/xl.$tag.err; echo $? > /tmp/xl.$tag.rc
    LD_PRELOAD=$OURLIB $T 120 $XL list > /tmp/ours.$tag.out 2> /tmp/ours.$tag.err; echo $? > /tmp/ours.$tag.rc
    d="stdout $(wc -c < /tmp/xl.$tag.out)B/$(wc -l < /tmp/xl.$tag.out)lines rc $(cat /tmp/xl.$tag.rc) vs $(cat /tmp/ours.$tag.rc)"
    if cmp -s /tmp/xl.$tag.out /tmp/ours.$tag.out && cmp -s /tmp/xl.$tag.err /tmp/ours.$tag.err \
        && cmp -s /tmp/xl.$tag.rc /tmp/ours.$tag.rc && [ "$(cat /tmp/xl.$tag.rc)" = 0 ]; then
        result "xl-list-identical-$tag" PASS "$d"
    else
        result "xl-list-identical-$tag" FAIL "$d; stdout $(cmp /tmp/xl.$tag.out /tmp/ours.$tag.out 2>&1 | head -1); stderr: [$(head -c 200 /tmp/xl.$tag.err)] vs [$(head -c 200 /tmp/ours.$tag.err)]"
        dump "xen-livepatch-list-$tag" /tmp/xl.$tag.out
        dump "preloaded-list-$tag" /tmp/ours.$tag.out
    fi
}

# (b) our C ABI (lpdump, relinked C) and our Rust example against the generator's file.
dumps() { # dumps TAG EXPECTED
    tag=$1; exp=$2
    $T 120 lpdump --dump > /tmp/c.$tag.dump 2> /tmp/c.$tag.err
    rc=$?
    if [ $rc = 0 ] && lpcmp "$exp" /tmp/c.$tag.dump > /tmp/cmp.c.$tag; then
        result "c-abi-dump-$tag" PASS "$(cat /tmp/cmp.c.$tag)"
    else
        result "c-abi-dump-$tag" FAIL "rc=$rc $(head -c 300 /tmp/c.$tag.err) $(cat /tmp/cmp.c.$tag 2>/dev/null)"
        dump "c-abi-dump-$tag" /tmp/c.$tag.dump
    fi
    $T 120 $RUST --dump > /tmp/r.$tag.dump 2> /tmp/r.$tag.err
    rc=$?
    if [ $rc = 0 ] && lpcmp "$exp" /tmp/r.$tag.dump > /tmp/cmp.r.$tag; then
        result "rust-dump-$tag" PASS "$(cat /tmp/cmp.r.$tag)"
    else
        result "rust-dump-$tag" FAIL "rc=$rc $(head -c 300 /tmp/r.$tag.err) $(cat /tmp/cmp.r.$tag 2>/dev/null)"
        dump "rust-dump-$tag" /tmp/r.$tag.dump
    fi
}

stage init t0
echo "dom0 kernel $(uname -r)"
if insmod /lib/modules/xen-privcmd.ko && [ -c /dev/xen/privcmd ] && [ -c /dev/xen/hypercall ]; then
    result boot PASS "dom0 up, /dev/xen/privcmd and /dev/xen/hypercall present at t=$(uptime_s)s"
else
    result boot FAIL "xen-privcmd did not give /dev/xen/privcmd + /dev/xen/hypercall"
    ls -l /dev/xen 2>&1
    finish
fi

stage empty-list
echo '0' > /tmp/empty.dump.n
printf 'count 0\n' > /tmp/empty.dump
parity empty
dumps empty /tmp/empty.dump

stage iface
iface=$($T 60 $RUST --iface 2>/tmp/iface.err)
check iface-version "our library detects '$iface' (expected $EXPECT_IFACE) $(head -c 200 /tmp/iface.err)" \
    [ "$iface" = "$EXPECT_IFACE" ]

stage extraversion-before
EV0=$($T 30 lpxc extraversion)
echo "extraversion before: '$EV0'"

stage upload
t0=$(uptime_s)
$T 400 $XL upload lp-single-timing /t/p/lp-churn-00.livepatch > /tmp/up1.out 2>&1; r1=$?
t1=$(uptime_s)
$T 60 $XL unload lp-single-timing > /tmp/un1.out 2>&1; r2=$?
t2=$(uptime_s)
echo "TIMING xen-livepatch-upload-one-process rc=$r1 seconds=$(echo "$t1 $t0" | awk '{print $1-$2}') unload rc=$r2 seconds=$(echo "$t2 $t1" | awk '{print $1-$2}')"
$T 400 lpxc upload /t upload.list > /tmp/upload.out 2> /tmp/upload.err
rc=$?
t3=$(uptime_s)
echo "TIMING $(cat /tmp/upload.out) wall=$(echo "$t3 $t2" | awk '{print $1-$2}')"
if [ $rc = 0 ]; then
    result upload-all PASS "$(cat /tmp/upload.out)"
else
    result upload-all FAIL "rc=$rc $(head -c 400 /tmp/upload.err)"
fi

stage apply
for p in $APPLY_OK; do
    $T 60 $XL apply "$p" > /tmp/apply.$p 2>&1
    rc=$?
    check "apply-$p" "exit $rc: $(tr '\n' ' ' < /tmp/apply.$p | cut -c1-200)" [ $rc = 0 ]
done
EV1=$($T 30 lpxc extraversion)
check func-patch-applied "XENVER_extraversion '$EV0' -> '$EV1' after applying lp-func" \
    [ "$EV1" = "$PATCHED_EXTRAVERSION" -a "$EV0" != "$EV1" ]
for p in $APPLY_FAIL; do
    $T 60 $XL apply "$p" > /tmp/apply.$p 2>&1
    rc=$?
    check "apply-refused-$p" "exit $rc: $(tr '\n' ' ' < /tmp/apply.$p | cut -c1-200)" [ $rc != 0 ]
done

stage list-full
parity full
dumps full /t/expected.dump
check c-and-rust-identical-full "lpdump --dump and xc-livepatch-list --dump byte-identical" \
    cmp -s /tmp/c.full.dump /tmp/r.full.dump
$T 120 $RUST > /tmp/rtable.out 2> /tmp/rtable.err; echo $? > /tmp/rtable.rc
check rust-table-equals-xl-full "xc-livepatch-list (no args) output vs xen-livepatch list: rc $(cat /tmp/rtable.rc)" \
    cmp -s /tmp/rtable.out /tmp/xl.full.out
nm=$(grep -c '^lp-m-' /tmp/c.full.dump)
total=$(head -n1 /tmp/c.full.dump | cut -d' ' -f2)
check more-than-one-batch "$total payloads listed by lpdump, $nm small ones (expected $N_MANY); >1024 needs more than one LIST hypercall" \
    [ "$nm" = "$N_MANY" -a "$total" -gt 1024 ]
dump xen-livepatch-list /tmp/xl.full.out 24
dump lpdump /tmp/c.full.dump 6

stage negative
if lpcmp --flip-meta /tmp/c.full.dump /tmp/c.flipped.dump 2>/tmp/flip.err \
    && ! lpcmp /t/expected.dump /tmp/c.flipped.dump > /tmp/flip.cmp; then
    result comparator-catches-wrong-metadata-byte PASS "$(cat /tmp/flip.err) -> $(cut -c1-250 /tmp/flip.cmp)"
else
    result comparator-catches-wrong-metadata-byte FAIL "flipped copy not reported: $(cat /tmp/flip.cmp)"
fi

stage churn
rm -f /tmp/churn.stop
$T 300 lpxc churn /t churn.list "$CHURN_ROUNDS" /tmp/churn.stop > /tmp/churn.out 2> /tmp/churn.err &
churn_pid=$!
$T 300 lpdump --loop "$LOOP_SNAPSHOTS" /t/expected.dump /t/churn.dump > /tmp/loop.out 2>&1
loop_rc=$?
# the real tool (preloaded) and the Rust example also list during the churn
i=0; bad=0; codes=""
while kill -0 $churn_pid 2>/dev/null && [ $i -lt "$TOOL_SNAPSHOTS" ]; do
    LD_PRELOAD=$OURLIB $T 60 $XL list > /tmp/cl.out 2> /tmp/cl.err; rc=$?
    codes="$codes xl:$rc"
    case $rc in 0|1|2) ;; *) bad=$((bad+1)); echo "xen-livepatch list (preloaded) exit $rc: $(head -c 200 /tmp/cl.err)";; esac
    if [ $rc = 0 ] && grep -q '^lp-m-' /tmp/cl.out; then
        n=$(grep -c '^lp-m-' /tmp/cl.out)
        [ "$n" = "$N_MANY" ] || { bad=$((bad+1)); echo "preloaded list shows $n lp-m rows, expected $N_MANY"; }
    fi
    $T 60 $RUST --dump > /tmp/cr.dump 2> /tmp/cr.err; rc=$?
    codes="$codes rust:$rc"
    if [ $rc = 0 ]; then
        lpcmp --consistent /t/expected.dump /t/churn.dump /tmp/cr.dump > /tmp/cr.cmp || {
            bad=$((bad+1)); echo "rust snapshot: $(cat /tmp/cr.cmp)"; }
    elif [ $rc -gt 2 ]; then
        bad=$((bad+1)); echo "rust --dump exit $rc: $(head -c 200 /tmp/cr.err)"
    fi
    i=$((i+1))
done
touch /tmp/churn.stop
wait $churn_pid
churn_rc=$?
echo "TIMING $(cat /tmp/churn.out)"
check churn-ran "rc=$churn_rc $(cat /tmp/churn.out) $(head -c 200 /tmp/churn.err)" [ $churn_rc = 0 ]
check list-during-churn-consistent "lpdump: $(tail -n 3 /tmp/loop.out | tr '\n' ' ')" [ $loop_rc = 0 ]
check tools-during-churn "$i rounds of preloaded xen-livepatch list + rust --dump, exit codes:$(echo $codes | tr ' ' '\n' | sort | uniq -c | tr '\n' ' ' | tr -s ' ')" \
    [ $bad = 0 -a $i -gt 0 ]

stage after-churn
parity after-churn
dumps after-churn /t/expected.dump

stage revert
for p in $(echo $APPLY_OK | tr ' ' '\n' | sed -n '1!G;h;$p'); do
    $T 60 $XL revert "$p" > /tmp/revert.$p 2>&1 || echo "revert $p failed: $(cat /tmp/revert.$p)"
done
EV2=$($T 30 lpxc extraversion)
check func-patch-reverted "XENVER_extraversion '$EV2' after reverting (was '$EV0')" [ "$EV2" = "$EV0" ]

finish
