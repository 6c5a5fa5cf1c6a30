//! ctest configuration: the Rust mirrors in src/abi.rs against the system's
//! Xen headers (Debian 12, libxen-dev 4.17: <xenctrl.h>, <xen/sysctl.h>,
//! <xen/sys/privcmd.h>), plus our generated include/xc_livepatch.h in the same
//! C compile so that any prototype difference from <xenctrl.h> is a compile
//! error ("conflicting types for 'xc_livepatch_list'").
//!
//! What ctest checks for each item (ctest 0.5.1, templates/test.{c,rs}):
//! constants' values; size and alignment of each struct/union; offset, size
//! and C type of each `pub` field; a by-value Rust -> C -> Rust round trip.
//! Every skip below says why the item cannot or need not be checked.

#[allow(dead_code)]
mod common {
    include!("../common/paths.rs");
}
use common::*;

fn main() {
    let abi = abi_rs();
    // Refuses non-`pub` fields (ctest would skip them silently).
    let items = read_items(&abi);
    // tests/padding.rs: what ctest cannot see (a dropped field whose bytes
    // alignment would reabsorb); see write_padding_checks.
    write_padding_checks(&abi, &items);
    let ours = our_include_dir();
    // XEN_INCLUDE=/dir: another distribution's Xen headers (Debian 13's
    // libxen-dev unpacked by scripts/debian-suite.sh), searched before the
    // system's.
    let xen_include = input_dir("XEN_INCLUDE");
    let sysctl_h = xen_include.clone().unwrap_or_else(|| "/usr/include".into()).join("xen/sysctl.h");
    let sysctl = std::fs::read_to_string(&sysctl_h).unwrap_or_else(|e| panic!("{}: {e}", sysctl_h.display()));
    // Xen 4.19 turned the op's `pad` into `flags` and defined
    // LIVEPATCH_FLAG_FORCE (bit 0) in the same commit (62a72092a5).
    let has_flags = sysctl.contains("#define LIVEPATCH_FLAG_FORCE");

    let mut cfg = ctest::TestGenerator::new();
    if let Some(dir) = &xen_include {
        cfg.include(dir);
    }
    cfg
        // <xen/sysctl.h> is a tools-only interface: without this it `#error`s.
        .define("__XEN_TOOLS__", None)
        // Pulls in <xen/xen.h> and <xen/sysctl.h> (with the guest-handle
        // typedefs). The xc_livepatch_* prototypes we must match live here.
        .header("xenctrl.h")
        .header("xen/sysctl.h")
        // libxencall's privcmd interface (needs domid_t from <xen/xen.h>, so
        // after xenctrl.h). The kernel's <xen/privcmd.h> (linux-libc-dev)
        // declares the same `struct privcmd_hypercall` and ioctl number, but
        // the two cannot be included in one C file; libxencall is built
        // against this one.
        // Its IOCTL_PRIVCMD_HYPERCALL uses _IOC() without including
        // <sys/ioctl.h> itself (libxencall includes that first, as we do).
        .header("sys/ioctl.h")
        .header("xen/sys/privcmd.h")
        // Our header after <xenctrl.h>: gcc rejects any prototype mismatch.
        // (Its own `struct xen_livepatch_status` is guarded out here, by
        // `#if !defined(__XEN_PUBLIC_SYSCTL_H__)`; abi-check/header checks it.)
        .include(&ours)
        .header("xc_livepatch.h")
        // Xen's guest handles are typedef'd anonymous structs
        // (`typedef struct { T *p; } __guest_handle_T;`, x86_64): no `struct`
        // tag. libxencall's hypercall argument is spelled through its typedef
        // `privcmd_hypercall_t` (the tag is `struct privcmd_hypercall`; both
        // name the same type).
        .rename_struct_ty(|ty| {
            if ty.starts_with("__guest_handle_") {
                Some(ty.to_string())
            } else if ty == "privcmd_hypercall" {
                Some("privcmd_hypercall_t".to_string())
            } else {
                None
            }
        })
        // The two unions are anonymous in C (`union { ... } u;`), so they
        // have no name to spell. GCC's __typeof__ names them anyway, so the
        // unions get the full treatment (size, alignment, every member's
        // offset/size/type, round trip) instead of being skipped.
        .rename_union_ty(|ty| match ty {
            "xen_sysctl_livepatch_op_u" => Some("__typeof__(((struct xen_sysctl_livepatch_op *)0)->u)".to_string()),
            "xen_sysctl_u" => Some("__typeof__(((struct xen_sysctl *)0)->u)".to_string()),
            _ => None,
        })
        // privcmd_hypercall's `op` and `arg[5]` are `__u64` in the kernel-style
        // header, i.e. `unsigned long long`, while ctest spells Rust's u64 as
        // `uint64_t` (`unsigned long` on LP64): same size and alignment, but
        // distinct C types, so the pointer-type check would fail on the
        // spelling alone. The offset and size checks of both fields (and the
        // struct's size, alignment and round trip) still run.
        .skip_struct_field_type(|s, f| s.ident() == "privcmd_hypercall" && matches!(f.ident(), "op" | "arg"))
        // The same word, named `flags` from 4.19 on: its offset, size and
        // type are checked under that name.
        .rename_struct_field(move |s, f| {
            (has_flags && s.ident() == "xen_sysctl_livepatch_op" && f.ident() == "pad").then(|| "flags".to_string())
        })
        .skip_const(move |c| {
            // Before 4.19 the flag does not exist (the word had to be 0).
            (!has_flags && c.ident() == "LIVEPATCH_FLAG_FORCE")
                || matches!(
                    c.ident(),
                    // `const _: () = { assert!(...) };`: abi.rs's compile-time
                    // layout assertions, not an interface constant (ctest sees
                    // an unnamed const of type `()`).
                    "_"
                    |
                // Our own names for Xen releases' sysctl interface versions
                // (0x13..0x16), used by the run-time version probe. Xen's
                // headers only carry the one XEN_SYSCTL_INTERFACE_VERSION of
                // their release (checked: 0x15 here), so there is nothing in C
                // to compare these with.
                    "SYSCTL_IFACE_4_14"
                    | "SYSCTL_IFACE_4_16"
                    | "SYSCTL_IFACE_4_17"
                    | "SYSCTL_IFACE_4_21"
                    // The hypervisor's per-call cap on `nr` is a literal
                    // inside xen/common/livepatch.c (livepatch_list), not
                    // exported by any public header (xen-facts.md §1.1).
                    | "LIVEPATCH_LIST_MAX_NR"
                )
        });

    generate(&mut cfg, &abi);
}
