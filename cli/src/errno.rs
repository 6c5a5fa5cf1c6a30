//! Errno numbers in words: glibc's text, the symbolic name, and the
//! README's troubleshooting hint.

mod glibc;

/// What glibc's `strerror(e)` prints (`Unknown error N` for a number without a
/// text), whichever C library the command is linked with: Xen's tools print
/// glibc's words, and so does the static (musl) build of this command.
pub fn strerror(e: i32) -> String {
    match glibc::text(e) {
        Some(text) => text.to_string(),
        None => format!("Unknown error {e}"),
    }
}

/// The symbolic name (`EACCES`), or `errno N` for a number without one here.
pub fn name(e: i32) -> String {
    let known = match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ENOTTY => "ENOTTY",
        libc::ENOSPC => "ENOSPC",
        libc::ENOSYS => "ENOSYS",
        libc::EOVERFLOW => "EOVERFLOW",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENOBUFS => "ENOBUFS",
        libc::ENODATA => "ENODATA",
        libc::ETIMEDOUT => "ETIMEDOUT",
        _ => return format!("errno {e}"),
    };
    known.to_string()
}

/// The README's troubleshooting hint for this errno, if it has one.
pub fn hint(e: i32) -> Option<&'static str> {
    Some(match e {
        libc::EACCES => {
            "the hypervisor refused every sysctl interface version known (0x13 to 0x16): a newer Xen, \
             or an XSM/FLASK policy denying livepatch_op to this domain"
        }
        libc::EPERM => "not running in the control domain (dom0), or the privcmd fd was restricted",
        libc::ENOSYS => "this Xen was built without CONFIG_LIVEPATCH",
        libc::ENOENT => "no /dev/xen/privcmd: not a Xen dom0, or the xen-privcmd module is not loaded",
        libc::EAGAIN | libc::EBUSY => "a live-patch action is in progress or the list kept changing: try again",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_is_glibcs_text_without_rust_suffix() {
        assert_eq!(strerror(libc::EAGAIN), "Resource temporarily unavailable");
        assert_eq!(strerror(0), "Success");
        assert_eq!(strerror(123456), "Unknown error 123456");
        assert_eq!(strerror(i32::MIN), format!("Unknown error {}", i32::MIN));
    }

    #[test]
    fn names_are_symbolic_or_numbered() {
        assert_eq!(name(libc::EACCES), "EACCES");
        assert_eq!(name(9999), "errno 9999");
    }
}
