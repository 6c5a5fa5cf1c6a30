//! `xc_livepatch_upload`, `xc_livepatch_get` and the four actions
//! (`xc_livepatch_apply`, `_revert`, `_unload`, `_replace`).
//!
//! Where libxenctrl 4.17 is wrong, these follow the library's rules: a NULL
//! `xch`, `name`, `payload` or `status` is EINVAL (libxenctrl dereferences
//! a NULL name in the actions and a NULL status in get); `*status` is
//! written only on success (libxenctrl copies it out even when the call
//! failed); the name is read no further than 128 bytes.

use super::boundary::{boundary, c_name, xc_interface};
use super::versions;
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
/// This is Xen 4.14-4.18's prototype (`VERS_4.17.0`, the default version):
/// it never sends a flag. Included after a 4.19+ `<xenctrl.h>` (which
/// defines `LIVEPATCH_FLAG_FORCE`) this header declares the five-argument
/// form instead and binds it to `xc_livepatch_upload@libxenctrl_4.20.0`.
///
/// # Safety
/// `name` must be a NUL-terminated string (or readable for 128 bytes), and
/// `payload` readable for `size` bytes.
#[cfg(not(livepatch_flag_force))]
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_upload(
    xch: *mut xc_interface,
    name: *mut c_char,
    payload: *mut c_uchar,
    size: u32,
) -> c_int {
    // A tail jump to `upload_4`, the arguments untouched in their registers;
    // `.symver ...@@@` gives this definition the default version VERS_4.17.0
    // (versions.rs), in the one assembler input that defines it.
    core::arch::naked_asm!(
        versions::tail_jump!(),
        ".symver xc_livepatch_upload, xc_livepatch_upload@@@VERS_4.17.0",
        target = sym upload_4,
    )
}

/// Uploads the live patch `payload` (`size` bytes of ELF) under `name`;
/// `force` asks Xen to skip some of its checks (`LIVEPATCH_FLAG_FORCE`).
///
/// Returns and errors as the four-argument form, plus EINVAL from a
/// hypervisor before 4.19, which accepts no flag (as libxenctrl 4.20).
///
/// Xen 4.19+'s prototype (`xc_livepatch_upload@libxenctrl_4.20.0`): what
/// this header declares after a `<xenctrl.h>` that defines
/// `LIVEPATCH_FLAG_FORCE`.
///
/// # Safety
/// As for the four-argument form.
#[cfg(livepatch_flag_force)]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn xc_livepatch_upload(
    xch: *mut xc_interface,
    name: *mut c_char,
    payload: *mut c_uchar,
    size: u32,
    force: bool,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { upload_with_on(&Xen, xch, name, payload, size, force) }
}

/// What a four-argument caller reaches (`xc_livepatch_upload@@VERS_4.17.0`).
///
/// # Safety
/// As for [`xc_livepatch_upload`].
unsafe extern "C" fn upload_4(xch: *mut xc_interface, name: *mut c_char, payload: *mut c_uchar, size: u32) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { upload_with_on(&Xen, xch, name, payload, size, false) }
}

/// What a five-argument caller reaches (`xc_livepatch_upload@libxenctrl_4.20.0`).
/// `force` is C's `bool`, read as a register's low byte: the x86-64 and
/// AArch64 procedure-call standards define only those 8 bits of it.
///
/// # Safety
/// As for [`xc_livepatch_upload`].
pub(crate) unsafe extern "C" fn upload_5(
    xch: *mut xc_interface,
    name: *mut c_char,
    payload: *mut c_uchar,
    size: u32,
    force: u32,
) -> c_int {
    // SAFETY: the caller's contract is this function's.
    unsafe { upload_with_on(&Xen, xch, name, payload, size, force as u8 != 0) }
}

// `xc_livepatch_upload@libxenctrl_4.20.0`: a local entry that jumps to
// `upload_5`, given that version by `.symver` in the same assembler input
// that defines it. The entry's own name is global in the object only so that
// `.symver` can version it; rustc's version script makes it local.
core::arch::global_asm!(
    ".pushsection .text.xc_livepatch_upload_4_20,\"ax\",%progbits",
    ".p2align 4",
    ".globl xc_livepatch_upload_4_20",
    ".type xc_livepatch_upload_4_20,%function",
    "xc_livepatch_upload_4_20:",
    versions::tail_jump!(),
    ".size xc_livepatch_upload_4_20, .-xc_livepatch_upload_4_20",
    ".symver xc_livepatch_upload_4_20, xc_livepatch_upload@libxenctrl_4.20.0",
    ".popsection",
    target = sym upload_5,
);

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
    // SAFETY: the caller's contract is this function's.
    unsafe { upload_with_on(hv, xch, name, payload, size, false) }
}

/// The five-argument `xc_livepatch_upload` over any hypervisor: `force`
/// becomes `LIVEPATCH_FLAG_FORCE`.
///
/// # Safety
/// As for [`xc_livepatch_upload`].
pub unsafe fn upload_with_on<H: Hypervisor>(
    hv: &H,
    xch: *mut xc_interface,
    name: *const c_char,
    payload: *const c_uchar,
    size: u32,
    force: bool,
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
        manage::upload_with(hv, name, payload, force)
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
