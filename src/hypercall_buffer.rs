//! Hypercall-safe memory.
//!
//! The hypervisor reads and writes hypercall arguments through the caller's
//! virtual addresses and cannot take a Linux page fault, so the memory must
//! stay present and private: pages from `/dev/xen/hypercall` (mapped
//! `MAP_SHARED`), or, without that device, anonymous `MAP_LOCKED` pages touched
//! once each. Never the caller's memory, never the heap or the stack.
//!
//! Each buffer is followed by one inaccessible guard page: a hypervisor that
//! writes past what it was given (Xen before 4.21 trusts the caller's sizes)
//! faults there (EFAULT) instead of corrupting this process. The whole range
//! is `MADV_DONTFORK`: a child created by `fork()` never shares, nor
//! copies-on-write, memory the hypervisor may be writing for the parent.
//!
//! Buffers are kept for reuse in a process-wide pool, so listing in steady
//! state maps nothing; but hypercall memory is pinned, so the pool is
//! bounded: once a call returns it holds at most [`POOL_SLOTS`] buffers of at
//! most [`keep_bytes`] in total (default [`DEFAULT_KEEP_BYTES`], 1 MiB; the
//! environment variable `XC_LIVEPATCH_KEEP_BYTES` sets it, read once, with
//! `secure_getenv` semantics: ignored in a set-user-ID, set-group-ID or
//! file-capability process, where the kernel sets `AT_SECURE`; a malformed
//! value keeps the default). A returned buffer larger than that is unmapped
//! before the call returns; one that fits is kept, older ones making room
//! for it, so the pool holds what the latest call needed. A pooled buffer much larger than a request is
//! unmapped rather than reused. The pool is emptied in a child right after
//! `fork()` (a `pthread_atfork` handler) and is forgotten in a child made
//! without it (a wipe-on-fork page, `fork_guard`: no system call per buffer),
//! so parent and child never use one buffer at once.

use crate::error::{Error, Result};
use crate::fork_guard::ForkGuard;
use crate::privcmd;
use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use once_cell::sync::OnceCell;
use std::sync::Once;

pub use crate::page::PAGE_SIZE;
/// Buffers kept for reuse.
pub const POOL_SLOTS: usize = 2;
/// Bytes of hypercall buffers kept mapped between calls unless
/// `XC_LIVEPATCH_KEEP_BYTES` says otherwise: a thousand payloads with a few
/// hundred bytes of metadata each fit.
pub const DEFAULT_KEEP_BYTES: usize = 1 << 20;
/// The environment variable that sets [`keep_bytes`].
pub const KEEP_BYTES_ENV: &str = "XC_LIVEPATCH_KEEP_BYTES";
/// A pooled buffer is reused only for requests of at least 1/`POOL_WASTE` of
/// its size; a much smaller request unmaps it instead. So the pool holds
/// about what the latest listings needed, not the largest one ever made.
pub const POOL_WASTE: usize = 4;

/// Hypercall memory mapped by this library now (in use and pooled), in
/// usable bytes (guard pages are address space only).
static MAPPED_BYTES: AtomicUsize = AtomicUsize::new(0);
static KEEP_BYTES: OnceCell<usize> = OnceCell::new();

/// Bytes of hypercall buffers the pool keeps mapped between calls at most:
/// `XC_LIVEPATCH_KEEP_BYTES` (read once; a number of bytes, optionally with
/// a `K`, `M` or `G` suffix for KiB, MiB, GiB; 0 keeps nothing), else
/// [`DEFAULT_KEEP_BYTES`]. A malformed or too large value, one that is not
/// UTF-8, and any value in a set-user-ID, set-group-ID or otherwise
/// `AT_SECURE` process (as glibc's `secure_getenv`) give the default.
pub fn keep_bytes() -> usize {
    *KEEP_BYTES
        .get_or_init(|| env_unless_secure(KEEP_BYTES_ENV).and_then(|v| parse_bytes(&v)).unwrap_or(DEFAULT_KEEP_BYTES))
}

/// The environment variable `name`, as glibc's `secure_getenv` gives it:
/// `None` when the kernel marked this process `AT_SECURE` (set-user-ID,
/// set-group-ID, file capabilities, or a security module's transition),
/// whose environment is chosen by a less privileged user. Read through std,
/// which holds its environment lock, rather than `secure_getenv` itself.
fn env_unless_secure(name: &str) -> Option<String> {
    // SAFETY: getauxval has no preconditions; an absent entry reads as 0.
    if unsafe { libc::getauxval(libc::AT_SECURE) } != 0 {
        return None;
    }
    std::env::var(name).ok()
}

/// `123`, `64K`, `1M`, `2G` (binary multiples) as bytes; `None` if malformed
/// or too large.
pub fn parse_bytes(v: &str) -> Option<usize> {
    let v = v.trim();
    let (digits, shift) = match v.as_bytes().last()? {
        b'k' | b'K' => (&v[..v.len() - 1], 10),
        b'm' | b'M' => (&v[..v.len() - 1], 20),
        b'g' | b'G' => (&v[..v.len() - 1], 30),
        _ => (v, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok()?.checked_mul(1 << shift)
}

/// Hypercall memory this library has mapped now, in use or pooled, in bytes
/// (without guard pages). Between calls it is what the pool keeps.
pub fn mapped_bytes() -> usize {
    MAPPED_BYTES.load(Ordering::Relaxed)
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// One mapping: `len` usable bytes at `base`, then a guard page.
#[derive(Debug, Clone, Copy)]
struct Mapping {
    base: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn map(len: usize) -> Result<Mapping> {
        let total = len.checked_add(PAGE_SIZE).ok_or(Error::Os { call: "mmap", errno: libc::ENOMEM })?;
        let device = privcmd::hypercall_buffer_device()?;

        // Reserve the region and its guard page as inaccessible memory, then
        // put the real pages over all but the last page.
        // SAFETY: a fresh anonymous PROT_NONE mapping at a kernel-chosen
        // address aliases nothing.
        let reserve = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if reserve == libc::MAP_FAILED {
            return Err(Error::Os { call: "mmap", errno: errno() });
        }
        let (flags, fd) = match device {
            Some(fd) => (libc::MAP_SHARED | libc::MAP_FIXED, fd),
            None => (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_LOCKED | libc::MAP_FIXED, -1),
        };
        // SAFETY: MAP_FIXED replaces only pages of the reservation made just
        // above, which nothing else references.
        let p = unsafe { libc::mmap(reserve, len, libc::PROT_READ | libc::PROT_WRITE, flags, fd, 0) };
        if p == libc::MAP_FAILED {
            let e = errno();
            // SAFETY: unmapping exactly the reservation made above.
            unsafe { libc::munmap(reserve, total) };
            return Err(Error::Os { call: "mmap", errno: e });
        }
        let m = Mapping {
            // SAFETY: mmap succeeded, so `p` is not null.
            base: unsafe { NonNull::new_unchecked(p.cast()) },
            len,
        };
        MAPPED_BYTES.fetch_add(len, Ordering::Relaxed);
        // Keep the pages and the guard page out of any child. Linux accepts
        // the advice on the device's VM_IO mapping; should it not, the pool's
        // fork handler still keeps a child from using the buffer.
        // SAFETY: the range is our own mapping.
        if unsafe { libc::madvise(p, total, libc::MADV_DONTFORK) } != 0 && device.is_none() {
            let e = errno();
            m.unmap();
            return Err(Error::Os { call: "madvise", errno: e });
        }
        if device.is_none() {
            // Make every page present and private before the hypervisor
            // sees it.
            for off in (0..len).step_by(PAGE_SIZE) {
                // SAFETY: `off < len`, inside the writable mapping.
                unsafe { m.base.as_ptr().add(off).write_volatile(0) };
            }
        }
        Ok(m)
    }

    fn unmap(self) {
        // Errors are carried as values and errno is set once at the C
        // boundary, after cleanup, so munmap may clobber errno here.
        // SAFETY: unmaps exactly the region and guard page mapped in `map`,
        // which no live HypercallBuffer refers to any more.
        unsafe { libc::munmap(self.base.as_ptr().cast::<c_void>(), self.len + PAGE_SIZE) };
        MAPPED_BYTES.fetch_sub(self.len, Ordering::Relaxed);
    }
}

/// The reuse pool: a few free mappings, guarded by a spin lock that the fork
/// handlers can hold across `fork()` (a std Mutex guard cannot).
struct Pool {
    locked: AtomicBool,
    inner: UnsafeCell<PoolInner>,
}

struct PoolInner {
    fork: ForkGuard,
    free: [Option<Mapping>; POOL_SLOTS],
}

// SAFETY: `inner` is only accessed while `locked` is held (see `with`).
unsafe impl Sync for Pool {}

static POOL: Pool = Pool {
    locked: AtomicBool::new(false),
    inner: UnsafeCell::new(PoolInner { fork: ForkGuard::NEW, free: [None; POOL_SLOTS] }),
};
static FORK_HANDLERS: Once = Once::new();

impl Pool {
    fn lock(&self) {
        while self.locked.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            std::thread::yield_now();
        }
    }

    fn unlock(&self) {
        self.locked.store(false, Ordering::Release);
    }

    fn with<R>(&self, f: impl FnOnce(&mut PoolInner) -> R) -> R {
        self.lock();
        // SAFETY: the lock is held, so this is the only reference.
        let r = f(unsafe { &mut *self.inner.get() });
        self.unlock();
        r
    }
}

extern "C" fn before_fork() {
    POOL.lock();
}

extern "C" fn after_fork_in_parent() {
    POOL.unlock();
}

extern "C" fn after_fork_in_child() {
    // Runs in the child before fork() returns: nothing can have been mapped
    // over the pooled ranges yet, so unmapping them is safe (they are absent
    // already when MADV_DONTFORK took effect).
    // SAFETY: `before_fork` took the lock in the forking thread, which is
    // this thread of the child; no other thread exists here.
    let inner = unsafe { &mut *POOL.inner.get() };
    for m in inner.free.iter_mut().filter_map(Option::take) {
        m.unmap();
    }
    // If the guard cannot be armed here, it stays unarmed and the next
    // call arms it (or fails): the pool is empty either way.
    let _ = inner.fork.arm();
    POOL.unlock();
}

/// A pooled mapping of at least `len` bytes, if there is one; an error only
/// if the fork guard cannot be armed (its page cannot be mapped).
fn take(len: usize) -> Result<Option<Mapping>> {
    FORK_HANDLERS.call_once(|| {
        // SAFETY: the handlers are plain functions living as long as this
        // library (glibc drops them if the library is unloaded).
        unsafe { libc::pthread_atfork(Some(before_fork), Some(after_fork_in_parent), Some(after_fork_in_child)) };
    });
    let found = POOL.with(|p| {
        if !p.fork.same_process()? {
            // Forked without our handler (e.g. a raw clone): the mappings may
            // be gone and their addresses reused; forget them, unmap nothing.
            p.free = [None; POOL_SLOTS];
        }
        // The smallest free mapping that is large enough.
        let best = p
            .free
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.filter(|m| m.len >= len).map(|m| (i, m.len)))
            .min_by_key(|&(_, l)| l);
        Ok(best.and_then(|(i, _)| p.free[i].take()))
    })?;
    Ok(found.and_then(|m| {
        if m.len > PAGE_SIZE && m.len / POOL_WASTE > len {
            // Far too big for this request: give the memory back.
            m.unmap();
            None
        } else {
            Some(m)
        }
    }))
}

/// Keeps `m` for reuse if it fits [`keep_bytes`] on its own (unmaps it
/// otherwise), with the older free buffers, largest first, that fit beside
/// it within [`keep_bytes`] in total and [`POOL_SLOTS`] buffers; the other
/// older ones are unmapped.
fn give_back(m: Mapping) {
    let keep = keep_bytes();
    if m.len > keep {
        return m.unmap();
    }
    let mut evicted: [Option<Mapping>; POOL_SLOTS] = [None; POOL_SLOTS];
    POOL.with(|p| {
        // An unarmable guard counts as another process: forget, unmap nothing.
        if !p.fork.same_process().unwrap_or(false) {
            p.free = [None; POOL_SLOTS];
        }
        let mut total = m.len;
        let mut others: [Option<Mapping>; POOL_SLOTS] = core::mem::replace(&mut p.free, [None; POOL_SLOTS]);
        // The older buffers, largest first, stay while they fit beside `m`.
        others.sort_by_key(|o| core::cmp::Reverse(o.map_or(0, |o| o.len)));
        p.free[0] = Some(m);
        let mut kept = 1;
        for (i, o) in others.iter().enumerate() {
            let Some(o) = *o else { continue };
            if kept < POOL_SLOTS && total + o.len <= keep {
                p.free[kept] = Some(o);
                kept += 1;
                total += o.len;
            } else {
                evicted[i] = Some(o);
            }
        }
    });
    for e in evicted.into_iter().flatten() {
        e.unmap();
    }
}

/// Empties the reuse pool, unmapping its buffers. Returns how many there were.
pub fn release_pool() -> usize {
    let free = POOL.with(|p| core::mem::replace(&mut p.free, [None; POOL_SLOTS]));
    free.iter().flatten().map(|m| m.unmap()).count()
}

/// A page-aligned, hypercall-safe region followed by a guard page, from the
/// pool or freshly mapped (then zero-filled).
#[derive(Debug)]
pub struct HypercallBuffer {
    map: Mapping,
}

// SAFETY: the buffer exclusively owns its mapping; moving it to another thread
// moves that ownership. No thread-affine state is involved.
unsafe impl Send for HypercallBuffer {}

impl HypercallBuffer {
    /// At least `bytes` (at least one page) of hypercall-safe memory. A reused
    /// buffer may hold bytes of an earlier call: the hypervisor overwrites what
    /// it reports, and nothing else is read.
    pub fn new(bytes: usize) -> Result<Self> {
        let len =
            bytes.max(1).checked_next_multiple_of(PAGE_SIZE).ok_or(Error::Os { call: "mmap", errno: libc::ENOMEM })?;
        let map = match take(len)? {
            Some(m) => m,
            None => Mapping::map(len)?,
        };
        Ok(HypercallBuffer { map })
    }

    /// Usable length in bytes (whole pages).
    pub fn len(&self) -> usize {
        self.map.len
    }

    /// Always false: a buffer has at least one page.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The start of the region.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.map.base.as_ptr()
    }

    /// The region as bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `len` bytes from `base` are mapped readable for as long as
        // `self` lives, and are initialised (zero-filled by the kernel, then
        // written only as bytes).
        unsafe { core::slice::from_raw_parts(self.map.base.as_ptr(), self.map.len) }
    }

    /// The region as mutable bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the borrow unique.
        unsafe { core::slice::from_raw_parts_mut(self.map.base.as_ptr(), self.map.len) }
    }
}

impl Drop for HypercallBuffer {
    fn drop(&mut self) {
        give_back(self.map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The pool is process-wide: tests that look at it run one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// The protection string /proc/self/maps shows for the page at `addr`.
    fn protection_at(addr: usize) -> String {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        for line in maps.lines() {
            let range = line.split_whitespace().next().unwrap();
            let (a, b) = range.split_once('-').unwrap();
            let (a, b) = (usize::from_str_radix(a, 16).unwrap(), usize::from_str_radix(b, 16).unwrap());
            if (a..b).contains(&addr) {
                return line.split_whitespace().nth(1).unwrap().to_string();
            }
        }
        String::from("unmapped")
    }

    fn no_device() -> bool {
        !std::path::Path::new("/dev/xen/hypercall").exists()
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "kernel-only: a PROT_NONE guard page, MAP_FIXED, madvise and /proc/self/maps, none of which Miri models"
    )]
    fn buffer_is_whole_zeroed_writable_pages_followed_by_a_guard_page() {
        let _g = SERIAL.lock().unwrap();
        if !no_device() {
            return; // device pages: covered on a Xen host
        }
        release_pool();
        // Larger than the pool keeps: really unmapped on drop.
        let mut b = HypercallBuffer::new(keep_bytes() + 5000).unwrap();
        let len = b.len();
        assert_eq!(len, (keep_bytes() + 5000).next_multiple_of(PAGE_SIZE));
        assert!(b.as_slice().iter().step_by(PAGE_SIZE).all(|&x| x == 0));
        b.as_mut_slice()[..PAGE_SIZE].fill(0x5A);
        let base = b.as_mut_ptr() as usize;
        assert!(protection_at(base).starts_with("rw"));
        assert_eq!(protection_at(base + len), "---p", "guard page");
        drop(b);
        assert_eq!(protection_at(base), "unmapped");
        assert_eq!(protection_at(base + len), "unmapped");
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "kernel-only: buffers are MAP_FIXED mappings over a PROT_NONE reservation with madvise, which Miri does not model"
    )]
    fn zero_bytes_still_gives_one_page() {
        let _g = SERIAL.lock().unwrap();
        assert_eq!(HypercallBuffer::new(0).unwrap().len(), PAGE_SIZE);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "kernel-only: buffers are MAP_FIXED mappings over a PROT_NONE reservation with madvise, which Miri does not model"
    )]
    fn small_buffers_are_reused_and_the_pool_is_bounded() {
        let _g = SERIAL.lock().unwrap();
        release_pool();
        let mut a = HypercallBuffer::new(100).unwrap();
        let a_addr = a.as_mut_ptr() as usize;
        drop(a);
        let mut b = HypercallBuffer::new(200).unwrap();
        assert_eq!(b.as_mut_ptr() as usize, a_addr, "the pooled page is reused");
        // Three live at once, all returned: only POOL_SLOTS stay.
        let c = HypercallBuffer::new(3 * PAGE_SIZE).unwrap();
        let d = HypercallBuffer::new(2 * PAGE_SIZE).unwrap();
        drop((b, c, d));
        assert_eq!(release_pool(), POOL_SLOTS);
        assert_eq!(release_pool(), 0);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "kernel-only: MAP_FIXED mappings, madvise and /proc/self/maps, which Miri does not model"
    )]
    fn a_pooled_buffer_far_larger_than_needed_is_unmapped_not_reused() {
        let _g = SERIAL.lock().unwrap();
        release_pool();
        let mut big = HypercallBuffer::new(64 * PAGE_SIZE).unwrap();
        let big_addr = big.as_mut_ptr() as usize;
        drop(big);
        let mut small = HypercallBuffer::new(100).unwrap();
        assert_ne!(small.as_mut_ptr() as usize, big_addr);
        assert_eq!(protection_at(big_addr), "unmapped");
        drop(small);
        // A request of a quarter or more reuses it.
        let mut big = HypercallBuffer::new(64 * PAGE_SIZE).unwrap();
        let big_addr = big.as_mut_ptr() as usize;
        drop(big);
        let mut quarter = HypercallBuffer::new(16 * PAGE_SIZE).unwrap();
        assert_eq!(quarter.as_mut_ptr() as usize, big_addr);
        drop(quarter);
        release_pool();
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "kernel-only: clone(2) of a child and a MADV_WIPEONFORK page, which Miri does not support"
    )]
    fn a_child_cloned_without_the_fork_handlers_gets_no_pooled_buffer_of_its_parent() {
        let _g = SERIAL.lock().unwrap();
        release_pool();
        let mut a = HypercallBuffer::new(100).unwrap();
        let parent_addr = a.as_mut_ptr() as usize;
        drop(a); // pooled, then checked without a system call
        let mut b = HypercallBuffer::new(100).unwrap();
        assert_eq!(b.as_mut_ptr() as usize, parent_addr, "reused in the same process");
        drop(b);
        // A raw clone: a child process that runs no pthread_atfork handler.
        // SAFETY: like fork(); the child only takes and returns a buffer
        // (no allocation: other test threads may hold the heap lock) and
        // leaves with _exit.
        let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_long, 0, 0, 0, 0) } as libc::pid_t;
        assert!(pid >= 0, "clone failed");
        if pid == 0 {
            // The parent's pooled pages are absent here (MADV_DONTFORK): a
            // reused stale buffer faults on the first write (SIGSEGV). A fresh
            // one may land at the same address, so the address proves nothing.
            let usable = match HypercallBuffer::new(100) {
                Ok(mut c) => {
                    c.as_mut_slice().fill(0x5A);
                    true
                }
                Err(_) => false,
            };
            // SAFETY: ends the child without running the parent's atexit state.
            unsafe { libc::_exit(if usable { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the cloned child got an unusable buffer (status {status:#x}: reused its parent's?)"
        );
        let mut c = HypercallBuffer::new(100).unwrap();
        assert_eq!(c.as_mut_ptr() as usize, parent_addr, "the parent keeps its pool");
    }

    #[test]
    fn sizes_parse_as_bytes_or_binary_multiples() {
        assert_eq!(parse_bytes("0"), Some(0));
        assert_eq!(parse_bytes("4096"), Some(4096));
        assert_eq!(parse_bytes(" 64K"), Some(64 << 10));
        assert_eq!(parse_bytes("1m"), Some(1 << 20));
        assert_eq!(parse_bytes("2G"), Some(2 << 30));
        for bad in ["", "M", "-1", "1.5M", "1MB", "0x10", "99999999999999999999"] {
            assert_eq!(parse_bytes(bad), None, "{bad:?}");
        }
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "kernel-only: MAP_FIXED mappings, madvise and /proc/self/maps, which Miri does not model"
    )]
    fn after_a_buffer_beyond_the_cap_is_dropped_only_the_cap_stays_mapped() {
        let _g = SERIAL.lock().unwrap();
        release_pool();
        let before = mapped_bytes();
        let keep = keep_bytes();
        let page = HypercallBuffer::new(100).unwrap();
        let mut big = HypercallBuffer::new(keep + 1).unwrap();
        let big_addr = big.as_mut_ptr() as usize;
        assert_eq!(mapped_bytes() - before, PAGE_SIZE + big.len());
        drop((page, big));
        assert_eq!(mapped_bytes() - before, PAGE_SIZE, "only the page stays");
        assert_eq!(protection_at(big_addr), "unmapped");
        // Two that fit alone but not together: the one given back last stays.
        let half = keep / 2 + PAGE_SIZE;
        let (a, mut b) = (HypercallBuffer::new(half).unwrap(), HypercallBuffer::new(half).unwrap());
        let b_addr = b.as_mut_ptr() as usize;
        drop(a);
        drop(b);
        assert!(mapped_bytes() - before <= keep, "{} kept", mapped_bytes() - before);
        let mut again = HypercallBuffer::new(half).unwrap();
        assert_eq!(again.as_mut_ptr() as usize, b_addr, "the latest one is reused");
        drop(again);
        release_pool();
        assert_eq!(mapped_bytes(), before);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "kernel-only: fork and pthread_atfork, which Miri does not support, and MAP_FIXED mappings"
    )]
    fn a_forked_child_gets_no_pooled_buffer_of_its_parent() {
        let _g = SERIAL.lock().unwrap();
        release_pool();
        let mut a = HypercallBuffer::new(100).unwrap();
        let parent_addr = a.as_mut_ptr() as usize;
        drop(a); // pooled
                 // SAFETY: the child only calls async-signal-safe-enough code paths of
                 // this test (mmap, /proc reads) and exits with _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // The parent's pooled pages are not in the child, the child's
            // pool is empty, and the child can still get buffers.
            let gone = !no_device() || protection_at(parent_addr) == "unmapped";
            let empty = release_pool() == 0;
            let ok = HypercallBuffer::new(100).is_ok();
            // SAFETY: ends the child without running the parent's atexit state.
            unsafe { libc::_exit(if gone && empty && ok { 0 } else { 1 }) };
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child saw the parent's buffer");
        let mut c = HypercallBuffer::new(100).unwrap();
        assert_eq!(c.as_mut_ptr() as usize, parent_addr, "the parent keeps its pool");
    }
}
