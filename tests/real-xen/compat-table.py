#!/usr/bin/env python3
"""The per-hypervisor side-by-side table of one run.sh run, from each boot's summary.txt
(written by parse-results.py): detected interface, Debian 12's xen-livepatch alone and
with our library preloaded, the reference, the C and Rust dumps, the growth race, and
the churn counts. Usage: compat-table.py WORKDIR VERSION..."""
import os, re, sys

work, versions = sys.argv[1], sys.argv[2:]
IFACE = {"4.14": "0x13", "4.16": "0x14", "4.17": "0x15", "4.20": "0x15", "4.22": "0x16"}


def load(v):
    res, summ, banner, totals = {}, {}, "", ""
    try:
        lines = open(os.path.join(work, "run-" + v, "summary.txt"), encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        return None
    for ln in lines:
        m = re.match(r"\[xen-[\d.]+\] (PASS|FAIL) (\S+) ?(.*)", ln)
        if m:
            res.setdefault(m.group(2), (m.group(1), m.group(3)))
        m = re.match(r"\[xen-[\d.]+\] summary (\S+): (.*)", ln)
        if m:
            summ[m.group(1)] = m.group(2)
        m = re.match(r"\[xen-[\d.]+\] \(XEN\) Xen version (\S+)", ln)
        if m:
            banner = m.group(1)
        m = re.match(r"\[xen-[\d.]+\] passed=(\d+) failed=(\d+)", ln)
        if m:
            totals = "%s passed, %s failed" % m.groups()
    return res, summ, banner, totals


def ok(res, *names):
    got = [res.get(n, ("missing", ""))[0] for n in names]
    return "PASS" if all(g == "PASS" for g in got) else "FAIL (" + ", ".join(
        "%s %s" % (n, g) for n, g in zip(names, got) if g != "PASS") + ")"


rows = []
for v in versions:
    d = load(v)
    if d is None:
        rows.append([v, IFACE[v], "no result"] + [""] * 7)
        continue
    res, summ, banner, totals = d
    if v == "4.14":
        ref = "Debian 11 xen-livepatch + libxenctrl 4.14: " + (
            "byte-identical" if ok(res, "ref-list-identical-full", "ref-list-identical-after-churn") == "PASS" else "DIFFERENT")
    elif IFACE[v] == "0x15":
        ref = "Debian 12 tool alone: " + ("byte-identical" if ok(res, "xl-list-identical-full") == "PASS" else "DIFFERENT")
    else:
        ref = "expected dump / 4.17 table: " + ok(res, "preloaded-equals-table-full", "preloaded-equals-table-after-churn")
    race = summ.get("race-c", "?")
    m = re.match(r"rc=(-?\d+) errno=\d+ \((.*?)\).*?(\d+) of", race)
    race_c = "rc %s, %s, %s bytes written" % (m.group(1), m.group(2), m.group(3)) if m else race
    rr = summ.get("race-rust", "?")
    m = re.search(r"size probes=(\d+).*?hypervisor errors:(.*?);", rr)
    race_r = ("%s probes,%s" % (m.group(1), m.group(2) or " no error")) if m else rr
    rows.append([
        "%s (%s)" % (v, banner or "?"),
        "%s (expected %s)" % (summ.get("iface", "?"), IFACE[v]),
        summ.get("xl-alone", "?"),
        summ.get("xl-preloaded", "?"),
        ref,
        "C %s / Rust %s" % (ok(res, "c-abi-dump-full", "c-abi-dump-after-churn", "c-abi-dump-after-race"),
                           ok(res, "rust-dump-full", "rust-dump-after-churn", "rust-dump-after-race")),
        race_c + (" " + ok(res, "growth-race-c-enobufs")),
        race_r + (" " + ok(res, "growth-race-rust-reprobes")),
        totals,
    ])

head = ["Xen", "interface detected", "Debian 12 `xen-livepatch list` alone", "same, our .so preloaded",
        "reference", "dumps vs expected", "growth race, C API", "growth race, Rust list()", "checks"]
print("[real-xen] per-hypervisor results (full list):")
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for r in rows:
    print("| " + " | ".join(r) + " |")
for v in versions:
    d = load(v)
    if d:
        for k in ("churn-c", "churn-rust"):
            if k in d[1]:
                print("[real-xen] xen-%s %s: %s" % (v, k, d[1][k]))
