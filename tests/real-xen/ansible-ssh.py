#!/usr/bin/env python3
"""The host's side of the real-Xen Ansible test (issue 26), started by boot.py
once dom0 prints SSH-READY (tests/real-xen/ssh.sh): the real ansible-playbook,
with the collection installed from its built tarball, reaches dom0 over SSH
only through QEMU's port forwarded on 127.0.0.1, and runs
tests/real-xen/ansible.yml:
  1. state applied: a real payload (copied from here, remote_src false) is
     uploaded and applied, Xen runs its code (XENVER_extraversion);
  2. the same again: changed=0;
  3. (--broken COLLECTIONS) the same with a module that always reports
     changed: the check of 2 must fail on it;
  4. state absent: the payload is gone.
Prints RESULT lines (init.sh's format) and the recaps as SUMMARY lines; at
the end tells dom0 it is done (touch /run/ansible-done over SSH), whatever
happened.
Usage: ansible-ssh.py --dir D --port P --console LOG --payload FILE
         --build-id HEX --bin VENV_BIN --collections DIR [--broken DIR]"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fleet"))
import check  # noqa: E402  (tests/fleet/check.py: recap and results of ansible-playbook -v)

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "dom0"
TASK_INFO = "Read the hypervisor's build id and live patches"
TASK_LP = "The payload is in the state asked for"


def result(name, ok, detail):
    print("RESULT %s %s %s" % (name, "PASS" if ok else "FAIL", " ".join(str(detail).split())[:400]), flush=True)


def console_build_ids(log):
    text = open(log, "rb").read().decode("utf-8", "replace").replace("\r", "")
    return re.findall(r"^\(XEN\) build-id: ([0-9a-f]+)\s*$", text, re.M)


def ssh_args(w):
    """The ssh options of every connection: the pinned host key only."""
    return ("-o UserKnownHostsFile={k} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes "
            "-o ConnectTimeout=60 -o ServerAliveInterval=30").format(k=os.path.join(w, "known_hosts"))


def setup(a, w):
    """The inventory, ansible.cfg and known_hosts for this boot, in W (D/ansible)."""
    os.makedirs(os.path.join(w, "tmp"), exist_ok=True)
    hostkey = open(os.path.join(a.dir, "ssh", "host.pub")).read().split()
    with open(os.path.join(w, "known_hosts"), "w") as f:
        f.write("[127.0.0.1]:%d %s %s\n" % (a.port, hostkey[0], hostkey[1]))
    inventory = {"all": {"hosts": {HOST: {
        "ansible_host": "127.0.0.1", "ansible_port": a.port, "ansible_user": "root",
        "ansible_ssh_private_key_file": os.path.join(a.dir, "ssh", "client"),
        "ansible_ssh_common_args": ssh_args(w), "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_use_tty": False}}}}
    with open(os.path.join(w, "inventory.json"), "w") as f:
        json.dump(inventory, f)
    with open(os.path.join(w, "ansible.cfg"), "w") as f:
        f.write("[defaults]\nforks = 1\ntimeout = 60\n[ssh_connection]\npipelining = True\nretries = 3\n"
                "control_path_dir = %s\n" % os.path.join(w, "cp"))


def play(a, w, tag, collections, extra):
    """One ansible-playbook -v run into w/TAG.log: (exit status, log path, dom0's recap)."""
    env = dict(os.environ, PATH=a.bin + ":" + os.environ.get("PATH", ""), ANSIBLE_COLLECTIONS_PATH=collections,
               ANSIBLE_CONFIG=os.path.join(w, "ansible.cfg"), ANSIBLE_HOME=os.path.join(w, "home"),
               ANSIBLE_LOCAL_TEMP=os.path.join(w, "tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_CALLBACK_RESULT_FORMAT="json",
               ANSIBLE_CALLBACK_FORMAT_PRETTY="0")
    log = os.path.join(w, tag + ".log")
    argv = ["ansible-playbook", "-v", "-i", os.path.join(w, "inventory.json"), os.path.join(HERE, "ansible.yml"),
            "-e", "payload=%s payload_xen_depends=%s console_build_id=%s" % (a.payload, a.build_id, a.console_id)]
    for e in extra:
        argv += ["-e", e]
    with open(log, "w") as f:
        try:  # a hang guard far above a run's time (about 30 s at load 1)
            rc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                timeout=900).returncode
        except subprocess.TimeoutExpired:
            f.write("\nansible-ssh.py: ansible-playbook killed after 900 s\n")
            rc = 124
    warned = [line.strip() for line in open(log, errors="replace") if re.match(r"^\[?(WARNING|DEPRECATION)", line)]
    if warned:  # a warning is a failure of the run: none is explained here
        rc = rc or 1
        print("ansible-ssh.py: ansible-playbook warned: %s" % warned[:3], flush=True)
    recap = check.recap(log).get(HOST)
    print("SUMMARY ansible-%s exit %d, recap: %s : %s" % (tag, rc, HOST, " ".join(
        "%s=%d" % kv for kv in (recap or {}).items()) or "none"), flush=True)
    return rc, log, recap or {}


def why(log):
    """The first failure's line in a log, for a FAIL's detail."""
    for line in open(log, errors="replace"):
        if line.startswith(("fatal:", "failed:", "ERROR")) or "UNREACHABLE" in line:
            return line.strip()[:300]
    return "no fatal line; see %s" % log


def lp_state(log, task=TASK_INFO):
    """What the last info task of a run saw: (build id, source, xsa-ssh's state or None)."""
    res = check.results(log, task).get(HOST, (None, {}))[1]
    states = [p.get("state") for p in res.get("payloads", []) if p.get("name") == "xsa-ssh"]
    return res.get("build_id"), res.get("source"), (states[0] if states else None)


def run(a, w):
    setup(a, w)
    rc, log, rec = play(a, w, "apply", a.collections, ["lp_state=applied"])
    ok = rc == 0 and rec.get("changed") == 1 and rec.get("failed") == 0
    lp = check.results(log, TASK_LP).get(HOST, (None, {}))[1]
    result("ansible-ssh-apply", ok and lp.get("changed") is True,
           "exit %d, recap %s; plan %s; %s" % (rc, rec, [s.get("step") for s in lp.get("plan", [])],
                                              "payload APPLIED, extraversion '-base'" if ok else why(log)))
    build_id, source, _ = lp_state(log)
    result("ansible-ssh-info-build-id", build_id == a.console_id and source == "xen",
           "xen_livepatch_info: build_id %s, source %s; console build-id: %s" % (build_id, source, a.console_id))
    rc, log, rec = play(a, w, "again", a.collections, ["lp_state=applied"])
    result("ansible-ssh-again-no-change", rc == 0 and rec.get("changed") == 0 and rec.get("failed") == 0,
           "exit %d, recap %s %s" % (rc, rec, "" if rc == 0 else why(log)))
    if a.broken:
        rc, log, rec = play(a, w, "broken", a.broken, ["lp_state=applied"])
        caught = rc == 0 and rec.get("changed") != 0
        result("ansible-ssh-break-caught", caught,
               "a module that always reports changed, run again: exit %d, recap %s -> %s" % (
                   rc, rec, "the no-change check fails on it" if caught else "NOT caught"))
    rc, log, rec = play(a, w, "absent", a.collections, ["lp_state=absent"])
    _, _, state = lp_state(log, "Read the list again")
    result("ansible-ssh-absent", rc == 0 and rec.get("changed") == 1 and rec.get("failed") == 0 and state is None,
           "exit %d, recap %s; xsa-ssh then: %s %s" % (rc, rec, state or "not loaded", "" if rc == 0 else why(log)))


def main():
    ap = argparse.ArgumentParser()
    for opt in ("--dir", "--console", "--payload", "--build-id", "--bin", "--collections"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--broken")
    a = ap.parse_args()
    ids = console_build_ids(a.console)
    a.console_id = ids[0] if len(ids) == 1 else "none-or-several:" + ",".join(ids)
    w = os.path.join(a.dir, "ansible")
    try:
        run(a, w)
    finally:
        done = subprocess.run(["ssh", "-p", str(a.port), "-i", os.path.join(a.dir, "ssh", "client"), "-o", "BatchMode=yes"]
                              + ssh_args(w).split() + ["root@127.0.0.1", "touch /run/ansible-done"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
        print("ansible-ssh.py: told dom0 it is done: exit %d %s" % (done.returncode, done.stderr.strip()[:200]), flush=True)


if __name__ == "__main__":
    main()
