#!/usr/bin/env python3
"""Regression guard for the benchmark's exact counts (they are deterministic,
unlike timings). For each scenario, runs bench/bench.c under fakexen with our
library and asserts, per get_sizes + list call:

  steady state (averaged over K calls after the first):
    hypercalls      == 1 probe + ceil(N / batch), batch = min(1024, preempt)
    E2BIG           == 0
    buffer mappings == 0 and bytes mapped == 0 when the list's buffer and
                       the probe's page fit the pool's cap together (1 MiB by
                       default, XC_LIVEPATCH_KEEP_BYTES); otherwise 1 mapping
                       of exactly the list's buffer, unmapped before the call
                       returns (with a cap below one page: 2, page included)
  a fresh process (interface probe + sizing get_sizes + one get_sizes + list):
    hypercalls      == 1 (0x16 refused on 0x15) + 1 + 1 + ceil(N / batch)
    buffer mappings == 2 (one page for the probes, one arena for the list;
                       1 when the arena fits in the probes' page)
    arena bytes     <= bytes listed + 2 pages

The real libxenctrl's counts are printed beside ours for reference.

With a second binary (bench/manage.c), the same for the management
functions (upload, get, the actions), per library call:
  steady state: 1 hypercall; no mapping when the call's one buffer (the
                xen_sysctl, the name, the payload: 136 + 128 + size bytes,
                in pages) fits in the pool's cap, else exactly one mapping
                of that buffer
  a fresh process: the refused interface versions (0x16 on a 0x15 Xen:
                1; on 0x13: 3; on 0x16: 0) + the calls, one mapping

    python3 bench/counts.py BENCH_BINARY [MANAGE_BINARY]
Prints "N passed, M failed".
"""
import math
import os
import subprocess
import sys
import tempfile

from run import write_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FX = os.path.join(ROOT, "target/release/libfakexen.so")
OURS = os.path.join(ROOT, "target/release/libxc_livepatch.so")
K = 3
PAGE = 4096


KEEP = 1 << 20  # the library's default cap on buffers kept between calls
SYSCTL = 136


def arena_bytes(n, meta):
    """The list buffer for bench.c's call on `n` generated payloads: the
    xen_sysctl, 16 bytes of arrays per entry, the names ("lp-%05d" and NUL:
    9 bytes each), and the metadata capacity bench.c passes (total + 1), in
    whole pages."""
    return math.ceil((SYSCTL + 16 * n + 9 * n + n * meta + 1) / PAGE) * PAGE


def run(bench, scn, preload, iters, out, keep=None):
    env = dict(os.environ, FAKEXEN_SCENARIO=scn, LD_PRELOAD=preload, FAKEXEN_COUNTERS=out)
    env.pop("XC_LIVEPATCH_KEEP_BYTES", None)
    if keep is not None:
        env["XC_LIVEPATCH_KEEP_BYTES"] = str(keep)
    p = subprocess.run([bench, str(iters), "0"], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip())
    res = dict(zip(p.stdout.split()[0::2], map(int, p.stdout.split()[1::2])))
    c = {}
    for line in open(out):
        k, v = line.split()
        c[k] = int(v)
    return res, c


def run_manage(binary, scn, preload, op, iters, size, out):
    env = dict(os.environ, FAKEXEN_SCENARIO=scn, LD_PRELOAD=preload, FAKEXEN_COUNTERS=out)
    env.pop("XC_LIVEPATCH_KEEP_BYTES", None)
    p = subprocess.run([binary, op, str(iters), str(size)], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"manage {op} failed ({p.returncode}): {p.stderr.strip()}")
    c = {}
    for line in open(out):
        k, v = line.split()
        c[k] = int(v)
    return int(p.stdout.split()[1]), c


def manage_counts(binary, tmp):
    """The management functions' exact counts; returns (passed, failed)."""
    passed = failed = 0
    scn = os.path.join(tmp, "m.scn")
    # (op, payload size, library calls an iteration, buffer bytes of each call)
    ops = [("get", 4096, 1, [0]), ("cycle", 4096, 2, [0, 0]), ("replace", 4096, 1, [0]),
           ("upload", 4096, 1, [4096]), ("unload", 4096, 2, [4096, 0]),
           ("upload", 1 << 20, 1, [1 << 20]), ("upload", 2 << 20, 1, [2 << 20])]
    for iface, refused in ((0x15, 1), (0x16, 0), (0x13, 3)):
        with open(scn, "w") as f:
            f.write(f"interface {iface:#x}\npayload p1\npayload p2\n")
        for op, size, per_iter, payloads in ops:
            if iface != 0x15 and size > 4096:
                continue
            name = f"{op} {size} B interface {iface:#x}" if op in ("upload", "unload") else f"{op} interface {iface:#x}"
            libs = (("real", FX), ("ours", f"{FX} {OURS}")) if iface == 0x15 else (("ours", f"{FX} {OURS}"),)
            got = {}
            for lib, pre in libs:
                n1, c1 = run_manage(binary, scn, pre, op, 1, size, os.path.join(tmp, "m1"))
                nk, ck = run_manage(binary, scn, pre, op, 1 + K, size, os.path.join(tmp, "mk"))
                calls = nk - n1
                got[lib] = (c1, {k: (ck[k] - c1[k]) / calls for k in ("hypercalls", "buffer_mappings", "bytes_mapped")})
            c1, st = got["ours"]
            bufs = [math.ceil((SYSCTL + 128 + b) / PAGE) * PAGE for b in payloads]
            kept = [b for b in bufs if b <= KEEP]
            checks = [
                ("steady hypercalls per call", st["hypercalls"], 1),
                ("steady buffer mappings per call", st["buffer_mappings"], (len(bufs) - len(kept)) / per_iter),
                ("steady bytes mapped per call", st["bytes_mapped"], sum(b for b in bufs if b > KEEP) / per_iter),
                ("fresh-process hypercalls", c1["hypercalls"], refused + per_iter),
                # The first call's buffer; the unload after an upload reuses it.
                ("fresh-process buffer mappings", c1["buffer_mappings"], 1),
                ("fresh-process bytes mapped", c1["bytes_mapped"], bufs[0]),
                ("strict-mode violations", c1["strict_violations"], 0),
            ]
            bad = [(w, g, x) for w, g, x in checks if g != x]
            ref = ""
            if "real" in got:
                rc1, rst = got["real"]
                ref = (f"; libxenctrl {rst['hypercalls']:g} hypercalls, {rst['buffer_mappings']:g} mappings, "
                       f"{rst['bytes_mapped']:g} B (fresh process {rc1['hypercalls']} / {rc1['buffer_mappings']} / "
                       f"{rc1['bytes_mapped']} B)")
            if bad:
                failed += 1
                print(f"FAIL {name}: " + "; ".join(f"{w}: got {g}, want {x}" for w, g, x in bad))
            else:
                passed += 1
                print(f"ok   {name}: per call ours {st['hypercalls']:g} hypercalls, {st['buffer_mappings']:g} mappings, "
                      f"{st['bytes_mapped']:g} B (fresh process {c1['hypercalls']} / {c1['buffer_mappings']} / "
                      f"{c1['bytes_mapped']} B){ref}")
    return passed, failed


def main():
    bench = sys.argv[1]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        scn = os.path.join(tmp, "s.scn")
        for n, meta, device, preempt, keep in [
            (1, 0, True, None, None), (64, 1024, True, None, None), (1024, 0, True, None, None),
            (1024, 4096, True, None, None), (1025, 64, True, None, None), (5000, 4096, True, None, None),
            (1024, 64, True, 64, None), (5000, 0, True, 64, None), (1025, 1024, False, None, None),
            (5000, 4096, False, None, None), (1025, 0, False, 64, None),
            # The cap set by the environment: 64 MiB keeps the 20 MiB buffer,
            # 0 keeps nothing (not even the probe's page).
            (5000, 4096, True, None, "64M"), (1024, 0, True, None, "0"),
        ]:
            write_scenario(scn, n, meta, device, preempt)
            batch = min(1024, preempt or 1024)
            data_calls = math.ceil(n / batch)
            name = f"N={n} meta={meta} device={'yes' if device else 'no'} preempt={preempt or '-'}"
            if keep is not None:
                name += f" XC_LIVEPATCH_KEEP_BYTES={keep}"
            cap = KEEP if keep is None else {"64M": 64 << 20, "0": 0}[keep]
            arena = arena_bytes(n, meta)
            # Per call: the list's buffer unless it fits beside the page; the
            # page too if even that does not fit.
            maps = (arena + PAGE > cap) + (PAGE > cap)
            mapped = arena * (arena + PAGE > cap) + PAGE * (PAGE > cap)
            counts = {}
            for lib, pre in (("real", FX), ("ours", f"{FX} {OURS}")):
                env_keep = keep if lib == "ours" else None
                r1, c1 = run(bench, scn, pre, 1, os.path.join(tmp, "c1"), env_keep)
                _, ck = run(bench, scn, pre, 1 + K, os.path.join(tmp, "ck"), env_keep)
                steady = {k: (ck[k] - c1[k]) / K for k in ("hypercalls", "buffer_mappings", "bytes_mapped", "e2big")}
                counts[lib] = (r1, c1, steady)
            r1, c1, st = counts["ours"]
            _, rc1, rst = counts["real"]
            listed = r1["bytes"]
            checks = [
                ("steady hypercalls", st["hypercalls"], 1 + data_calls),
                ("steady buffer mappings", st["buffer_mappings"], maps),
                ("steady bytes mapped", st["bytes_mapped"], mapped),
                ("steady E2BIG", st["e2big"], 0),
                ("fresh-process hypercalls", c1["hypercalls"], 3 + data_calls),
                # The probe's page is reused by a list whose arena fits in it.
                # With a cap below a page, the probe's page is mapped once more.
                ("fresh-process buffer mappings", c1["buffer_mappings"],
                 (1 if 136 + listed <= PAGE else 2) + (PAGE > cap)),
                ("fresh-process arena within bytes listed + 2 pages", c1["bytes_mapped"] - PAGE <= listed + 2 * PAGE, True),
            ]
            bad = [(w, got, want) for w, got, want in checks if got != want]
            if bad:
                failed += 1
                print(f"FAIL {name}: " + "; ".join(f"{w}: got {g}, want {x}" for w, g, x in bad))
            else:
                passed += 1
                print(f"ok   {name}: per call ours {st['hypercalls']:g} hypercalls, {st['buffer_mappings']:g} mappings "
                      f"(fresh process {c1['hypercalls']} / {c1['buffer_mappings']} / {c1['bytes_mapped']} B); "
                      f"libxenctrl {rst['hypercalls']:g} hypercalls ({rst['e2big']:g} E2BIG), "
                      f"{rst['buffer_mappings']:g} mappings, {rst['bytes_mapped']:g} B")
        if len(sys.argv) > 2:
            p, f = manage_counts(sys.argv[2], tmp)
            passed += p
            failed += f
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
