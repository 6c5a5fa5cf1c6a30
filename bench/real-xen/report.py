#!/usr/bin/env python3
"""Report of the real-Xen benchmark: parses the dom0 console of bench/real-xen.sh.

    report.py --console LOG --qemu-rc RC [--csv docs/bench-real-xen.csv]

Prints, per payload set, each implementation's median / minimum / p10 / p90 time
of get_sizes + list, the ratios of medians (and of minimums) to the floor and to
libxenctrl, and the per-call counts; the expectations the run must meet (every
output identical to libxenctrl's; the floor and this library at 1 + ceil(N/1024)
hypercalls and no buffer mapping per call at 1000 payloads) as PASS/FAIL lines;
then README rows. Exit status 0 only if the run completed and every expectation held.
"""
import argparse, csv, math, re, sys

KV = re.compile(r"(\w+)=(\S+)")


def parse(path):
    bench, count, check, other = {}, {}, [], []
    for raw in open(path, "rb").read().decode("utf-8", "replace").splitlines():
        line = raw.strip("\r")
        for key in ("BENCH ", "COUNT ", "CHECK ", "UPLOADED ", "UNLOADED ", "BENCH-ERROR", "INIT-DONE",
                    "DOM0 ", "STAGE ", "KERNEL-LOG"):
            i = line.find(key)
            if i < 0:
                continue
            line = line[i:]
            d = dict(KV.findall(line))
            if key == "BENCH ":
                bench[(d["tag"], d["impl"])] = d
            elif key == "COUNT ":
                count[(d["tag"], d["impl"])] = d
            elif key == "CHECK ":
                check.append(line)
            else:
                other.append(line)
            break
    return bench, count, check, other


def fmt_t(ns):
    us = ns / 1000
    return "%.2f ms" % (us / 1000) if us >= 1000 else "%.1f µs" % us


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--qemu-rc", type=int, default=0)
    ap.add_argument("--csv")
    a = ap.parse_args()
    bench, count, check, other = parse(a.console)
    for l in other:
        if not l.startswith("STAGE"):
            print(l)
    results = []  # (name, ok, detail)
    results.append(("run-complete", any(l.startswith("INIT-DONE") for l in other) and a.qemu_rc == 0
                    and not any(l.startswith("BENCH-ERROR") for l in other), "qemu rc %d" % a.qemu_rc))
    results.append(("outputs-identical-to-libxenctrl", bool(check) and all("same-output" in l for l in check),
                    "%d implementations x sets compared" % len(check)))
    tags = []
    for (tag, _impl) in bench:
        if tag not in tags:
            tags.append(tag)
    rows, readme = [], []
    for tag in tags:
        impls = [i for (t, i) in bench if t == tag]
        f = bench.get((tag, "floor"))
        x = bench.get((tag, "libxenctrl"))
        any_d = bench[(tag, impls[0])]
        nr, mb = int(any_d["nr"]), int(any_d["meta_bytes"])
        meta_each = mb // nr if nr else 0
        print("\n== set %s: %d payloads x %d B metadata (names %s B, metadata %d B); %s rounds, interleaved"
              % (tag, nr, meta_each, any_d["name_bytes"], mb, any_d["rounds"]))
        print("%-12s %10s %10s %10s %10s %15s %15s %7s %7s %6s %6s %6s %6s" % ("impl", "median", "min", "p10", "p90",
              "vs floor", "vs libxenctrl", "paired", "paired", "hcall", "maps", "unmap", "getpid"))
        print("%-12s %10s %10s %10s %10s %15s %15s %7s %7s" % ("", "", "", "", "", "med (min)", "med (min)",
              "/floor", "/xc"))
        for impl in impls:
            d = bench[(tag, impl)]
            med, mn = int(d["median_ns"]), int(d["min_ns"])
            c = count.get((tag, impl), {})
            unit = impl.startswith("unit-")
            rf = (med / int(f["median_ns"]), mn / int(f["min_ns"])) if f and not unit else None
            rx = (med / int(x["median_ns"]), mn / int(x["min_ns"])) if x and not unit else None
            pf, px = float(d.get("paired_vs_floor", 0)), float(d.get("paired_vs_libxenctrl", 0))
            print("%-12s %10s %10s %10s %10s %15s %15s %7s %7s %6s %6s %6s %6s" % (
                impl, fmt_t(med), fmt_t(mn), fmt_t(int(d["p10_ns"])), fmt_t(int(d["p90_ns"])),
                "%.2f (%.2f)" % rf if rf else "", "%.2f (%.2f)" % rx if rx else "",
                "%.3f" % pf if pf and not unit else "", "%.3f" % px if px and not unit else "",
                c.get("hypercalls", ""), c.get("map_device", ""), c.get("munmap", ""), c.get("getpid", "")))
            rows.append({"set": tag, "payloads": nr, "metadata_bytes_each": meta_each, "impl": impl,
                         "rounds": d["rounds"], "median_us": "%.1f" % (med / 1000), "min_us": "%.1f" % (mn / 1000),
                         "p10_us": "%.1f" % (int(d["p10_ns"]) / 1000), "p90_us": "%.1f" % (int(d["p90_ns"]) / 1000),
                         "median_vs_floor": "%.3f" % rf[0] if rf else "", "min_vs_floor": "%.3f" % rf[1] if rf else "",
                         "median_vs_libxenctrl": "%.3f" % rx[0] if rx else "",
                         "min_vs_libxenctrl": "%.3f" % rx[1] if rx else "",
                         "paired_vs_floor": "%.3f" % pf if pf and not unit else "",
                         "paired_vs_libxenctrl": "%.3f" % px if px and not unit else "",
                         "hypercalls_per_call": c.get("hypercalls", ""),
                         "short_replies_per_call": c.get("short", ""), "e2big_per_call": c.get("e2big", ""),
                         "buffer_mappings_per_call": c.get("map_device", ""),
                         "munmap_per_call": c.get("munmap", ""), "getpid_per_call": c.get("getpid", "")})
            if not unit and impl in ("libxenctrl", "ours", "floor"):
                readme.append("| %d × %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    nr, "%d B" % meta_each if meta_each < 1024 else "%d KiB" % (meta_each // 1024),
                    {"ours": "xc-livepatch"}.get(impl, impl), fmt_t(med), fmt_t(mn),
                    "%.2f (%.2f; %.2f)" % (pf, rf[0], rf[1]) if impl != "floor" else "1",
                    "%.2f (%.2f; %.2f)" % (px, rx[0], rx[1]) if impl != "libxenctrl" else "1",
                    c.get("hypercalls", "?"), c.get("map_device", "?")))
        want = 1 + math.ceil(nr / 1024)
        for impl in ("floor", "ours"):
            c = count.get((tag, impl))
            if not c:
                results.append(("counts-%s-%s" % (tag, impl), False, "no COUNT line"))
                continue
            # Xen 4.17 ends a LIST call early when it wants to preempt (the
            # reply then has fewer entries than asked and more left): each such
            # short reply costs one more call, for any implementation alike.
            # So: one probe, and at most ceil(N/1024) data calls besides the short ones
            # (short replies leave fewer entries for the full batches).
            data = round(float(c["hypercalls"]) - float(c["probes"]) - float(c["short"]), 6)
            ok = 1 <= data <= want - 1 and float(c["probes"]) == 1
            maps = float(c["map_device"]) + float(c["map_anon"])
            if impl == "floor" or tag == "small":
                ok = ok and maps == 0
            else:
                ok = ok and float(c["map_device"]) <= 2   # the 1 MiB cap: at most 2 per call
            # neither makes any other system call it could avoid (getpid: the
            # pool's old fork check, ~45 µs each under TCG)
            ok = ok and float(c["getpid"]) == 0
            results.append(("counts-%s-%s" % (tag, impl), ok, "hypercalls %s = probes %s + %.2f full data calls + %s short (want 1 probe + 1 to %d), mappings %s+%s, getpid %s" % (
                c["hypercalls"], c["probes"], data, c["short"], want - 1, c["map_device"], c["map_anon"], c["getpid"])))
        # above the floor, per implementation (medians and minimums, in µs)
        if f:
            print("above the floor (median / min): " + ", ".join(
                "%s %+.0f / %+.0f µs" % (i, (int(bench[(tag, i)]["median_ns"]) - int(f["median_ns"])) / 1000,
                                          (int(bench[(tag, i)]["min_ns"]) - int(f["min_ns"])) / 1000)
                for i in impls if i not in ("floor",) and not i.startswith("unit-")))
    print("\nREADME rows (ratios: median of per-round ratios (of medians; of minimums); counts per call):")
    print("| payloads × metadata | implementation | median | min | vs floor | vs libxenctrl | hypercalls | buffer mappings |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(readme))
    if a.csv and rows:
        with open(a.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
            w.writeheader()
            w.writerows(rows)
        print("wrote %s" % a.csv)
    print()
    for name, ok, detail in results:
        print("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail))
    npass = sum(1 for r in results if r[1])
    print("%d passed, %d failed" % (npass, len(results) - npass))
    sys.exit(0 if npass == len(results) else 1)


if __name__ == "__main__":
    main()
