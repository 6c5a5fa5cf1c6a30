#!/usr/bin/env python3
"""Scratch builds of the library for the real-Xen profile (never shipped).

    variant.py NAME SRC_DIR      patches the copy of the sources in SRC_DIR

Each variant removes one cost, so that its time against the unchanged
library, in the same process, says what that cost is on the real hypervisor:
  getpid   the pool's fork check by getpid() (two per buffer, as before the
           wipe-on-fork page): the wipe-on-fork page is never used
  nocheck  no check of any LIST reply (check_batch accepts everything)
  nocap    no 1 MiB cap on the buffers kept between calls (64 MiB, as the
           pool kept before the cap; = XC_LIVEPATCH_KEEP_BYTES=64M)
A patch whose anchor is gone fails loudly (the sources changed: update it).
"""
import os, re, sys


def patch(path, pattern, insert):
    s = open(path).read()
    m = re.search(pattern, s)
    if not m:
        sys.exit("variant: anchor %r not found in %s" % (pattern, path))
    open(path, "w").write(s[:m.end()] + insert + s[m.end():])


def main():
    name, src = sys.argv[1], sys.argv[2]
    if name == "getpid":
        patch(os.path.join(src, "src/fork_guard.rs"), r"fn wipe_on_fork_page\(\) -> Result<\*mut u8> \{\n",
              "    if true {\n        return Ok(ptr::null_mut()); // variant: the getpid() fallback always\n    }\n")
    elif name == "nocheck":
        patch(os.path.join(src, "src/list.rs"), r"fn check_batch\([^{]*\{\n",
              "    if true {\n        return Ok(()); // variant: no check of any reply\n    }\n")
    elif name == "nocap":
        path = os.path.join(src, "src/hypercall_buffer.rs")
        s = open(path).read()
        old = "pub const DEFAULT_KEEP_BYTES: usize = 1 << 20;"
        if old not in s:
            sys.exit("variant: %r not found in %s" % (old, path))
        open(path, "w").write(s.replace(old, "pub const DEFAULT_KEEP_BYTES: usize = 64 << 20; // variant"))
    else:
        sys.exit("variant: unknown %s" % name)


if __name__ == "__main__":
    main()
