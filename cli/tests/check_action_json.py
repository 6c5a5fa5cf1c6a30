#!/usr/bin/python3
"""Validates the --json documents of xc-livepatch's managing subcommands
(upload, apply, revert, replace, unload, load) against their JSON Schema
with Debian's python3-jsonschema, and checks what the schema cannot say:
ok == (exit_status == 0); the exit status follows the steps (xen-livepatch's
mapping: a failed step's errno EAGAIN/EBUSY gives 2, another 1); steps of a
load are upload, apply[, unload]; elapsed_ns is the steps' sum; a step that
did not complete ends the list (but load's unload after a failed apply);
message is null exactly for completed and no_action_needed steps;
interrupted names the signal exactly when the last step was interrupted,
and the exit status is then 128 + the signal; an ended_with_error step's
errno is -after.rc, or null for rc INT_MIN (which has no errno) where the
schema's errno description says so.

Usage: check_action_json.py SCHEMA JSON_FILE...
Prints one line per failing file and "N passed, M failed"."""
import sys

import jsoncheck

DONE = ("completed", "no_action_needed")


def check(doc, errno_doc):
    steps = doc["steps"]
    assert doc["ok"] == (doc["exit_status"] == 0), "ok disagrees with exit_status"
    assert doc["elapsed_ns"] == sum(s["elapsed_ns"] for s in steps), "elapsed_ns is not the steps' sum"
    kinds = [s["step"] for s in steps]
    if doc["command"] == "load":
        assert kinds in (["upload"], ["upload", "apply"], ["upload", "apply", "unload"]), f"load steps {kinds}"
        if len(steps) == 3:
            assert steps[1]["result"] not in DONE, "unloaded after a successful apply"
        decisive = steps[:2]
    else:
        assert kinds == [doc["command"]], f"{doc['command']} has steps {kinds}"
        decisive = steps
    if len(steps) > 1:
        assert steps[0]["result"] in DONE, "a step after a failed upload"
    for s in steps:
        assert (s["message"] is None) == (s["result"] in DONE), f"message {s['message']!r} for {s['result']}"
        if s["result"] in DONE:
            assert s["errno"] is None, "an errno for a step that succeeded"
    failed = [s for s in decisive if s["result"] not in DONE]
    stopped = [s for s in steps if s["result"] == "interrupted"]
    assert (doc["interrupted"] is None) == (not stopped), "interrupted disagrees with the steps"
    assert not stopped or stopped[0] is steps[-1], "a step after an interrupted one"
    if doc["interrupted"] is not None:
        want = {"SIGINT": 130, "SIGTERM": 143}[doc["interrupted"]]
    elif not failed:
        want = 0
    else:
        e = failed[0]["errno"]
        want = 2 if e and e["name"] in ("EAGAIN", "EBUSY") else 1
    for s in steps:
        # errno is the payload's rc as a positive errno, INT_MIN excepted (null).
        rc = (s["after"] or {}).get("rc", 0)
        if s["result"] == "ended_with_error" and rc < 0:
            want_errno = None if rc == -(2**31) else -rc
            got = s["errno"]["number"] if s["errno"] else None
            assert got == want_errno, f"errno {s['errno']} for rc {rc}"
            assert got is not None or "-2147483648" in errno_doc, "errno null for rc INT_MIN, which the schema does not say"
    assert doc["exit_status"] == want, f"exit_status {doc['exit_status']}, the steps say {want}"
    assert doc["wait_ns"] is None if doc["command"] == "upload" else doc["wait_ns"] is not None


def main():
    v = jsoncheck.validator(sys.argv[1])
    errno_doc = v.schema["$defs"]["step"]["properties"]["errno"]["description"]
    return jsoncheck.report(((p, p) for p in sys.argv[2:]), lambda path: check(jsoncheck.load_valid(v, path), errno_doc))


sys.exit(main())
