#!/bin/busybox sh
# dom0 /init of the real-Xen harness (busybox sh). Runs the checks and prints
#   STAGE <name>                     progress (the host reports the last one on failure)
#   RESULT <check> PASS|FAIL <detail>
#   BEGIN-DUMP <name> ... END-DUMP <name>   human-readable excerpts
#   INIT-DONE                        all checks ran
# then powers off (Xen enters S5 and QEMU exits).
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin /run/lock  # /run/lock: the managing commands' lock (FHS)
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

XL=/usr/sbin/xen-livepatch        # Debian 12's tool (libxenctrl 4.17: interface 0x15 only)
# Single actions (apply/revert) and bulk uploads/churn: the real tools where they speak
# the booted hypervisor's interface, else lpraw (raw requests with interface $IFACE).
act() { # act apply|revert NAME
    case $ACT_TOOL in
        xl) $T 60 $XL "$1" "$2";;
        ref) $T 60 $REF_XL "$1" "$2";;
        raw) $T 60 lpraw "$IFACE" "$1" "$2";;
    esac
}
BULK="lpxc"   # bulk upload DIR LIST | churn DIR LIST N STOP (one process each)
[ "$BULK_TOOL" = raw ] && BULK="lpraw $IFACE"
OURLIB=libxc_livepatch.so.1   # preloaded by its soname, from the package's installed path
RUST=/usr/bin/xc-livepatch      # the command from its package: list, list --format dump, iface
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
ship() { # ship NAME FILE : the whole file, gzip + base64, for the host's checks (check-formats.py)
    echo "BEGIN-FILE $1"
    gzip -c "$2" | base64
    echo "END-FILE $1"
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

# (a) Debian 12's xen-livepatch list alone and with our library preloaded; the
# reference: Debian 11's own tool + libxenctrl 4.14 on Xen 4.14 (REF_XL), and everywhere
# the table the generator derived from its expected dump (validated against the real
# tools on 0x15 and 4.14).
run_list() { # run_list OUT-PREFIX [env...] TOOL: stdout, stderr, exit code to files
    o=$1; shift
    env "$@" list > $o.out 2> $o.err; echo $? > $o.rc
}
same() { cmp -s $1.out $2.out && cmp -s $1.err $2.err && cmp -s $1.rc $2.rc; }
brief() { # what a run printed, in a few words
    if [ "$(cat $1.rc)" = 0 ]; then echo "exit 0, $(wc -l < $1.out) lines"
    else echo "exit $(cat $1.rc), $(grep -m1 '^Error' $1.err || head -n1 $1.err)"; fi
}
parity() { # parity TAG TABLE
    tag=$1; table=$2
    run_list /tmp/xl.$tag $T 120 $XL
    run_list /tmp/ours.$tag LD_PRELOAD=$OURLIB $T 120 $XL
    d="alone: $(brief /tmp/xl.$tag); preloaded: $(brief /tmp/ours.$tag)"
    if [ "$XL12_SPEAKS" = 1 ]; then
        if same /tmp/xl.$tag /tmp/ours.$tag && [ "$(cat /tmp/xl.$tag.rc)" = 0 ]; then
            result "xl-list-identical-$tag" PASS "$d"
        else
            result "xl-list-identical-$tag" FAIL "$d; stdout $(cmp /tmp/xl.$tag.out /tmp/ours.$tag.out 2>&1 | head -1); stderr: [$(head -c 200 /tmp/xl.$tag.err)] vs [$(head -c 200 /tmp/ours.$tag.err)]"
            dump "xen-livepatch-list-$tag" /tmp/xl.$tag.out
            dump "preloaded-list-$tag" /tmp/ours.$tag.out
        fi
    else
        # libxenctrl 4.17 sends interface 0x15: this hypervisor refuses it
        check "xl-alone-eacces-$tag" "$d" grep -q '^Error 13: Permission denied' /tmp/xl.$tag.err
    fi
    if [ -n "$REF_XL" ]; then
        run_list /tmp/ref.$tag $T 120 $REF_XL
        if same /tmp/ref.$tag /tmp/ours.$tag && [ "$(cat /tmp/ref.$tag.rc)" = 0 ]; then
            result "ref-list-identical-$tag" PASS "$(basename $REF_XL) (its own libxenctrl): $(brief /tmp/ref.$tag); Debian 12 tool + our library byte-identical"
        else
            result "ref-list-identical-$tag" FAIL "$(basename $REF_XL): $(brief /tmp/ref.$tag), ours: $(brief /tmp/ours.$tag); stdout $(cmp /tmp/ref.$tag.out /tmp/ours.$tag.out 2>&1 | head -1); stderr [$(head -c 200 /tmp/ref.$tag.err)] vs [$(head -c 200 /tmp/ours.$tag.err)]"
            dump "reference-list-$tag" /tmp/ref.$tag.out
        fi
    fi
    if cmp -s "$table" /tmp/ours.$tag.out && [ "$(cat /tmp/ours.$tag.rc)" = 0 ] && [ ! -s /tmp/ours.$tag.err ]; then
        result "preloaded-equals-table-$tag" PASS "$(wc -c < $table)B table from the expected dump, $(wc -l < $table) lines"
    else
        result "preloaded-equals-table-$tag" FAIL "$(brief /tmp/ours.$tag); $(cmp "$table" /tmp/ours.$tag.out 2>&1 | head -1) stderr [$(head -c 200 /tmp/ours.$tag.err)]"
        dump "preloaded-list-$tag" /tmp/ours.$tag.out
    fi
    if [ "$tag" = full ]; then
        echo "SUMMARY xl-alone $(brief /tmp/xl.$tag)"
        echo "SUMMARY xl-preloaded $(brief /tmp/ours.$tag)"
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
    $T 120 $RUST list --format dump > /tmp/r.$tag.dump 2> /tmp/r.$tag.err
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

if [ "$PACKAGED" = 1 ]; then
    # the library is the package's file at its installed path, and LD_PRELOAD by
    # soname finds it there (no ld.so.cache, no LD_LIBRARY_PATH)
    lib=/usr/lib/x86_64-linux-gnu/libxc_livepatch.so.1
    real=$(readlink "$lib")
    others=$(find / -xdev -name 'libxc_livepatch*' ! -path '/usr/lib/x86_64-linux-gnu/*' 2>/dev/null | tr '\n' ' ')
    LD_PRELOAD=$OURLIB LD_TRACE_LOADED_OBJECTS=1 $XL > /tmp/trace.out 2>&1
    loaded=$(grep -o "libxc_livepatch[^ ]* => [^ ]*" /tmp/trace.out | head -1)
    check library-from-package "$lib -> $real; preloaded as $OURLIB: $loaded; elsewhere: [${others}]" \
        [ -n "$real" -a -f "/usr/lib/x86_64-linux-gnu/$real" -a -z "$others" -a "$loaded" = "$OURLIB => $lib" ]
fi

stage empty-list
echo '0' > /tmp/empty.dump.n
printf 'count 0\n' > /tmp/empty.dump
parity empty /t/empty.table
dumps empty /tmp/empty.dump

# (c) the lifecycle of real payloads (lifecycle.sh): upload, apply, revert, apply again,
# replace, revert, unload, load, and a refused re-apply, by each tool that speaks the
# booted hypervisor's interface (alone on 0x15, Debian 11's on 4.14) and by Debian 12's
# tool with our library preloaded (where alone it is refused, it tries each step first)
. /t/lifecycle.sh
stage lifecycle
LC_EV0=$($T 30 lpraw extraversion)
if [ "$XL12_SPEAKS" = 1 ]; then
    lc_run alone alone 0
    echo "SUMMARY lc-alone $LC_SUMMARY"
    lc_run preloaded preloaded 0
    echo "SUMMARY lc-preloaded $LC_SUMMARY"
    lc_compare lifecycle-alone-identical alone preloaded
else
    if [ -n "$REF_XL" ]; then
        lc_run ref ref 0
        echo "SUMMARY lc-ref $LC_SUMMARY"
    fi
    lc_run preloaded preloaded 1
    echo "SUMMARY lc-preloaded $LC_SUMMARY"
    echo "SUMMARY lc-alone $LC_ALONE_SUMMARY"
    [ -n "$REF_XL" ] && lc_compare lifecycle-ref-identical ref preloaded
fi
# our command alone (issue 18): the same lifecycle, and a payload for another build refused
lc_run xc xc 0
echo "SUMMARY lc-xc $LC_SUMMARY"
if [ "$STATIC" = 1 ]; then
    # the static build (the one to use where process starts count): the same lifecycle, byte for byte
    lc_run xcs xcs 0
    echo "SUMMARY lc-xcs $LC_SUMMARY"
    lc_compare lifecycle-static-identical xc xcs
fi
lc_wrong_build_id
. /t/objcopy.sh
. /t/ensure.sh
# dom0 managed by the host's Ansible over SSH (issue 26; run.env SSH=1 on 4.17 and 4.22)
[ "$SSH" = 1 ] && . /t/ssh.sh
# Debian 13's tool beside Debian 12's (issue 24)
. /t/debian13.sh

stage iface
iface=$($T 60 $RUST iface 2>/tmp/iface.err)
check iface-version "our library detects '$iface' (expected $IFACE) $(head -c 200 /tmp/iface.err)" \
    [ "$iface" = "$IFACE" ]
echo "SUMMARY iface $iface"

stage extraversion-before
EV0=$($T 30 lpraw extraversion)
echo "extraversion before: '$EV0'"

stage upload
t0=$(uptime_s)
if [ "$ACT_TOOL" != raw ]; then
    tool=$XL; [ "$ACT_TOOL" = ref ] && tool=$REF_XL
    $T 400 $tool upload lp-single-timing /t/p/lp-churn-00.livepatch > /tmp/up1.out 2>&1; r1=$?
    t1=$(uptime_s)
    $T 60 $tool unload lp-single-timing > /tmp/un1.out 2>&1; r2=$?
    t2=$(uptime_s)
    echo "TIMING $(basename $tool)-upload-one-process rc=$r1 seconds=$(echo "$t1 $t0" | awk '{print $1-$2}') unload rc=$r2 seconds=$(echo "$t2 $t1" | awk '{print $1-$2}')"
fi
t2=$(uptime_s)
$T 400 $BULK upload /t upload.list > /tmp/upload.out 2> /tmp/upload.err
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
    act apply "$p" > /tmp/apply.$p 2>&1
    rc=$?
    check "apply-$p" "exit $rc: $(tr '\n' ' ' < /tmp/apply.$p | cut -c1-200)" [ $rc = 0 ]
done
EV1=$($T 30 lpraw extraversion)
check func-patch-applied "XENVER_extraversion '$EV0' -> '$EV1' after applying lp-func" \
    [ "$EV1" = "$PATCHED_EXTRAVERSION" -a "$EV0" != "$EV1" ]
for p in $APPLY_FAIL; do
    act apply "$p" > /tmp/apply.$p 2>&1
    rc=$?
    check "apply-refused-$p" "exit $rc: $(tr '\n' ' ' < /tmp/apply.$p | cut -c1-200)" [ $rc != 0 ]
done

stage list-full
parity full /t/expected.table
dumps full /t/expected.dump
check c-and-rust-identical-full "lpdump --dump and xc-livepatch list --format dump byte-identical" \
    cmp -s /tmp/c.full.dump /tmp/r.full.dump
$T 120 $RUST list > /tmp/rtable.out 2> /tmp/rtable.err; echo $? > /tmp/rtable.rc
check rust-table-equals-xl-full "xc-livepatch list output vs preloaded xen-livepatch list: rc $(cat /tmp/rtable.rc)" \
    cmp -s /tmp/rtable.out /tmp/ours.full.out
if [ "$STATIC" = 1 ]; then
    # the static command in a root holding nothing but it and /dev: its list equals the package's command's
    mount -t devtmpfs devtmpfs /static/dev
    $T 120 chroot /static /xc-livepatch list > /tmp/stable.out 2> /tmp/stable.err; echo $? > /tmp/stable.rc
    static_same() { cmp -s /tmp/stable.out /tmp/rtable.out && cmp -s /tmp/stable.err /tmp/rtable.err && [ "$(cat /tmp/stable.rc)$(cat /tmp/rtable.rc)" = 00 ]; }
    check static-list-equals-package-full "chroot /static (only the static xc-livepatch and /dev): rc $(cat /tmp/stable.rc), $(wc -l < /tmp/stable.out) lines $(head -c 200 /tmp/stable.err | tr "\n" " ")" \
        static_same
fi
# the command's machine formats, checked on the host (schema, exact bytes, promtool)
$T 120 $RUST list --json > /tmp/r.full.json 2> /tmp/rjson.err; echo "SUMMARY json-exit $? $(head -c 200 /tmp/rjson.err)"
$T 120 $RUST list --format prometheus > /tmp/r.full.prom 2> /tmp/rprom.err; echo "SUMMARY prometheus-exit $? $(head -c 200 /tmp/rprom.err)"
ship list.json /tmp/r.full.json
ship list.prom /tmp/r.full.prom
nm=$(grep -c '^lp-m-' /tmp/c.full.dump)
total=$(head -n1 /tmp/c.full.dump | cut -d' ' -f2)
if [ "$MULTI_BATCH" = 1 ]; then
    check more-than-one-batch "$total payloads listed by lpdump, $nm small ones (expected $N_MANY); >1024 needs more than one LIST hypercall" \
        [ "$nm" = "$N_MANY" -a "$total" -gt 1024 ]
fi
echo "SUMMARY payloads $total"
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
$T 300 $BULK churn /t churn.list "$CHURN_ROUNDS" /tmp/churn.stop > /tmp/churn.out 2> /tmp/churn.err &
churn_pid=$!
# (20 ms between each size probe and its listing: the churn changes the list in between)
$T 300 lpdump --loop "$LOOP_SNAPSHOTS" /t/expected.dump /t/churn.dump 20000 > /tmp/loop.out 2>&1
loop_rc=$?
# the Rust list() in a loop, its hypervisor answers counted (re-probes, ENOBUFS)
$T 300 lprs loop "$RUST_LOOP" /t/expected.dump /t/churn.dump 20 > /tmp/rloop.out 2>&1
rloop_rc=$?
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
    $T 60 $RUST list --format dump > /tmp/cr.dump 2> /tmp/cr.err; rc=$?
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
check rust-list-during-churn-consistent "lprs: $(tail -n 3 /tmp/rloop.out | tr '\n' ' ')" [ $rloop_rc = 0 ]
echo "SUMMARY churn-c $(tail -n1 /tmp/loop.out)"
echo "SUMMARY churn-rust $(tail -n1 /tmp/rloop.out)"
if [ "$IFACE" = 0x16 ]; then
    # Xen 4.21+ itself refuses a list that outgrew the capacities: the C API must have
    # answered ENOBUFS (nothing written: lpdump checks its poisoned buffers) and the
    # Rust list() must have met the hypervisor's ENOBUFS and probed again
    # Rust list() must have probed again (after the hypervisor's ENOBUFS, or after
    # entries left over); its snapshots were all checked above
    c_enobufs=$(sed -n 's/.*errno105([^)]*)=\([0-9]*\).*/\1/p' /tmp/loop.out | tail -n1)
    r_enobufs=$(sed -n 's/.*hypervisor_enobufs=\([0-9]*\).*/\1/p' /tmp/rloop.out | tail -n1)
    r_again=$(sed -n 's/.* reprobed=\([0-9]*\).*/\1/p' /tmp/rloop.out | tail -n1)
    check churn-hypervisor-enobufs "C API -1/ENOBUFS (nothing written) ${c_enobufs:-0} times; Rust list() probed again in ${r_again:-0} calls, after the hypervisor's own ENOBUFS ${r_enobufs:-0} times" \
        [ "${c_enobufs:-0}" -gt 0 -a "${r_again:-0}" -gt 0 ]
fi
check tools-during-churn "$i rounds of preloaded xen-livepatch list + rust --dump, exit codes:$(echo $codes | tr ' ' '\n' | sort | uniq -c | tr '\n' ' ' | tr -s ' ')" \
    [ $bad = 0 -a $i -gt 0 ]

stage after-churn
parity after-churn /t/expected.table
dumps after-churn /t/expected.dump

stage revert
for p in $(echo $APPLY_OK | tr ' ' '\n' | sed -n '1!G;h;$p'); do
    act revert "$p" > /tmp/revert.$p 2>&1 || echo "revert $p failed: $(cat /tmp/revert.$p)"
done
EV2=$($T 30 lpraw extraversion)
check func-patch-reverted "XENVER_extraversion '$EV2' after reverting (was '$EV0')" [ "$EV2" = "$EV0" ]

# The list grows between the size probe and the listing: the first payload (7-character
# name) unloaded, a 100-character name with ~60 KiB of metadata uploaded.
stage growth-race
$T 120 lprace "$IFACE" grow /t "$RACE_UNLOAD_C" "$GROW1" "p/$GROW1.livepatch" > /tmp/crace.out 2>&1
rc=$?
check growth-race-c-enobufs "$(tr '\n' ' ' < /tmp/crace.out)" [ $rc = 0 ]
echo "SUMMARY race-c $(sed -n 's/.*old sizes: //p' /tmp/crace.out)"
$T 120 lprs race "$IFACE" "$RACE_UNLOAD_RUST" "$GROW2" "/t/p/$GROW2.livepatch" > /tmp/rrace.dump 2> /tmp/rrace.err
rc=$?
if [ $rc = 0 ] && lpcmp /t/expected-after-race.dump /tmp/rrace.dump > /tmp/rrace.cmp; then
    result growth-race-rust-reprobes PASS "$(tr '\n' ' ' < /tmp/rrace.err) $(cat /tmp/rrace.cmp)"
else
    result growth-race-rust-reprobes FAIL "rc=$rc $(tr '\n' ' ' < /tmp/rrace.err | cut -c1-300) $(cat /tmp/rrace.cmp 2>/dev/null)"
fi
echo "SUMMARY race-rust $(tail -n1 /tmp/rrace.err)"
dumps after-race /t/expected-after-race.dump

stage last127
$T 120 lprace "$IFACE" last127 /t "$LAST127" "p/$LAST127.livepatch" > /tmp/last127.out 2>&1
rc=$?
check last127-exact-name-buffer "$(tr '\n' ' ' < /tmp/last127.out)" [ $rc = 0 ]

finish
