#!/usr/bin/env python3
"""Parse the serial console of one real-Xen boot: print every check, timings, and
PASSED n / FAILED m. Expected checks that did not report count as failures, and so do a
boot that never reached INIT-DONE or a QEMU that did not exit by itself."""
import argparse, re, sys

EXPECTED = """boot xl-list-identical-empty c-abi-dump-empty rust-dump-empty iface-version upload-all
apply-lp-func apply-lp-stack func-patch-applied apply-refused-lp-rcfail
xl-list-identical-full c-abi-dump-full rust-dump-full c-and-rust-identical-full
rust-table-equals-xl-full more-than-one-batch comparator-catches-wrong-metadata-byte
churn-ran list-during-churn-consistent tools-during-churn
xl-list-identical-after-churn c-abi-dump-after-churn rust-dump-after-churn
func-patch-reverted""".split()

ap = argparse.ArgumentParser()
ap.add_argument("--tag", required=True)
ap.add_argument("--qemu-rc", type=int, required=True)
ap.add_argument("--seconds", required=True)
ap.add_argument("--timeout", required=True)
ap.add_argument("--expect", help="the checks this boot must report (default: the 0x15 set)")
ap.add_argument("log")
a = ap.parse_args()
if a.expect:
    EXPECTED = a.expect.split()

raw = open(a.log, "rb").read().decode("utf-8", "replace").replace("\r", "")
raw = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)  # SeaBIOS/QEMU terminal escapes
lines = raw.split("\n")
tag = "[%s]" % a.tag
results, order, last_stage, done = {}, [], None, False
marks = {}
for ln in lines:
    m = re.search(r"RESULT (\S+) (PASS|FAIL) ?(.*)", ln)
    if m:
        name = m.group(1)
        if name in results:  # a check reported twice: the worst outcome wins
            if m.group(2) == "FAIL":
                results[name] = (m.group(2), m.group(3))
        else:
            results[name] = (m.group(2), m.group(3))
            order.append(name)
        continue
    m = re.search(r"SUMMARY (\S+) (.*)", ln)
    if m:
        print("%s summary %s: %s" % (tag, m.group(1), m.group(2).strip()[:300]))
        continue
    m = re.search(r"STAGE (\S+)", ln)
    if m:
        last_stage = ln[m.start():]
    if "INIT-DONE" in ln:
        done = True
    m = re.search(r"LIFECYCLE-INCOMPLETE (.*)", ln)
    if m:
        print("%s lifecycle-incomplete: %s" % (tag, m.group(1)[:400]))
        continue
    m = re.search(r"TIMING (.*)", ln)
    if m:
        print("%s timing: %s" % (tag, m.group(1)))
    if "(XEN) Xen version" in ln and "xen" not in marks:
        marks["xen"] = ln[ln.find("(XEN)"):].strip()
    if "build-id" in ln and "(XEN)" in ln and "bid" not in marks:
        marks["bid"] = ln.strip()

if "xen" in marks: print("%s %s" % (tag, marks["xen"][:160]))
if "bid" in marks: print("%s %s" % (tag, marks["bid"][:160]))
npass = nfail = 0
for name in order:
    st, det = results[name]
    print("%s %s %s %s" % (tag, st, name, det[:400]))
    if st == "PASS": npass += 1
    else: nfail += 1
for name in EXPECTED:
    if name not in results:
        print("%s FAIL %s (missing: the check never reported)" % (tag, name))
        nfail += 1
problems = []
if not done:
    problems.append("dom0 /init never printed INIT-DONE (last stage: %s)" % (last_stage or "none: dom0 /init never started"))
if a.qemu_rc == 124:
    problems.append("QEMU killed after the %ss timeout" % a.timeout)
elif a.qemu_rc == 125:
    problems.append("QEMU killed after a fatal console message")
elif a.qemu_rc != 0:
    problems.append("QEMU exit status %d" % a.qemu_rc)
for ln in lines:
    if re.search(r"Panic on CPU|FATAL PAGE FAULT|Kernel panic|domain_crash|Hardware Dom0 crashed|segfault|general protection", ln):
        problems.append("console: " + ln.strip()[:200])
        break
if problems:
    nfail += 1
    print("%s FAIL boot-cycle %s" % (tag, "; ".join(problems)))
    print("%s ---- last 40 console lines (%s) ----" % (tag, a.log))
    for ln in [l for l in lines if l.strip()][-40:]:
        print("%s | %s" % (tag, ln[:300]))
else:
    npass += 1
    print("%s PASS boot-cycle QEMU exited by itself after %ss" % (tag, a.seconds))
print("%s passed=%d failed=%d" % (tag, npass, nfail))
print("PASSED %d" % npass)
print("FAILED %d" % nfail)
