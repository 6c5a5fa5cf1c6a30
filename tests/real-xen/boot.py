#!/usr/bin/env python3
"""Run QEMU, copy its serial console (stdout) to a log, and never hang:
  - hard timeout (exit 124), QEMU killed;
  - fatal console patterns (Xen panic, dom0 crash, kernel panic): QEMU is killed a few
    seconds later (exit 125), since Xen with 'noreboot' would otherwise wait forever.
  - with --run CMD: once the console prints SSH-READY, CMD runs (sh -c, its output
    to --run-log), while the console is still copied; it is killed with QEMU if it
    is still running then (the guest waits, bounded, for CMD to say it is done).
Prints when Xen, the dom0 kernel, /init and INIT-DONE showed up (seconds since start).
Usage: boot.py --timeout S --log FILE [--run CMD --run-log FILE] -- qemu args..."""
import argparse, os, re, select, signal, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--timeout", type=float, required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--run", help="a command to run (sh -c) once the console prints SSH-READY")
ap.add_argument("--run-log")
ap.add_argument("cmd", nargs=argparse.REMAINDER)
a = ap.parse_args()
cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

FATAL = re.compile(rb"Hardware Dom0 crashed|Panic on CPU|Kernel panic - not syncing|domain_crash_sync")
MARKS = [("xen", rb"Xen version"), ("dom0-kernel", rb"Linux version|Serial input to DOM0"), ("init", rb"STAGE init"),
         ("ssh-ready", rb"SSH-READY"), ("init-done", rb"INIT-DONE")]
t0 = time.monotonic()
seen = {}
p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
log = open(a.log, "wb")
buf = b""
fatal_at = None
rc = None
fd = p.stdout.fileno()
runner = None


def start_runner():
    """CMD in a session of its own (so that it can be killed whole), as the console said SSH-READY."""
    out = open(a.run_log or os.devnull, "wb")
    return subprocess.Popen(["/bin/sh", "-c", a.run], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


while True:
    now = time.monotonic() - t0
    if now > a.timeout:
        rc = 124
        log.write(b"\n[boot.py] timeout after %.0fs: killing QEMU\n" % a.timeout)
        break
    if fatal_at is not None and now > fatal_at + 3:
        rc = 125
        log.write(b"\n[boot.py] fatal console message: killing QEMU\n")
        break
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        chunk = os.read(fd, 65536)
        if not chunk:
            rc = p.wait()
            break
        log.write(chunk)
        log.flush()  # the --run command reads the console as it goes (Xen's build-id line)
        buf = (buf + chunk)[-200000:]
        for name, pat in MARKS:
            if name not in seen and re.search(pat, buf):
                seen[name] = now
        if a.run and runner is None and "ssh-ready" in seen:
            runner = start_runner()
        if runner is not None and "run-done" not in seen and runner.poll() is not None:
            seen["run-done"] = now
        if fatal_at is None and FATAL.search(chunk if len(chunk) > 200 else buf[-4096:]):
            fatal_at = now
if p.poll() is None:
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
if runner is not None and runner.poll() is None:
    log.write(b"\n[boot.py] the --run command still running as QEMU ended: killed\n")
    os.killpg(runner.pid, signal.SIGKILL)
    runner.wait()
log.close()
total = time.monotonic() - t0
sys.stderr.write("[real-xen] boot timeline (s since QEMU start): %s; QEMU gone at %.1f (status %d)\n"
                 % (", ".join("%s %.1f" % (k, v) for k, v in sorted(seen.items(), key=lambda kv: kv[1])),
                    total, rc))
sys.exit(rc)
