//! The Linux privcmd device: the only place this crate issues ioctls.
//!
//! `/dev/xen/privcmd` (or xenfs' `/proc/xen/privcmd`) carries hypercalls;
//! `/dev/xen/hypercall` hands out memory the hypervisor can always reach.
//! Both are opened once per process, lazily, with `O_CLOEXEC`.

use crate::abi::{privcmd_hypercall, IOCTL_PRIVCMD_HYPERCALL};
use crate::error::{Error, Result};
use core::ffi::{c_int, c_long, CStr};
use once_cell::sync::OnceCell;

const PRIVCMD_DEV: &CStr = c"/dev/xen/privcmd";
const PRIVCMD_XENFS: &CStr = c"/proc/xen/privcmd";
const HYPERCALL_DEV: &CStr = c"/dev/xen/hypercall";

/// An open file descriptor that is never closed: the devices live as long as
/// the process (as libxencall's do for an open handle).
#[derive(Debug, Clone, Copy)]
struct Fd(c_int);

static PRIVCMD: OnceCell<Fd> = OnceCell::new();
static HYPERCALL_BUF: OnceCell<Option<Fd>> = OnceCell::new();

fn last_errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

fn open_rw(path: &CStr) -> core::result::Result<Fd, c_int> {
    // SAFETY: `path` is a valid NUL-terminated string; open has no other
    // preconditions.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        Err(last_errno())
    } else {
        Ok(Fd(fd))
    }
}

fn privcmd() -> Result<Fd> {
    PRIVCMD
        .get_or_try_init(|| match open_rw(PRIVCMD_DEV) {
            Ok(fd) => Ok(fd),
            // Older kernels expose privcmd only through xenfs.
            Err(libc::ENOENT | libc::ENXIO | libc::ENODEV) => open_rw(PRIVCMD_XENFS),
            Err(e) => Err(e),
        })
        .copied()
        .map_err(|errno| Error::Os { call: "open(/dev/xen/privcmd)", errno })
}

/// The hypercall buffer device, or `None` when the kernel has none (ENOENT),
/// in which case locked anonymous memory is used instead.
pub(crate) fn hypercall_buffer_device() -> Result<Option<c_int>> {
    HYPERCALL_BUF
        .get_or_try_init(|| match open_rw(HYPERCALL_DEV) {
            Ok(fd) => Ok(Some(fd)),
            Err(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        })
        .map(|o| o.map(|fd| fd.0))
        .map_err(|errno| Error::Os { call: "open(/dev/xen/hypercall)", errno })
}

/// Issues hypercall `op` with `args` through privcmd.
///
/// Returns the hypercall's non-negative result, or the errno the kernel set:
/// a negative Xen result `-E` arrives as ioctl() == -1 with errno `E`.
///
/// The caller must make sure every address the hypervisor will follow
/// (here: `args`, and anything they point to) is hypercall-safe memory.
pub(crate) fn hypercall(op: u64, args: [u64; 5]) -> Result<c_long> {
    let fd = privcmd()?;
    let mut call = privcmd_hypercall { op, arg: args };
    // SAFETY: `call` is a live, correctly laid out privcmd_hypercall_t for the
    // duration of the ioctl; the kernel only reads it. The memory the
    // arguments point to is the caller's responsibility (documented above).
    let r = unsafe { libc::ioctl(fd.0, IOCTL_PRIVCMD_HYPERCALL as _, &mut call as *mut privcmd_hypercall) };
    if r < 0 {
        return Err(Error::Hypervisor { errno: last_errno() });
    }
    Ok(c_long::from(r))
}
