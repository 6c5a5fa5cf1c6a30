//! Has this process forked since the buffer pool was filled? Answered without
//! a system call.
//!
//! A `fork()` through libc runs the pool's `pthread_atfork` handler, but a
//! child made some other way (a raw `clone` without `CLONE_VM`) does not, and
//! must not reuse its parent's pooled buffers: they are `MADV_DONTFORK`, so
//! absent in the child, and their addresses may be reused there. The guard is
//! one private page marked `MADV_WIPEONFORK` (Linux 4.14+) holding a 1: every
//! child, however created, sees it zeroed. Reading it costs a load, where the
//! process id costs a `getpid()` system call (about 45 µs in a PV dom0 under
//! QEMU TCG, four per get_sizes + list before). Where the kernel refuses the
//! advice, the guard falls back to comparing process ids. If the page cannot
//! be mapped (ENOMEM, ...), arming fails like any other mapping of a call,
//! and the next call tries again.

use crate::error::{Error, Result};
use crate::page::PAGE_SIZE;
use core::ptr;

/// See the module documentation. Used under the pool's lock only.
#[derive(Debug)]
pub(crate) struct ForkGuard {
    /// The wipe-on-fork page (null: not armed yet, or the kernel refused).
    page: *mut u8,
    /// The process id the guard was armed in (the fallback's answer).
    pid: libc::pid_t,
    /// Whether the page was tried already.
    tried: bool,
}

impl ForkGuard {
    /// Not armed: the first [`ForkGuard::same_process`] arms it.
    pub(crate) const NEW: ForkGuard = ForkGuard { page: ptr::null_mut(), pid: 0, tried: false };

    /// True if this is the process the guard was armed in. Otherwise (a
    /// child, or never armed) arms it for this process and returns false:
    /// the caller then forgets what it kept for the other process. An error
    /// if the guard cannot be armed (then nothing was kept: see `arm`).
    pub(crate) fn same_process(&mut self) -> Result<bool> {
        if !self.page.is_null() {
            // SAFETY: `page` is a private page mapped read-write by `arm` and
            // never unmapped; a child has it too (zeroed), so it is valid in
            // whatever process runs this.
            if unsafe { self.page.read_volatile() } == 1 {
                return Ok(true);
            }
        } else if self.tried {
            // SAFETY: getpid has no preconditions.
            if unsafe { libc::getpid() } == self.pid {
                return Ok(true);
            }
        }
        self.arm()?;
        Ok(false)
    }

    /// Arms the guard for the current process (e.g. right after the pool was
    /// emptied in a fork handler). Fails only if the page could not be
    /// mapped; the guard then stays unarmed (and answers "another process"
    /// until armed), so nothing kept is ever reused across a fork.
    pub(crate) fn arm(&mut self) -> Result<()> {
        if !self.tried {
            self.page = wipe_on_fork_page()?;
            self.tried = true;
        }
        if self.page.is_null() {
            // SAFETY: getpid has no preconditions.
            self.pid = unsafe { libc::getpid() };
        } else {
            // SAFETY: as in `same_process`.
            unsafe { self.page.write_volatile(1) };
        }
        Ok(())
    }
}

/// One private zero page that every child sees zeroed; null if the kernel
/// refuses `MADV_WIPEONFORK` (before 4.14: the process-id fallback); an
/// error if the page cannot be mapped.
fn wipe_on_fork_page() -> Result<*mut u8> {
    // SAFETY: a fresh anonymous private mapping at a kernel-chosen address
    // aliases nothing.
    let p = unsafe {
        libc::mmap(
            ptr::null_mut(),
            PAGE_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::ENOMEM);
        return Err(Error::Os { call: "mmap", errno });
    }
    // SAFETY: advice on the page mapped just above.
    if unsafe { libc::madvise(p, PAGE_SIZE, libc::MADV_WIPEONFORK) } != 0 {
        // SAFETY: unmapping the page mapped just above, referenced nowhere.
        unsafe { libc::munmap(p, PAGE_SIZE) };
        return Ok(ptr::null_mut());
    }
    Ok(p.cast())
}
