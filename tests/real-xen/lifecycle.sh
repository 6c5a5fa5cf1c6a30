# The payload lifecycle (issues 17 and 18), sourced by init.sh (busybox sh): the steps of
# /t/lc/steps (lifecycle_plan.py) run by one tool, each step's stdout, stderr
# and exit code and the `list` afterwards compared with the plan's, and the hypervisor's
# extraversion checked after each step.
#
# A run's MODE says which xen-livepatch acts and lists:
#   alone      Debian 12's tool with its own libxenctrl 4.17 (interface 0x15)
#   preloaded  the same tool with our library preloaded by soname
#   ref        Debian 11's own tool and libxenctrl 4.14 (Xen 4.14's reference)
#   xc         our command, xc-livepatch (its default output is the 4.17 tool's, but it
#              waits for an action to finish instead of looking once after 60 ms)
#   xcs        the static build of the same command (scripts/static-build.sh)
#   d13        Debian 13's tool with its own libxenctrl 4.20 (interface 0x15; debian13.sh)
#   d13pre     the same tool with our library preloaded
# Each step's files are /tmp/lc.<run>/<id>.{out,err,rc} and <id>.list.{out,err,rc}.
#
# xen-livepatch sleeps 60 ms once after scheduling an action and then asks once: when
# the action is still pending it prints "Operation didn't complete." (exit 2). Such a
# step is not an error of the code under test: it is counted, its exact output printed
# (LIFECYCLE-INCOMPLETE), `list` is repeated until the action has finished, and that
# final state must still be the plan's.

LC_DIDNT="Operation didn't complete."

lc_tool() { # lc_tool MODE ARGS... : one xen-livepatch run
    local m=$1; shift
    case $m in
        alone) $T 60 $XL "$@";;
        preloaded) LD_PRELOAD=$OURLIB $T 60 $XL "$@";;
        ref) $T 60 $REF_XL "$@";;
        xc) $T 60 $RUST "$@";;
        xcs) $T 60 /static/xc-livepatch "$@";;
        d13) LD_LIBRARY_PATH=$XL13_LIB $T 60 $XL13 "$@";;
        d13pre) LD_LIBRARY_PATH=$XL13_LIB LD_PRELOAD=$OURLIB $T 60 $XL13 "$@";;
    esac < /dev/null
}

lc_same() { # lc_same A B : A.out, A.err, A.rc equal B's
    cmp -s "$1.out" "$2.out" && cmp -s "$1.err" "$2.err" && cmp -s "$1.rc" "$2.rc"
}

lc_list() { # lc_list MODE OUT : `list` into OUT.{out,err,rc}, repeated (100 ms apart, at
    # most 100 times) while a payload's rc is -EAGAIN; prints how many repeats it took
    local i=0
    while :; do
        lc_tool $1 list > $2.out 2> $2.err; echo $? > $2.rc
        grep -q '(11, Resource temporarily unavailable)' $2.out || break
        [ $i -ge 100 ] && break
        i=$((i+1)); sleep 0.1
    done
    echo $i
}

lc_reapply_refused() { # lc_reapply_refused FILE-PREFIX : that step's output and the list after it as planned
    lc_same $1 /t/lc/reapply-hook-refused && cmp -s $1.list.out /t/lc/reapply-hook-refused.list
}

lc_wrong() { # lc_wrong TEXT : one more thing wrong in lc_run (the first three are kept)
    nbad=$((nbad+1))
    [ $nbad -le 3 ] && bad="$bad $1;"
}

lc_brief() { # lc_brief FILE-PREFIX : a step's output on one line
    echo "exit $(cat $1.rc) stdout [$(tr '\n' '|' < $1.out)] stderr [$(tr '\n' '|' < $1.err)]"
}

# lc_run RUN MODE ALONE_TOO [ALONE] : the whole lifecycle as MODE; with ALONE_TOO=1 the
# tool alone (mode ALONE, default alone) first tries each step and must be refused
# (EACCES, nothing changed): check lifecycle-ALONE-eacces.
# Sets LC_SUMMARY (and LC_ALONE_SUMMARY): one line each for the compat table.
lc_run() {
    local run=$1 mode=$2 alone_too=$3 alone=${4:-alone} dir=/tmp/lc.$1
    local id ev args polls evnow secs nin line r
    rm -rf $dir; mkdir -p $dir
    local nsteps=0 exact=0 incomplete="" bad="" nbad=0 refused=0 notrefused="" prev=/t/empty.table
    local t0=$(uptime_s)
    while read -r id ev args; do
        nsteps=$((nsteps+1))
        [ "$ev" = base ] && ev=$LC_EV0
        if [ "$alone_too" = 1 ]; then
            lc_tool $alone $args > $dir/$id.alone.out 2> $dir/$id.alone.err; echo $? > $dir/$id.alone.rc
            lc_list $mode $dir/$id.alone.list > /dev/null
            if lc_same $dir/$id.alone /t/lc/$id.eacces && cmp -s $dir/$id.alone.list.out $prev; then
                refused=$((refused+1))
            else
                [ -z "$notrefused" ] && notrefused="$id: $(lc_brief $dir/$id.alone), list after: $(head -c 120 $dir/$id.alone.list.out | tr '\n' '|')"
            fi
        fi
        lc_tool $mode $args > $dir/$id.out 2> $dir/$id.err; echo $? > $dir/$id.rc
        polls=$(lc_list $mode $dir/$id.list)
        evnow=$($T 30 lpraw extraversion < /dev/null)
        if lc_same $dir/$id /t/lc/$id; then
            exact=$((exact+1))
        elif grep -qxF "$LC_DIDNT" $dir/$id.err && [ "$(cat $dir/$id.rc)" = 2 ]; then
            incomplete="$incomplete $id"
            echo "LIFECYCLE-INCOMPLETE $run $id: $(lc_brief $dir/$id); list repeated $polls times until no action was pending"
        else
            lc_wrong "$id: $(lc_brief $dir/$id), expected $(lc_brief /t/lc/$id)"
        fi
        if ! cmp -s $dir/$id.list.out /t/lc/$id.list || [ "$(cat $dir/$id.list.rc)" != 0 ]; then
            lc_wrong "$id: list after it differs (exit $(cat $dir/$id.list.rc), $(cmp $dir/$id.list.out /t/lc/$id.list 2>&1 | head -1))"
            dump "lifecycle-$run-$id-list" $dir/$id.list.out
        fi
        [ "$evnow" = "$ev" ] || lc_wrong "$id: extraversion '$evnow', expected '$ev'"
        prev=$dir/$id.list.out
    done < /t/lc/steps
    secs=$(echo "$(uptime_s) $t0" | awk '{print $1-$2}')
    nin=$(echo $incomplete | wc -w)
    line="$nsteps steps by $mode: $exact printed exactly the plan's output, $nin \"$LC_DIDNT\"${incomplete:+ (}$(echo $incomplete)${incomplete:+)}; list and extraversion as planned after each; ${secs}s"
    if [ $nbad = 0 ] && [ $((exact + nin)) = $nsteps ] && [ $nsteps -gt 0 ]; then
        result lifecycle-$run PASS "$line"
    else
        result lifecycle-$run FAIL "$line; $nbad mismatches (output, list or extraversion), the first:$bad"
    fi
    r=$dir/reapply-hook-refused
    check lifecycle-reapply-refused-$run "a reverted hook payload (writable .livepatch.hooks.load) applied again: $(lc_brief $r); list: $(grep '^lc-hook' $r.list.out | tr -s ' ')" \
        lc_reapply_refused $r
    if [ "$alone_too" = 1 ]; then
        if [ $refused = $nsteps ]; then
            LC_ALONE_SUMMARY="refused at each of the $nsteps steps (Error 13), nothing changed"
            result lifecycle-$alone-eacces PASS "$alone: xen-livepatch alone tried each of the $nsteps steps first: every one refused as planned (upload: 'failed' + Error 13, actions: 'Failed to get status' + Error 13; exit 1), list unchanged"
        else
            LC_ALONE_SUMMARY="refused at $refused of $nsteps steps"
            result lifecycle-$alone-eacces FAIL "$refused of $nsteps refused as planned; the first that was not: $notrefused"
        fi
    fi
    LC_SUMMARY="$exact/$nsteps exact, $nin incomplete, $nbad mismatches, ${secs}s"
    lc_cleanup $mode
}

lc_cleanup() { # lc_cleanup MODE : whatever a failed run left loaded is reverted and unloaded (lpraw)
    lc_list $1 /tmp/lc.cleanup > /dev/null
    cmp -s /tmp/lc.cleanup.out /t/empty.table && return
    echo "lifecycle: left loaded: $(grep '^lc-' /tmp/lc.cleanup.out | tr -s ' ' | tr '\n' ';')"
    local p
    for p in lc-m3 lc-m2 lc-m1 lc-hook; do $T 30 lpraw "$IFACE" revert $p < /dev/null > /dev/null 2>&1; done
    for p in lc-m3 lc-m2 lc-m1 lc-hook; do $T 30 lpraw "$IFACE" unload $p < /dev/null > /dev/null 2>&1; done
}

# lc_compare NAME RUN-A RUN-B : every step's output and list byte-identical in both runs
# (a step where either printed "Operation didn't complete." is counted apart: then only
# the lists, taken once no action was pending, must be identical)
lc_compare() {
    local same=0 timing="" diff="" ndiff=0 nsteps=0 id ev args a b nt line
    while read -r id ev args; do
        nsteps=$((nsteps+1))
        a=/tmp/lc.$2/$id b=/tmp/lc.$3/$id
        if lc_same $a $b && lc_same $a.list $b.list; then
            same=$((same+1))
        elif { grep -qxF "$LC_DIDNT" $a.err || grep -qxF "$LC_DIDNT" $b.err; } && lc_same $a.list $b.list; then
            timing="$timing $id"
        else
            ndiff=$((ndiff+1))
            [ $ndiff = 1 ] && diff="$id: $2 $(lc_brief $a) vs $3 $(lc_brief $b), lists $(cmp $a.list.out $b.list.out 2>&1 | head -1)"
        fi
    done < /t/lc/steps
    nt=$(echo $timing | wc -w)
    line="$2 vs $3: $same of $nsteps steps byte-identical (stdout, stderr, exit code, and list after), $nt differing only by \"$LC_DIDNT\"${timing:+ (}$(echo $timing)${timing:+)}"
    if [ $ndiff = 0 ] && [ $nsteps -gt 0 ]; then result $1 PASS "$line"; else result $1 FAIL "$line; $ndiff different, the first: $diff"; fi
}

# lc_wrong_build_id : xc-livepatch refuses a payload made for another hypervisor build
# before uploading it: exit 1, one line on stderr naming both build ids, nothing loaded
lc_wrong_build_id() {
    local o=/tmp/lc.otherxen f=/t/p/$OTHER_XEN.livepatch
    lc_tool xc upload $OTHER_XEN $f > $o.out 2> $o.err; echo $? > $o.rc
    lc_list xc $o.list > /dev/null
    check xc-upload-wrong-build-id-refused "$(lc_brief $o); list after: $(head -c 60 $o.list.out | tr '\n' '|')" \
        lc_refused_for_build_id $o
}

lc_refused_for_build_id() { # lc_refused_for_build_id FILE-PREFIX
    [ "$(cat $1.rc)" = 1 ] && [ ! -s $1.out ] && [ "$(wc -l < $1.err)" = 1 ] \
        && grep -q "$OTHER_XEN_BUILD_ID.*$XEN_BUILD_ID" $1.err && cmp -s $1.list.out /t/empty.table
}
