#!/usr/bin/env python3
"""Reads what ansible-playbook printed (default callback, -v, results as
one-line JSON) and the simulated hosts' states, for scripts/test.d/55-fleet.sh.

  check.py recap LOG                  the PLAY RECAP lines
  check.py expect LOG SPEC...         each SPEC is HOSTS:KEY=N[,KEY=N] (HOSTS: a,b,c or
                                      'rest' for every host not named before); fails
                                      listing every host whose recap differs
  check.py results LOG TASK           one line per host: status, changed, plan, msg, errno
  check.py elapsed LOG TASK           the command's own time per host (JSON elapsed_ns)
  check.py states WORK OUT            every host's payload list (list --format dump) to OUT
  check.py same STATES_A STATES_B HOSTS   HOSTS' lists are equal in both
  check.py applied STATES HOSTS       xsa-fleet is APPLIED on each of HOSTS
  check.py absent STATES HOSTS        xsa-fleet is not loaded on any of HOSTS
  check.py procs STRACE CLI           from `strace -f -e trace=execve,clone,clone3,fork,vfork`:
                                      the module's process (AnsiballZ_xen_livepatch.py) started
                                      exactly one process, and that is CLI
"""
import json
import os
import re
import subprocess
import sys

PAYLOAD = "xsa-fleet"
RECAP = re.compile(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$")
RESULT = re.compile(r"^(ok|changed|failed|fatal|skipping): \[([^\]]+)\](?:: FAILED!)?(?: => (\{.*\}))?\s*$")
TASK = re.compile(r"^TASK \[(.*)\] \**$")


def recap(log):
    out, on = {}, False
    for line in open(log, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("PLAY RECAP"):
            on = True
            continue
        m = RECAP.match(line) if on else None
        if m:
            out[m.group(1)] = {k: int(v) for k, v in (kv.split("=") for kv in m.group(2).split())}
    return out


def results(log, task):
    out, current = {}, None
    for line in open(log, errors="replace"):
        line = line.rstrip("\n")
        t = TASK.match(line)
        if t:
            current = t.group(1)
            continue
        m = RESULT.match(line)
        if m and current == task:
            out[m.group(2)] = (m.group(1), json.loads(m.group(3)) if m.group(3) else {})
    return out


def hosts_of(spec):
    return [h for h in spec.split(",") if h]


def cmd_expect(log, specs):
    r = recap(log)
    named, bad = set(), []
    for spec in specs:
        who, want = spec.split(":", 1)
        want = {k: int(v) for k, v in (kv.split("=") for kv in want.split(","))}
        hosts = sorted(set(r) - named) if who == "rest" else hosts_of(who)
        named.update(hosts)
        for h in hosts:
            got = r.get(h)
            if got is None or any(got.get(k) != v for k, v in want.items()):
                bad.append(f"{h}: {got} (want {want})")
    for b in bad:
        print("    recap differs: " + b)
    return 1 if bad else 0


def cmd_results(log, task):
    for h, (status, res) in sorted(results(log, task).items()):
        plan = " ".join(f"{s['step']}" for s in res.get("plan") or [])
        ms = "%.1f ms" % (res["elapsed_ns"] / 1e6) if res.get("elapsed_ns") else "-"
        print(f"    {h}: {status} changed={res.get('changed')} plan=[{plan}] errno={res.get('errno')} elapsed={ms}"
              + (f" msg={res.get('msg')!r}" if res.get("msg") else ""))
    return 0


def cmd_elapsed(log, task):
    r = {h: res.get("elapsed_ns") for h, (status, res) in results(log, task).items() if res.get("elapsed_ns")}
    if not r:
        print("    no elapsed_ns in the results")
        return 1
    ms = sorted(v / 1e6 for v in r.values())
    print(f"    the command's own time (elapsed_ns) over {len(ms)} hosts: min {ms[0]:.1f} ms, "
          f"median {ms[len(ms) // 2]:.1f} ms, max {ms[-1]:.1f} ms, sum {sum(ms):.0f} ms")
    return 0


def cmd_states(work, out):
    cli = None
    for line in open(os.path.join(work, "inventory.yml")):
        if line.strip().startswith("xc_livepatch:"):
            cli = line.split(":", 1)[1].strip()
    states = {}
    hosts_dir = os.path.join(work, "hosts")
    for f in sorted(os.listdir(hosts_dir)):
        if not f.endswith(".scn"):
            continue
        h = f[:-4]
        argv = [cli, "--sim", os.path.join(hosts_dir, f)]
        if os.path.exists(os.path.join(hosts_dir, h + ".state")):
            argv += ["--sim-state", os.path.join(hosts_dir, h + ".state")]
        p = subprocess.run(argv + ["list", "--format", "dump"], capture_output=True, text=True)
        states[h] = p.stdout + (p.stderr and "stderr: " + p.stderr)
    with open(out, "w") as f:
        json.dump(states, f, indent=1, sort_keys=True)
    return 0


def payload_state(dump):
    for line in dump.splitlines():
        parts = line.split("\t")
        if parts[0] == PAYLOAD:
            return int(parts[1])
    return None


def cmd_same(a, b, hosts):
    sa, sb = json.load(open(a)), json.load(open(b))
    bad = [h for h in hosts if sa.get(h) != sb.get(h)]
    for h in bad:
        print(f"    {h} changed: {sa.get(h)!r} -> {sb.get(h)!r}")
    return 1 if bad else 0


def cmd_payload(path, hosts, want):
    s = json.load(open(path))
    bad = [h for h in hosts if payload_state(s[h]) != want]
    for h in bad:
        print(f"    {h}: {PAYLOAD} state {payload_state(s[h])}, want {want}: {s[h]!r}")
    return 1 if bad else 0


def cmd_procs(path, cli):
    """The processes the module's Python started (its descendants), and what they ran."""
    parent, execs, pending = {}, {}, {}
    for line in open(path, errors="replace"):
        m = re.match(r"^(\d+)\s+(?:<\.\.\. )?(clone3?|v?fork)\b.*=\s+(\d+)\s*$", line)
        if m:
            parent[int(m.group(3))] = int(m.group(1))
            continue
        m = re.match(r'^(\d+)\s+execve\("([^"]+)", \[(.*?)\]', line)
        if m:  # finished here ("= 0", "= -1 ENOENT") or resumed on a later line
            pending[int(m.group(1))] = (m.group(2), m.group(3))
        done = re.match(r"^(\d+)\s+(?:<\.\.\. execve resumed>|execve\().*=\s+(-?\d+)", line)
        if done and int(done.group(1)) in pending:
            exe = pending.pop(int(done.group(1)))
            if done.group(2) == "0":
                execs.setdefault(int(done.group(1)), []).append(exe)
    module = [p for p, ex in execs.items()
              if any(os.path.basename(exe).startswith("python") and "AnsiballZ_xen_livepatch.py" in args
                     for exe, args in ex)]
    if len(module) != 1:
        print(f"    {len(module)} module processes (AnsiballZ_xen_livepatch.py) in the trace")
        return 1

    def descends(p, root):
        while p in parent:
            p = parent[p]
            if p == root:
                return True
        return False

    kids = sorted(p for p in set(parent) if descends(p, module[0]))
    ran = [exe for p in kids for exe, _ in execs.get(p, [])]
    total = sum(len(v) for v in execs.values())
    print(f"    processes (strace -f, one xen_livepatch task on one host): {total} execve in the whole run; "
          f"the module's Python started {len(kids)} process(es): {', '.join(ran) or 'none'}")
    return 0 if len(kids) == 1 and ran == [cli] else 1


def main(argv):
    c = argv[0]
    if c == "recap":
        for h, v in sorted(recap(argv[1]).items()):
            print("    " + h.ljust(8) + " : " + "  ".join(f"{k}={n}" for k, n in v.items()))
        return 0
    if c == "expect":
        return cmd_expect(argv[1], argv[2:])
    if c == "results":
        return cmd_results(argv[1], argv[2])
    if c == "elapsed":
        return cmd_elapsed(argv[1], argv[2])
    if c == "states":
        return cmd_states(argv[1], argv[2])
    if c == "same":
        return cmd_same(argv[1], argv[2], hosts_of(argv[3]))
    if c == "applied":
        return cmd_payload(argv[1], hosts_of(argv[2]), 2)
    if c == "absent":
        return cmd_payload(argv[1], hosts_of(argv[2]), None)
    if c == "procs":
        return cmd_procs(argv[1], argv[2])
    print("unknown check " + c)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
