#!/usr/bin/env bash
# A fleet of simulated hypervisors driven by the real ansible-playbook, with
# the collection xen.livepatch built by ansible-galaxy and installed from its
# tarball (tests/fleet: make-fleet.py, rollout.yml, one.yml, check.py).
# 24 hosts (ansible_connection: local), each its own `xc-livepatch --sim`
# hypervisor with a state file of its own (--sim-state); builds A and B,
# interfaces 0x15 and 0x16. Checks, each on the hosts' states as listed:
#  1. a rolling rollout (serial 5, max_fail_percentage 0) applies xsa-fleet
#     on every host of build A and no other; its wall time and the command's
#     own time per host (the JSON elapsed_ns);
#  2. a second run: changed=0 on every host;
#  3. state: absent removes it (and a second absent: changed=0);
#  4. --check on a fresh fleet changes no host and reports the plans;
#  5. a host where Xen fails the apply (h07, batch 2) fails its batch and the
#     rollout stops: batches 3 and 4 untouched; h07 is left without it;
#  6. a host of another build in the rollout (h09, with the build check
#     off) is refused by the command and stops the rollout the same way;
#  7. two playbooks at once against one host are serialised by the command's
#     lock (held by the test until both commands wait for it): both succeed,
#     one changes, the other plans nothing; a third with lock_wait 0 fails
#     naming the holder's PID;
#  8. counts: the module starts exactly one process (the command) per task
#     (strace -f over ansible-playbook), and the hypercalls of an ensure run
#     by the module equal those of the same ensure run directly (fakexen's
#     counters; the command linked with the shim, patchelf --add-needed);
#  9. deliberate breaks: a rollout that ignores a failed host
#     (max_fail_percentage 100) and a module that always reports changed are
#     each caught by the checks above.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bash scripts/setup.sh binutils patchelf strace >/dev/null || exit 1
bin=$(bash scripts/ansible-env.sh) || exit 1
export PATH=$bin:$PATH
cargo build --release --locked -q -p xc-livepatch-cli && cargo build --release --locked -q -p fakexen || exit 1
CLI=${CARGO_TARGET_DIR:-$root/target}/release/xc-livepatch
FX=${CARGO_TARGET_DIR:-$root/target}/release/libfakexen.so
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "  FAIL: $*"; failed=1; }
CHECK="python3 tests/fleet/check.py"
BUILD_A=5e6d0b1c2738495a6b7c8d9eafb0c1d2e3f40516 # the simulator's default build id
BUILD_B=77aa0b1c2738495a6b7c8d9eafb0c1d2e3f40599
BATCH1=h01,h02,h03,h04,h05 BATCH2=h06,h07,h08,h10,h11 LATER=h12,h13,h14,h15,h16,h18,h19,h20,h21,h24
BUILD_A_HOSTS=$BATCH1,$BATCH2,$LATER BUILD_B_HOSTS=h09,h17,h22,h23
TASK="The payload is in the state asked for"

# The collection: built, installed from the tarball.
collection() { # DIR: build ansible/ (or DIR's copy) and install it into $work/collections
  rm -rf "$work/collections" "$work/dist" && mkdir -p "$work/dist" &&
    ansible-galaxy collection build --output-path "$work/dist" "$1" >/dev/null &&
    ansible-galaxy collection install -p "$work/collections" "$work"/dist/xen-livepatch-*.tar.gz >/dev/null
}
export ANSIBLE_COLLECTIONS_PATH=$work/collections ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0 \
  ANSIBLE_CALLBACK_RESULT_FORMAT=json ANSIBLE_CALLBACK_FORMAT_PRETTY=0 ANSIBLE_FORKS=5 ANSIBLE_LOCAL_TEMP=$work/tmp \
  ANSIBLE_HOME=$work/ansible-home ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_DEPRECATION_WARNINGS=1

printf '[defaults]\nforks = 5\n' >"$work/ansible.cfg"
collection ansible || { echo "  FAIL: ansible-galaxy collection build/install"; exit 1; }
echo "  $(basename "$work"/dist/*.tar.gz) built and installed: $(ansible-galaxy collection list 2>/dev/null | grep '^xen\.livepatch')"
python3 tests/fakexen/ensure-payloads.py "$work/p" "$BUILD_A" >/dev/null || { echo "  FAIL: payloads"; exit 1; }
PAYLOAD=$work/p/base.livepatch
fleet() { python3 tests/fleet/make-fleet.py "$work" "$BUILD_A" "$BUILD_B" "$CLI" "$bin/python" "$work/p/modules.scn" "$@"; }
play() { # LOG ARGS...: ansible-playbook -v; its exit status
  ansible-playbook -v -i "$work/inventory.yml" -e "payload=$PAYLOAD payload_xen_depends=$BUILD_A" "${@:2}" >"$1" 2>&1
}
no_warnings() { # LOG
  local w; w=$(grep -E '^\[?(WARNING|DEPRECATION)' "$1")
  [ -z "$w" ] || fail "ansible-playbook warned: $(head -n 3 <<<"$w")"
}
states() { $CHECK states "$work" "$work/$1.json"; }

# 1. The rollout.
fleet && states fresh
t0=$(date +%s%N)
play "$work/rollout.log" tests/fleet/rollout.yml; rc=$?
t1=$(date +%s%N)
states rolled
echo "  rollout: exit $rc, $(( (t1 - t0) / 1000000 )) ms wall for 24 hosts (load $(cut -d' ' -f1-3 /proc/loadavg)); recap:"
$CHECK recap "$work/rollout.log"
$CHECK elapsed "$work/rollout.log" "$TASK"
[ $rc -eq 0 ] || fail "the rollout exited $rc"
$CHECK expect "$work/rollout.log" "$BUILD_A_HOSTS:changed=1,failed=0,ok=4" "$BUILD_B_HOSTS:changed=0,failed=0,ok=2" || fail "rollout recap"
$CHECK applied "$work/rolled.json" "$BUILD_A_HOSTS" && $CHECK same "$work/fresh.json" "$work/rolled.json" "$BUILD_B_HOSTS" &&
  echo "  ok: xsa-fleet APPLIED on the 20 hosts of build A, the 4 of build B untouched" || fail "rollout states"
no_warnings "$work/rollout.log"

# 2. Again: nothing to do anywhere.
play "$work/again.log" tests/fleet/rollout.yml; rc=$?
echo "  second run: exit $rc; recap:"; $CHECK recap "$work/again.log" | sed -n '1,3p'; echo "    ..."
[ $rc -eq 0 ] && $CHECK expect "$work/again.log" "rest:changed=0,failed=0" && echo "  ok: changed=0 on every host" ||
  fail "the second run changed something"

# 3. state: absent, twice.
play "$work/absent.log" tests/fleet/rollout.yml -e lp_state=absent; rc=$?
states removed
[ $rc -eq 0 ] && $CHECK expect "$work/absent.log" "$BUILD_A_HOSTS:changed=1,failed=0" "rest:changed=0,failed=0" &&
  $CHECK absent "$work/removed.json" "$BUILD_A_HOSTS,$BUILD_B_HOSTS" &&
  $CHECK same "$work/fresh.json" "$work/removed.json" "$BUILD_A_HOSTS,$BUILD_B_HOSTS" &&
  echo "  ok: state: absent removed xsa-fleet from the 20 hosts (each as it was before the rollout)" || fail "state: absent"
play "$work/absent2.log" tests/fleet/rollout.yml -e lp_state=absent && $CHECK expect "$work/absent2.log" "rest:changed=0,failed=0" &&
  echo "  ok: a second state: absent changed=0 on every host" || fail "the second absent changed something"

# 4. Check mode on a fresh fleet.
fleet && states fresh
play "$work/check.log" tests/fleet/rollout.yml --check --diff; rc=$?
states checked
[ $rc -eq 0 ] && $CHECK expect "$work/check.log" "$BUILD_A_HOSTS:changed=1,failed=0" "rest:changed=0,failed=0" &&
  $CHECK same "$work/fresh.json" "$work/checked.json" "$BUILD_A_HOSTS,$BUILD_B_HOSTS" &&
  grep -q '^+upload xsa-fleet ' "$work/check.log" &&
  echo "  ok: --check --diff: the 20 plans (upload, apply) reported, no host changed" || fail "check mode"

# 5. Xen refuses the apply on h07 (batch 2): the rollout stops.
stops() { # LOG NAME: batch 1 applied, h07 failed and without the payload, later batches untouched
  local ok=0
  $CHECK expect "$1" "h07:failed=1" "$BATCH1:changed=1,failed=0" || ok=1
  states "$2"
  $CHECK applied "$work/$2.json" "$BATCH1,h06,h08,h10,h11" || ok=1
  $CHECK absent "$work/$2.json" h07 || ok=1
  $CHECK same "$work/fresh.json" "$work/$2.json" "$LATER,$BUILD_B_HOSTS" || ok=1
  return $ok
}
fleet --refuse h07 && states fresh
play "$work/refuse.log" tests/fleet/rollout.yml; rc=$?
echo "  Xen refusing on h07: exit $rc; recap:"; $CHECK recap "$work/refuse.log"
$CHECK results "$work/refuse.log" "$TASK" | grep -E 'h07|h06:'
[ $rc -ne 0 ] && stops "$work/refuse.log" refused &&
  echo "  ok: h07 failed its batch; batches 3 and 4 ($LATER) untouched" || fail "the rollout did not stop at h07"

# 6. A host of another build inside the rollout, the playbook's build check off: the command refuses it.
fleet && states fresh
play "$work/wrongbuild.log" tests/fleet/rollout.yml -e rollout_hosts=fleet -e check_build=false; rc=$?
$CHECK results "$work/wrongbuild.log" "$TASK" | grep -E 'h09'
if [ $rc -ne 0 ] && $CHECK expect "$work/wrongbuild.log" "h09:failed=1" "h01,h02,h03,h04,h05:changed=1,failed=0" >/dev/null &&
  states wrongbuild && $CHECK same "$work/fresh.json" "$work/wrongbuild.json" "h09,h11,h12,h13,h14,h15,h16,h17,h18,h19,h20,h21,h22,h23,h24"; then
  echo "  ok: h09 (build B) refused by the command, batch 2 failed, h11-h24 untouched"
else fail "a wrong-build host did not stop the rollout"; fi

# 7. Two playbooks at once against lock01. The test holds the host's lock
# (flock on its FILE.lock) until both playbooks' commands are running and
# waiting for it, then lets go: one applies, the other waits its turn and
# plans nothing. A third playbook with lock_wait 0 meanwhile fails at once
# naming the holder's PID.
fleet
lock=$work/hosts/lock01.state.lock
# (the holder writes its PID into the lock file, as the command does)
flock -x "$lock" sh -c "echo \$\$ >'$work/holder'; echo \$\$ >'$lock'; i=0; while [ ! -e '$work/release' ] && [ \$i -lt 3000 ]; do sleep 0.1; i=\$((i + 1)); done" & ph=$!
for _ in $(seq 1 300); do [ -s "$work/holder" ] && break; sleep 0.1; done # bounded: 30 s
play "$work/lockA.log" tests/fleet/one.yml -l lock01 & pa=$!
play "$work/lockB.log" tests/fleet/one.yml -l lock01 & pb=$!
waiting=0
for _ in $(seq 1 1500); do # bounded: 1500 x 0.2 s
  waiting=$(pgrep -c -f -- "--sim-state $work/hosts/lock01.state ensure")
  [ "$waiting" -ge 2 ] && break
  sleep 0.2
done
play "$work/lockC.log" tests/fleet/one.yml -l lock01 -e lock_wait=0; rc_c=$?
touch "$work/release"
wait $ph
wait $pa; rc_a=$?; wait $pb; rc_b=$?
states locked
echo "  lock: $waiting commands waiting at once; the two playbooks exit $rc_a and $rc_b; the third (lock_wait 0) exit $rc_c"
for l in A B C; do $CHECK results "$work/lock$l.log" "The payload is applied"; done
changed=$(cat "$work/lockA.log" "$work/lockB.log" | grep -oE '^lock01 +: ok=1 +changed=[01] ' | grep -oE 'changed=[01]' | sort | tr '\n' ' ')
if [ "$waiting" -ge 2 ] && [ $rc_a -eq 0 ] && [ $rc_b -eq 0 ] && [ "$changed" = "changed=0 changed=1 " ] &&
  $CHECK applied "$work/locked.json" lock01 && [ $rc_c -ne 0 ] &&
  grep -qE "is locked by process $(cat "$work/holder" 2>/dev/null || echo none) " "$work/lockC.log"; then
  echo "  ok: serialised by the lock: both ended ok, one applied, the other planned nothing after it; the third failed naming the holder"
else fail "two playbooks on one host (waiting $waiting, recaps: $changed)"; fi

# 8. Counts: processes and hypercalls.
fleet
strace -f -qq -v -s 4096 -e trace=execve,clone,clone3,fork,vfork -e signal=none -o "$work/strace" \
  ansible-playbook -i "$work/inventory.yml" -e "payload=$PAYLOAD" tests/fleet/one.yml -l h01 >"$work/one.log" 2>&1 ||
  fail "the one-task playbook under strace failed"
$CHECK procs "$work/strace" "$CLI" || fail "the module's processes"
cp "$CLI" "$work/xc-fx" && patchelf --add-needed "$FX" "$work/xc-fx" || fail "patchelf"
cat >"$work/count.yml" <<INV
all:
  hosts:
    count01:
      ansible_connection: local
      ansible_python_interpreter: $bin/python
      xc_livepatch: $work/xc-fx
INV
count_env() { # NAME: the shim's files for one run
  : >"$work/$1.state"
  echo "FAKEXEN_SCENARIO=$work/hosts/h01.scn FAKEXEN_STATE=$work/$1.state FAKEXEN_COUNTERS=$work/$1.counters XC_LIVEPATCH_LOCK=$work/$1.lock"
}
env_json() { python3 -c 'import json, sys; print(json.dumps(dict(kv.split("=", 1) for kv in sys.argv[1:])))' $(count_env "$1"); }
ansible-playbook -i "$work/count.yml" -e "payload=$PAYLOAD" -e "{\"fakexen_env\": $(env_json module)}" tests/fleet/one.yml \
  >"$work/count.log" 2>&1 || fail "the module under fakexen failed: $(grep -m1 -E 'fatal|msg' "$work/count.log")"
env $(count_env direct) "$work/xc-fx" ensure --json --lock-wait=1m -- "xsa-fleet=$PAYLOAD" >"$work/direct.json" ||
  fail "the direct ensure under fakexen failed"
keys="hypercalls list_calls get_calls upload_calls action_calls xen_version_calls"
mod=$(for k in $keys; do awk -v k=$k '$1 == k {printf "%s=%s ", k, $2}' "$work/module.counters"; done)
dir=$(for k in $keys; do awk -v k=$k '$1 == k {printf "%s=%s ", k, $2}' "$work/direct.counters"; done)
echo "  hypercalls, ensure by the module: $mod"
echo "  hypercalls, the same ensure run directly: $dir"
[ -n "$mod" ] && [ "$mod" = "$dir" ] && ! grep -q '^hypercalls 0$' "$work/module.counters" &&
  echo "  ok: the module adds no hypercall" || fail "the module's hypercalls differ from the command's"

# 9. Deliberate breaks.
fleet --refuse h07 && states fresh
play "$work/ignore.log" tests/fleet/rollout.yml -e max_fail=100
if stops "$work/ignore.log" ignored >"$work/ignore.out" 2>&1; then
  fail "break not caught: a rollout that ignores a failed host passed the stop checks"
else echo "  break caught: a rollout that ignores a failed host (max_fail_percentage 100) -> $(grep -m1 -E ' changed: ' "$work/ignore.out" | sed 's/^ *//' | head -c 200)"; fi
cp -r ansible "$work/broken" && bash scripts/ansible-always-changed.sh "$work/broken" &&
  collection "$work/broken" || fail "the broken collection"
fleet
play "$work/broken1.log" tests/fleet/rollout.yml && play "$work/broken2.log" tests/fleet/rollout.yml
if $CHECK expect "$work/broken2.log" "rest:changed=0,failed=0" >"$work/broken.out"; then
  fail "break not caught: a module that always reports changed passed the second-run check"
else echo "  break caught: a module that always reports changed -> $(head -n1 "$work/broken.out" | sed 's/^ *//')"; fi
exit $failed
