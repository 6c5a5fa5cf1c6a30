#!/usr/bin/env python3
"""Livepatch payload generator for the real-Xen harness (binutils only: as, objcopy, ld).

Usage: gen-payloads.py --xen XEN_ELF --out DIR [--many N] [--churn N]

Reads the running hypervisor's build id from XEN_ELF (`readelf -n`), writes into DIR:
  p/<name>.livepatch   the payloads
  upload.list          "<name> p/<name>.livepatch" in upload order (static payloads)
  churn.list           same, for the payloads uploaded/unloaded in a loop during check (d)
  expected.dump        what a LIST must return after the uploads and the applies done by
                       init.sh, in the `--dump` format: "count N" then
                       "<name>\t<state>\t<rc>\t<metadata hex>" per payload, upload order
  churn.dump           the churn payloads' lines in the same format (state 1, rc 0)
  expected.env         shell variables for init.sh (names to apply, expected strings)
  lc/                  the payload lifecycle and its expected outputs (lifecycle_plan.py)

Payload anatomy (see /work/shared/docs/real-xen-under-qemu.md): ET_REL x86-64 object
with .livepatch.depends + .livepatch.xen_depends (GNU build-id notes), its own
.note.gnu.build-id (ld --build-id), at least one non-empty .livepatch.funcs or
.livepatch.hooks.* section, and an optional alloc .modinfo of NUL-terminated strings.
Every symbol a payload defines is prefixed with a tag derived from the payload name,
so names never clash with Xen's or with another payload's.
"""
import argparse, hashlib, os, re, struct, subprocess, sys, tempfile

import lifecycle_plan

STATE_CHECKED, STATE_APPLIED = 1, 2


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("command failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r.stdout


def elf_build_id(path):
    out = run("readelf", "-n", path)
    m = re.search(r"Build ID:\s*([0-9a-f]{40})", out)
    if not m:
        sys.exit("no 20-byte GNU build id in %s" % path)
    return m.group(1)


def note_asm(section, build_id_hex):
    b = ",".join("0x" + build_id_hex[i:i + 2] for i in range(0, 40, 2))
    return (f'    .section {section}, "a", @note\n    .balign 4\n    .long 4, 20, 3\n'
            f'    .asciz "GNU"\n    .byte {b}\n')


def gnu_note(n_type, desc):
    """A note owned by "GNU" (the file livepatch-build writes for type 3:
    pack('VVVZ*H*', 4, 20, 3, 'GNU', id)), its description padded to 4 bytes."""
    return (struct.pack("<III", 4, len(desc), n_type) + b"GNU\0" + desc).ljust(16 + (len(desc) + 3) // 4 * 4, b"\0")


def objcopy_notes(notes, ids, obj, prefix, lead_xen_note=b""):
    """The build-id notes the objcopy ways: "add" adds them to `obj` in place, "bin"
    returns the objects to link in; "asm" does nothing (they are in the assembly).
    `lead_xen_note`: bytes put before the build-id note of .livepatch.xen_depends."""
    extra = []
    for sec, build_id in ids.items() if notes != "asm" else ():
        b = prefix + sec + ".bin"
        lead = lead_xen_note if sec == ".livepatch.xen_depends" else b""
        open(b, "wb").write(lead + gnu_note(3, bytes.fromhex(build_id)))
        if notes == "add":
            run("objcopy", "--add-section", sec + "=" + b, obj)
            run("objcopy", "--set-section-flags", sec + "=alloc,readonly", obj)
        elif notes == "bin":
            run("objcopy", "-I", "binary", "-O", "elf64-x86-64", "-B", "i386:x86-64",
                "--rename-section=.data=" + sec + ",alloc,load,readonly,data,contents", "-S", b, b + ".o")
            extra.append(b + ".o")
        else:
            sys.exit("unknown notes way " + notes)
    return extra


def sym_tag(name):
    return "lpg_" + hashlib.sha1(name.encode()).hexdigest()[:12] + "_" + re.sub(r"[^A-Za-z0-9_]", "_", name)[:40]


class Gen:
    def __init__(self, xen_id, outdir):
        self.xen_id = xen_id
        self.out = outdir
        self.tmp = tempfile.mkdtemp(prefix="lpgen-")
        os.makedirs(os.path.join(outdir, "p"), exist_ok=True)
        self.build_ids = {}

    def build(self, name, body, modinfo=None, depends=None, xen_depends=None, notes="asm", lead_xen_note=b""):
        """Assemble `body` (assembly for the patching sections) into p/<name>.livepatch.
        `depends`: the build id it stacks on (default: the hypervisor's); `xen_depends`:
        the hypervisor build it says it was made for (default: the running one's).
        `notes`: how the two build-id notes get in: "asm" (@note sections, SHT_NOTE),
        "add" (`objcopy --add-section`, as livepatch-build-tools does) or "bin"
        (`objcopy -I binary --rename-section`, as Xen's xen/test/livepatch does): both
        SHT_PROGBITS. `lead_xen_note`: a note put first in .livepatch.xen_depends ("add")."""
        tag = sym_tag(name)
        ids = {".livepatch.depends": depends or self.xen_id,
               ".livepatch.xen_depends": xen_depends or self.xen_id}
        src = "".join(note_asm(sec, i) for sec, i in ids.items()) if notes == "asm" else ""
        src += body.replace("@T@", tag)
        s = os.path.join(self.tmp, tag + ".s")
        o1 = os.path.join(self.tmp, tag + ".o")
        o2 = os.path.join(self.tmp, tag + ".m.o")
        open(s, "w").write(src)
        run("as", "--64", "-o", o1, s)
        extra = objcopy_notes(notes, ids, o1, os.path.join(self.tmp, tag), lead_xen_note)
        if modinfo is not None:
            assert modinfo.endswith(b"\0"), name
            mi = os.path.join(self.tmp, tag + ".modinfo")
            open(mi, "wb").write(modinfo)
            run("objcopy", "--add-section", ".modinfo=" + mi,
                "--set-section-flags", ".modinfo=alloc,readonly,data", o1, o2)
        else:
            o2 = o1
        dst = os.path.join(self.out, "p", name + ".livepatch")
        run("ld", "-r", "--build-id=sha1", "-o", dst, o2, *extra)
        bid = elf_build_id(dst)
        assert bid not in self.build_ids.values(), "duplicate build id for " + name
        self.build_ids[name] = bid
        return dst


NULL_HOOK = '    .section .livepatch.hooks.preapply, "aw", @progbits\n    .balign 8\n    .quad 0\n'

LOAD_HOOK = '''    .section .text.@T@, "ax", @progbits
@T@_load:
    endbr64
    xorl %eax, %eax
    ret
    .section .livepatch.hooks.load, "aw", @progbits
    .balign 8
    .quad @T@_load
'''

# apply-action hook that fails: Xen keeps the payload CHECKED and records the rc
FAIL_APPLY_HOOK = '''    .section .text.@T@, "ax", @progbits
@T@_apply:
    endbr64
    movl $-16, %eax
    ret
    .section .livepatch.hooks.apply, "aw", @progbits
    .balign 8
    .quad @T@_apply
'''

# struct livepatch_func (Xen 4.14+ public sysctl.h layout, version 2):
# name ptr, new_addr, old_addr, new_size u32, old_size u32, version u8, opaque[39],
# expectation (32 bytes) = 104 bytes
FUNC_PATCH = '''    .section .rodata.@T@, "a", @progbits
@T@_oldname:
    .asciz "xen_extra_version"
@T@_str:
    .asciz "@S@"
    .section .text.@T@, "ax", @progbits
@T@_new:
    endbr64
    leaq @T@_str(%rip), %rax
    ret
@T@_new_end:
    .section .livepatch.funcs, "aw", @progbits
    .balign 8
    .quad @T@_oldname
    .quad @T@_new
    .quad 0
    .long @T@_new_end - @T@_new
    .long 16
    .byte 2
    .fill 39, 1, 0
    .fill 32, 1, 0
'''


# objcopy.sh's payloads: lp-oc-add and lp-oc-bin
OBJCOPY_WAYS = ("add", "bin")

# The growth race unloads the first payload (a 7-character name) for the C API and the
# second for the Rust API.
RACE_UNLOAD_C, RACE_UNLOAD_RUST = "lp-null", "lp-kv"


def table(entries):
    """What `xen-livepatch list` (Xen 4.14+) prints for these (name, metadata, state, rc)
    entries: the name padded to 40 columns, the state (with ' (<errno>, <text>)' for a
    non-zero rc) and the metadata strings joined with ';' (its final NUL dropped)."""
    if not entries:
        return b"Nothing to list\n"
    o = b"%-40s| status     | metadata\n" % b" ID" + b"-" * 40 + b"+" + b"-" * 12 + b"+" + b"-" * 15 + b"\n"
    for name, mi, st, rc in entries:
        o += name.encode().ljust(40) + b"| " + {1: b"CHECKED", 2: b"APPLIED"}.get(st, b"unknown")
        if rc:
            o += (" (%d, %s)" % (-rc, os.strerror(-rc))).encode()
        o += b"    | "
        if mi:
            o += mi[:-1].replace(b"\0", b";") + (mi[-1:] if mi[-1:] != b"\0" else b"")
        o += b"\n"
    return o


def kv(*strings):
    return b"".join(s.encode() + b"\0" if isinstance(s, str) else s + b"\0" for s in strings)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xen", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--many", type=int, default=1100)
    ap.add_argument("--churn", type=int, default=8)
    a = ap.parse_args()

    xen_id = elf_build_id(a.xen)
    g = Gen(xen_id, a.out)
    static = []  # (name, modinfo bytes or None, expected state, expected rc)

    def add(name, body, modinfo, state=STATE_CHECKED, rc=0, depends=None):
        g.build(name, body, modinfo, depends)
        static.append((name, modinfo, state, rc))

    add("lp-null", NULL_HOOK, None)
    add("lp-kv", LOAD_HOOK, kv("LIVEPATCH_RULESET=1", "VERSION=1.2.3", "VENDOR=xc-livepatch", "EMPTYVAL="))
    add("lp-long", NULL_HOOK, kv("DESCRIPTION=long-" + "x" * 1500 + "-end", "SHORT=yes"))
    add("lp-huge", NULL_HOOK, kv(*["K%03d=" % i + chr(ord("a") + i % 26) * 600 for i in range(100)]))
    name127 = "lp-name127-" + "".join("abcdefghijklmnopqrstuvwxyz0123456789"[i % 36] for i in range(116))
    assert len(name127) == 127
    add(name127, NULL_HOOK, kv("NAMELEN=127"))
    add("lp-edge-empty", NULL_HOOK, kv("A=1", "", "B=2"))
    add("lp-edge-onlynul", NULL_HOOK, b"\0")
    add("lp-edge-utf8", NULL_HOOK, kv("NAME=héllo ✓ ünïcödé", "EMOJI=🐧"))
    add("lp-edge-semi", NULL_HOOK, kv("A=x;y", "B=has space;and;semis", ";", "C=;"))
    add("lp-edge-noeq", NULL_HOOK, kv("justtext", "A=1", "=", "=nokey"))
    add("lp-edge-bytes", NULL_HOOK, kv(b"BIN=\x01\x02\x7f\xfe\xff\t|", b"\xff"))
    add("lp-edge-2nul", NULL_HOOK, b"\0\0")
    add("lp-func", FUNC_PATCH.replace("@S@", "-lp-demo"), kv("PATCHES=xen_extra_version", "CVE=none"), STATE_APPLIED)
    add("lp-stack", NULL_HOOK, kv("STACKED_ON=lp-func"), STATE_APPLIED,
        depends=g.build_ids["lp-func"])
    add("lp-rcfail", FAIL_APPLY_HOOK, kv("NOTE=apply-hook-returns-EBUSY"), STATE_CHECKED, -16,
        depends=g.build_ids["lp-stack"])

    # Many small payloads: built once with the toolchain, then copied with the IDX
    # digits in .modinfo and the payload build id rewritten (build ids must be unique).
    many = []
    if a.many:
        tpl_path = g.build("lp-m-template", NULL_HOOK, kv("IDX=00000", "BATCH=many"))
        tpl = open(tpl_path, "rb").read()
        os.unlink(tpl_path)
        tpl_id = bytes.fromhex(g.build_ids.pop("lp-m-template"))
        assert tpl.count(tpl_id) == 1 and tpl.count(b"IDX=00000\0") == 1
        for i in range(a.many):
            name = "lp-m-%05d" % i
            mi = kv("IDX=%05d" % i, "BATCH=many")
            new_id = hashlib.sha1(b"xc-livepatch many " + name.encode()).digest()
            data = tpl.replace(tpl_id, new_id).replace(b"IDX=00000\0", mi[:10])
            open(os.path.join(a.out, "p", name + ".livepatch"), "wb").write(data)
            g.build_ids[name] = new_id.hex()
            many.append((name, mi, STATE_CHECKED, 0))
        assert len(set(g.build_ids.values())) == len(g.build_ids)

    churn = []
    for i in range(a.churn):
        name = "lp-churn-%02d" % i
        # different metadata sizes so that every snapshot shifts the offsets
        mi = kv("CHURN=%02d" % i, "PAD=" + chr(ord("A") + i) * (37 * i + 1))
        g.build(name, NULL_HOOK, mi)
        churn.append((name, mi, STATE_CHECKED, 0))

    # The growth race (init.sh, after the revert): payloads with a 100-character name
    # and ~60 KiB of metadata, uploaded while a listing is under way; and a second
    # 127-byte name, uploaded last so that its NUL is the last byte of the name buffer.
    grow = []
    for i, letter in enumerate("gh"):
        name = ("lp-grow%d-" % (i + 1)).ljust(100, letter)
        assert len(name) == 100
        mi = kv(*["G%d%03d=" % (i + 1, k) + letter * 600 for k in range(100)])
        g.build(name, NULL_HOOK, mi)
        grow.append((name, mi, STATE_CHECKED, 0))
    last127 = "lp-last127-" + "".join("zyxwvutsrqponmlkjihgfedcba9876543210"[i % 36] for i in range(116))
    assert len(last127) == 127
    g.build(last127, NULL_HOOK, kv("NAMELEN=127", "LAST=yes"))

    # The objcopy-made payloads (objcopy.sh): SHT_PROGBITS build-id sections, each
    # patching xen_extra_version; never in upload.list
    for way in OBJCOPY_WAYS:
        g.build("lp-oc-" + way, FUNC_PATCH.replace("@S@", "-lp-oc-" + way), kv("NOTES=objcopy-" + way), notes=way)
    # the right build id as the second note, after an NT_GNU_ABI_TAG (1) one: Xen reads
    # only the first note (ENODATA, so the upload's EINVAL)
    g.build("lp-oc-2note", FUNC_PATCH.replace("@S@", "-lp-oc-2note"), kv("NOTES=two"), notes="add",
            lead_xen_note=gnu_note(1, bytes(16)))

    # The lifecycle (lifecycle_plan.py): its own payloads, never in upload.list
    lc_metadata = lifecycle_plan.build_payloads(g, FUNC_PATCH, LOAD_HOOK, kv)
    lifecycle_plan.write(a.out, lifecycle_plan.plan(table, lc_metadata, "/t/p"))

    def line(e):
        name, mi, st, rc = e
        # The dump's name escaping (xc-livepatch's cli/src/dump.rs)
        name = "".join("\\\\" if c == "\\" else "\\x%02x" % ord(c) if ord(c) < 0x20 or ord(c) == 0x7f else c
                       for c in name)
        return "%s\t%d\t%d\t%s\n" % (name, st, rc, mi.hex() if mi else "")

    all_static = static + many
    with open(os.path.join(a.out, "upload.list"), "w") as f:
        for e in all_static:
            f.write("%s p/%s.livepatch\n" % (e[0], e[0]))
    with open(os.path.join(a.out, "churn.list"), "w") as f:
        for e in churn:
            f.write("%s p/%s.livepatch\n" % (e[0], e[0]))
    with open(os.path.join(a.out, "expected.dump"), "w") as f:
        f.write("count %d\n" % len(all_static))
        f.writelines(line(e) for e in all_static)
    with open(os.path.join(a.out, "churn.dump"), "w") as f:
        f.writelines(line(e) for e in churn)
    # after the revert and the two growth races: lp-null and lp-kv unloaded, the two
    # grow payloads uploaded (in that order), the applied payloads CHECKED again
    after = [(n, m, STATE_CHECKED, rc) for (n, m, st, rc) in all_static
             if n not in (RACE_UNLOAD_C, RACE_UNLOAD_RUST)] + grow
    with open(os.path.join(a.out, "expected-after-race.dump"), "w") as f:
        f.write("count %d\n" % len(after))
        f.writelines(line(e) for e in after)
    with open(os.path.join(a.out, "expected.table"), "wb") as f:
        f.write(table(all_static))
    with open(os.path.join(a.out, "empty.table"), "wb") as f:
        f.write(table([]))
    with open(os.path.join(a.out, "expected.env"), "w") as f:
        f.write("XEN_BUILD_ID=%s\n" % xen_id)
        f.write("OTHER_XEN=%s\nOTHER_XEN_BUILD_ID=%s\n" % (lifecycle_plan.OTHER_XEN, lifecycle_plan.other_build_id(xen_id)))
        f.write("APPLY_OK='lp-func lp-stack'\nAPPLY_FAIL='lp-rcfail'\n")
        f.write("NAME127=%s\n" % name127)
        f.write("N_STATIC=%d\nN_MANY=%d\nN_CHURN=%d\n" % (len(static), len(many), len(churn)))
        f.write("PATCHED_EXTRAVERSION=-lp-demo\n")
        f.write("RACE_UNLOAD_C=%s\nRACE_UNLOAD_RUST=%s\n" % (RACE_UNLOAD_C, RACE_UNLOAD_RUST))
        f.write("GROW1=%s\nGROW2=%s\nLAST127=%s\n" % (grow[0][0], grow[1][0], last127))
    print("build id %s: %d static + %d many + %d churn payloads in %s"
          % (xen_id, len(static), len(many), len(churn), a.out))


if __name__ == "__main__":
    main()
