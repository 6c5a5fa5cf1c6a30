//! `xc_livepatch_list_get_sizes` and `xc_livepatch_list`.

use super::boundary::{boundary, xc_interface};
use crate::abi::xen_livepatch_status;
use crate::error::Error;
use crate::list::{self, Out, Output};
use crate::sysctl::Hypervisor;
use crate::xen::Xen;
use core::ffi::{c_char, c_int, c_uint};

/// Gets the number of loaded live patches and the bytes needed for all their
/// names (each with its NUL) and metadata.
///
/// Returns 0 on success; -1 with `errno` set on failure (EINVAL for a NULL
/// argument, otherwise the hypervisor's error, e.g. EPERM, EACCES, ENOSYS).
/// The outputs are written only on success.
///
/// # Safety
/// Each non-NULL pointer must be valid for writing one value of its type.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_list_get_sizes(
    xch: *mut xc_interface,
    nr: *mut c_uint,
    name_total_size: *mut u32,
    metadata_total_size: *mut u32,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { get_sizes_on(&Xen, xch, nr, name_total_size, metadata_total_size) }
}

/// [`xc_livepatch_list_get_sizes`] over any hypervisor (the simulated one in
/// tests): the same checks, results and errno.
///
/// # Safety
/// As for [`xc_livepatch_list_get_sizes`].
pub unsafe fn get_sizes_on<H: Hypervisor>(
    hv: &H,
    xch: *mut xc_interface,
    nr: *mut c_uint,
    name_total_size: *mut u32,
    metadata_total_size: *mut u32,
) -> c_int {
    boundary(|| {
        if xch.is_null() || nr.is_null() || name_total_size.is_null() || metadata_total_size.is_null() {
            return Err(Error::InvalidArgument("NULL pointer"));
        }
        let s = list::get_sizes(hv)?;
        // SAFETY: all three pointers are non-NULL and, by the function's
        // contract, valid for one write each.
        unsafe {
            nr.write(s.nr);
            name_total_size.write(s.name_total_size);
            metadata_total_size.write(s.metadata_total_size);
        }
        Ok(())
    })
}

/// Lists up to `max` live patches starting at index `start`.
///
/// Fills `info[0..done)`, `len[0..done)`, `metadata_len[0..done)` and packs
/// the names (each with its NUL; `len[i]` counts it) and the raw metadata
/// blobs back to back into `name` and `metadata`. Sets `*done` to the number
/// of entries written and `*left` to the number the hypervisor still had
/// after them. Returns 0 on success (even when `*done < max` or `*left > 0`:
/// check both), or -1 with `errno` set:
/// EINVAL (`max == 0` or a NULL pointer), ENOENT (`name_total_size == 0`),
/// ENOBUFS (the list no longer fits `name` or `metadata`: probe again),
/// EBUSY (the list kept changing), EOVERFLOW (the hypervisor's reply
/// contradicts the request or itself), or the hypervisor's own error. Nothing is written
/// to the buffers on failure, and no byte beyond what is reported on success.
///
/// # Safety
/// `info`, `len` and `metadata_len` must be valid for writing `max` elements,
/// `name` for `name_total_size` bytes, `metadata` for `metadata_total_size`
/// bytes, `done` and `left` for one value each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_list(
    xch: *mut xc_interface,
    max: c_uint,
    start: c_uint,
    info: *mut xen_livepatch_status,
    name: *mut c_char,
    len: *mut u32,
    name_total_size: u32,
    metadata: *mut c_char,
    metadata_len: *mut u32,
    metadata_total_size: u32,
    done: *mut c_uint,
    left: *mut c_uint,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe {
        list_on(
            &Xen,
            xch,
            max,
            start,
            info,
            name,
            len,
            name_total_size,
            metadata,
            metadata_len,
            metadata_total_size,
            done,
            left,
        )
    }
}

/// [`xc_livepatch_list`] over any hypervisor (the simulated one in tests):
/// the same checks, results, errno, and writes.
///
/// # Safety
/// As for [`xc_livepatch_list`].
#[allow(clippy::too_many_arguments)]
pub unsafe fn list_on<H: Hypervisor>(
    hv: &H,
    xch: *mut xc_interface,
    max: c_uint,
    start: c_uint,
    info: *mut xen_livepatch_status,
    name: *mut c_char,
    len: *mut u32,
    name_total_size: u32,
    metadata: *mut c_char,
    metadata_len: *mut u32,
    metadata_total_size: u32,
    done: *mut c_uint,
    left: *mut c_uint,
) -> c_int {
    boundary(|| {
        if xch.is_null()
            || max == 0
            || info.is_null()
            || name.is_null()
            || len.is_null()
            || metadata.is_null()
            || metadata_len.is_null()
            || done.is_null()
            || left.is_null()
        {
            return Err(Error::InvalidArgument("max is 0 or a pointer is NULL"));
        }
        if name_total_size == 0 {
            return Err(Error::NoNameBuffer);
        }
        let max = max as usize;
        // SAFETY: every pointer is non-NULL and, by the function's contract,
        // valid for the number of writes given with it.
        let mut out = unsafe {
            Output {
                info: Out::from_raw(info, max),
                name: Out::from_raw(name.cast::<u8>(), name_total_size as usize),
                len: Out::from_raw(len, max),
                metadata: Out::from_raw(metadata.cast::<u8>(), metadata_total_size as usize),
                metadata_len: Out::from_raw(metadata_len, max),
            }
        };
        // libxenctrl zeroes both counters before its first hypercall.
        // SAFETY: `done` and `left` are non-NULL and valid for one write.
        unsafe {
            done.write(0);
            left.write(0);
        }
        let r = list::list(hv, start, &mut out)?;
        // SAFETY: as above.
        unsafe {
            done.write(r.done);
            left.write(r.left);
        }
        Ok(())
    })
}
