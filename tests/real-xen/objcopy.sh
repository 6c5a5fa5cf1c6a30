# Payloads whose build-id sections are SHT_PROGBITS (issue 23), sourced by init.sh
# (busybox sh) while nothing is loaded: lp-oc-add (`objcopy --add-section`, as
# livepatch-build-tools makes them) and lp-oc-bin (`objcopy -I binary
# --rename-section`, as Xen's xen/test/livepatch does), each uploaded, applied
# (XENVER_extraversion patched), reverted and unloaded by our command; and
# lp-oc-2note (first note NT_GNU_ABI_TAG, then the right build id), refused by our
# command in one line and by Xen (EINVAL) when uploaded raw.

oc_step() { # oc_step RCS PREFIX ARGS... : one xc-livepatch run into PREFIX.{out,err,rc},
    # its exit code also appended to RCS
    local r=$1 o=$2; shift 2
    lc_tool xc "$@" > $o.out 2> $o.err; echo $? > $o.rc; cat $o.rc >> $r
}

oc_lifecycle() { # oc_lifecycle WAY
    local n=lp-oc-$1 o=/tmp/oc.$1 ev1 ev2
    : > $o.rcs
    oc_step $o.rcs $o.up upload $n /t/p/$n.livepatch
    oc_step $o.rcs $o.apply apply $n
    ev1=$($T 30 lpraw extraversion)
    oc_step $o.rcs $o.revert revert $n
    ev2=$($T 30 lpraw extraversion)
    oc_step $o.rcs $o.unload unload $n
    lc_list xc $o.list > /dev/null
    check objcopy-$1-lifecycle "exit codes $(tr '\n' ' ' < $o.rcs); extraversion applied '$ev1', reverted '$ev2' (before '$LC_EV0'); $(lc_brief $o.up); list after: $(head -c 60 $o.list.out | tr '\n' '|')" \
        oc_lifecycle_ok $o "$1" "$ev1" "$ev2"
}

oc_lifecycle_ok() { # oc_lifecycle_ok PREFIX WAY EV-APPLIED EV-REVERTED
    [ "$(tr -d '\n' < $1.rcs)" = 0000 ] && [ "$3" = "-lp-oc-$2" ] && [ "$4" = "$LC_EV0" ] \
        && cmp -s $1.list.out /t/empty.table
}

oc_2note_ok() { # oc_2note_ok PREFIX RAW-RC : ours exit 1, one line naming the first note; Xen EINVAL
    [ "$(cat $1.rcs)" = 1 ] && [ ! -s $1.xc.out ] && [ "$(wc -l < $1.xc.err)" = 1 ] && [ "$2" = 1 ] \
        && grep -q 'begins with a note of type 1' $1.xc.err && grep -q '^Error 22:' $1.raw \
        && cmp -s $1.list.out /t/empty.table
}

stage objcopy
oc_lifecycle add
oc_lifecycle bin
o=/tmp/oc.2note
: > $o.rcs
oc_step $o.rcs $o.xc upload lp-oc-2note /t/p/lp-oc-2note.livepatch
$T 60 lpraw "$IFACE" upload1 lp-oc-2note /t/p/lp-oc-2note.livepatch > $o.raw 2>&1; raw_rc=$?
lc_list xc $o.list > /dev/null
check objcopy-2note-refused "ours: $(lc_brief $o.xc); Xen (raw upload): exit $raw_rc $(tr '\n' ' ' < $o.raw); list after: $(head -c 60 $o.list.out | tr '\n' '|')" \
    oc_2note_ok $o $raw_rc
