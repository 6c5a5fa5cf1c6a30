# `xc-livepatch ensure` on the real hypervisor (issue 25), sourced by init.sh
# (busybox sh) while nothing is loaded, with the payloads of
# tests/fakexen/ensure-payloads.py made for the booted build (/t/e: base on the
# hypervisor, top2 on base, mid on base, top on mid, cum cumulative; each
# patches xen_extra_version to return "-NAME"), `list` after each step:
#   ensure-stack-from-empty     base + top2 from empty: exit 0, both APPLIED, top2 on top
#   ensure-again-no-change      the same again: exit 0, 0 steps, "changed": false
#   ensure-replace-prune        --replace --prune cum: only cum applied, none CHECKED
#   ensure-absent               --absent cum: nothing loaded
#   ensure-killed-completed     base + mid + top (6 steps), SIGKILL once its first action's
#                               line is complete, then one new run of 1-5 steps: all three
#                               APPLIED, top on top
#   ensure-replace-keeps-checked  --replace cum without --prune: cum APPLIED, the three
#                               it replaced CHECKED; `list --format prometheus` then is
#                               shipped to the host (replace.prom)
# and leaves nothing loaded. The plans and results go to the console as dumps.

en_run() { # en_run NAME ARGS... : one `ensure --json` into /tmp/en.NAME.{json,err,rc}
    local n=$1; shift
    $T 120 $RUST ensure --json "$@" > /tmp/en.$n.json 2> /tmp/en.$n.err < /dev/null
    echo $? > /tmp/en.$n.rc
    lc_list xc /tmp/en.$n.list > /dev/null
    dump ensure-$n-list /tmp/en.$n.list.out 8
}

en_text() { # en_text NAME ARGS... : the same as text (plan and lines), for the dumps
    local n=$1; shift
    $T 120 $RUST ensure "$@" > /tmp/en.$n.txt 2>&1 < /dev/null
    echo "rc $?" >> /tmp/en.$n.txt
    dump ensure-$n /tmp/en.$n.txt 20
}

en_has() { grep -q "$2" /tmp/en.$1.json; }
en_steps() { grep -c '"cleanup": ' /tmp/en.$1.json; }
en_state() { # en_state NAME : the list after as "name STATE;..."
    tail -n +3 /tmp/en.$1.list.out | awk -F'|' '{gsub(/ /,"",$1); gsub(/ /,"",$2); printf "%s %s;", $1, $2}'
}

stage ensure
E=/t/e
# Start state 1: empty. The dry run first (nothing may change), then the run.
en_text dry-empty --dry-run $E/base.livepatch $E/top2.livepatch
en_text stack $E/base.livepatch $E/top2.livepatch
EV=$($T 30 lpraw extraversion)
lc_list xc /tmp/en.stack.list > /dev/null
en_stack_ok() {
    [ "$(tail -1 /tmp/en.stack.txt)" = "rc 0" ] && [ "$EV" = "-top2" ] && grep -q 'plan of 4 steps' /tmp/en.stack.txt \
        && grep -q 'nothing done' /tmp/en.dry-empty.txt && [ "$(en_state stack)" = "base APPLIED;top2 APPLIED;" ]
}
check ensure-stack-from-empty "$(tail -1 /tmp/en.stack.txt); list: $(en_state stack); extraversion '$EV'" en_stack_ok
en_run again $E/base.livepatch $E/top2.livepatch
en_again_ok() {
    [ "$(cat /tmp/en.again.rc)" = 0 ] && [ "$(en_steps again)" = 0 ] && en_has again '"changed": false' \
        && en_has again '"plan": \[\]' && [ "$(en_state again)" = "base APPLIED;top2 APPLIED;" ]
}
check ensure-again-no-change "exit $(cat /tmp/en.again.rc), $(en_steps again) steps, list: $(en_state again)" en_again_ok
# The benchmark's figure (a SUMMARY, not a check): whole processes in this boot, a
# no-change ensure by the static command and by the packaged (dynamic) one against
# one `xen-livepatch list` (where Debian 12's tool speaks this interface), N each.
en_time() { # en_time N CMD... : mean ms per run
    local n=$1 i=0 t0; shift
    t0=$(uptime_s)
    while [ $i -lt $n ]; do "$@" > /dev/null 2>&1 < /dev/null; i=$((i+1)); done
    echo "$(uptime_s) $t0 $n" | awk '{printf "%.1f", ($1-$2)*1000/$3}'
}
if [ "$XL12_SPEAKS" = 1 ]; then
    N=20
    MS_XL=$(en_time $N $XL list)
    MS_DYN=$(en_time $N $RUST ensure $E/base.livepatch $E/top2.livepatch)
    MS_STATIC=-
    [ "$STATIC" = 1 ] && MS_STATIC=$(en_time $N /static/xc-livepatch ensure $E/base.livepatch $E/top2.livepatch)
    DYN=packaged; [ "$PACKAGED" = 1 ] || DYN="dynamic, REAL_XEN_DEV_CLI"
    echo "SUMMARY ensure-bench no-change ensure vs xen-livepatch list, $N whole processes each: list $MS_XL ms, ensure ($DYN) $MS_DYN ms, ensure (static) $MS_STATIC ms; ratios $(echo "$MS_DYN $MS_STATIC $MS_XL" | awk '{printf "%.2f (dynamic), %s (static)", $1/$3, ($2 == "-") ? "-" : sprintf("%.2f", $2/$3)}')"
fi
# Start state 2: base + top2 applied; the cumulative payload replaces them.
en_text replace --replace --prune --dry-run $E/cum.livepatch
en_run replace --replace --prune $E/cum.livepatch
EV=$($T 30 lpraw extraversion)
check ensure-replace-prune "exit $(cat /tmp/en.replace.rc), $(en_steps replace) steps, list: $(en_state replace); extraversion '$EV'" \
    [ "$(cat /tmp/en.replace.rc)" = 0 -a "$(en_state replace)" = "cum APPLIED;" -a "$EV" = "-cum" ]
en_run absent --absent cum
en_absent_ok() { [ "$(cat /tmp/en.absent.rc)" = 0 ] && cmp -s /tmp/en.absent.list.out /t/empty.table; }
check ensure-absent "exit $(cat /tmp/en.absent.rc), $(en_steps absent) steps, list: $(head -1 /tmp/en.absent.list.out)" en_absent_ok
# Start state 3: a run killed after its first action, completed by the next.
# Its lines stream as each step goes: SIGKILL once the first action's line is complete.
# dom0 has one vCPU, and a few milliseconds after that line the run would be over
# (runs 1 and 2 of this check: the shell woke too late, all three were applied): the
# run gets nice 19 and this shell -20, so that the write of that line wakes the shell
# ahead of the run's next step (under fakexen with taskset -c 0: 10 of 10 killed
# before the next step's first line; without the renice, 4 of 8 ran to the end).
rm -f /tmp/en.fifo; mkfifo /tmp/en.fifo
$RUST ensure $E/base.livepatch $E/mid.livepatch $E/top.livepatch > /tmp/en.fifo 2>&1 < /dev/null &
EN_PID=$!
renice 19 -p $EN_PID > /dev/null; renice -20 -p $$ > /dev/null
: > /tmp/en.killed.txt
exec 3< /tmp/en.fifo
while read -r line <&3; do
    echo "$line" >> /tmp/en.killed.txt
    case $line in Applying*completed*) kill -9 $EN_PID; break;; esac
done
cat <&3 >> /tmp/en.killed.txt; exec 3<&-
renice 0 -p $$ > /dev/null
wait $EN_PID; echo "rc $?" >> /tmp/en.killed.txt
dump ensure-killed /tmp/en.killed.txt 20
lc_list xc /tmp/en.killed.list > /dev/null
dump ensure-killed-list /tmp/en.killed.list.out 8
en_text rest $E/base.livepatch $E/mid.livepatch $E/top.livepatch
EV=$($T 30 lpraw extraversion)
lc_list xc /tmp/en.rest.list > /dev/null
REST=$(en_state rest)
en_killed_ok() {
    # killed (137), then a plan of 1 to 5 steps: the rest, as the hypervisor kept it
    [ "$(tail -1 /tmp/en.killed.txt)" = "rc 137" ] && grep -q 'plan of 6 steps' /tmp/en.killed.txt \
        && grep -qE 'plan of [1-5] steps?:' /tmp/en.rest.txt \
        && [ "$(tail -1 /tmp/en.rest.txt)" = "rc 0" ] && [ "$REST" = "base APPLIED;mid APPLIED;top APPLIED;" ] \
        && [ "$EV" = "-top" ]
}
check ensure-killed-completed "killed: $(tail -1 /tmp/en.killed.txt) after '$(grep Applying /tmp/en.killed.txt | head -1)', list then: $(en_state killed) then $(grep -oE 'plan of [0-9]+ steps?' /tmp/en.rest.txt), $(tail -1 /tmp/en.rest.txt); list: $REST; extraversion '$EV'" en_killed_ok
# A replace without --prune: the stack it replaced stays loaded, CHECKED, and the
# textfile exported then is the one a fleet's CHECKED alert must fire on (the
# host builds a promtool test from it: prometheus-replace-checked-alert).
en_run keep --replace $E/cum.livepatch
check ensure-replace-keeps-checked "exit $(cat /tmp/en.keep.rc), $(en_steps keep) steps, list: $(en_state keep)" \
    [ "$(cat /tmp/en.keep.rc)" = 0 -a "$(en_state keep)" = "base CHECKED;mid CHECKED;top CHECKED;cum APPLIED;" ]
$T 120 $RUST list --format prometheus > /tmp/en.keep.prom 2> /tmp/en.keep.prom.err
echo "SUMMARY replace-prometheus-exit $? $(head -c 200 /tmp/en.keep.prom.err)"
ship replace.prom /tmp/en.keep.prom
# Leave nothing loaded: the cumulative payload stays alone, then goes.
en_text cleanup-replace --replace --prune $E/cum.livepatch
en_text cleanup-absent --absent cum
