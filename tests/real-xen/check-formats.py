#!/usr/bin/python3
"""Host-side checks of the xc-livepatch command's machine formats listed on a
real hypervisor. The guest ships `xc-livepatch list --json` and
`list --format prometheus` over the console (BEGIN-FILE/END-FILE, gzip +
base64); this prints one RESULT line per check, in init.sh's format:
  json-equals-expected-full   valid against cli/schema (python3-jsonschema) and,
                              decoded, exactly the generator's expected dump
  prometheus-valid-full       promtool check metrics accepts it, and its samples
                              agree with the expected dump (count, one info and
                              one rc series per payload, success 1, interface)
  prometheus-checked-alert    the package's alert rules over it: its CHECKED payloads fire
                              XenLivepatchCheckedTooLong at 1h, not at 59m (promtool test rules)
  prometheus-replace-checked-alert  the same over the export ensure.sh shipped right after
                              `ensure --replace` without --prune: it fires for exactly the
                              three payloads the replace left CHECKED (base, mid, top)
  json-build-id-equals-console  its xen_build_id is the hypervisor's console line
                              `build-id: <hex>` and the hypervisor ELF's build id
Usage: check-formats.py CONSOLE_LOG EXPECTED_DUMP IFACE ROOT OUTDIR"""
import base64, gzip, json, os, re, subprocess, sys

log, expected, iface, root, outdir = sys.argv[1:6]
os.makedirs(outdir, exist_ok=True)


def result(name, ok, detail):
    print("RESULT %s %s %s" % (name, "PASS" if ok else "FAIL", " ".join(detail.split())[:400]))


def shipped(name):
    """The file the guest shipped as NAME (None if absent or corrupt). Lines of
    Xen's own console output ("(XEN) ...") may interleave and are skipped; a
    damaged transfer fails gzip's CRC."""
    text = open(log, "rb").read().decode("utf-8", "replace").replace("\r", "")
    m = re.search(r"BEGIN-FILE %s\n(.*?)\nEND-FILE %s\n" % (re.escape(name), re.escape(name)), text, re.S)
    if not m:
        return None
    b64 = "".join(l.strip() for l in m.group(1).split("\n") if not l.lstrip().startswith("(XEN)"))
    try:
        data = gzip.decompress(base64.b64decode(b64, validate=True))
    except Exception as e:  # noqa: BLE001 - any damage is a failed transfer
        print("check-formats: %s: damaged transfer: %s" % (name, e), file=sys.stderr)
        return None
    path = os.path.join(outdir, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


count = int(open(expected, "rb").readline().split()[1])

j = shipped("list.json")
if j is None:
    result("json-equals-expected-full", False, "no intact list.json from the guest")
else:
    p = subprocess.run(["/usr/bin/python3", os.path.join(root, "cli/tests/check_json.py"),
                        os.path.join(root, "cli/schema/xc-livepatch-list.schema.json"), j, expected],
                       capture_output=True, text=True)
    result("json-equals-expected-full", p.returncode == 0,
           "%d bytes, %d payloads expected; check_json.py: %s %s" % (os.path.getsize(j), count, p.stdout.strip()[-200:], p.stderr.strip()[-200:]))

# the build id the command reports is the one the hypervisor prints at boot and the one
# in the hypervisor ELF the payloads were made for (expected.env, from readelf -n)
console_ids = re.findall(r"^\(XEN\) build-id: ([0-9a-f]+)\s*$",
                         open(log, "rb").read().decode("utf-8", "replace").replace("\r", ""), re.M)
env = dict(l.split("=", 1) for l in open(os.path.join(os.path.dirname(expected), "expected.env")).read().split("\n") if "=" in l)
try:
    json_id = json.load(open(j))["xen_build_id"] if j else None
except (OSError, ValueError, KeyError) as e:
    json_id = "unreadable: %s" % e
result("json-build-id-equals-console", len(console_ids) == 1 and json_id == console_ids[0] == env.get("XEN_BUILD_ID"),
       "list --json xen_build_id %s; console build-id: %s; hypervisor ELF (readelf -n) %s"
       % (json_id, " ".join(console_ids) or "none", env.get("XEN_BUILD_ID")))

m = shipped("list.prom")
if m is None:
    result("prometheus-valid-full", False, "no intact list.prom from the guest")
else:
    with open(m, "rb") as f:
        p = subprocess.run(["promtool", "check", "metrics"], stdin=f, capture_output=True, text=True)
    text = open(m, encoding="utf-8", errors="replace").read()
    samples = lambda metric: re.findall(r"^%s(?:\{[^\n]*\})? (\S+)$" % metric, text, re.M)
    problems = []
    if p.returncode != 0:
        problems.append("promtool: " + (p.stdout + p.stderr).strip()[:200])
    if samples("xen_livepatch_payloads") != [str(count)]:
        problems.append("xen_livepatch_payloads %s, expected %d" % (samples("xen_livepatch_payloads"), count))
    if samples("xen_livepatch_list_success") != ["1"]:
        problems.append("xen_livepatch_list_success %s" % samples("xen_livepatch_list_success"))
    if samples("xen_livepatch_sysctl_interface") != [str(int(iface, 16))]:
        problems.append("xen_livepatch_sysctl_interface %s, expected %d" % (samples("xen_livepatch_sysctl_interface"), int(iface, 16)))
    for metric in ("xen_livepatch_info", "xen_livepatch_rc"):
        if len(samples(metric)) != count:
            problems.append("%d %s series, expected %d" % (len(samples(metric)), metric, count))
    result("prometheus-valid-full", not problems,
           "; ".join(problems) or "promtool check metrics: ok; %d payloads, %d info and rc series, interface %s" % (count, count, iface))
    # the shipped alert rules over this real export: its CHECKED payloads fire
    # XenLivepatchCheckedTooLong at 1h, not before (promtool test rules)
    a = subprocess.run(["/usr/bin/python3", os.path.join(root, "cli/tests/checked_alert_test.py"), "--file", m,
                        os.path.join(root, "cli/prometheus/xen-livepatch.rules.yml"), outdir],
                       capture_output=True, text=True)
    result("prometheus-checked-alert", a.returncode == 0, (a.stdout + a.stderr).strip()[-300:])

# the export right after `ensure --replace` without --prune (ensure.sh): the three
# payloads the replace reverted stay CHECKED, and the alert fires for exactly them
r = shipped("replace.prom")
if r is None:
    result("prometheus-replace-checked-alert", False, "no intact replace.prom from the guest")
else:
    rdir = os.path.join(outdir, "replace-alert")
    os.makedirs(rdir, exist_ok=True)
    a = subprocess.run(["/usr/bin/python3", os.path.join(root, "cli/tests/checked_alert_test.py"), "--file", r,
                        os.path.join(root, "cli/prometheus/xen-livepatch.rules.yml"), rdir],
                       capture_output=True, text=True)
    out = (a.stdout + a.stderr).strip()
    # the same case over the rules with that alert's threshold moved (1h -> 61m) must fail
    rules = open(os.path.join(root, "cli/prometheus/xen-livepatch.rules.yml")).read()
    moved = re.sub(r"(- alert: XenLivepatchCheckedTooLong\n(?:.*\n)*?\s+for: )1h\n", r"\g<1>61m\n", rules, count=1)
    bdir = os.path.join(outdir, "replace-alert-break")
    os.makedirs(bdir, exist_ok=True)
    with open(os.path.join(bdir, "rules.yml"), "w") as f:
        f.write(moved)
    b = subprocess.run(["/usr/bin/python3", os.path.join(root, "cli/tests/checked_alert_test.py"), "--file", r,
                        os.path.join(bdir, "rules.yml"), bdir], capture_output=True, text=True)
    caught = moved != rules and b.returncode != 0
    result("prometheus-replace-checked-alert",
           a.returncode == 0 and out.endswith("CHECKED payloads of replace.prom: base, mid, top") and caught,
           "export after a replace without prune: %s; the threshold moved to 61m: %s"
           % (out[-250:], "caught (promtool test rules fails)" if caught else "NOT caught"))
