#!/usr/bin/env python3
"""The per-hypervisor side-by-side table of one run.sh run, from each boot's summary.txt
(written by parse-results.py): detected interface, Debian 12's xen-livepatch alone and
with our library preloaded, the reference, the C and Rust dumps, the growth race, and
the churn counts; then the payload lifecycle per hypervisor. Usage: compat-table.py WORKDIR VERSION..."""
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


def lifecycle_row(v, res, summ):
    """Debian 12's xen-livepatch through the payload lifecycle: alone, with our library
    preloaded, and the reference (the tool alone on 0x15, Debian 11's tool on 4.14)."""
    if IFACE[v] == "0x15":
        alone = "%s: %s" % (ok(res, "lifecycle-alone", "lifecycle-reapply-refused-alone"), summ.get("lc-alone", "?"))
        ident = res.get("lifecycle-alone-identical", ("missing", ""))
        ref = "the tool alone: %s, %s" % (ident[0], ident[1].split(":", 1)[-1].strip())
    else:
        alone = "EACCES %s: %s" % (ok(res, "lifecycle-alone-eacces"), summ.get("lc-alone", "?"))
        if v == "4.14":
            ident = res.get("lifecycle-ref-identical", ("missing", ""))
            ref = "Debian 11 xen-livepatch 4.14 %s (%s); identical to ours: %s, %s" % (
                ok(res, "lifecycle-ref", "lifecycle-reapply-refused-ref"), summ.get("lc-ref", "?"),
                ident[0], ident[1].split(":", 1)[-1].strip())
        else:
            ref = "no tool speaks 0x%s: the 4.17 tool's planned output" % IFACE[v][2:]
    pre = "%s: %s" % (ok(res, "lifecycle-preloaded", "lifecycle-reapply-refused-preloaded"), summ.get("lc-preloaded", "?"))
    xc = "%s: %s; other build id refused: %s" % (ok(res, "lifecycle-xc", "lifecycle-reapply-refused-xc"),
                                                 summ.get("lc-xc", "?"), ok(res, "xc-upload-wrong-build-id-refused"))
    if "lifecycle-xcs" in res:
        xc += "; static build: %s, %s, identical: %s" % (
            ok(res, "lifecycle-xcs", "lifecycle-reapply-refused-xcs"), summ.get("lc-xcs", "?"),
            res.get("lifecycle-static-identical", ("missing", ""))[0])
    return [v, alone, pre, ref, xc]


print("[real-xen] the payload lifecycle (upload, apply, revert, apply again, upload + replace, "
      "revert, unload both, load, revert, unload; a reverted hook payload refused):")
head = ["Xen", "Debian 12 `xen-livepatch` alone", "with our library preloaded", "reference", "`xc-livepatch`"]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for v in versions:
    d = load(v)
    print("| " + " | ".join(lifecycle_row(v, d[0], d[1]) if d else [v, "no result", "", "", ""]) + " |")
for v in versions:
    d = load(v)
    if d:
        for k in ("churn-c", "churn-rust"):
            if k in d[1]:
                print("[real-xen] xen-%s %s: %s" % (v, k, d[1][k]))
