//! The `XEN_SYSCTL_livepatch_op` / `LIST` hypercall, over any [`Hypervisor`].
//!
//! Builds the 136-byte `xen_sysctl` at the start of a hypercall buffer, picks
//! the sysctl interface version (probed once per hypervisor handle, newest
//! first, with a side-effect-free `nr = 0` LIST) and decodes the reply.

use crate::abi::{
    xen_sysctl, xen_sysctl_livepatch_list, xen_sysctl_livepatch_op, xen_sysctl_livepatch_op_u,
    xen_sysctl_u, __guest_handle_char, __guest_handle_uint32,
    __guest_handle_xen_livepatch_status_t, SYSCTL_IFACE_4_14, SYSCTL_IFACE_4_16,
    SYSCTL_IFACE_4_17, SYSCTL_IFACE_4_21, XEN_SYSCTL_LIVEPATCH_LIST, XEN_SYSCTL_livepatch_op,
};
use crate::error::{Error, Result};
use core::sync::atomic::{AtomicU32, Ordering};

/// Interface versions tried, in order: 4.21+, 4.17-4.20, 4.16, 4.14-4.15.
/// All share the 64-byte LIST layout; only 0x16 reads the totals as IN
/// capacities, and sending them to older versions is harmless.
pub const INTERFACE_CANDIDATES: [u32; 4] =
    [SYSCTL_IFACE_4_21, SYSCTL_IFACE_4_17, SYSCTL_IFACE_4_16, SYSCTL_IFACE_4_14];

/// Size of `struct xen_sysctl`, the first thing in every LIST buffer.
pub const SYSCTL_SIZE: usize = core::mem::size_of::<xen_sysctl>();

/// Memory the hypervisor may read and write during a hypercall.
pub trait Buffer {
    /// Start of the region; page-aligned.
    fn as_mut_ptr(&mut self) -> *mut u8;
    /// Usable length in bytes.
    fn len(&self) -> usize;
    /// The region as bytes.
    fn as_slice(&self) -> &[u8];
    /// The region as mutable bytes.
    fn as_mut_slice(&mut self) -> &mut [u8];
    /// Always false for a real buffer.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Something that executes sysctl hypercalls: the real Xen through privcmd,
/// or the simulator.
pub trait Hypervisor {
    /// The hypercall-safe memory this hypervisor accepts.
    type Buffer: Buffer;
    /// Allocates at least `bytes` of hypercall-safe memory. Its contents are
    /// unspecified (a reused buffer keeps an earlier call's bytes): only what
    /// the hypervisor reports having written is ever read.
    fn alloc(&self, bytes: usize) -> Result<Self::Buffer>;
    /// Runs the sysctl hypercall on the `xen_sysctl` at the start of `buf`.
    /// Returns the hypercall's non-negative value or the hypervisor's errno.
    fn sysctl(&self, buf: &mut Self::Buffer) -> Result<i64>;
    /// Where the probed interface version is kept (0 = not probed yet).
    fn interface_cache(&self) -> &AtomicU32;
    /// Where the payload count of the latest size probe is kept: a hint for
    /// how many entries a list call's buffer should hold (it grows if the
    /// hint is short), so that buffers follow the hypervisor's real count
    /// rather than the caller's `max`.
    fn count_hint(&self) -> &AtomicU32;
}

/// The IN part of one LIST call. Handles are addresses inside the buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListArgs {
    /// Index of the first payload.
    pub idx: u32,
    /// Entries to fill (0: size probe).
    pub nr: u32,
    /// Bytes the name handle can take (read by Xen 4.21+ only).
    pub name_capacity: u32,
    /// Bytes the metadata handle can take (read by Xen 4.21+ only).
    pub metadata_capacity: u32,
    /// Address of `nr` status entries.
    pub status: u64,
    /// Address of the name bytes.
    pub name: u64,
    /// Address of `nr` name lengths.
    pub len: u64,
    /// Address of the metadata bytes.
    pub metadata: u64,
    /// Address of `nr` metadata lengths.
    pub metadata_len: u64,
}

/// The OUT part of a successful LIST call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListReply {
    /// Entries copied (the hypercall's return value).
    pub count: i64,
    /// The payload-list generation counter.
    pub version: u32,
    /// Entries after the last one visited.
    pub left: u32,
    /// Name bytes copied (probe: all names).
    pub name_total_size: u32,
    /// Metadata bytes copied (probe: all metadata).
    pub metadata_total_size: u32,
}

fn write_request(buf: &mut impl Buffer, iface: u32, a: &ListArgs) {
    assert!(buf.len() >= SYSCTL_SIZE, "LIST buffer smaller than xen_sysctl");
    let list = xen_sysctl_livepatch_list {
        version: 0,
        idx: a.idx,
        nr: a.nr,
        pad: 0,
        name_total_size: a.name_capacity,
        metadata_total_size: a.metadata_capacity,
        status: __guest_handle_xen_livepatch_status_t { p: a.status as *mut _ },
        name: __guest_handle_char { p: a.name as *mut _ },
        len: __guest_handle_uint32 { p: a.len as *mut _ },
        metadata: __guest_handle_char { p: a.metadata as *mut _ },
        metadata_len: __guest_handle_uint32 { p: a.metadata_len as *mut _ },
    };
    // Start from all-zero bytes so the union's unused tail is zero, as
    // libxenctrl sends it.
    let mut op = xen_sysctl { cmd: XEN_SYSCTL_livepatch_op, interface_version: iface, u: xen_sysctl_u { pad: [0; 128] } };
    op.u.livepatch = xen_sysctl_livepatch_op {
        cmd: XEN_SYSCTL_LIVEPATCH_LIST,
        pad: 0,
        u: xen_sysctl_livepatch_op_u { list },
    };
    // SAFETY: the buffer is page-aligned (so aligned for xen_sysctl) and at
    // least SYSCTL_SIZE bytes long (asserted above).
    unsafe { buf.as_mut_ptr().cast::<xen_sysctl>().write(op) };
}

fn read_reply(buf: &impl Buffer, count: i64) -> ListReply {
    let bytes = &buf.as_slice()[..SYSCTL_SIZE];
    let u32_at = |off: usize| u32::from_ne_bytes([bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]]);
    // Offsets of the LIST fields inside struct xen_sysctl (xen-facts §1.6),
    // pinned by the compile-time asserts in `abi`.
    ListReply {
        count,
        version: u32_at(16),
        left: u32_at(24),
        name_total_size: u32_at(32),
        metadata_total_size: u32_at(36),
    }
}

const _: () = {
    use core::mem::offset_of;
    const OP: usize = offset_of!(xen_sysctl, u) + offset_of!(xen_sysctl_livepatch_op, u);
    assert!(OP + offset_of!(xen_sysctl_livepatch_list, version) == 16);
    assert!(OP + offset_of!(xen_sysctl_livepatch_list, nr) == 24);
    assert!(OP + offset_of!(xen_sysctl_livepatch_list, name_total_size) == 32);
    assert!(OP + offset_of!(xen_sysctl_livepatch_list, metadata_total_size) == 36);
};

fn call_once<H: Hypervisor>(hv: &H, buf: &mut H::Buffer, iface: u32, a: &ListArgs) -> Result<ListReply> {
    write_request(buf, iface, a);
    let count = hv.sysctl(buf)?;
    Ok(read_reply(buf, count))
}

/// Finds the hypervisor's sysctl interface version with `nr = 0` LIST probes
/// (no side effect: nothing is written through any handle) and caches it.
///
/// The first candidate not refused with EACCES is the one: the version check
/// precedes every other check in Xen, so a success, or an error only a later
/// check gives (EPERM from XSM, ENOSYS, EINVAL, ...), proves the version
/// right; that reply is returned with it. An error that may come before the
/// check (EFAULT copying the struct in, or anything from the kernel) proves
/// nothing: it is returned and nothing is cached.
fn probe_interface<H: Hypervisor>(hv: &H, buf: &mut H::Buffer) -> Result<(u32, Result<ListReply>)> {
    for iface in INTERFACE_CANDIDATES {
        match call_once(hv, buf, iface, &ListArgs::default()) {
            Err(Error::Hypervisor { errno: libc::EACCES }) => continue,
            Err(e) if !after_version_check(&e) => return Err(e),
            r => {
                hv.interface_cache().store(iface, Ordering::Relaxed);
                return Ok((iface, r));
            }
        }
    }
    Err(Error::UnsupportedInterface)
}

/// Errors Xen's sysctl gives only once the interface version was accepted.
fn after_version_check(e: &Error) -> bool {
    matches!(
        e,
        Error::Hypervisor {
            errno: libc::EPERM | libc::ENOSYS | libc::EINVAL | libc::E2BIG | libc::EOPNOTSUPP | libc::ENOBUFS
        }
    )
}

/// The interface version in use, probing it first if needed.
pub fn interface_version<H: Hypervisor>(hv: &H, buf: &mut H::Buffer) -> Result<u32> {
    match hv.interface_cache().load(Ordering::Relaxed) {
        0 => probe_interface(hv, buf).map(|(v, _)| v),
        v => Ok(v),
    }
}

/// A size probe: LIST with `nr = 0`. Returns the payload count (`left`), the
/// totals over all payloads and the list version.
pub fn probe_sizes<H: Hypervisor>(hv: &H, buf: &mut H::Buffer) -> Result<ListReply> {
    match hv.interface_cache().load(Ordering::Relaxed) {
        0 => probe_interface(hv, buf)?.1,
        v => call_once(hv, buf, v, &ListArgs::default()),
    }
}

/// One data-mode LIST call (`nr > 0`).
pub fn list<H: Hypervisor>(hv: &H, buf: &mut H::Buffer, a: &ListArgs) -> Result<ListReply> {
    let iface = interface_version(hv, buf)?;
    call_once(hv, buf, iface, a)
}
