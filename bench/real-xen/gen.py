#!/usr/bin/env python3
"""Payload sets for the real-Xen benchmark (binutils only).

Usage: gen.py --xen XEN_ELF --out DIR --set TAG:COUNT:METADATA_BYTES ...

For each set writes DIR/p-TAG/<name>.livepatch and DIR/TAG.list ("<name> <path in
dom0>" per line, upload order). Every payload of a set has exactly METADATA_BYTES
of .modinfo: "IDX=nnnnn\\0PAD=xxx...\\0". One template per set is assembled with
the payload builder of tests/real-xen/gen-payloads.py (imported, not copied);
the others are byte copies with their own build id and index.
"""
import argparse, hashlib, importlib.util, os

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "gen_payloads", os.path.join(HERE, "..", "..", "tests", "real-xen", "gen-payloads.py"))
gp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gp)


def modinfo(idx, size):
    head = b"IDX=%05d\0" % idx
    pad = size - len(head) - len(b"PAD=\0")
    assert pad >= 0, "metadata size too small"
    return head + b"PAD=" + b"x" * pad + b"\0"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xen", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", action="append", required=True, help="TAG:COUNT:METADATA_BYTES")
    a = ap.parse_args()
    g = gp.Gen(gp.elf_build_id(a.xen), a.out)
    for s in a.set:
        tag, count, size = s.split(":")
        count, size = int(count), int(size)
        d = os.path.join(a.out, "p-" + tag)
        os.makedirs(d, exist_ok=True)
        tpl_name = "lpb-%s-template" % tag
        tpl_path = g.build(tpl_name, gp.NULL_HOOK, modinfo(0, size))
        tpl = open(tpl_path, "rb").read()
        os.unlink(tpl_path)
        tpl_id = bytes.fromhex(g.build_ids.pop(tpl_name))
        tpl_mi = modinfo(0, size)
        assert tpl.count(tpl_id) == 1 and tpl.count(tpl_mi) == 1
        with open(os.path.join(a.out, tag + ".list"), "w") as f:
            for i in range(count):
                name = "lpb-%s-%05d" % (tag, i)
                new_id = hashlib.sha1(b"xc-livepatch bench " + name.encode()).digest()
                data = tpl.replace(tpl_id, new_id).replace(tpl_mi, modinfo(i, size))
                open(os.path.join(d, name + ".livepatch"), "wb").write(data)
                f.write("%s /b/p-%s/%s.livepatch\n" % (name, tag, name))
        print("set %s: %d payloads, %d bytes of metadata each" % (tag, count, size))


if __name__ == "__main__":
    main()
