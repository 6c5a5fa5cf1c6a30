//! The crate's one error type and its mapping to C `errno` values.

use core::ffi::c_int;

/// Everything that can go wrong while listing or managing live patches.
///
/// [`Error::errno`] gives the value the C functions leave in `errno`; it is the
/// only place where that mapping is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A caller argument is invalid (NULL pointer, `max == 0`, a name of
    /// 128 bytes or more or holding a NUL, a payload of 4 GiB or more).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// `name_total_size == 0`: libxenctrl reports "no names" as ENOENT.
    #[error("name buffer is empty (name_total_size == 0)")]
    NoNameBuffer,
    /// The hypervisor (or the privcmd driver on its behalf) failed the sysctl.
    #[error("hypervisor returned {}", describe(*errno))]
    Hypervisor {
        /// The positive errno (Xen's and Linux's numbers coincide).
        errno: c_int,
    },
    /// A system call made by this library failed (open, mmap, ...).
    #[error("{call} failed: {}", describe(*errno))]
    Os {
        /// Which call failed.
        call: &'static str,
        /// Its errno.
        errno: c_int,
    },
    /// Every probed sysctl interface version was refused with EACCES: the
    /// hypervisor is newer or older than this library knows, or an XSM
    /// (FLASK) policy denies livepatch operations.
    #[error("hypervisor refused every sysctl interface version tried (0x16..0x13): unsupported Xen or FLASK denial")]
    UnsupportedInterface,
    /// The payload list changed on every one of the allowed restarts.
    #[error("the payload list kept changing while it was being read")]
    ListUnstable,
    /// The list does not fit the caller's name or metadata buffer (it grew
    /// since they were sized). Xen 4.21+ says so itself (ENOBUFS); before
    /// 4.21 Xen writes on regardless, into this library's own buffer (the
    /// reply is refused here with the same errno) or on into its guard page
    /// (EFAULT, then told apart by a size probe). Nothing is copied out.
    #[error("the live patches no longer fit the buffers (the list grew since they were sized)")]
    BuffersTooSmall,
    /// The hypervisor's reply contradicts the request or itself (more entries
    /// than asked, more bytes than the capacity it was told, lengths that do
    /// not add up). Nothing is copied to the caller.
    #[error("hypervisor reply rejected: {0}")]
    Overflow(&'static str),
    /// The hypervisor returned no entry while reporting entries left.
    #[error("hypervisor made no progress while reporting entries left")]
    NoProgress,
    /// A panic was caught at the C boundary.
    #[error("internal error (panic caught)")]
    Panic,
}

fn describe(errno: c_int) -> String {
    format!("{} ({})", std::io::Error::from_raw_os_error(errno), errno)
}

impl Error {
    /// The `errno` value the C API reports for this error.
    pub fn errno(&self) -> c_int {
        match self {
            Error::InvalidArgument(_) => libc::EINVAL,
            Error::NoNameBuffer => libc::ENOENT,
            Error::Hypervisor { errno } | Error::Os { errno, .. } => *errno,
            Error::UnsupportedInterface => libc::EACCES,
            Error::ListUnstable => libc::EBUSY,
            Error::BuffersTooSmall => libc::ENOBUFS,
            Error::Overflow(_) => libc::EOVERFLOW,
            Error::NoProgress => libc::EIO,
            Error::Panic => libc::EIO,
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T> = core::result::Result<T, Error>;
