//! The `XEN_SYSCTL_livepatch_op` / `LIST` hypercall, over any [`Hypervisor`].
//!
//! Builds the 136-byte `xen_sysctl` at the start of a hypercall buffer, picks
//! the sysctl interface version (probed once per hypervisor handle, newest
//! first, with a side-effect-free `nr = 0` LIST) and decodes the reply.

use crate::abi::{
    xen_sysctl, XEN_SYSCTL_livepatch_op, SYSCTL_IFACE_4_14, SYSCTL_IFACE_4_16, SYSCTL_IFACE_4_17, SYSCTL_IFACE_4_21,
    XEN_SYSCTL_LIVEPATCH_LIST,
};
use crate::error::{Error, Result};
use core::sync::atomic::{AtomicU32, Ordering};

/// Interface versions tried, in order: 4.21+, 4.17-4.20, 4.16, 4.14-4.15.
/// All share the 64-byte LIST layout; only 0x16 reads the totals as IN
/// capacities, and sending them to older versions is harmless.
pub const INTERFACE_CANDIDATES: [u32; 4] = [SYSCTL_IFACE_4_21, SYSCTL_IFACE_4_17, SYSCTL_IFACE_4_16, SYSCTL_IFACE_4_14];

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
    /// Runs the `xen_version` hypercall: `cmd` (`XENVER_*`) with the start of
    /// `buf` as its argument, or a NULL argument when `buf` is `None`.
    /// Returns the hypercall's non-negative value or the hypervisor's errno.
    /// A hypervisor model without it answers ENOSYS, as Xen does for a
    /// hypercall it does not have.
    fn xen_version(&self, cmd: u32, buf: Option<&mut Self::Buffer>) -> Result<i64> {
        let _ = (cmd, buf);
        Err(Error::Hypervisor { errno: libc::ENOSYS })
    }
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

/// Byte offsets inside `struct xen_sysctl` (xen-facts §1.6), derived from the
/// `abi` types that abi-check verifies against Xen's headers. The one table
/// used by the library, the simulated hypervisor and the fuzz target.
#[allow(missing_docs)]
pub mod at {
    use crate::abi::{xen_sysctl, xen_sysctl_livepatch_list as L, xen_sysctl_livepatch_op};
    use core::mem::offset_of;
    pub const CMD: usize = offset_of!(xen_sysctl, cmd);
    pub const IFACE: usize = offset_of!(xen_sysctl, interface_version);
    const OP: usize = offset_of!(xen_sysctl, u);
    pub const OP_CMD: usize = OP + offset_of!(xen_sysctl_livepatch_op, cmd);
    pub const OP_PAD: usize = OP + offset_of!(xen_sysctl_livepatch_op, pad);
    const LIST: usize = OP + offset_of!(xen_sysctl_livepatch_op, u);
    pub const VERSION: usize = LIST + offset_of!(L, version);
    pub const IDX: usize = LIST + offset_of!(L, idx);
    pub const NR: usize = LIST + offset_of!(L, nr);
    pub const PAD: usize = LIST + offset_of!(L, pad);
    pub const NAME_TOTAL: usize = LIST + offset_of!(L, name_total_size);
    pub const META_TOTAL: usize = LIST + offset_of!(L, metadata_total_size);
    pub const STATUS: usize = LIST + offset_of!(L, status);
    pub const NAME: usize = LIST + offset_of!(L, name);
    pub const LEN: usize = LIST + offset_of!(L, len);
    pub const META: usize = LIST + offset_of!(L, metadata);
    pub const META_LEN: usize = LIST + offset_of!(L, metadata_len);
    // UPLOAD, GET and ACTION (xen-facts §9): each starts with a
    // `struct xen_livepatch_name` at the start of the op's union.
    use crate::abi::{
        xen_livepatch_name as N, xen_livepatch_status as S, xen_sysctl_livepatch_action as A,
        xen_sysctl_livepatch_get as G, xen_sysctl_livepatch_upload as U,
    };
    /// `name.name`: the handle of the name's bytes.
    pub const NAME_HANDLE: usize = LIST + offset_of!(N, name);
    /// `name.size` (u16): strlen + 1.
    pub const NAME_SIZE: usize = LIST + offset_of!(N, size);
    /// `name.pad` (3 x u16): must be 0.
    pub const NAME_PAD: usize = LIST + offset_of!(N, pad);
    pub const UPLOAD_SIZE: usize = LIST + offset_of!(U, size);
    pub const UPLOAD_PAYLOAD: usize = LIST + offset_of!(U, payload);
    pub const GET_STATE: usize = LIST + offset_of!(G, status) + offset_of!(S, state);
    pub const GET_RC: usize = LIST + offset_of!(G, status) + offset_of!(S, rc);
    pub const ACTION_CMD: usize = LIST + offset_of!(A, cmd);
    pub const ACTION_TIMEOUT: usize = LIST + offset_of!(A, timeout);
    pub const ACTION_FLAGS: usize = LIST + offset_of!(A, flags);
    pub const ACTION_PAD: usize = LIST + offset_of!(A, pad);
    const _: () = assert!(
        NAME_HANDLE == 16
            && NAME_SIZE == 24
            && NAME_PAD == 26
            && UPLOAD_SIZE == 32
            && UPLOAD_PAYLOAD == 40
            && GET_STATE == 32
            && GET_RC == 36
            && ACTION_CMD == 32
            && ACTION_TIMEOUT == 36
            && ACTION_FLAGS == 40
            && ACTION_PAD == 44
    );
    // The numbers of xen-facts §1.6.
    const _: () = assert!(VERSION == 16 && NR == 24 && NAME_TOTAL == 32 && STATUS == 40 && META_LEN == 72);
}

/// Writes the LIST request at the start of `buf`: every byte of the 136,
/// those not named here zero, as libxenctrl sends them.
fn write_request(buf: &mut impl Buffer, iface: u32, a: &ListArgs) {
    let mut b = [0u8; SYSCTL_SIZE];
    let mut put32 = |off: usize, v: u32| b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    put32(at::CMD, XEN_SYSCTL_livepatch_op);
    put32(at::IFACE, iface);
    put32(at::OP_CMD, XEN_SYSCTL_LIVEPATCH_LIST);
    put32(at::OP_PAD, 0);
    put32(at::VERSION, 0);
    put32(at::IDX, a.idx);
    put32(at::NR, a.nr);
    put32(at::PAD, 0);
    put32(at::NAME_TOTAL, a.name_capacity);
    put32(at::META_TOTAL, a.metadata_capacity);
    for (off, handle) in [
        (at::STATUS, a.status),
        (at::NAME, a.name),
        (at::LEN, a.len),
        (at::META, a.metadata),
        (at::META_LEN, a.metadata_len),
    ] {
        b[off..off + 8].copy_from_slice(&handle.to_ne_bytes());
    }
    buf.as_mut_slice()[..SYSCTL_SIZE].copy_from_slice(&b);
}

fn read_reply(buf: &impl Buffer, count: i64) -> ListReply {
    let bytes = &buf.as_slice()[..SYSCTL_SIZE];
    let u32_at = |off: usize| u32::from_ne_bytes([bytes[off], bytes[off + 1], bytes[off + 2], bytes[off + 3]]);
    ListReply {
        count,
        version: u32_at(at::VERSION),
        left: u32_at(at::NR),
        name_total_size: u32_at(at::NAME_TOTAL),
        metadata_total_size: u32_at(at::META_TOTAL),
    }
}

/// Issues the sysctl whose request `write` puts at the start of `buf` for a
/// given interface version: with the cached version, or, before it is known,
/// with each candidate in turn (newest first) until one is not refused with
/// EACCES, which is then cached.
///
/// Trying the request itself is as free of side effects as a separate probe:
/// Xen compares the version before it looks at anything else and refuses a
/// wrong one with EACCES, touching nothing. A success, or an error only a
/// later check gives (EPERM from XSM, ENOSYS, EINVAL, ENOENT, ...), proves
/// the version right and is returned. An error that may come before the check
/// (EFAULT copying the struct in, or anything from the kernel) proves
/// nothing: it is returned and nothing is cached.
pub fn issue<H: Hypervisor>(hv: &H, buf: &mut H::Buffer, write: impl Fn(&mut H::Buffer, u32)) -> Result<i64> {
    let cached = hv.interface_cache().load(Ordering::Relaxed);
    if cached != 0 {
        write(buf, cached);
        return hv.sysctl(buf);
    }
    for iface in INTERFACE_CANDIDATES {
        write(buf, iface);
        match hv.sysctl(buf) {
            Err(Error::Hypervisor { errno: libc::EACCES }) => continue,
            Err(e) if !after_version_check(&e) => return Err(e),
            r => {
                hv.interface_cache().store(iface, Ordering::Relaxed);
                return r;
            }
        }
    }
    Err(Error::UnsupportedInterface)
}

fn call_list<H: Hypervisor>(hv: &H, buf: &mut H::Buffer, a: &ListArgs) -> Result<ListReply> {
    let count = issue(hv, buf, |b, iface| write_request(b, iface, a))?;
    Ok(read_reply(buf, count))
}

/// Errors Xen's sysctl gives only once the interface version was accepted.
fn after_version_check(e: &Error) -> bool {
    matches!(
        e,
        Error::Hypervisor {
            errno: libc::EPERM
                | libc::ENOSYS
                | libc::EINVAL
                | libc::E2BIG
                | libc::EOPNOTSUPP
                | libc::ENOBUFS
                | libc::ENOENT
                | libc::EEXIST
                | libc::EBUSY
        }
    )
}

/// The interface version in use, probing it first (with a size probe) if
/// needed. A probe refused after the version check (EPERM from XSM, ...)
/// still proves the version.
pub fn interface_version<H: Hypervisor>(hv: &H, buf: &mut H::Buffer) -> Result<u32> {
    let cache = hv.interface_cache();
    if cache.load(Ordering::Relaxed) == 0 {
        if let Err(e) = probe_sizes(hv, buf) {
            if cache.load(Ordering::Relaxed) == 0 {
                return Err(e);
            }
        }
    }
    Ok(cache.load(Ordering::Relaxed))
}

/// A size probe: LIST with `nr = 0`. Returns the payload count (`left`), the
/// totals over all payloads and the list version.
pub fn probe_sizes<H: Hypervisor>(hv: &H, buf: &mut H::Buffer) -> Result<ListReply> {
    call_list(hv, buf, &ListArgs::default())
}

/// One data-mode LIST call (`nr > 0`).
pub fn list<H: Hypervisor>(hv: &H, buf: &mut H::Buffer, a: &ListArgs) -> Result<ListReply> {
    call_list(hv, buf, a)
}
