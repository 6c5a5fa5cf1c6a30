"""The payload lifecycle of the real-Xen harness (issue 17), written by gen-payloads.py.

The steps (upload, apply, revert, apply again, upload a second payload and replace, revert,
unload both, load a third, revert and unload it; then a hook payload applied, reverted and
refused when applied again) and, for each, what Debian 12's `xen-livepatch` 4.17 prints
(stdout, stderr, exit code: tools/misc/xen-livepatch.c), what `xen-livepatch list` prints
afterwards, and the hypervisor's extraversion afterwards (each func payload patches
`xen_extra_version` to return its own string). Also what the tool alone prints when its
libxenctrl speaks another sysctl interface (EACCES before anything reaches the payload).

Into DIR/lc/:
  steps              "<id> <extraversion or base> <xen-livepatch arguments>" per line
  <id>.out/.err/.rc  the expected output of the step
  <id>.list          the expected `xen-livepatch list` output after it
  <id>.eacces.*      the expected output of the same step by the tool alone, interface refused
and p/lc-otherxen.livepatch: made for another hypervisor build (xc-livepatch must refuse it).
"""
import hashlib, os

STATE_CHECKED, STATE_APPLIED = 1, 2
EINVAL = 22

# (name, extraversion its function returns); m1 and m2 have .livepatch.funcs as their
# only writable section, so Xen applies them again after a revert
FUNCS = [("lc-m1", "-lc-m1"), ("lc-m2", "-lc-m2"), ("lc-m3", "-lc-m3")]
# .livepatch.hooks.load is writable too: Xen refuses to apply it again once reverted
HOOK = "lc-hook"
# a func payload whose .livepatch.xen_depends names another hypervisor build
OTHER_XEN = "lc-otherxen"


class Plan:
    def __init__(self, table, metadata):
        self.table = table          # gen-payloads.table: what `xen-livepatch list` prints
        self.metadata = metadata    # payload name -> its .modinfo bytes
        self.loaded = []            # [name, state, rc] in upload order
        self.applied_ev = []        # extraversions of the applied func payloads, bottom first
        self.steps = []

    def _find(self, name):
        return next(e for e in self.loaded if e[0] == name)

    def _record(self, sid, argv, out, err="", rc=0):
        ev = self.applied_ev[-1] if self.applied_ev else "base"
        entries = [(n, self.metadata[n], st, r) for n, st, r in self.loaded]
        self.steps.append((sid, ev, argv, out, err, rc, self.table(entries)))

    def upload(self, sid, name, path):
        self.loaded.append([name, STATE_CHECKED, 0])
        self._record(sid, ["upload", name, path], "Uploading %s... completed\n" % path)

    def _apply(self, name, ev):
        self._find(name)[1:] = [STATE_APPLIED, 0]
        if ev:
            self.applied_ev.append(ev)

    def apply(self, sid, name, ev):
        self._apply(name, ev)
        self._record(sid, ["apply", name], "Applying %s... completed\n" % name)

    def apply_refused(self, sid, name):
        """A reverted payload with another writable section: the action is accepted, and
        the payload's rc then reads -EINVAL (the console says "Please unload")."""
        self._find(name)[2] = -EINVAL
        self._record(sid, ["apply", name], "Applying %s... failed\n" % name, "Error 22: Invalid argument\n", 1)

    def revert(self, sid, name, ev):
        self._find(name)[1:] = [STATE_CHECKED, 0]
        if ev:
            self.applied_ev.remove(ev)
        self._record(sid, ["revert", name], "Reverting %s... completed\n" % name)

    def replace(self, sid, name, ev):
        for e in self.loaded:
            if e[1] == STATE_APPLIED:
                e[1:] = [STATE_CHECKED, 0]
        self.applied_ev = []
        self._apply(name, ev)
        self._record(sid, ["replace", name], "Replacing all live patches with %s... completed\n" % name)

    def unload(self, sid, name):
        self.loaded.remove(self._find(name))
        self._record(sid, ["unload", name], "Unloading %s... completed\n" % name)

    def load(self, sid, name, path, ev):
        self.loaded.append([name, STATE_CHECKED, 0])
        self._apply(name, ev)
        self._record(sid, ["load", path], "Uploading %s... completed\nApplying %s... completed\n" % (path, name))


def eacces(argv):
    """What Debian 12's xen-livepatch alone prints for this step on a hypervisor that
    refuses its libxenctrl's interface version: the upload fails, an action fails at its
    first GET."""
    if argv[0] in ("upload", "load"):
        return "Uploading %s... failed\n" % argv[-1], "Error 13: Permission denied\n", 1
    return "", "Failed to get status of %s.\nError 13: Permission denied\n" % argv[1], 1


def other_build_id(xen_id):
    """A build id that is not the running hypervisor's (derived from it, so stable)."""
    return hashlib.sha1(b"another hypervisor build than " + xen_id.encode()).hexdigest()


def build_payloads(gen, func_patch, hook_body, kv):
    """Builds the lifecycle's four payloads and OTHER_XEN; returns name -> .modinfo bytes
    of the four."""
    gen.build(OTHER_XEN, func_patch.replace("@S@", "-lc-ox"), kv("LIFECYCLE=" + OTHER_XEN),
              xen_depends=other_build_id(gen.xen_id))
    metadata = {}
    for name, ev in FUNCS:
        metadata[name] = kv("LIFECYCLE=" + name, "PATCHES=xen_extra_version")
        gen.build(name, func_patch.replace("@S@", ev), metadata[name])
    metadata[HOOK] = kv("LIFECYCLE=" + HOOK, "HOOK=load")
    gen.build(HOOK, hook_body, metadata[HOOK])
    return metadata


def plan(table, metadata, pdir):
    (m1, e1), (m2, e2), (m3, e3) = FUNCS
    p = Plan(table, metadata)
    path = lambda n: "%s/%s.livepatch" % (pdir, n)
    p.upload("upload-m1", m1, path(m1))
    p.apply("apply-m1", m1, e1)
    p.revert("revert-m1", m1, e1)
    p.apply("reapply-m1", m1, e1)
    p.upload("upload-m2", m2, path(m2))
    p.replace("replace-m2", m2, e2)
    p.revert("revert-m2", m2, e2)
    p.unload("unload-m1", m1)
    p.unload("unload-m2", m2)
    p.load("load-m3", m3, path(m3), e3)
    p.revert("revert-m3", m3, e3)
    p.unload("unload-m3", m3)
    p.upload("upload-hook", HOOK, path(HOOK))
    p.apply("apply-hook", HOOK, None)
    p.revert("revert-hook", HOOK, None)
    p.apply_refused("reapply-hook-refused", HOOK)
    p.unload("unload-hook", HOOK)
    assert not p.loaded, "the lifecycle must leave nothing loaded"
    return p.steps


def write(outdir, steps):
    d = os.path.join(outdir, "lc")
    os.makedirs(d, exist_ok=True)

    def put(name, text):
        with open(os.path.join(d, name), "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())

    with open(os.path.join(d, "steps"), "w") as f:
        for sid, ev, argv, out, err, rc, listing in steps:
            f.write("%s %s %s\n" % (sid, ev, " ".join(argv)))
            put(sid + ".out", out)
            put(sid + ".err", err)
            put(sid + ".rc", "%d\n" % rc)
            put(sid + ".list", listing)
            o, e, r = eacces(argv)
            put(sid + ".eacces.out", o)
            put(sid + ".eacces.err", e)
            put(sid + ".eacces.rc", "%d\n" % r)
