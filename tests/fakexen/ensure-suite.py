#!/usr/bin/python3
"""`xc-livepatch ensure` under fakexen (the command believes it talks to a
real hypervisor; FAKEXEN_STATE carries the hypervisor across processes),
with real payload files (ensure-payloads.py):

  kill    for a plan of 6 steps (a 3-payload stack from empty), SIGKILL right
          after each hypercall in turn (FAKEXEN_KILL_AFTER=1, 2, ... until a
          run ends by itself); then one new run reaches the target, the two
          runs together upload/act no more than the plan plus the
          interrupted step, and a third run plans nothing. With actions
          that complete at once and with actions pending 20 ms.
  counts  a no-change ensure issues the list hypercalls of one `list` plus
          one xen_version (the build id), no GET, no upload, no action; a
          plan issues exactly its steps' hypercalls (one UPLOAD per upload;
          per action its GET before, its ACTION, and the GETs its document
          counts as polls).
  xapi    xapi's sequence (xen-facts 10.3) run by Debian's xen-livepatch
          (unload NAME ignoring errors, upload, replace, then every CHECKED
          lp_* unloaded) and `ensure --replace --prune` reach the same list
          from the same start states.
Every --json document is checked by cli/tests/check_ensure_json.py.

Usage: ensure-suite.py [kill|counts|xapi]...   Prints "N passed, M failed"."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "cli", "tests"))
import check_ensure_json  # noqa: E402

REL = os.path.join(ROOT, "target", "release")
FX = os.path.join(REL, "libfakexen.so")
XC = os.path.join(REL, "xc-livepatch")
XL = os.environ.get("XEN_LIVEPATCH", "/usr/lib/xen-4.17/bin/xen-livepatch")
STACK3 = ["p/base.livepatch", "p/mid.livepatch", "p/top.livepatch"]
WANT3 = [("base", "APPLIED"), ("mid", "APPLIED"), ("top", "APPLIED")]
STATES = {"1": "CHECKED", "2": "APPLIED"}


class Hv:
    """One simulated hypervisor in a scratch directory (payloads under p/)."""

    def __init__(self, work, name, payloads, extra=""):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        os.symlink(payloads, os.path.join(self.dir, "p"))
        modules = open(os.path.join(payloads, "modules.scn")).read()
        # The xapi check names the payloads lp_*: the same modules under those names.
        for old, new in (("cum", "lp_new"), ("base", "lp_old"), ("mid", "lp_older")):
            line = re.search(r"^module %s .*$" % old, modules, re.M).group(0)
            modules += line.replace("module %s " % old, "module %s " % new, 1) + "\n"
        with open(os.path.join(self.dir, "hv.scn"), "w") as f:
            f.write("interface 0x15\n" + modules + extra + "\n")
        self.n = 0

    def run(self, argv, kill_after=None, check=None):
        """Runs argv under fakexen; returns (rc, stdout, stderr, counters)."""
        self.n += 1
        counters = os.path.join(self.dir, "counters.%d" % self.n)
        env = dict(os.environ, FAKEXEN_SCENARIO="hv.scn", FAKEXEN_STATE="state", FAKEXEN_COUNTERS=counters,
                   XC_LIVEPATCH_LOCK=os.path.join(self.dir, "lock"), LD_PRELOAD=FX)
        env.pop("FAKEXEN_KILL_AFTER", None)
        if kill_after is not None:
            env["FAKEXEN_KILL_AFTER"] = str(kill_after)
        r = subprocess.run(argv, cwd=self.dir, env=env, capture_output=True, timeout=120)
        c = {}
        if os.path.exists(counters):
            for line in open(counters):
                k, v = line.split()
                c[k] = int(v)
        if check is not None:
            assert r.returncode == check, f"{argv[1:]}: exit {r.returncode}\n{r.stdout.decode()}{r.stderr.decode()}"
        return r.returncode, r.stdout.decode(), r.stderr.decode(), c

    def ensure_json(self, args, code=0, kill_after=None):
        rc, out, err, c = self.run([XC, "ensure", "--json"] + args, kill_after=kill_after)
        if kill_after is not None and rc == -9:
            return rc, None, c
        assert rc == code, f"ensure {args}: exit {rc}\n{out}{err}"
        doc = __import__("json").loads(out)
        check_ensure_json.check(doc)
        return rc, doc, c

    def state(self):
        """[(name, state)] in list order."""
        _, out, _, _ = self.run([XC, "list", "--format", "dump"], check=0)
        return [(f[0], STATES.get(f[1], f[1])) for f in (l.split("\t") for l in out.splitlines()[1:])]

    def applied_order(self):
        text = open(os.path.join(self.dir, "state")).read()
        return [bytes.fromhex(l.split()[1]).decode() for l in text.splitlines() if l.startswith("applied ")]


def acts(c):
    return c.get("upload_calls", 0) + c.get("action_calls", 0)


def kill_each_hypercall(work, payloads, extra, label):
    n = 1
    while True:
        hv = Hv(work, "kill-%s-%d" % (label, n), payloads, extra)
        rc, doc, c1 = hv.ensure_json(STACK3, kill_after=n)
        if rc == 0:
            assert len(doc["plan"]) == 6, doc["plan"]
            break
        assert rc == -9, f"after hypercall {n}: exit {rc}"
        _, doc2, c2 = hv.ensure_json(STACK3)
        assert hv.state() == WANT3, f"after hypercall {n}: {hv.state()}"
        assert hv.applied_order() == ["base", "mid", "top"], hv.applied_order()
        # The killed run's counters are written by the knob: what it did
        # before the kill, which the hypervisor kept.
        assert c1.get("hypercalls") == n, f"after hypercall {n}: the killed run's counters say {c1.get('hypercalls')}"
        # The plan (6) plus the interrupted step, at most; and at least the
        # plan, each of its steps done by one of the two runs.
        assert 6 <= acts(c1) + acts(c2) <= 7, f"after hypercall {n}: {acts(c1)} + {acts(c2)} uploads and actions"
        _, doc3, _ = hv.ensure_json(STACK3)
        assert doc3["plan"] == [] and not doc3["changed"], f"after hypercall {n}: a third run planned {doc3['plan']}"
        n += 1
    # Every hypercall of the uninterrupted run was a kill point.
    assert n - 1 >= c1["hypercalls"] and n > 12, f"killed after {n - 1} of {c1['hypercalls']} hypercalls"
    return f"SIGKILL after each of {n - 1} hypercalls ({label}), each completed by one new run"


def check_kill(work, payloads):
    return [kill_each_hypercall(work, payloads, "", "at-once"),
            kill_each_hypercall(work, payloads, "pending 20ms", "pending-20ms")]


def check_counts(work, payloads):
    hv = Hv(work, "counts", payloads)
    _, doc, c = hv.ensure_json(STACK3)
    ups = sum(1 for s in doc["steps"] if s["step"]["step"] == "upload")
    actions = [s["step"] for s in doc["steps"] if s["step"]["step"] != "upload"]
    gets = sum(1 + s["polls"] for s in actions)
    got = (c["upload_calls"], c["action_calls"], c["get_calls"], c["xen_version_calls"])
    assert got == (ups, len(actions), gets, 1), f"plan of {len(doc['plan'])}: (uploads, actions, gets, xen_version) {got}"
    # The list hypercalls of one `list` process on the state reached.
    _, _, _, lc = hv.run([XC, "list"], check=0)
    _, doc, e = hv.ensure_json(STACK3)
    assert doc["plan"] == [], doc["plan"]
    noch = (e["upload_calls"], e["action_calls"], e["get_calls"])
    assert noch == (0, 0, 0), f"no change: (uploads, actions, GETs) {noch}, want (0, 0, 0)"
    assert e["sysctls"] == lc["sysctls"] and e["list_calls"] == lc["list_calls"], (e, lc)
    assert e["xen_version_calls"] == 1 and e["hypercalls"] == lc["hypercalls"] + 1, (e, lc)
    return (f"plan of 6: {got[0]} uploads, {got[1]} actions, {got[2]} GETs, 1 xen_version; "
            f"no change: {e['hypercalls']} hypercalls = list's {lc['hypercalls']} + 1 xen_version, 0 GET/upload/action")


def xapi(hv):
    """xapi's apply of lp_new (livepatch.ml), by Debian's xen-livepatch;
    returns the failing step's stderr, or None."""
    hv.run([XL, "unload", "lp_new"])  # errors ignored
    for argv in ([XL, "upload", "lp_new", "p/cum.livepatch"], [XL, "replace", "lp_new"]):
        rc, _, err, _ = hv.run(argv)
        if rc != 0:
            return err
    _, out, _, _ = hv.run([XL, "list"], check=0)
    for m in re.finditer(r"^(lp_\S*)\s*\|\s*CHECKED", out, re.M):
        hv.run([XL, "unload", m.group(1)], check=0)


def start(hv, which):
    up = lambda n, f: hv.run([XC, "upload", n, f], check=0)
    ap = lambda n: hv.run([XC, "apply", n], check=0)
    if which in ("old", "old+older", "new+old", "old+new-checked"):
        up("lp_old", "p/base.livepatch")
        ap("lp_old")
    if which == "old+older":
        up("lp_older", "p/mid.livepatch")
    if which in ("new+old", "old+new-checked"):
        up("lp_new", "p/cum.livepatch")
    if which == "new+old":
        hv.run([XC, "replace", "lp_new"], check=0)


def check_xapi(work, payloads):
    if not os.access(XL, os.X_OK):
        raise AssertionError(f"{XL} is missing (scripts/setup.sh installs xen-utils-4.17)")
    seen = []
    for which in ("empty", "old", "old+older", "old+new-checked", "new+old"):
        a, b = Hv(work, "xapi-" + which, payloads), Hv(work, "ensure-" + which, payloads)
        start(a, which)
        start(b, which)
        assert a.state() == b.state()
        failed = xapi(a)
        _, doc, _ = b.ensure_json(["--replace", "--prune", "lp_new=p/cum.livepatch"])
        assert b.state() == [("lp_new", "APPLIED")], f"{which}: ensure reached {b.state()}"
        if which == "new+old":
            # lp_new applied already: xapi's unload is refused (APPLIED), its
            # upload EEXIST: the sequence is not idempotent; ensure is.
            assert failed and "Error 17: File exists" in failed, f"{which}: xapi did not stop at EEXIST: {failed}"
            seen.append(f"{which}: xapi stops at EEXIST, ensure {len(doc['plan'])} step")
            continue
        assert failed is None, f"{which}: xapi failed: {failed}"
        assert a.state() == b.state(), f"{which}: xapi {a.state()}, ensure {b.state()}"
        seen.append(f"{which}: {len(doc['plan'])} steps")
    return "xapi's sequence and ensure --replace --prune reach the same list from " + ", ".join(seen)


def check_force(work, payloads):
    """LIVEPATCH_FLAG_FORCE goes with ensure's uploads exactly when --force is
    given and the hypervisor takes it (4.19+); before, one line says so."""
    seen = []
    for version, force, want in (("4.20", False, 0), ("4.20", True, 3), ("4.17", True, 0)):
        hv = Hv(work, f"force-{version}-{force}", payloads, f"xen-version {version}")
        rc, _, err, c = hv.run([XC, "ensure", *STACK3] + (["--force"] if force else []), check=0)
        assert c["upload_calls"] == 3, f"Xen {version}, force {force}: {c['upload_calls']} uploads"
        assert c.get("upload_forced", 0) == want, f"Xen {version}, force {force}: upload_forced {c.get('upload_forced')}, want {want}"
        notes = err.count("--force cannot be passed")
        assert notes == (3 if force and version == "4.17" else 0), f"Xen {version}, force {force}: {notes} notes"
        seen.append(f"{version} {'--force' if force else 'no --force'}: {want} of 3 forced")
    return "LIVEPATCH_FLAG_FORCE with ensure's uploads: " + ", ".join(seen)


def main():
    checks = {"kill": check_kill, "counts": check_counts, "xapi": check_xapi, "force": check_force}
    names = sys.argv[1:] or list(checks)
    work = tempfile.mkdtemp(prefix="ensure-suite.")
    payloads = os.path.join(work, "payloads")
    subprocess.run([sys.executable, os.path.join(ROOT, "tests/fakexen/ensure-payloads.py"), payloads], check=True)
    ok = bad = 0
    for name in names:
        try:
            r = checks[name](work, payloads)
            for line in r if isinstance(r, list) else [r]:
                print(f"ok   {name}: {line}")
            ok += 1
        except AssertionError as e:
            print(f"FAIL {name}: {e}")
            bad += 1
    shutil.rmtree(work)
    print(f"{ok} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
