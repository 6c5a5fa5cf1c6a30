//! `xc_livepatch_upload`, `xc_livepatch_get` and the four actions
//! (`xc_livepatch_apply`, `_revert`, `_unload`, `_replace`).
//!
//! Where libxenctrl 4.17 is wrong, these follow the library's rules: a NULL
//! `xch`, `name`, `payload` or `status` is EINVAL (libxenctrl dereferences
//! a NULL name in the actions and a NULL status in get); `*status` is
//! written only on success (libxenctrl copies it out even when the call
//! failed); the name is read no further than 128 bytes.

use super::boundary::{boundary, c_name, xc_interface};
use crate::abi::xen_livepatch_status;
use crate::error::Error;
use crate::manage::{self, Action};
use crate::sysctl::Hypervisor;
use crate::xen::Xen;
use core::ffi::{c_char, c_int, c_uchar};

/// Uploads the live patch `payload` (`size` bytes of ELF) under `name`.
///
/// Returns 0 on success (the payload is then CHECKED), or -1 with `errno`:
/// EINVAL (a NULL pointer, a name of 128 bytes or more, or a payload Xen
/// refuses: empty, too large (2 MiB in Xen 4.17), not built for this
/// hypervisor), EEXIST (a payload of that name or build id is loaded), or
/// another error of the hypervisor's.
///
/// # Safety
/// `name` must be a NUL-terminated string (or readable for 128 bytes), and
/// `payload` readable for `size` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_upload(
    xch: *mut xc_interface,
    name: *mut c_char,
    payload: *mut c_uchar,
    size: u32,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { upload_on(&Xen, xch, name, payload, size) }
}

/// [`xc_livepatch_upload`] over any hypervisor (the simulated one in tests).
///
/// # Safety
/// As for [`xc_livepatch_upload`].
pub unsafe fn upload_on<H: Hypervisor>(
    hv: &H,
    xch: *mut xc_interface,
    name: *const c_char,
    payload: *const c_uchar,
    size: u32,
) -> c_int {
    boundary(|| {
        if xch.is_null() || payload.is_null() {
            return Err(Error::InvalidArgument("xch or payload is NULL"));
        }
        // SAFETY: by the function's contract.
        let name = unsafe { c_name(name) }?;
        // SAFETY: `payload` is non-NULL and, by the contract, readable for
        // `size` bytes, which nothing writes during the call.
        let payload = unsafe { core::slice::from_raw_parts(payload, size as usize) };
        manage::upload(hv, name, payload)
    })
}

/// Gets the state of payload `name` and the result of its last action.
///
/// Returns 0 and fills `*status` (`state` CHECKED or APPLIED; `rc` 0,
/// `-EAGAIN` while an action is pending, or the last action's negative
/// errno), or -1 with `errno` (EINVAL for a NULL pointer or a name of 128
/// bytes or more, ENOENT for no such payload, or the hypervisor's error),
/// leaving `*status` untouched.
///
/// # Safety
/// `name` as for [`xc_livepatch_upload`]; `status` valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_get(
    xch: *mut xc_interface,
    name: *mut c_char,
    status: *mut xen_livepatch_status,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { get_on(&Xen, xch, name, status) }
}

/// [`xc_livepatch_get`] over any hypervisor.
///
/// # Safety
/// As for [`xc_livepatch_get`].
pub unsafe fn get_on<H: Hypervisor>(
    hv: &H,
    xch: *mut xc_interface,
    name: *const c_char,
    status: *mut xen_livepatch_status,
) -> c_int {
    boundary(|| {
        if xch.is_null() || status.is_null() {
            return Err(Error::InvalidArgument("xch or status is NULL"));
        }
        // SAFETY: by the function's contract.
        let name = unsafe { c_name(name) }?;
        let s = manage::status(hv, name)?;
        // SAFETY: `status` is non-NULL and valid for one write (contract).
        unsafe { status.write(xen_livepatch_status { state: s.state.raw(), rc: s.rc }) };
        Ok(())
    })
}

/// One of the four actions over any hypervisor: what
/// [`xc_livepatch_apply`], [`xc_livepatch_revert`], [`xc_livepatch_unload`]
/// and [`xc_livepatch_replace`] do on the real one.
///
/// # Safety
/// `name` as for [`xc_livepatch_upload`].
pub unsafe fn action_on<H: Hypervisor>(
    hv: &H,
    xch: *mut xc_interface,
    name: *const c_char,
    action: Action,
    timeout: u32,
    flags: u32,
) -> c_int {
    boundary(|| {
        if xch.is_null() {
            return Err(Error::InvalidArgument("xch is NULL"));
        }
        // SAFETY: by the function's contract.
        let name = unsafe { c_name(name) }?;
        manage::act_raw(hv, name, action.raw(), timeout, flags)
    })
}

/// Asks Xen to apply the CHECKED payload `name`, giving the CPUs `timeout`
/// nanoseconds to join (0: Xen's default, 30 ms); `flags` may hold
/// `LIVEPATCH_ACTION_APPLY_NODEPS`. Returns 0 once Xen has scheduled it
/// (its `rc` reads `-EAGAIN` until done: see [`xc_livepatch_get`]), or -1
/// with `errno`: EINVAL (NULL pointer, name of 128 bytes or more, wrong
/// state, unknown flags), ENOENT (no such payload), EBUSY (another action
/// is pending), or the hypervisor's error.
///
/// # Safety
/// `name` must be a NUL-terminated string (or readable for 128 bytes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_apply(
    xch: *mut xc_interface,
    name: *mut c_char,
    timeout: u32,
    flags: u32,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { action_on(&Xen, xch, name, Action::Apply, timeout, flags) }
}

/// Asks Xen to revert the APPLIED payload `name` (only the last applied
/// one: otherwise EBUSY). Arguments, return and errors as for
/// [`xc_livepatch_apply`].
///
/// # Safety
/// As for [`xc_livepatch_apply`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_revert(
    xch: *mut xc_interface,
    name: *mut c_char,
    timeout: u32,
    flags: u32,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { action_on(&Xen, xch, name, Action::Revert, timeout, flags) }
}

/// Unloads the CHECKED payload `name` (synchronous: on success it is gone).
/// Arguments, return and errors as for [`xc_livepatch_apply`].
///
/// # Safety
/// As for [`xc_livepatch_apply`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_unload(
    xch: *mut xc_interface,
    name: *mut c_char,
    timeout: u32,
    flags: u32,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { action_on(&Xen, xch, name, Action::Unload, timeout, flags) }
}

/// Asks Xen to revert every applied payload and apply the CHECKED payload
/// `name` in their place (EOPNOTSUPP when a payload's hooks veto it).
/// Arguments, return and errors as for [`xc_livepatch_apply`].
///
/// # Safety
/// As for [`xc_livepatch_apply`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_replace(
    xch: *mut xc_interface,
    name: *mut c_char,
    timeout: u32,
    flags: u32,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { action_on(&Xen, xch, name, Action::Replace, timeout, flags) }
}
