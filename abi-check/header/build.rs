//! ctest configuration: the Rust mirrors in src/abi.rs against our own
//! cbindgen-generated include/xc_livepatch.h, compiled on its own (no Xen
//! headers), i.e. as a C caller that includes only our header sees it.
//!
//! That header defines exactly one type, `struct xen_livepatch_status` (the
//! element type of xc_livepatch_list()'s `info` array), plus the opaque
//! `xc_interface` and the two prototypes. Everything else in abi.rs is
//! internal to the library (the hypercall argument structures) and is
//! checked against Xen's own headers by abi-check/xen instead.

#[allow(dead_code)]
mod common {
    include!("../common/paths.rs");
}
use common::*;

/// The only abi.rs type the header defines.
const IN_HEADER: &[&str] = &["xen_livepatch_status"];

fn main() {
    let abi = abi_rs();
    // Refuses non-`pub` fields (ctest would skip them silently).
    read_items(&abi);
    let ours = our_include_dir();

    let mut cfg = ctest::TestGenerator::new();
    cfg.include(&ours)
        .header("xc_livepatch.h")
        // The guest handles, the livepatch sysctl structures, xen_sysctl and
        // privcmd_hypercall are not part of our public C API (cbindgen's
        // [export] list only includes xen_livepatch_status), so the header
        // has no definition to compare them with.
        .skip_struct(|s| !IN_HEADER.contains(&s.ident()))
        // Both unions (xen_sysctl_u, xen_sysctl_livepatch_op_u) are internal
        // for the same reason (and anonymous even in Xen's header).
        .skip_union(|_| true)
        // The header exports no constants (cbindgen item_types has no
        // "constants"): callers take LIVEPATCH_STATE_* etc. from Xen's
        // <xen/sysctl.h>, against which abi-check/xen checks them.
        .skip_const(|_| true);

    generate(&mut cfg, &abi);
}
