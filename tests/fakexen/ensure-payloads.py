#!/usr/bin/env python3
"""Real live-patch payload files for the `ensure` tests over the simulated
hypervisor, built as tests/real-xen/gen-payloads.py builds them (binutils).

Usage: ensure-payloads.py OUT_DIR [XEN_BUILD_ID_HEX]

XEN_BUILD_ID_HEX defaults to the simulator's (xc_livepatch::sim's
DEFAULT_BUILD_ID). Writes OUT_DIR/<name>.livepatch for:
  base   stacks on the hypervisor            (VERSION=1)
  mid    stacks on base                      (VERSION=1)
  top    stacks on mid                       (VERSION=1)
  top2   stacks on base                      (VERSION=1)
  cum    cumulative: stacks on the hypervisor (VERSION=2)
  base-v2  as base, other metadata           (VERSION=2; upload it as base=)
and OUT_DIR/ids (name and build id per line), and OUT_DIR/modules.scn: a
`module` scenario line per payload saying what its file says (build id,
depends, .modinfo), for a simulator that does not read uploaded ELFs."""
import importlib.util, os, sys

here = os.path.dirname(os.path.abspath(__file__))
realxen = os.path.join(here, "..", "real-xen")
sys.path.insert(0, realxen)
spec = importlib.util.spec_from_file_location("gen_payloads", os.path.join(realxen, "gen-payloads.py"))
gp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gp)

SIM_XEN = "5e6d0b1c2738495a6b7c8d9eafb0c1d2e3f40516"


def main():
    out = sys.argv[1]
    xen = sys.argv[2] if len(sys.argv) > 2 else SIM_XEN
    os.makedirs(out, exist_ok=True)
    g = gp.Gen(xen, out)
    body = lambda s: gp.FUNC_PATCH.replace("@S@", s)
    ids, modules = {}, []

    def build(name, depends=None, meta=b"VERSION=1\0", as_name=None):
        modinfo = b"PAYLOAD=" + name.encode() + b"\0" + meta
        path = g.build(name, body("-" + name), modinfo, depends)
        os.replace(path, os.path.join(out, name + ".livepatch"))
        ids[name] = g.build_ids[name]
        if as_name is None:
            modules.append(f"module {name} id={ids[name]} depends={depends or 'xen'} metahex={modinfo.hex()}\n")

    build("base")
    build("mid", ids["base"])
    build("top", ids["mid"])
    build("top2", ids["base"])
    build("cum", None, b"VERSION=2\0")
    build("base-v2", None, b"VERSION=2\0", as_name="base")
    os.rmdir(os.path.join(out, "p"))
    with open(os.path.join(out, "modules.scn"), "w") as f:
        f.writelines(modules)
    with open(os.path.join(out, "ids"), "w") as f:
        for n, i in ids.items():
            f.write(f"{n} {i}\n")


main()
