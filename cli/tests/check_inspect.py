#!/usr/bin/python3
"""`xc-livepatch inspect` on the payloads the real-Xen stage makes
(tests/real-xen/gen-payloads.py), held to what that stage's lifecycle finds on
real Xen, and on damaged copies of them.

Usage: check_inspect.py SCHEMA CLI DIR XEN_BUILD_ID [SCENARIO]
DIR is gen-payloads.py's --out. With SCENARIO, every payload is also
inspected with --sim SCENARIO: the document (its `now` verdicts included)
must be valid, and lp-oc-2note still refused. Every --json document must be valid against
SCHEMA (python3-jsonschema). Expected, as real Xen shows (objcopy.sh,
lifecycle.sh, init.sh):
  - every payload: xen_depends is the hypervisor's id, build_id is readelf's,
    no problems; lp-func, lc-m1..3 and the objcopy ones depend on the
    hypervisor, lp-stack on lp-func's build id, lp-rcfail on lp-stack's;
  - lp-func, lc-m1 (re-applied after a revert), lp-oc-add, lp-oc-bin: one
    function, xen_extra_version, old_size 16, version 2, no hooks, safe to
    re-apply;
  - lc-hook (its re-apply is refused): a load hook, not safe to re-apply;
  - lp-rcfail: an enabled apply hook (not vetoing); lp-null: a NULL preapply
    hook (no vetoing hook); lc-m2 is replaced on real Xen: no vetoing hook;
  - lp-oc-2note: exit 1, one line on stderr, nothing on stdout;
  - damaged copies (truncated, bytes flipped): exit 0 or 1, never a signal;
    exit 1 with exactly one stderr line.
Prints one line per failure and "N passed, M failed"."""
import json
import os
import random
import re
import subprocess
import sys
import tempfile

import jsonschema


def run(cli, *args):
    r = subprocess.run([cli, *args], capture_output=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def readelf_build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return re.search(r"Build ID:\s*([0-9a-f]+)", out).group(1)


def main():
    schema_path, cli, d, xen_id = sys.argv[1:5]
    scenario = sys.argv[5] if len(sys.argv) > 5 else None
    validator = jsonschema.Draft202012Validator(json.load(open(schema_path)))
    ok = bad = 0
    docs = {}

    def check(what, cond, detail=""):
        nonlocal ok, bad
        if cond:
            ok += 1
        else:
            bad += 1
            print(f"FAIL {what} {str(detail)[:300]}")

    pdir = os.path.join(d, "p")
    for f in sorted(os.listdir(pdir)):
        name = f[:-len(".livepatch")]
        path = os.path.join(pdir, f)
        rc, out, err = run(cli, "inspect", "--no-hypervisor", "--json", path)
        if name == "lp-oc-2note":
            check(name + " refused", rc == 1 and out == b"" and err.count(b"\n") == 1
                  and b"begins with a note of type 1" in err, (rc, err))
            continue
        if rc != 0:
            check(name + " inspected", False, (rc, err))
            continue
        doc = json.loads(out)
        errors = list(validator.iter_errors(doc))
        check(name + " schema", not errors, [e.message for e in errors[:3]])
        check(name + " ids", doc["build_id"] == readelf_build_id(path)
              and (doc["xen_depends"] == xen_id or name == "lc-otherxen"), doc)
        check(name + " problems", doc["problems"] == [], doc["problems"])
        docs[name] = doc

    if scenario:
        for f in sorted(os.listdir(pdir)):
            rc, out, err = run(cli, "--sim", scenario, "inspect", "--json", os.path.join(pdir, f))
            if f == "lp-oc-2note.livepatch":
                check(f + " --sim refused", rc == 1 and err.count(b"\n") == 1, (rc, err))
                continue
            doc = json.loads(out) if rc == 0 else {}
            errors = list(validator.iter_errors(doc)) if doc else ["exit %d %r" % (rc, err)]
            check(f + " --sim schema", not errors and isinstance(doc.get("now"), dict),
                  [getattr(e, "message", e) for e in errors[:3]])

    def fn(doc):
        return [(f["name"]["text"], f["old_size"], f["version"]) for f in doc["functions"]]

    for n in ["lp-func", "lc-m1", "lc-m2", "lc-m3", "lp-oc-add", "lp-oc-bin"]:
        doc = docs.get(n, {})
        check(n + " function", doc and fn(doc) == [("xen_extra_version", 16, 2)] and doc["hooks"] == []
              and doc["safe_to_reapply"] and doc["depends"] == xen_id, doc)
    check("lp-stack depends on lp-func", docs["lp-stack"]["depends"] == docs["lp-func"]["build_id"])
    check("lp-rcfail depends on lp-stack", docs["lp-rcfail"]["depends"] == docs["lp-stack"]["build_id"])
    h = docs["lc-hook"]
    check("lc-hook load hook, not safe to re-apply",
          [(x["section"], x["enabled"]) for x in h["hooks"]] == [(".livepatch.hooks.load", True)]
          and not h["safe_to_reapply"] and not h["vetoing_hooks"], h)
    r = docs["lp-rcfail"]
    check("lp-rcfail apply hook", [(x["section"], x["enabled"], x["vetoing"]) for x in r["hooks"]]
          == [(".livepatch.hooks.apply", True, False)] and not r["vetoing_hooks"], r["hooks"])
    z = docs["lp-null"]
    check("lp-null NULL preapply hook", [(x["section"], x["enabled"], x["vetoing"]) for x in z["hooks"]]
          == [(".livepatch.hooks.preapply", False, True)] and not z["vetoing_hooks"], z["hooks"])
    check("lc-m2 no vetoing hook (replaced on real Xen)", not docs["lc-m2"]["vetoing_hooks"])

    # damaged copies: never a crash, a refusal is one line
    rnd = random.Random(25)
    src = open(os.path.join(pdir, "lp-func.livepatch"), "rb").read()
    crashes = []
    with tempfile.TemporaryDirectory() as t:
        for i in range(120):
            b = bytearray(src)
            if i < 40:
                b = b[:rnd.randrange(len(b))]
            else:
                for _ in range(1 + i % 8):
                    b[rnd.randrange(len(b))] = rnd.randrange(256)
            p = os.path.join(t, "x%d.livepatch" % i)
            open(p, "wb").write(b)
            rc, out, err = run(cli, "inspect", "--no-hypervisor", p)
            if rc not in (0, 1) or (rc == 1 and (err.count(b"\n") != 1 or out)):
                crashes.append((i, rc, err[:200]))
    check("120 damaged copies: exit 0 or 1, one line when refused", not crashes, crashes[:3])
    print(f"{ok} passed, {bad} failed")
    return 1 if bad or ok == 0 else 0


sys.exit(main())
