#!/usr/bin/python3
"""On a terminal (a pseudo-terminal here, raw mode: no \\n -> \\r\\n), the
command shows control bytes in payload names, metadata and file names
escaped as `--format dump` escapes names (\\xNN, a backslash as \\\\); into
a pipe the same text is the raw bytes (xen-livepatch's). Each stream is
judged by itself: stdout a terminal and stderr a pipe, and the other way.

Usage: tty_check.py XC_LIVEPATCH SCENARIO
Prints one line per case and "N passed, M failed"."""
import os
import pty
import select
import subprocess
import sys
import tty

CLI, SCN = sys.argv[1], sys.argv[2]
HOSTILE = b"lp-\x1b]0;pwned\x07"
SHOWN = b"lp-\\x1b]0;pwned\\x07"


def run(args, out_tty, err_tty):
    """Runs CLI --sim SCN ARGS; returns (stdout, stderr, exit status)."""
    fds, masters = {}, {}
    for which, on in (("out", out_tty), ("err", err_tty)):
        if on:
            m, s = pty.openpty()
            tty.setraw(s)
            fds[which], masters[which] = s, m
        else:
            r, w = os.pipe()
            fds[which], masters[which] = w, r
    p = subprocess.Popen([CLI, "--sim", SCN] + args, stdin=subprocess.DEVNULL, stdout=fds["out"], stderr=fds["err"])
    for fd in fds.values():
        os.close(fd)
    got = {"out": b"", "err": b""}
    open_ = dict(masters)
    while open_:
        ready, _, _ = select.select(list(open_.values()), [], [], 30)
        if not ready:
            p.kill()
            raise SystemExit("no output for 30 s")
        for which, fd in list(open_.items()):
            if fd in ready:
                try:
                    b = os.read(fd, 65536)
                except OSError:  # EIO: the pty's other side is closed
                    b = b""
                if b:
                    got[which] += b
                else:
                    os.close(fd)
                    del open_[which]
    return got["out"], got["err"], p.wait(timeout=60)


def controls(b):
    return any(c < 0x20 and c != 0x0A or c == 0x7F for c in b)


CASES = []


def case(f):
    CASES.append(f)
    return f


@case
def list_table_escaped_on_a_terminal_raw_into_a_pipe():
    out, _, rc = run(["list"], True, False)
    assert rc == 0 and not controls(out), out
    assert SHOWN in out and b"K=\\x1b[2J" in out and b"lp-bel\\x07\\x1b[31m" in out, out
    raw, _, _ = run(["list"], False, False)
    assert HOSTILE in raw and b"K=\x1b[2J" in raw, raw


@case
def action_lines_escaped_on_a_terminal():
    out, err, rc = run(["apply", os.fsdecode(HOSTILE)], True, True)
    assert (out, err, rc) == (b"Applying " + SHOWN + b"... completed\n", b"", 0), (out, err, rc)
    out, _, _ = run(["apply", os.fsdecode(HOSTILE)], False, False)
    assert out == b"Applying " + HOSTILE + b"... completed\n", out


@case
def stderr_judged_by_itself():
    name = b"nope\x1b[2J"
    want = b"Failed to get status of %s.\nError 2: No such file or directory\n"
    _, err, rc = run(["apply", os.fsdecode(name)], True, True)
    assert (err, rc) == (want % b"nope\\x1b[2J", 1), err
    _, err, _ = run(["apply", os.fsdecode(name)], True, False)
    assert err == want % name, err
    # stdout a pipe, stderr a terminal: the wrong-state lines escaped.
    out, err, rc = run(["unload", "lp-bel\x07\x1b[31m"], False, True)
    assert err.startswith(b"lp-bel\\x07\\x1b[31m is in the wrong state.\n") and rc == 1, err


@case
def refusal_lines_escape_the_file_name():
    f = "missing\x1b]8;;x\x07.livepatch"
    _, err, rc = run(["upload", "lp-x", f], False, True)
    assert err.startswith(b"xc-livepatch: cannot open missing\\x1b]8;;x\\x07.livepatch: ") and rc == 1, err
    assert err.count(b"\n") == 1 and not controls(err.rstrip(b"\n")), err
    _, err, _ = run(["upload", "lp-x", f], False, False)
    assert err.startswith(b"xc-livepatch: cannot open " + os.fsencode(f) + b": "), err


def main():
    ok = bad = 0
    for c in CASES:
        try:
            c()
            ok += 1
            print(f"  ok   {c.__name__}")
        except AssertionError as e:
            bad += 1
            print(f"  FAIL {c.__name__}: {str(e)[:300]}")
    print(f"{ok} passed, {bad} failed")
    sys.exit(1 if bad else 0)


main()
