//! `#[repr(C)]` mirrors of Xen's public livepatch LIST interface and of the
//! Linux privcmd hypercall ioctl, with the numbers that go with them.
//!
//! This file is deliberately self-contained (only `core` types, no `use` of
//! other crates or modules): the ABI checker (`abi-check/`) expands it on its
//! own and compares every type, every `pub` field (each `pad` included) and
//! every constant against Xen's C headers. Names follow the C spelling so the
//! checker can match them one to one.
//!
//! Layouts are those of Xen 4.14 and later on x86_64 (arm64 is byte-for-byte
//! identical): see xen-facts.md §1.

#![allow(non_camel_case_types, non_upper_case_globals, missing_docs)]

// ---- hypercall and sysctl numbers -------------------------------------------

/// `__HYPERVISOR_sysctl`: the sysctl hypercall number (x86 and Arm).
pub const __HYPERVISOR_sysctl: u32 = 35;
/// `__HYPERVISOR_xen_version`: version, extraversion and build id.
pub const __HYPERVISOR_xen_version: u32 = 17;
/// `xen_version` cmd: returns `major << 16 | minor`.
pub const XENVER_version: u32 = 0;
/// `xen_version` cmd: fills 16 bytes (`.7`, `-pre`), NUL-padded.
pub const XENVER_extraversion: u32 = 1;
/// `xen_version` cmd: `struct xen_build_id { uint32_t len; unsigned char buf[]; }`,
/// returns the bytes written (NULL argument: the size).
pub const XENVER_build_id: u32 = 10;
/// `xen_sysctl.cmd` for livepatch operations.
pub const XEN_SYSCTL_livepatch_op: u32 = 27;
/// `xen_sysctl_livepatch_op.cmd`: upload a payload.
pub const XEN_SYSCTL_LIVEPATCH_UPLOAD: u32 = 0;
/// `xen_sysctl_livepatch_op.cmd`: get one payload's status.
pub const XEN_SYSCTL_LIVEPATCH_GET: u32 = 1;
/// `xen_sysctl_livepatch_op.cmd`: list payloads.
pub const XEN_SYSCTL_LIVEPATCH_LIST: u32 = 2;
/// `xen_sysctl_livepatch_op.cmd`: act on a payload (`LIVEPATCH_ACTION_*`).
pub const XEN_SYSCTL_LIVEPATCH_ACTION: u32 = 3;
/// `xen_sysctl_livepatch_action.cmd`: unload a CHECKED payload.
pub const LIVEPATCH_ACTION_UNLOAD: u32 = 1;
/// `xen_sysctl_livepatch_action.cmd`: revert the last applied payload.
pub const LIVEPATCH_ACTION_REVERT: u32 = 2;
/// `xen_sysctl_livepatch_action.cmd`: apply a CHECKED payload.
pub const LIVEPATCH_ACTION_APPLY: u32 = 3;
/// `xen_sysctl_livepatch_action.cmd`: revert every applied payload and apply this one.
pub const LIVEPATCH_ACTION_REPLACE: u32 = 4;
/// `xen_sysctl_livepatch_action.flags`: skip the `.livepatch.depends` check.
pub const LIVEPATCH_ACTION_APPLY_NODEPS: u32 = 1 << 0;
/// Op `flags` bit (Xen 4.19+; the word was `pad`, which had to be 0, up to
/// 4.18): skip some of the hypervisor's checks of an upload.
pub const LIVEPATCH_FLAG_FORCE: u32 = 1 << 0;
/// Longest payload name including its NUL.
pub const XEN_LIVEPATCH_NAME_SIZE: u32 = 128;
/// Payload loaded and checked.
pub const LIVEPATCH_STATE_CHECKED: u32 = 1;
/// Payload applied.
pub const LIVEPATCH_STATE_APPLIED: u32 = 2;

/// The sysctl interface version of the headers this crate was checked
/// against (Debian 12's Xen 4.17: 0x15). At run time the version is probed
/// (see `sysctl`), this is only the value the Debian headers carry.
pub const XEN_SYSCTL_INTERFACE_VERSION: u32 = 0x0000_0015;

/// Xen 4.14 .. 4.15: the first interface with the 64-byte LIST layout.
pub const SYSCTL_IFACE_4_14: u32 = 0x13;
/// Xen 4.16.
pub const SYSCTL_IFACE_4_16: u32 = 0x14;
/// Xen 4.17 .. 4.20.
pub const SYSCTL_IFACE_4_17: u32 = 0x15;
/// Xen 4.21 and later: the LIST totals become IN capacities (ENOBUFS).
pub const SYSCTL_IFACE_4_21: u32 = 0x16;

/// Largest `nr` the hypervisor accepts in one LIST call (a literal in Xen's
/// `livepatch_list`; larger gives E2BIG).
pub const LIVEPATCH_LIST_MAX_NR: u32 = 1024;

// ---- guest handles ----------------------------------------------------------
//
// On x86_64 `XEN_GUEST_HANDLE_64(T)` is `struct { T *p; }` (8 bytes, 8-aligned);
// on Arm it is a union of the pointer and an aligned u64, the same layout.

/// `XEN_GUEST_HANDLE_64(xen_livepatch_status_t)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct __guest_handle_xen_livepatch_status_t {
    pub p: *mut xen_livepatch_status,
}

/// `XEN_GUEST_HANDLE_64(char)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct __guest_handle_char {
    pub p: *mut core::ffi::c_char,
}

/// `XEN_GUEST_HANDLE_64(uint8)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct __guest_handle_uint8 {
    pub p: *mut u8,
}

/// `XEN_GUEST_HANDLE_64(uint32)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct __guest_handle_uint32 {
    pub p: *mut u32,
}

// ---- livepatch structures ---------------------------------------------------

/// One payload's state and the result of its last action (8 bytes).
///
/// This is the element type of the caller's `info` array.
#[cfg(not(xen_public_sysctl_h))]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct xen_livepatch_status {
    /// `LIVEPATCH_STATE_CHECKED` (1) or `LIVEPATCH_STATE_APPLIED` (2).
    pub state: u32,
    /// 0, or a negative Xen errno: -EAGAIN while an action is in progress.
    pub rc: i32,
}

/// `struct xen_livepatch_name` (16 bytes): used by UPLOAD, GET and ACTION.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xen_livepatch_name {
    pub name: __guest_handle_char,
    pub size: u16,
    pub pad: [u16; 3],
}

/// `struct xen_sysctl_livepatch_upload` (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xen_sysctl_livepatch_upload {
    pub name: xen_livepatch_name,
    pub size: u64,
    pub payload: __guest_handle_uint8,
}

/// `struct xen_sysctl_livepatch_get` (24 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xen_sysctl_livepatch_get {
    pub name: xen_livepatch_name,
    pub status: xen_livepatch_status,
}

/// `struct xen_sysctl_livepatch_action` (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xen_sysctl_livepatch_action {
    pub name: xen_livepatch_name,
    pub cmd: u32,
    pub timeout: u32,
    pub flags: u32,
    pub pad: u32,
}

/// `struct xen_sysctl_livepatch_list` (64 bytes, Xen 4.14+).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xen_sysctl_livepatch_list {
    /// OUT: the payload-list generation counter.
    pub version: u32,
    /// IN: index of the first payload to report.
    pub idx: u32,
    /// IN: entries to fill (0 = size probe). OUT: entries remaining.
    pub nr: u32,
    /// IN: must be zero.
    pub pad: u32,
    /// OUT: name bytes written (probe: all). 0x16+: IN capacity as well.
    pub name_total_size: u32,
    /// OUT: metadata bytes written (probe: all). 0x16+: IN capacity as well.
    pub metadata_total_size: u32,
    pub status: __guest_handle_xen_livepatch_status_t,
    pub name: __guest_handle_char,
    pub len: __guest_handle_uint32,
    pub metadata: __guest_handle_char,
    pub metadata_len: __guest_handle_uint32,
}

/// The anonymous union `u` of `struct xen_sysctl_livepatch_op` (64 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub union xen_sysctl_livepatch_op_u {
    pub upload: xen_sysctl_livepatch_upload,
    pub list: xen_sysctl_livepatch_list,
    pub get: xen_sysctl_livepatch_get,
    pub action: xen_sysctl_livepatch_action,
}

/// `struct xen_sysctl_livepatch_op` (72 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct xen_sysctl_livepatch_op {
    /// `XEN_SYSCTL_LIVEPATCH_*`.
    pub cmd: u32,
    /// Must be zero (named `flags` from Xen 4.19; LIST callers send 0).
    pub pad: u32,
    pub u: xen_sysctl_livepatch_op_u,
}

/// The anonymous union `u` of `struct xen_sysctl`, padded to 128 bytes.
#[repr(C)]
#[derive(Clone, Copy)]
pub union xen_sysctl_u {
    pub livepatch: xen_sysctl_livepatch_op,
    pub pad: [u8; 128],
}

/// `struct xen_sysctl` (136 bytes): the sysctl hypercall's only argument.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct xen_sysctl {
    pub cmd: u32,
    pub interface_version: u32,
    pub u: xen_sysctl_u,
}

// ---- Linux privcmd ----------------------------------------------------------

/// `privcmd_hypercall_t` (48 bytes): the argument of `IOCTL_PRIVCMD_HYPERCALL`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct privcmd_hypercall {
    pub op: u64,
    pub arg: [u64; 5],
}

/// `_IOC(_IOC_NONE, 'P', 0, sizeof(privcmd_hypercall_t))` on x86_64 and arm64.
pub const IOCTL_PRIVCMD_HYPERCALL: core::ffi::c_ulong = 0x0030_5000;

// ---- compile-time layout checks (xen-facts §1) ------------------------------

const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(size_of::<xen_livepatch_status>() == 8);
    assert!(align_of::<xen_livepatch_status>() == 4);
    assert!(size_of::<__guest_handle_char>() == 8);
    assert!(size_of::<xen_livepatch_name>() == 16);
    assert!(size_of::<xen_sysctl_livepatch_upload>() == 32);
    assert!(size_of::<xen_sysctl_livepatch_get>() == 24);
    assert!(size_of::<xen_sysctl_livepatch_action>() == 32);
    assert!(size_of::<xen_sysctl_livepatch_list>() == 64);
    assert!(align_of::<xen_sysctl_livepatch_list>() == 8);
    assert!(offset_of!(xen_sysctl_livepatch_list, version) == 0);
    assert!(offset_of!(xen_sysctl_livepatch_list, idx) == 4);
    assert!(offset_of!(xen_sysctl_livepatch_list, nr) == 8);
    assert!(offset_of!(xen_sysctl_livepatch_list, pad) == 12);
    assert!(offset_of!(xen_sysctl_livepatch_list, name_total_size) == 16);
    assert!(offset_of!(xen_sysctl_livepatch_list, metadata_total_size) == 20);
    assert!(offset_of!(xen_sysctl_livepatch_list, status) == 24);
    assert!(offset_of!(xen_sysctl_livepatch_list, name) == 32);
    assert!(offset_of!(xen_sysctl_livepatch_list, len) == 40);
    assert!(offset_of!(xen_sysctl_livepatch_list, metadata) == 48);
    assert!(offset_of!(xen_sysctl_livepatch_list, metadata_len) == 56);
    assert!(size_of::<xen_sysctl_livepatch_op>() == 72);
    assert!(offset_of!(xen_sysctl_livepatch_op, u) == 8);
    assert!(size_of::<xen_sysctl>() == 136);
    assert!(align_of::<xen_sysctl>() == 8);
    assert!(offset_of!(xen_sysctl, u) == 8);
    assert!(size_of::<privcmd_hypercall>() == 48);
};
