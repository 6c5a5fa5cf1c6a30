#!/usr/bin/env bash
# The xc-livepatch command (cli/, see its section in the README):
#  1. cargo test -p xc-livepatch-cli: the formatters, the process (usage
#     errors, --version, a closed pipe, no Xen), the man pages' drift;
#  2. the table, byte for byte, against Debian's real `xen-livepatch list`
#     on the simulated hypervisor (fakexen): every scenario of
#     tests/fakexen/scenarios and cli/tests/scenarios; the command runs under
#     the fakexen shim (its real /dev/xen/privcmd path) and with --sim (the
#     in-process simulator), which must agree; intended differences are
#     pinned in cli/tests/expected/NAME.table (CLI_UPDATE=1 rewrites them);
#  3. --format dump byte-identical to the C lpdump's (tests/real-xen/lpdump.c
#     relinked against our library); iface prints the scenario's version;
#  4. --json validated against cli/schema/ by python3-jsonschema, and lossless
#     (decoded, it equals the dump);
#  5. --format prometheus accepted by `promtool check metrics` (Debian's
#     prometheus), and served back by a real prometheus-node-exporter on a
#     127.0.0.1 port (textfile collector), started and stopped here; the
#     README's PromQL queries answer right (`promtool test rules`);
#  6. `list --json | head -c 10` ends quietly;
#  7. the managing subcommands (upload, apply, revert, replace, unload,
#     load) against Debian's real `xen-livepatch` on the same scenario, case
#     by case (cli/tests/manage/cases): stdout, stderr and exit status equal,
#     or the intended difference pinned in cli/tests/expected/manage/ID.all;
#     the command under the fakexen shim and with --sim agree; a refusal
#     uploads and acts on nothing (fakexen's counters); payload fixtures by
#     tests/real-xen/gen-payloads.py for the scenario's build id and another;
#     every --json document valid against cli/schema/xc-livepatch-action.schema.json;
#  8. sequences of managing commands on one hypervisor (fakexen's
#     FAKEXEN_STATE), xen-livepatch and the command side by side
#     (cli/tests/manage/sequences), differences pinned in
#     cli/tests/expected/manage/ID.all;
#  9. `timeout -s INT` on a pending apply: the leading text before the
#     wait, `interrupted`, one line, exit 130;
# 10. on a pseudo-terminal, control bytes in names, metadata and file
#     names escaped; into a pipe, the bytes (cli/tests/tty_check.py).
# 11. inspect on tests/real-xen/gen-payloads.py's payloads: --json valid
#     against cli/schema/xc-livepatch-inspect.schema.json, their functions,
#     hooks, depends and re-apply safety as the real-Xen lifecycle finds them
#     (cli/tests/check_inspect.py), and damaged copies refused in one line.
# CLI_PARTS="manage sequences" runs only the parts whose function is named
# (table dump json promtool_check node_exporter closed_pipe manage
# sequences interrupted inspect_payloads; the cargo test and PromQL parts are "bash" and "$PY").
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

bash scripts/setup.sh prometheus prometheus-node-exporter python3-jsonschema || exit 1
# The packages' init scripts may start their daemons on install (where no
# policy-rc.d forbids it): stop and disable them; the test starts its own.
for svc in prometheus prometheus-node-exporter; do
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$svc" ]; then
    if "/etc/init.d/$svc" status >/dev/null 2>&1; then
      "/etc/init.d/$svc" stop >/dev/null 2>&1 && echo "32-cli: stopped the $svc service its package started"
    fi
    update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
done
PY=/usr/bin/python3 # Debian's, which has python3-jsonschema
XL=/usr/lib/xen-4.17/bin/xen-livepatch

# Builds that select the library with other dependency features overwrite
# its (unhashed, cdylib) outputs, so each rebuilds it: keep one order.
# So: the library, the command and its tests (part 1), then the shim.
cargo build --release -q && cargo build --release -q -p xc-livepatch-cli ||
  { echo "32-cli: build failed"; exit 1; }
FX=$root/target/release/libfakexen.so
OURS=$root/target/release/libxc_livepatch.so
CLI=$root/target/release/xc-livepatch

work=$(mktemp -d "${TMPDIR:-/tmp}/32-cli.XXXXXX")
ne_pid=
cleanup() {
  [ -n "$ne_pid" ] && kill "$ne_pid" 2>/dev/null && wait "$ne_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ok=0; bad=0
part() { # NAME COMMAND...
  local name=$1; shift
  [ -z "${CLI_PARTS:-}" ] || [[ " $CLI_PARTS " == *" $1 "* ]] || return 0
  local t0=$SECONDS
  echo "--- $name"
  if "$@"; then ok=$((ok + 1)); echo "--- $name: ok ($((SECONDS - t0)) s)"; else bad=$((bad + 1)); echo "--- $name: FAILED ($((SECONDS - t0)) s)"; fi
}

scenarios=(tests/fakexen/scenarios/*.scn cli/tests/scenarios/*.scn)

# 1.
part "cargo test -p xc-livepatch-cli" bash -c 'cargo test --release -q -p xc-livepatch-cli 2>&1 | grep -E "^test result|FAILED|panicked|^error" ; exit ${PIPESTATUS[0]}'

cargo build --release -q -p fakexen || { echo "32-cli: cargo build -p fakexen failed"; exit 1; }

# runs NAME.KIND COMMAND...: stdout, stderr, exit status, and all three in .all
capture() {
  local o=$work/$1; shift
  # (the braces keep bash's "Segmentation fault" report of Debian's
  # libxenctrl in scenario 31, a documented crash, out of the log)
  { "$@" >"$o.out" 2>"$o.err"; } 2>/dev/null
  echo $? >"$o.rc"
  { echo "--- stdout"; cat "$o.out"; echo "--- stderr"; cat "$o.err"; echo "--- exit $(cat "$o.rc")"; } >"$o.all"
}

# 2.
table() {
  local p=0 f=0 same_real=0 pinned=0 s n exp problems
  for s in "${scenarios[@]}"; do
    n=$(basename "$s" .scn)
    export FAKEXEN_SCENARIO=$s FAKEXEN_LOG=$work/$n.fxlog
    capture "$n.real" env LD_PRELOAD="$FX" "$XL" list
    capture "$n.ours" env LD_PRELOAD="$FX $OURS" "$XL" list
    capture "$n.fx" env LD_PRELOAD="$FX" "$CLI" list
    unset FAKEXEN_SCENARIO FAKEXEN_LOG
    capture "$n.sim" "$CLI" --sim "$s" list
    problems=()
    exp=cli/tests/expected/$n.table
    if [ "${CLI_UPDATE:-0}" = 1 ] && ! cmp -s "$work/$n.fx.all" "$work/$n.ours.all"; then cp "$work/$n.fx.all" "$exp"; fi
    if [ -f "$exp" ]; then
      pinned=$((pinned + 1))
      cmp -s "$exp" "$work/$n.fx.all" || { problems+=("differs from $exp"); diff "$exp" "$work/$n.fx.all" | head -n 8 | sed 's/^/    /'; }
      cmp -s "$exp" "$work/$n.ours.all" && problems+=("$exp pins a difference that is gone: remove it")
    else
      cmp -s "$work/$n.ours.all" "$work/$n.fx.all" || { problems+=("differs from xen-livepatch"); diff "$work/$n.ours.all" "$work/$n.fx.all" | head -n 8 | sed 's/^/    /'; }
    fi
    cmp -s "$work/$n.fx.all" "$work/$n.sim.all" || problems+=("--sim differs from the fakexen run")
    cmp -s "$work/$n.fx.all" "$work/$n.real.all" && same_real=$((same_real + 1))
    if [ ${#problems[@]} -eq 0 ]; then p=$((p + 1)); else f=$((f + 1)); echo "  FAIL $n: ${problems[*]}"; fi
  done
  echo "  identical to xen-livepatch with Debian's libxenctrl: $same_real of ${#scenarios[@]}; intended differences pinned: $pinned"
  echo "$p passed, $f failed"
  [ "$f" -eq 0 ]
}
part "table vs xen-livepatch list (fakexen), and --sim vs fakexen" table

# 3. The reference dump: tests/real-xen/lpdump.c (C, relinked against our
#    library: -lxc_livepatch) under the same fakexen scenario.
dump() {
  local p=0 f=0 s n want retried=0
  mkdir -p "$work/lib"
  ln -sf "$OURS" "$work/lib/libxc_livepatch.so.1"
  gcc -O1 -Wall -Wno-format-truncation -Wno-unused-function -Werror -Iinclude -Itests/real-xen -o "$work/lpdump" tests/real-xen/lpdump.c -Ltarget/release -lxc_livepatch ||
    { echo "  lpdump does not build"; return 1; }
  for s in "${scenarios[@]}"; do
    n=$(basename "$s" .scn)
    export FAKEXEN_SCENARIO=$s FAKEXEN_LOG=$work/$n.fxlog
    capture "$n.dump" env LD_PRELOAD="$FX" "$CLI" list --format dump
    capture "$n.cdump" env LD_PRELOAD="$FX" LD_LIBRARY_PATH="$work/lib" "$work/lpdump" --dump
    capture "$n.iface" env LD_PRELOAD="$FX" "$CLI" iface
    unset FAKEXEN_SCENARIO FAKEXEN_LOG
    want=$(sed -n 's/^interface *\([0-9a-fx]*\).*/\1/p' "$s" | tail -n1)
    want=$(printf '%#x' "${want:-0x15}")
    if [ "$(cat "$work/$n.dump.rc")" = 0 ] && [ "$(cat "$work/$n.cdump.rc")" != 0 ] && [ -f "cli/tests/expected/$n.table" ]; then
      # One xc_livepatch_list call fails where the snapshot tries again (the
      # race and one-off EFAULT scenarios pinned in cli/tests/expected/).
      retried=$((retried + 1))
    elif [ "$(cat "$work/$n.dump.rc")" = 0 ]; then
      # Listed: the dump equals lpdump's, and iface names the scenario's version.
      cmp -s "$work/$n.dump.out" "$work/$n.cdump.out" && [ "$(cat "$work/$n.iface.out")" = "$want" ] ||
        { f=$((f + 1)); echo "  FAIL $n: dump differs from lpdump's, or iface $(cat "$work/$n.iface.out") != $want"; continue; }
    else
      # Failed: nothing on stdout, one line on stderr, and lpdump failed too.
      [ ! -s "$work/$n.dump.out" ] && [ "$(wc -l <"$work/$n.dump.err")" = 1 ] && [ "$(cat "$work/$n.cdump.rc")" != 0 ] ||
        { f=$((f + 1)); echo "  FAIL $n: failed dump (exit $(cat "$work/$n.dump.rc")) printed something, or lpdump succeeded"; continue; }
    fi
    p=$((p + 1))
  done
  echo "  of which lpdump failed once where the snapshot retried (pinned differences): $retried"
  echo "$p passed, $f failed"
  [ "$f" -eq 0 ]
}
part "--format dump vs tests/real-xen/lpdump.c --dump, and iface" dump

# 4.
json() {
  local s n args=() listed=0
  for s in "${scenarios[@]}"; do
    n=$(basename "$s" .scn)
    capture "$n.json" "$CLI" --sim "$s" list --json
    capture "$n.jdump" "$CLI" --sim "$s" list --format dump
    [ "$(cat "$work/$n.json.rc")" = 0 ] || continue
    listed=$((listed + 1)); args+=("$work/$n.json.out" "$work/$n.jdump.out")
  done
  echo "  $listed scenarios listed (the others fail on purpose: one stderr line each, checked by cargo test)"
  "$PY" cli/tests/check_json.py cli/schema/xc-livepatch-list.schema.json "${args[@]}"
}
part "--json: JSON Schema (python3-jsonschema) and lossless" json

# 5a.
promtool_check() {
  local p=0 f=0 s n out
  for s in "${scenarios[@]}"; do
    n=$(basename "$s" .scn)
    "$CLI" --sim "$s" list --format prometheus --label-metadata VERSION --label-metadata XSA >"$work/$n.prom" 2>/dev/null
    if out=$(promtool check metrics <"$work/$n.prom" 2>&1); then
      p=$((p + 1))
    else
      f=$((f + 1)); echo "  FAIL $n: promtool: $(head -c 300 <<<"$out")"
    fi
  done
  echo "$p passed, $f failed"
  [ "$f" -eq 0 ]
}
part "--format prometheus: promtool check metrics" promtool_check

# 5b.
node_exporter() {
  local dir=$work/textfile port url s n i rc p=0 f=0
  mkdir -p "$dir"
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  prometheus-node-exporter --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
    --collector.textfile --collector.textfile.directory="$dir" >"$work/node-exporter.log" 2>&1 &
  ne_pid=$!
  url=http://127.0.0.1:$port/metrics
  # until it answers (the loop ends then): up to 600 tries, at least a minute on a busy machine
  for i in $(seq 600); do "$PY" -c "import urllib.request as u; u.urlopen('$url', timeout=1)" 2>/dev/null && break; sleep 0.1; done
  kill -0 "$ne_pid" 2>/dev/null || { echo "  node_exporter did not start:"; tail -n 5 "$work/node-exporter.log"; return 1; }
  echo "  prometheus-node-exporter $(prometheus-node-exporter --version 2>&1 | head -n1 | awk '{print $3}') (pid $ne_pid) on 127.0.0.1:$port"
  for s in tests/fakexen/demo.scn cli/tests/scenarios/*.scn tests/fakexen/scenarios/{11-error-rc-values,05-name-127-chars,17-flask-deny}.scn; do
    n=$(basename "$s" .scn)
    "$CLI" --sim "$s" list --format prometheus --label-metadata VERSION --output "$dir/xen_livepatch.prom" 2>/dev/null
    rc=$?
    if out=$("$PY" cli/tests/prom_samples.py "$dir/xen_livepatch.prom" "$url" 2>&1); then
      p=$((p + 1)); echo "  $n (exit $rc): $out"
    else
      f=$((f + 1)); echo "  FAIL $n: $out"
    fi
  done
  kill "$ne_pid" && wait "$ne_pid" 2>/dev/null
  ne_pid=
  echo "$p passed, $f failed"
  [ "$f" -eq 0 ]
}
part "--format prometheus: served by prometheus-node-exporter's textfile collector" node_exporter

# 5c.
part "the README's PromQL queries over three hosts' exports: promtool test rules" \
  "$PY" cli/tests/promql_test.py "$CLI" "$root" "$work"

# 6.
closed_pipe() {
  local err=$work/pipe.err st
  "$CLI" --sim cli/tests/scenarios/03-many-payloads.scn list --json 2>"$err" | head -c 10 >/dev/null
  st=${PIPESTATUS[0]}
  echo "  exit $st, $(wc -c <"$err") bytes on stderr"
  [ "$st" = 0 ] && [ ! -s "$err" ]
}
part "list --json | head -c 10 ends quietly" closed_pipe

# 7.
# The payload files the cases name, in $work/fx: gen-payloads.py's payloads
# for the simulated hypervisor's build id (as `list --json` reports it) in
# p/, one made for another build id in w/, and files that are no payload.
fixtures() {
  local fx=$work/fx id other=0123456789abcdef0123456789abcdef01234567 b
  id=$("$CLI" --sim cli/tests/manage/empty.scn list --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["xen_build_id"])') ||
    { echo "  no build id from list --json"; return 1; }
  mkdir -p "$fx/w" "$work/gen"
  for b in "$id" "$other"; do
    # a stand-in for xen-syms: just the GNU build-id note gen-payloads.py reads
    printf '.section .note.gnu.build-id, "a", @note\n.balign 4\n.long 4, 20, 3\n.asciz "GNU"\n.byte %s\n' \
      "$(sed 's/../0x&,/g; s/,$//' <<<"$b")" >"$work/gen/$b.s"
    as --64 -o "$work/gen/$b.o" "$work/gen/$b.s" || return 1
  done
  "$PY" tests/real-xen/gen-payloads.py --xen "$work/gen/$id.o" --out "$fx" --many 0 --churn 0 >/dev/null &&
    "$PY" tests/real-xen/gen-payloads.py --xen "$work/gen/$other.o" --out "$work/gen/other" --many 0 --churn 0 >/dev/null ||
    { echo "  gen-payloads.py failed"; return 1; }
  cp "$work/gen/other/p/lp-null.livepatch" "$fx/w/lp-wrong.livepatch"
  cp "$fx/p/lp-null.livepatch" "$fx/lp-fails.livepatch"
  cp "$fx/p/lp-null.livepatch" "$fx/lp-checked.livepatch"
  cp "$fx/p/lp-null.livepatch" "$fx/big.livepatch" && truncate -s $((2 * 1024 * 1024 + 1)) "$fx/big.livepatch"
  truncate -s $((4 * 1024 * 1024 * 1024 + 1)) "$fx/huge.bin" # sparse
  cp "$fx/p/lp-null.livepatch" "$fx/unreadable.livepatch" && chmod 000 "$fx/unreadable.livepatch"
  cp "$(type -P true)" "$fx/program.elf"
  echo "this is not a live patch" >"$fx/not-elf.txt"
  : >"$fx/empty.bin"
  echo "  fixtures: hypervisor build id $id, $(ls "$fx/p" | wc -l) payloads by gen-payloads.py, one for build id $other"
}

manage() {
  local p=0 f=0 same=0 pinned=0 id scn args exp problems nocap refused json_docs=()
  fixtures || return 1
  mkdir -p "$work/m"
  while read -r id scn args; do
    case $id in ''|'#'*) continue ;; esac
    nocap=()
    [[ $id == nocap-* ]] && nocap=(setpriv --bounding-set=-dac_override,-dac_read_search)
    scn=$root/cli/tests/manage/$scn.scn
    # shellcheck disable=SC2086 # ARGS are words
    (
      cd "$work/fx" || exit 1
      export FAKEXEN_LOG=$work/m/$id.fxlog
      FAKEXEN_SCENARIO=$scn capture "m/$id.real" "${nocap[@]}" env LD_PRELOAD="$FX" "$XL" $args
      FAKEXEN_SCENARIO=$scn FAKEXEN_COUNTERS=$work/m/$id.counters capture "m/$id.fx" "${nocap[@]}" env LD_PRELOAD="$FX" "$CLI" $args
      capture "m/$id.sim" "${nocap[@]}" "$CLI" --sim "$scn" $args
      capture "m/$id.json" "${nocap[@]}" "$CLI" --sim "$scn" $args --json
    )
    json_docs+=("$work/m/$id.json.out")
    problems=()
    exp=cli/tests/expected/manage/$id.all
    if [ "${CLI_UPDATE:-0}" = 1 ]; then
      if cmp -s "$work/m/$id.fx.all" "$work/m/$id.real.all"; then rm -f "$exp"; else mkdir -p "${exp%/*}"; cp "$work/m/$id.fx.all" "$exp"; fi
    fi
    if [ -f "$exp" ]; then
      pinned=$((pinned + 1))
      cmp -s "$exp" "$work/m/$id.fx.all" || { problems+=("differs from $exp"); diff "$exp" "$work/m/$id.fx.all" | head -n 8 | sed 's/^/    /'; }
      cmp -s "$exp" "$work/m/$id.real.all" && problems+=("$exp pins a difference that is gone: remove it")
    else
      cmp -s "$work/m/$id.real.all" "$work/m/$id.fx.all" || { problems+=("differs from xen-livepatch"); diff "$work/m/$id.real.all" "$work/m/$id.fx.all" | head -n 8 | sed 's/^/    /'; }
    fi
    cmp -s "$work/m/$id.fx.all" "$work/m/$id.sim.all" || problems+=("--sim differs from the fakexen run")
    cmp -s "$work/m/$id.fx.all" "$work/m/$id.real.all" && same=$((same + 1))
    cmp -s "$work/m/$id.fx.rc" "$work/m/$id.json.rc" || problems+=("--json exits $(cat "$work/m/$id.json.rc"), the lines $(cat "$work/m/$id.fx.rc")")
    # (a refusal is an `xc-livepatch:` line; the no-privcmd hint is not one)
    refused=$(grep '^xc-livepatch: ' "$work/m/$id.fx.err" | grep -v '^xc-livepatch: --force cannot be passed' |
      grep -vc '^xc-livepatch: no /dev/xen/privcmd:')
    if [ "$refused" -gt 0 ]; then
      [ "$refused" = 1 ] && [ "$(wc -l <"$work/m/$id.fx.err")" = 1 ] || problems+=("a refusal of more than one line")
      grep -qx 'upload_calls 0' "$work/m/$id.counters" && grep -qx 'action_calls 0' "$work/m/$id.counters" ||
        problems+=("refused, yet the hypervisor saw: $(grep -E '^(upload|action)_calls' "$work/m/$id.counters" | tr '\n' ' ')")
    fi
    # --force: LIVEPATCH_FLAG_FORCE in the UPLOAD on Xen 4.19+ only; before,
    # one line says it cannot be passed (the upload goes ahead without it).
    case $id in
      *-force-xen-4.20) grep -qx 'upload_forced 1' "$work/m/$id.counters" && ! grep -q 'cannot be passed' "$work/m/$id.fx.err" ||
        problems+=("no LIVEPATCH_FLAG_FORCE on Xen 4.20: $(grep upload_forced "$work/m/$id.counters")") ;;
      *-force-xen-4.17) grep -qx 'upload_forced 0' "$work/m/$id.counters" && [ "$(grep -c 'cannot be passed' "$work/m/$id.fx.err")" = 1 ] ||
        problems+=("on Xen 4.17: $(grep upload_forced "$work/m/$id.counters"), not one 'cannot be passed' line") ;;
    esac
    # The slow actions (pending 2 s): xen-livepatch gives up after its
    # 60 ms, the command waits and completes, unless its --wait is shorter.
    case $id in
      slow-*-wait-*) grep -qx "Operation didn't complete." "$work/m/$id.fx.err" && [ "$(cat "$work/m/$id.fx.rc")" = 2 ] ||
        problems+=("did not give up at its --wait") ;;
      slow-*) grep -qx "Operation didn't complete." "$work/m/$id.real.err" && [ "$(cat "$work/m/$id.real.rc")" = 2 ] &&
        [ "$(cat "$work/m/$id.fx.rc")" = 0 ] && ! grep -q "didn't complete" "$work/m/$id.fx.err" ||
        problems+=("not: xen-livepatch gives up, the command completes") ;;
    esac
    if [ ${#problems[@]} -eq 0 ]; then p=$((p + 1)); else f=$((f + 1)); echo "  FAIL $id: ${problems[*]}"; fi
  done <cli/tests/manage/cases
  echo "  identical to xen-livepatch: $same of $((p + f)); intended differences pinned: $pinned"
  "$PY" cli/tests/check_action_json.py cli/schema/xc-livepatch-action.schema.json "${json_docs[@]}" || f=$((f + 1))
  echo "$p passed, $f failed"
  [ "$f" -eq 0 ]
}
part "upload/apply/revert/replace/unload/load vs xen-livepatch (fakexen), --sim, --json" manage

# 8.
# pin_or_compare ID OURS REAL: equal, or ours equal to the pinned
# cli/tests/expected/manage/ID.all and real not (CLI_UPDATE=1 rewrites it).
pin_or_compare() {
  local id=$1 ours=$2 real=$3 exp=cli/tests/expected/manage/$1.all
  if [ "${CLI_UPDATE:-0}" = 1 ]; then
    if cmp -s "$ours" "$real"; then rm -f "$exp"; else cp "$ours" "$exp"; fi
  fi
  if [ -f "$exp" ]; then
    cmp -s "$exp" "$ours" || { echo "  $id differs from $exp:"; diff "$exp" "$ours" | head -n 12 | sed 's/^/    /'; return 1; }
    cmp -s "$exp" "$real" && { echo "  $exp pins a difference that is gone: remove it"; return 1; }
    echo "  $id: differs from xen-livepatch as pinned in $exp"
  else
    cmp -s "$ours" "$real" || { echo "  $id differs from xen-livepatch:"; diff "$real" "$ours" | head -n 12 | sed 's/^/    /'; return 1; }
    echo "  $id: identical to xen-livepatch"
  fi
}

sequences() {
  local p=0 f=0 id scn steps who step xargs st
  [ -d "$work/fx/p" ] || fixtures || return 1
  while read -r id scn steps; do
    case $id in ''|'#'*) continue ;; esac
    for who in real ours; do
      st=$work/seq.$id.$who.state
      : >"$st"; : >"$work/seq.$id.$who"
      while read -r step; do
        [ -n "$step" ] || continue
        xargs=$step
        [ $who = real ] && xargs=$(sed -E 's/ --wait [^ ]+//' <<<"$step")
        # shellcheck disable=SC2086 # a step is words
        (
          cd "$work/fx" || exit 1
          if [ $who = real ]; then prog=$XL; else prog=$CLI; fi
          FAKEXEN_SCENARIO=$root/cli/tests/manage/$scn.scn FAKEXEN_STATE=$st FAKEXEN_LOG=$work/seq.$id.fxlog \
            LD_PRELOAD="$FX" "$prog" $xargs >"$work/seq.out" 2>"$work/seq.err"
          echo "--- exit $?" >"$work/seq.rc"
        )
        { echo "\$ $step"; cat "$work/seq.out"; echo "--- stderr"; cat "$work/seq.err"; cat "$work/seq.rc"; } >>"$work/seq.$id.$who"
      done < <(tr ';' '\n' <<<"$steps" | sed 's/^ *//; s/ *$//')
    done
    if pin_or_compare "$id" "$work/seq.$id.ours" "$work/seq.$id.real"; then p=$((p + 1)); else f=$((f + 1)); fi
  done <cli/tests/manage/sequences
  echo "$p passed, $f failed"
  [ "$f" -eq 0 ]
}
part "sequences of managing commands on one hypervisor vs xen-livepatch (fakexen state)" sequences

# 9. `timeout -s INT` on an action that stays pending (30 s), under the
#    fakexen shim and with --sim: the leading text was written before the
#    wait, the signal ends it with `interrupted` and one line, exit 130.
interrupted() {
  local p=0 f=0 mode scn=$root/cli/tests/manage/pending.scn o=$work/int
  [ -d "$work/fx/p" ] || fixtures >/dev/null || return 1
  for mode in fx sim; do
    if [ $mode = fx ]; then
      FAKEXEN_SCENARIO=$scn FAKEXEN_LOG=$work/int.fxlog LD_PRELOAD="$FX" \
        timeout --preserve-status -s INT 5 "$CLI" apply other --wait 60s >"$o.out" 2>"$o.err"
    else
      timeout --preserve-status -s INT 5 "$CLI" --sim "$scn" apply other --wait 60s >"$o.out" 2>"$o.err"
    fi
    echo $? >"$o.rc"
    if [ "$(cat "$o.rc")" = 130 ] && [ "$(cat "$o.out")" = "Applying other... interrupted" ] &&
      [ "$(wc -l <"$o.err")" = 1 ] && grep -q '^xc-livepatch: SIGINT: stopped waiting for the apply of other; at the last read it was CHECKED with rc -11 ' "$o.err"; then
      p=$((p + 1)); echo "  $mode: exit 130, stdout $(cat "$o.out"), $(cut -c1-60 "$o.err")..."
    else
      f=$((f + 1)); echo "  FAIL $mode: exit $(cat "$o.rc"), stdout '$(cat "$o.out")', stderr '$(cat "$o.err")'"
    fi
  done
  # --json and SIGTERM: one document, valid, marked interrupted, exit 143.
  timeout --preserve-status -s TERM 5 "$CLI" --sim "$scn" load "$work/fx/p/lp-kv.livepatch" --wait 60s --json >"$o.json" 2>"$o.err"
  echo $? >"$o.rc"
  if [ "$(cat "$o.rc")" = 143 ] && [ ! -s "$o.err" ] && grep -q '"interrupted": "SIGTERM"' "$o.json" &&
    "$PY" cli/tests/check_action_json.py cli/schema/xc-livepatch-action.schema.json "$o.json" >/dev/null; then
    p=$((p + 1)); echo "  --json load, SIGTERM: exit 143, one valid document, interrupted SIGTERM"
  else
    f=$((f + 1)); echo "  FAIL --json load, SIGTERM: exit $(cat "$o.rc"), stderr '$(cat "$o.err")'"; head -c 600 "$o.json"
  fi
  echo "$p passed, $f failed"
  [ "$f" -eq 0 ]
}
part "timeout -s INT / -s TERM on a pending apply (fakexen and --sim)" interrupted

# 10. On a terminal (a pseudo-terminal), control bytes in names, metadata
#     and file names shown escaped; into a pipe, the bytes.
part "terminal escaping (pseudo-terminal) vs a pipe's bytes" \
  "$PY" cli/tests/tty_check.py "$CLI" cli/tests/scenarios/04-terminal-controls.scn

# 11.
inspect_payloads() {
  # the real-Xen stage's payloads, made for /bin/true's build id
  local xen_id
  xen_id=$(readelf -n /bin/true | sed -n 's/.*Build ID: //p')
  python3 tests/real-xen/gen-payloads.py --xen /bin/true --out "$work/inspect" --many 0 --churn 0 >/dev/null || return 1
  "$PY" cli/tests/check_inspect.py cli/schema/xc-livepatch-inspect.schema.json "$CLI" "$work/inspect" "$xen_id" \
    cli/tests/manage/states.scn
}
part "inspect: the real-Xen stage's payloads (schema, functions, hooks, depends, re-apply safety) and damaged copies" inspect_payloads

echo "32-cli: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
