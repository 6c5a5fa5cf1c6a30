#!/usr/bin/env python3
"""Writes a fleet of simulated hypervisors for the Ansible fleet test:

  WORK/inventory.yml     the hosts (ansible_connection: local), each with its
                         own scenario and state file (sim, sim_state)
  WORK/hosts/NAME.scn    its hypervisor (xc-livepatch --sim)

Usage: make-fleet.py WORK BUILD_A BUILD_B XC_LIVEPATCH PYTHON MODULES [--refuse HOST]... [--pending DURATION]

MODULES: the `module` lines tests/fakexen/ensure-payloads.py writes (what the
simulator is told of each payload file: build id, depends, metadata); its
line for `base` becomes xsa-fleet's on every host.

24 hosts h01..h24: builds A and B (XENVER_build_id), interfaces 0x15 (Xen
4.17) and 0x16 (Xen 4.22) alternating; h09, h17, h22, h23 run build B (the
payload is not for them); h05 and h14 have a CHECKED payload of their own;
--refuse HOST: Xen fails the apply of xsa-fleet there (rc -EINVAL). The
host lock01 (group lockhost, the lock test) is build A, its actions pending
for --pending's duration if given. State files start absent: each host
begins at its scenario."""
import argparse
import os

BUILD_B_HOSTS = {"h09", "h17", "h22", "h23"}
LEFTOVER = {"h05": "lp-local-h05", "h14": "lp-local-h14"}
PAYLOAD = "xsa-fleet"


def scenario(module, build, iface, refuse=False, pending=None, leftover=None):
    version = "4.17" if iface == 0x15 else "4.22"
    lines = ["# a simulated hypervisor of the fleet test (tests/fleet/make-fleet.py)",
             f"interface {iface:#x}", f"xen-version {version}", f"build-id {build}"]
    if leftover:
        lines.append(f"payload {leftover} state=checked meta=VERSION=1\\0")
    lines.append(module + (" apply-ends=EINVAL" if refuse else ""))
    if pending:
        lines.append(f"pending {pending}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("build_a")
    ap.add_argument("build_b")
    ap.add_argument("xc_livepatch")
    ap.add_argument("python")
    ap.add_argument("modules")
    ap.add_argument("--refuse", action="append", default=[])
    ap.add_argument("--pending", default=None)
    a = ap.parse_args()
    base = [line.split(" ", 2)[2].strip() for line in open(a.modules) if line.startswith("module base ")]
    module = f"module {PAYLOAD} {base[0]}"
    hosts_dir = os.path.join(a.work, "hosts")
    os.makedirs(hosts_dir, exist_ok=True)
    inv = ["all:", "  vars:", "    ansible_connection: local", f"    ansible_python_interpreter: {a.python}",
           f"    xc_livepatch: {a.xc_livepatch}", "  children:", "    fleet:", "      hosts:"]

    def host(name, text, indent="        "):
        scn = os.path.join(hosts_dir, name + ".scn")
        with open(scn, "w") as f:
            f.write(text)
        state = os.path.join(hosts_dir, name + ".state")
        if os.path.exists(state):
            os.unlink(state)
        inv.extend([f"{indent}{name}:", f"{indent}  sim: {scn}", f"{indent}  sim_state: {state}"])

    for i in range(1, 25):
        name = f"h{i:02d}"
        build = a.build_b if name in BUILD_B_HOSTS else a.build_a
        host(name, scenario(module, build, 0x15 if i % 2 else 0x16, name in a.refuse, None, LEFTOVER.get(name)))
    inv.extend(["    lockhost:", "      hosts:"])
    host("lock01", scenario(module, a.build_a, 0x15, pending=a.pending))
    with open(os.path.join(a.work, "inventory.yml"), "w") as f:
        f.write("\n".join(inv) + "\n")


if __name__ == "__main__":
    main()
