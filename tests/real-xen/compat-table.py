#!/usr/bin/env python3
"""The per-hypervisor side-by-side table of one run.sh run, from each boot's summary.txt
(written by parse-results.py): detected interface, Debian 12's xen-livepatch alone and
with our library preloaded, the reference, the C and Rust dumps, the growth race, and
the churn counts; then the payload lifecycle per hypervisor, by Debian 12's tool and by
Debian 13's. Usage: compat-table.py WORKDIR VERSION..."""
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


def print_table(title, head, rows):
    print("[real-xen] " + title)
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")


def per_version(row):
    """row(v, results, summaries) for each version, or a "no result" row."""
    out = []
    for v in versions:
        d = load(v)
        out.append(row(v, d[0], d[1]) if d else [v, "no result", "", "", ""])
    return out


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

print_table("per-hypervisor results (full list):",
            ["Xen", "interface detected", "Debian 12 `xen-livepatch list` alone", "same, our .so preloaded",
             "reference", "dumps vs expected", "growth race, C API", "growth race, Rust list()", "checks"], rows)


def alone_cell(v, res, summ, tag):
    """A tool alone through the lifecycle (TAG alone, d13): on 0x15 its run, elsewhere
    its EACCES at every step."""
    if IFACE[v] == "0x15":
        return "%s: %s" % (ok(res, "lifecycle-" + tag, "lifecycle-reapply-refused-" + tag), summ.get("lc-" + tag, "?"))
    return "EACCES %s: %s" % (ok(res, "lifecycle-%s-eacces" % tag), summ.get("lc-" + tag, "?"))


def identical_cell(res, name):
    ident = res.get(name, ("missing", ""))
    return "%s, %s" % (ident[0], ident[1].split(":", 1)[-1].strip())


def lifecycle_row(v, res, summ):
    """Debian 12's xen-livepatch through the payload lifecycle: alone, with our library
    preloaded, and the reference (the tool alone on 0x15, Debian 11's tool on 4.14)."""
    alone = alone_cell(v, res, summ, "alone")
    if IFACE[v] == "0x15":
        ref = "the tool alone: " + identical_cell(res, "lifecycle-alone-identical")
    elif v == "4.14":
        ref = "Debian 11 xen-livepatch 4.14 %s (%s); identical to ours: %s" % (
            ok(res, "lifecycle-ref", "lifecycle-reapply-refused-ref"), summ.get("lc-ref", "?"),
            identical_cell(res, "lifecycle-ref-identical"))
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


print_table("the payload lifecycle (upload, apply, revert, apply again, upload + replace, "
            "revert, unload both, load, revert, unload; a reverted hook payload refused):",
            ["Xen", "Debian 12 `xen-livepatch` alone", "with our library preloaded", "reference", "`xc-livepatch`"],
            per_version(lifecycle_row))


def d13_row(v, res, summ):
    """Debian 13's xen-livepatch 4.20 (libxenctrl 4.20, its libraries on their own)
    through the same lifecycle: alone, with our library preloaded, identical where both
    run, and its --force upload."""
    alone = alone_cell(v, res, summ, "d13")
    same = identical_cell(res, "lifecycle-d13-identical") if IFACE[v] == "0x15" else "alone it cannot run (EACCES)"
    pre = "%s: %s" % (ok(res, "lifecycle-d13pre", "lifecycle-reapply-refused-d13pre"), summ.get("lc-d13pre", "?"))
    force = ", ".join("%s %s" % (w, res[k][0]) for w, k in (("alone", "d13-force-upload-alone"),
                                                            ("preloaded", "d13-force-upload-preloaded")) if k in res)
    return [v, alone, pre, same, force or "not run (Xen before 4.19 refuses the flag)"]


print_table("Debian 13's xen-livepatch 4.20 through the same lifecycle:",
            ["Xen", "Debian 13 `xen-livepatch` alone", "with our library preloaded", "identical", "`--force upload`"],
            per_version(d13_row))
for v in versions:
    d = load(v)
    if d:
        for k in ("churn-c", "churn-rust"):
            if k in d[1]:
                print("[real-xen] xen-%s %s: %s" % (v, k, d[1][k]))
