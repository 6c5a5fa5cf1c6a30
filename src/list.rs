//! The listing algorithm, generic over [`Hypervisor`].
//!
//! One hypercall buffer per call holds the `xen_sysctl` and all five arrays;
//! batches of at most 1024 entries are listed into it at increasing offsets;
//! every reply is checked against what was asked and against the capacities
//! before it is accepted; the caller's memory is written once, at the end,
//! and only on success. A change of the list's `version` restarts from
//! scratch (at most four times, then EBUSY).

use crate::abi::{xen_livepatch_status, LIVEPATCH_LIST_MAX_NR, SYSCTL_IFACE_4_21, XEN_LIVEPATCH_NAME_SIZE};
use crate::error::{Error, Result};
use crate::sysctl::{self, Buffer, Hypervisor, ListArgs, ListReply, SYSCTL_SIZE};
use core::marker::PhantomData;
use core::sync::atomic::Ordering;

/// Version changes tolerated in one call; the next one fails with EBUSY
/// (libxenctrl allows the same number).
pub const MAX_RESTARTS: u32 = 4;

/// Entries a list buffer holds beyond the latest probed count (or beyond
/// what the hypervisor says is left, when it has to grow): room for a few
/// uploads between the probe and the list without a new buffer.
pub const ENTRY_SLACK: u32 = 64;

/// What a size probe reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Number of payloads.
    pub nr: u32,
    /// Bytes of all names, each with its NUL.
    pub name_total_size: u32,
    /// Bytes of all metadata.
    pub metadata_total_size: u32,
    /// The list's generation counter at the time of the probe.
    pub version: u32,
}

/// What a listing reports besides the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listing {
    /// Entries written, from index 0.
    pub done: u32,
    /// Entries the hypervisor had after the last one listed.
    pub left: u32,
    /// Name bytes written.
    pub name_bytes: u32,
    /// Metadata bytes written.
    pub metadata_bytes: u32,
    /// The list's generation counter the whole listing was read at.
    pub version: u32,
}

/// Element types whose every byte pattern is a valid value.
pub trait Plain: Copy + private::Sealed {}
impl Plain for u8 {}
impl Plain for u32 {}
impl Plain for xen_livepatch_status {}
mod private {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u32 {}
    impl Sealed for crate::abi::xen_livepatch_status {}
}

/// A destination array: a pointer and a capacity in elements. Written only
/// through raw copies, so it may be uninitialised caller memory.
#[derive(Debug)]
pub struct Out<'a, T> {
    ptr: *mut T,
    cap: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

impl<'a, T: Plain> Out<'a, T> {
    /// Wraps a Rust slice.
    pub fn from_slice(s: &'a mut [T]) -> Self {
        Out { ptr: s.as_mut_ptr(), cap: s.len(), _borrow: PhantomData }
    }

    /// Wraps caller memory.
    ///
    /// # Safety
    /// `ptr` must be valid for writes of `cap` elements of `T`, suitably
    /// aligned, for the lifetime `'a`. Its contents may be uninitialised.
    pub unsafe fn from_raw(ptr: *mut T, cap: usize) -> Self {
        Out { ptr, cap, _borrow: PhantomData }
    }

    /// Capacity in elements.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Copies the raw bytes of whole `T`s to the start, as the hypervisor
    /// laid them out. Checked: never more than the capacity.
    fn put_bytes(&mut self, src: &[u8]) {
        let size = core::mem::size_of::<T>();
        assert!(src.len().is_multiple_of(size), "copy-out of a partial element");
        assert!(src.len() / size <= self.cap, "copy-out beyond the caller's capacity");
        if src.is_empty() {
            return;
        }
        // SAFETY: `ptr` is valid for `cap` elements of `T`, so for
        // `cap * size_of::<T>() >= src.len()` bytes (constructor contract);
        // `T` here is plain data (u8, u32, xen_livepatch_status) for which any
        // bytes are a valid value; `ptr::copy` tolerates any overlap.
        unsafe { core::ptr::copy(src.as_ptr(), self.ptr.cast::<u8>(), src.len()) };
    }
}

/// The caller's five arrays, as `xc_livepatch_list` takes them.
#[derive(Debug)]
pub struct Output<'a> {
    /// `max` status entries.
    pub info: Out<'a, xen_livepatch_status>,
    /// `name_total_size` bytes.
    pub name: Out<'a, u8>,
    /// `max` name lengths.
    pub len: Out<'a, u32>,
    /// `metadata_total_size` bytes.
    pub metadata: Out<'a, u8>,
    /// `max` metadata lengths.
    pub metadata_len: Out<'a, u32>,
}

/// Probes the payload count and the byte totals (LIST with `nr = 0`).
pub fn get_sizes<H: Hypervisor>(hv: &H) -> Result<Sizes> {
    let mut buf = hv.alloc(SYSCTL_SIZE)?;
    let r = sysctl::probe_sizes(hv, &mut buf)?;
    hv.count_hint().store(r.left, Ordering::Relaxed);
    Ok(Sizes {
        nr: r.left,
        name_total_size: r.name_total_size,
        metadata_total_size: r.metadata_total_size,
        version: r.version,
    })
}

/// Offsets of the regions inside the call's buffer. The name and metadata
/// regions come last so that a hypervisor overrunning them (Xen before 4.21
/// trusts the sizes) can only reach the guard page after the buffer.
#[derive(Debug, Clone, Copy)]
struct Layout {
    status: usize,
    len: usize,
    metadata_len: usize,
    name: usize,
    metadata: usize,
    total: usize,
}

impl Layout {
    fn new(entries: usize, name_cap: usize, meta_cap: usize) -> Option<Layout> {
        let status = SYSCTL_SIZE.next_multiple_of(8);
        let len = status.checked_add(entries.checked_mul(8)?)?;
        let metadata_len = len.checked_add(entries.checked_mul(4)?)?;
        let name = metadata_len.checked_add(entries.checked_mul(4)?)?;
        let metadata = name.checked_add(name_cap)?;
        let total = metadata.checked_add(meta_cap)?;
        Some(Layout { status, len, metadata_len, name, metadata, total })
    }
}

/// Checks one batch's entries `[from, from + count)` as laid out in the
/// buffer against the (name, metadata) byte counts the hypervisor reported:
/// every name length in 1..=128 and ending on a NUL inside the reported
/// bytes, and the lengths adding up exactly.
fn check_batch(
    bytes: &[u8],
    lay: &Layout,
    from: usize,
    count: usize,
    name_used: usize,
    name_total: usize,
    meta_total: usize,
) -> Result<()> {
    let lens = &bytes[lay.len + 4 * from..lay.len + 4 * (from + count)];
    let mlens = &bytes[lay.metadata_len + 4 * from..lay.metadata_len + 4 * (from + count)];
    let names = &bytes[lay.name + name_used..lay.name + name_used + name_total];
    let mut end = 0usize;
    for l in lens.chunks_exact(4) {
        let l = u32::from_ne_bytes([l[0], l[1], l[2], l[3]]) as usize;
        if l == 0 || l > XEN_LIVEPATCH_NAME_SIZE as usize {
            return Err(Error::Overflow("a name length outside 1..=128"));
        }
        end += l;
        // Each name ends with its NUL, inside the bytes reported.
        match names.get(end - 1) {
            Some(0) => {}
            Some(_) => return Err(Error::Overflow("a name without its NUL terminator")),
            None => return Err(Error::Overflow("name lengths exceed the name bytes reported")),
        }
    }
    let metas: u64 = mlens.chunks_exact(4).map(|l| u64::from(u32::from_ne_bytes([l[0], l[1], l[2], l[3]]))).sum();
    if end != name_total || metas != meta_total as u64 {
        return Err(Error::Overflow("lengths do not add up to the bytes reported"));
    }
    Ok(())
}

/// Whether the probed interface is one before Xen 4.21's (0x16), which
/// is not told the capacities and writes whatever the list holds now.
fn before_4_21<H: Hypervisor>(hv: &H) -> bool {
    let iface = hv.interface_cache().load(Ordering::Relaxed);
    iface != 0 && iface < SYSCTL_IFACE_4_21
}

/// Names an EFAULT from a data call on an interface before 0x16. Such a
/// hypervisor writes what the list holds now, so a list that outgrew the
/// caller's buffers since they were sized runs past this library's buffer
/// into its guard page and faults. A size probe tells the two apart: totals
/// beyond the caller's buffers make it ENOBUFS (what Xen 4.21+ answers to
/// the same race); otherwise, or if the probe fails, the EFAULT stands.
fn fault_or_outgrown<H: Hypervisor>(hv: &H, buf: &mut H::Buffer, caps: &Capacities) -> Error {
    match sysctl::probe_sizes(hv, buf) {
        Ok(s) if s.name_total_size > caps.name || s.metadata_total_size > caps.metadata => Error::BuffersTooSmall,
        _ => Error::Hypervisor { errno: libc::EFAULT },
    }
}

/// What one call may fill of the caller's buffers.
#[derive(Debug, Clone, Copy)]
struct Capacities {
    /// Entries: `max`, and never more than the name bytes (every entry
    /// takes at least one).
    entries: u32,
    /// Name bytes.
    name: u32,
    /// Metadata bytes.
    metadata: u32,
}

impl Capacities {
    /// The capacities of the caller's arrays; EINVAL for `max == 0`,
    /// ENOENT for no name bytes.
    fn of(out: &Output<'_>) -> Result<Capacities> {
        let max = out.info.capacity().min(out.len.capacity()).min(out.metadata_len.capacity());
        let max = u32::try_from(max).unwrap_or(u32::MAX);
        if max == 0 {
            return Err(Error::InvalidArgument("max is 0"));
        }
        let name = u32::try_from(out.name.capacity()).unwrap_or(u32::MAX);
        let metadata = u32::try_from(out.metadata.capacity()).unwrap_or(u32::MAX);
        if name == 0 {
            return Err(Error::NoNameBuffer);
        }
        Ok(Capacities { entries: max.min(name), name, metadata })
    }

    /// The layout of a buffer holding `held` entries and all the bytes.
    fn layout(&self, held: u32) -> Result<Layout> {
        Layout::new(held as usize, self.name as usize, self.metadata as usize)
            .ok_or(Error::Os { call: "mmap", errno: libc::ENOMEM })
    }
}

/// How far one attempt at a snapshot got.
#[derive(Debug, Default)]
struct Progress {
    /// Entries accepted.
    done: u32,
    /// Entries the hypervisor had after them.
    left: u32,
    /// Name bytes accepted.
    name_used: u32,
    /// Metadata bytes accepted.
    meta_used: u32,
    /// The list version of the first reply.
    version: Option<u32>,
    /// Batches accepted, each checked on arrival.
    batches: u32,
}

impl Progress {
    /// Whether a reply read at `version` belongs to this snapshot (the first
    /// reply sets it).
    fn same_version(&mut self, version: u32) -> bool {
        *self.version.get_or_insert(version) == version
    }

    /// Takes in a checked batch of `count` entries.
    fn advance(&mut self, count: u32, r: &ListReply) {
        self.batches += 1;
        self.done += count;
        self.name_used += r.name_total_size;
        self.meta_used += r.metadata_total_size;
        self.left = r.left;
    }
}

/// The call's hypercall buffer, its layout, and the entries it holds.
struct Arena<B> {
    buf: B,
    lay: Layout,
    held: u32,
}

impl<B: Buffer> Arena<B> {
    /// A buffer for what the latest probe found (plus some slack), not the
    /// caller's `max`, which may be far larger than the list.
    fn new<H: Hypervisor<Buffer = B>>(hv: &H, caps: &Capacities) -> Result<Self> {
        let hint = hv.count_hint().load(Ordering::Relaxed);
        let held = caps.entries.min(hint.max(LIVEPATCH_LIST_MAX_NR).saturating_add(ENTRY_SLACK));
        Self::holding(hv, caps, held)
    }

    fn holding<H: Hypervisor<Buffer = B>>(hv: &H, caps: &Capacities, held: u32) -> Result<Self> {
        let lay = caps.layout(held)?;
        let buf = hv.alloc(lay.total)?;
        Ok(Arena { buf, lay, held })
    }

    /// Full, and the hypervisor has `p.left` more: a bigger buffer, with what
    /// was listed so far moved over.
    fn grow<H: Hypervisor<Buffer = B>>(&mut self, hv: &H, caps: &Capacities, p: &Progress) -> Result<()> {
        let want = caps.entries.min(p.done.saturating_add(p.left).saturating_add(ENTRY_SLACK));
        let mut next = Self::holding(hv, caps, want)?;
        let (a, b, n) = (&self.lay, &next.lay, p.done as usize);
        let (from, to) = (self.buf.as_slice(), next.buf.as_mut_slice());
        for (x, y, len) in [
            (a.status, b.status, 8 * n),
            (a.len, b.len, 4 * n),
            (a.metadata_len, b.metadata_len, 4 * n),
            (a.name, b.name, p.name_used as usize),
            (a.metadata, b.metadata, p.meta_used as usize),
        ] {
            to[y..y + len].copy_from_slice(&from[x..x + len]);
        }
        *self = next;
        Ok(())
    }

    /// The request for `nr` entries from index `start + p.done`, each handle
    /// just past what was accepted so far.
    fn request(&mut self, start: u32, nr: u32, caps: &Capacities, p: &Progress) -> Result<ListArgs> {
        let base = self.buf.as_mut_ptr() as u64;
        let (lay, done) = (&self.lay, p.done as usize);
        Ok(ListArgs {
            idx: start.checked_add(p.done).ok_or(Error::Overflow("start + done exceeds u32"))?,
            nr,
            name_capacity: caps.name - p.name_used,
            metadata_capacity: caps.metadata - p.meta_used,
            status: base + (lay.status + 8 * done) as u64,
            name: base + (lay.name + p.name_used as usize) as u64,
            len: base + (lay.len + 4 * done) as u64,
            metadata: base + (lay.metadata + p.meta_used as usize) as u64,
            metadata_len: base + (lay.metadata_len + 4 * done) as u64,
        })
    }

    /// Checks a reply to a request for `nr` entries: the count, the byte
    /// counts against what is left of the caller's buffers, and the entries
    /// it wrote. Returns the count.
    fn check_reply<H: Hypervisor>(
        &self,
        hv: &H,
        caps: &Capacities,
        p: &Progress,
        nr: u32,
        r: &ListReply,
    ) -> Result<u32> {
        let count =
            u32::try_from(r.count).ok().filter(|&c| c <= nr).ok_or(Error::Overflow("more entries than requested"))?;
        if r.name_total_size > caps.name - p.name_used || r.metadata_total_size > caps.metadata - p.meta_used {
            // Xen 4.21+ (0x16) checks the capacities it is sent: a reply
            // beyond them is a lie. Earlier Xen ignores them and writes what
            // the list holds now: the list outgrew the buffers.
            return Err(if before_4_21(hv) {
                Error::BuffersTooSmall
            } else {
                Error::Overflow("more bytes than the capacity sent")
            });
        }
        check_batch(
            self.buf.as_slice(),
            &self.lay,
            p.done as usize,
            count as usize,
            p.name_used as usize,
            r.name_total_size as usize,
            r.metadata_total_size as usize,
        )?;
        if count == 0 && r.left > 0 {
            return Err(Error::NoProgress);
        }
        Ok(count)
    }

    /// Checks the whole snapshot once more when it came in more than one
    /// batch: a hypervisor writing outside the handles of a later batch could
    /// have changed lengths or terminators accepted earlier. A single batch
    /// was checked after the last hypercall already.
    fn recheck(&self, p: &Progress) -> Result<()> {
        if p.batches <= 1 {
            return Ok(());
        }
        check_batch(self.buf.as_slice(), &self.lay, 0, p.done as usize, 0, p.name_used as usize, p.meta_used as usize)
    }

    /// Copies the snapshot to the caller's arrays.
    fn copy_out(&self, p: &Progress, out: &mut Output<'_>) {
        let (bytes, lay, n) = (self.buf.as_slice(), &self.lay, p.done as usize);
        out.info.put_bytes(&bytes[lay.status..lay.status + 8 * n]);
        out.len.put_bytes(&bytes[lay.len..lay.len + 4 * n]);
        out.metadata_len.put_bytes(&bytes[lay.metadata_len..lay.metadata_len + 4 * n]);
        out.name.put_bytes(&bytes[lay.name..lay.name + p.name_used as usize]);
        out.metadata.put_bytes(&bytes[lay.metadata..lay.metadata + p.meta_used as usize]);
    }
}

/// One attempt at a consistent snapshot from `start`: batches of at most
/// 1024 entries until the caller's entries are full or the hypervisor has
/// none left. `Ok(None)`: the list changed meanwhile; start over.
fn read_snapshot<H: Hypervisor>(
    hv: &H,
    start: u32,
    caps: &Capacities,
    arena: &mut Arena<H::Buffer>,
) -> Result<Option<Progress>> {
    let mut batch = caps.entries.min(LIVEPATCH_LIST_MAX_NR);
    let mut p = Progress::default();
    loop {
        if p.done == arena.held {
            arena.grow(hv, caps, &p)?;
        }
        let nr = (arena.held - p.done).min(batch);
        let args = arena.request(start, nr, caps, &p)?;
        let r = match sysctl::list(hv, &mut arena.buf, &args) {
            Err(Error::Hypervisor { errno: libc::E2BIG }) if batch > 1 => {
                batch /= 2;
                continue;
            }
            // The list shrank below `start + done` since the last batch:
            // Xen refuses the index before reporting the new version.
            // That is a change of the list like any other: start over.
            Err(Error::Hypervisor { errno: libc::EINVAL }) if p.done > 0 => return Ok(None),
            // Before Xen 4.21 a list that outgrew the caller's buffers
            // can run past this buffer into its guard page: EFAULT.
            Err(Error::Hypervisor { errno: libc::EFAULT }) if before_4_21(hv) => {
                return Err(fault_or_outgrown(hv, &mut arena.buf, caps));
            }
            r => r?,
        };
        if !p.same_version(r.version) {
            return Ok(None);
        }
        let count = arena.check_reply(hv, caps, &p, nr, &r)?;
        p.advance(count, &r);
        if p.done >= caps.entries || p.left == 0 {
            return Ok(Some(p));
        }
    }
}

/// Lists up to `out.info.capacity()` payloads starting at index `start`.
///
/// On success the first `done` entries of `info`, `len` and `metadata_len`
/// and the first `name_bytes` / `metadata_bytes` bytes of `name` /
/// `metadata` are written, and nothing else. On failure nothing is written.
pub fn list<H: Hypervisor>(hv: &H, start: u32, out: &mut Output<'_>) -> Result<Listing> {
    let caps = Capacities::of(out)?;
    let mut arena = Arena::new(hv, &caps)?;
    let mut restarts = 0;
    let p = loop {
        match read_snapshot(hv, start, &caps, &mut arena)? {
            Some(p) => break p,
            None if restarts < MAX_RESTARTS => restarts += 1,
            None => return Err(Error::ListUnstable),
        }
    };
    arena.recheck(&p)?;
    arena.copy_out(&p, out);
    Ok(Listing {
        done: p.done,
        left: p.left,
        name_bytes: p.name_used,
        metadata_bytes: p.meta_used,
        version: p.version.unwrap_or(0),
    })
}
