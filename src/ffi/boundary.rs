//! The boundary every C function crosses: the opaque handle type, panics
//! caught, the outcome mapped to 0 or -1 with `errno`, and the bounded
//! reader of a C name.

use crate::error::{Error, Result};
use core::ffi::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Opaque libxenctrl handle (`typedef struct xc_interface_core xc_interface`).
///
/// It may come from the real `xc_interface_open()`: this library never
/// dereferences it and only refuses NULL.
#[allow(non_camel_case_types)]
pub struct xc_interface_core {
    _opaque: [u8; 0],
}

/// The handle type of `<xenctrl.h>`.
#[allow(non_camel_case_types)]
pub type xc_interface = xc_interface_core;

pub(crate) fn set_errno(e: c_int) {
    // SAFETY: __errno_location returns this thread's errno slot, always valid.
    unsafe { *libc::__errno_location() = e };
}

/// Runs `f` with panics caught; maps the outcome to 0 or -1 + errno.
pub(crate) fn boundary(f: impl FnOnce() -> Result<()>) -> c_int {
    // libxenctrl leaves errno untouched on success, and xen-livepatch prints
    // errno even after a successful call whose counts disagree ("Error 0:
    // Success", exit 0). Our interface probe's EACCES must not leak out.
    // SAFETY: __errno_location returns this thread's errno slot, always valid.
    let saved = unsafe { *libc::__errno_location() };
    let r = catch_unwind(AssertUnwindSafe(f)).unwrap_or(Err(Error::Panic));
    match r {
        Ok(()) => {
            set_errno(saved);
            0
        }
        Err(e) => {
            set_errno(e.errno());
            -1
        }
    }
}

/// The bytes of the C string `name` (without its NUL), read no further than
/// Xen's longest name: EINVAL when NULL or when no NUL comes within
/// `XEN_LIVEPATCH_NAME_SIZE` (128) bytes, as libxenctrl refuses
/// `strlen(name) + 1 > 128`.
///
/// # Safety
/// A non-NULL `name` must be readable up to its NUL or for 128 bytes,
/// whichever comes first, for `'a`.
pub(crate) unsafe fn c_name<'a>(name: *const c_char) -> Result<&'a [u8]> {
    if name.is_null() {
        return Err(Error::InvalidArgument("name is NULL"));
    }
    let max = crate::abi::XEN_LIVEPATCH_NAME_SIZE as usize;
    let p = name.cast::<u8>();
    let mut len = 0;
    // SAFETY: bytes are read one at a time, stopping at the first NUL or
    // after 128: within what the caller's contract makes readable.
    while len < max && unsafe { p.add(len).read() } != 0 {
        len += 1;
    }
    if len == max {
        return Err(Error::InvalidArgument("name longer than 127 bytes"));
    }
    // SAFETY: the `len` bytes before the NUL were just read, so they are
    // readable; the caller keeps them alive and unchanged for 'a.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_c_name_stops_at_its_nul_or_fails_after_127_bytes() {
        let long = [b'a'; 200];
        // SAFETY: a NUL-terminated literal; a 200-byte array (the reader stops after 128).
        unsafe {
            assert_eq!(c_name(c"xsa-1".as_ptr()), Ok(&b"xsa-1"[..]));
            assert_eq!(c_name(core::ptr::null()).unwrap_err().errno(), libc::EINVAL);
            assert_eq!(c_name(long.as_ptr().cast()).unwrap_err().errno(), libc::EINVAL);
        }
        let mut exact = [b'b'; 128];
        exact[127] = 0;
        // SAFETY: 127 bytes and a NUL.
        assert_eq!(unsafe { c_name(exact.as_ptr().cast()) }.map(<[u8]>::len), Ok(127));
    }

    #[test]
    fn a_panic_is_caught_and_reported_as_eio() {
        set_errno(0);
        assert_eq!(boundary(|| panic!("boom")), -1);
        assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EIO));
    }

    #[test]
    fn errors_become_minus_one_and_errno_never_negative_errno() {
        assert_eq!(boundary(|| Err(Error::Hypervisor { errno: libc::EPERM })), -1);
        assert_eq!(std::io::Error::last_os_error().raw_os_error(), Some(libc::EPERM));
        assert_eq!(boundary(|| Ok(())), 0);
    }
}
