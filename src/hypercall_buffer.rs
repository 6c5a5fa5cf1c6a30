//! Hypercall-safe memory.
//!
//! The hypervisor reads and writes hypercall arguments through the caller's
//! virtual addresses and cannot take a Linux page fault, so the memory must
//! stay present and private: pages from `/dev/xen/hypercall` (mapped
//! `MAP_SHARED`), or, without that device, anonymous `MAP_LOCKED` pages marked
//! `MADV_DONTFORK` and touched once each. Never the caller's memory, never the
//! heap or the stack.
//!
//! Each buffer is followed by one inaccessible guard page: a hypervisor that
//! writes past what it was given (Xen before 4.21 trusts the caller's sizes)
//! faults there (EFAULT) instead of corrupting this process.

use crate::error::{Error, Result};
use crate::privcmd;
use core::ffi::c_void;
use core::ptr::NonNull;

/// The page size of every architecture Xen's livepatch supports (x86, Arm).
pub const PAGE_SIZE: usize = 4096;

/// A page-aligned, zero-filled, hypercall-safe region followed by a guard page.
#[derive(Debug)]
pub struct HypercallBuffer {
    base: NonNull<u8>,
    /// Usable bytes (whole pages), excluding the guard page.
    len: usize,
    /// Whether the pages come from the anonymous fallback (MADV_DOFORK on free).
    anonymous: bool,
}

// SAFETY: the buffer exclusively owns its mapping; moving it to another thread
// moves that ownership. No thread-affine state is involved.
unsafe impl Send for HypercallBuffer {}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

impl HypercallBuffer {
    /// Maps at least `bytes` (at least one page) of hypercall-safe memory.
    pub fn new(bytes: usize) -> Result<Self> {
        let len = bytes
            .max(1)
            .checked_next_multiple_of(PAGE_SIZE)
            .ok_or(Error::Os { call: "mmap", errno: libc::ENOMEM })?;
        let total = len
            .checked_add(PAGE_SIZE)
            .ok_or(Error::Os { call: "mmap", errno: libc::ENOMEM })?;
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
            None => (
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_LOCKED | libc::MAP_FIXED,
                -1,
            ),
        };
        // SAFETY: MAP_FIXED replaces only pages of the reservation made just
        // above, which nothing else references.
        let p = unsafe {
            libc::mmap(reserve, len, libc::PROT_READ | libc::PROT_WRITE, flags, fd, 0)
        };
        if p == libc::MAP_FAILED {
            let e = errno();
            // SAFETY: unmapping exactly the reservation made above.
            unsafe { libc::munmap(reserve, total) };
            return Err(Error::Os { call: "mmap", errno: e });
        }
        let buf = HypercallBuffer {
            // SAFETY: mmap succeeded, so `p` is not null.
            base: unsafe { NonNull::new_unchecked(p.cast()) },
            len,
            anonymous: device.is_none(),
        };
        // Keep the pages out of any child created by fork(): a child must not
        // share (device) or copy-on-write (anonymous) memory the hypervisor
        // may be writing for this process. The device's VM_IO mapping may
        // refuse the advice on some kernels; that only matters for sharing,
        // and a buffer never outlives the call that made it.
        // SAFETY: the range is our own mapping.
        let r = unsafe { libc::madvise(p, len, libc::MADV_DONTFORK) };
        if r != 0 && buf.anonymous {
            return Err(Error::Os { call: "madvise", errno: errno() });
        }
        if buf.anonymous {
            // Make every page present and private before the hypervisor
            // sees it.
            for off in (0..len).step_by(PAGE_SIZE) {
                // SAFETY: `off < len`, inside the writable mapping.
                unsafe { buf.base.as_ptr().add(off).write_volatile(0) };
            }
        }
        Ok(buf)
    }

    /// Usable length in bytes (whole pages).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a buffer has at least one page.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The start of the region.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// The region as bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `len` bytes from `base` are mapped readable for as long as
        // `self` lives, and were initialised (zero-filled by the kernel).
        unsafe { core::slice::from_raw_parts(self.base.as_ptr(), self.len) }
    }

    /// The region as mutable bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the borrow unique.
        unsafe { core::slice::from_raw_parts_mut(self.base.as_ptr(), self.len) }
    }
}

impl Drop for HypercallBuffer {
    fn drop(&mut self) {
        let p = self.base.as_ptr().cast::<c_void>();
        // errno is not touched by the caller-visible path: errors are carried
        // as values and errno is set once at the C boundary, after cleanup.
        if self.anonymous {
            // SAFETY: our own mapping; undo the advice before unmapping.
            unsafe { libc::madvise(p, self.len, libc::MADV_DOFORK) };
        }
        // SAFETY: unmaps exactly the region and guard page mapped in `new`.
        unsafe { libc::munmap(p, self.len + PAGE_SIZE) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn buffer_is_whole_zeroed_writable_pages_followed_by_a_guard_page() {
        if std::path::Path::new("/dev/xen/hypercall").exists() {
            return; // device pages: covered on a Xen host
        }
        let mut b = HypercallBuffer::new(5000).unwrap();
        assert_eq!(b.len(), 2 * PAGE_SIZE);
        assert!(b.as_slice().iter().all(|&x| x == 0));
        b.as_mut_slice().fill(0x5A);
        let base = b.as_mut_ptr() as usize;
        assert!(protection_at(base).starts_with("rw"));
        assert_eq!(protection_at(base + b.len()), "---p", "guard page");
        drop(b);
        assert_eq!(protection_at(base), "unmapped");
        assert_eq!(protection_at(base + 2 * PAGE_SIZE), "unmapped");
    }

    #[test]
    fn zero_bytes_still_gives_one_page() {
        if std::path::Path::new("/dev/xen/hypercall").exists() {
            return;
        }
        assert_eq!(HypercallBuffer::new(0).unwrap().len(), PAGE_SIZE);
    }
}
