#!/usr/bin/env python3
"""Report of `bench/real-xen.sh --actions N`: parses actions.c's lines on the console.

    actions-report.py --console LOG --qemu-rc RC

Prints, per tool, completed applies and reverts, `Operation didn't complete.` count,
wrong outputs, time per completed action (all its action processes' time divided by
the actions that completed) and the medians; the ratio of each xc-livepatch build
(labels xc-livepatch*) to xen-livepatch, and README rows. Exit status 0 only if the
run completed and no output was wrong (the target, a quarter of xen-livepatch's time,
is reported, not enforced).
"""
import argparse, re, sys

KV = re.compile(r"(\w+)=(\S+)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--qemu-rc", type=int, default=0)
    a = ap.parse_args()
    text = open(a.console, "rb").read().decode("utf-8", "replace").replace("\r", "")
    tools, done, errors = {}, "INIT-DONE" in text, []
    for line in text.split("\n"):
        for key in ("ACTIONS ", "ACTION-OUTPUT", "BENCH-ERROR"):
            i = line.find(key)
            if i < 0:
                continue
            if key == "ACTIONS ":
                d = dict(KV.findall(line[i:]))
                tools[d["tool"]] = d
            else:
                errors.append(line[i:])
    for e in errors:
        print(e)
    ms = lambda ns: "%.1f ms" % (int(ns) / 1e6)
    print("%-20s %8s %8s %10s %6s %14s %14s %14s" % ("tool", "applies", "reverts", "incomplete", "wrong",
                                                    "per completed", "median apply", "median revert"))
    for t, d in tools.items():
        print("%-20s %8s %8s %10s %6s %14s %14s %14s" % (t, d["apply_completed"], d["revert_completed"], d["incomplete"],
                                                         d["wrong"], ms(d["per_completed_ns"]), ms(d["median_apply_ns"]),
                                                         ms(d["median_revert_ns"])))
    print("%-20s %14s %14s %14s" % ("", "min apply", "min revert", "start (median/min)"))
    for t, d in tools.items():
        print("%-20s %14s %14s %14s" % (t, ms(d["min_apply_ns"]), ms(d["min_revert_ns"]),
                                        "%s / %s" % (ms(d["median_start_ns"]), ms(d["min_start_ns"]))))
    xl = tools.get("xen-livepatch")
    ours = {t: d for t, d in tools.items() if t.startswith("xc-livepatch")}
    ok = done and a.qemu_rc == 0 and xl is not None and len(ours) > 0 and not errors and int(xl["wrong"]) == 0
    med = lambda d: (int(d["median_apply_ns"]) + int(d["median_revert_ns"])) / 2
    above = lambda d: med(d) - int(d["median_start_ns"])
    rows = []
    for t, xc in ours.items():
        ok = ok and int(xc["incomplete"]) == 0 and int(xc["wrong"]) == 0
        if not xl or not int(xl["per_completed_ns"]) or not int(xc["per_completed_ns"]):
            ok = False
            continue
        print("%s medians: per action %.3f of xen-livepatch's; above each tool's own process start (`--help`): "
              "%.1f ms against %.1f ms (%.3f)" % (
                  t, med(xc) / med(xl), above(xc) / 1e6, above(xl) / 1e6, above(xc) / above(xl) if above(xl) else 0))
        ratio = int(xc["per_completed_ns"]) / int(xl["per_completed_ns"])
        print("ratio %s / xen-livepatch per completed action: %.3f (target at most 0.25: %s)"
              % (t, ratio, "met" if ratio <= 0.25 else "NOT met"))
        n = int(xc["rounds"]) * 2
        rows.append("| %s cycles | %s | %s (%s incomplete of %d) | %s (%s incomplete of %d) | %.2f |" % (
            xc["rounds"], t, ms(xl["per_completed_ns"]), xl["incomplete"], n, ms(xc["per_completed_ns"]),
            xc["incomplete"], n, ratio))
    if rows:
        print("README rows:")
        print("\n".join(rows))
    print("%s: run complete (qemu rc %d, INIT-DONE %s), every output as expected, every action of each xc-livepatch build completed"
          % ("PASS" if ok else "FAIL", a.qemu_rc, done))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
