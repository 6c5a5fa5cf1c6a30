//! The `xen_version` hypercall (number 17) as Xen's `do_xen_version`
//! (xen/common/kernel.c, the same from 4.14 to 4.22) answers the three
//! commands the library uses: `XENVER_version`, `XENVER_extraversion` and
//! `XENVER_build_id`. Any other command is ENOSYS here (Xen has more).

use super::{GuestMemory, State, Xsm, EFAULT, EINVAL, ENOBUFS, ENOSYS, EPERM};
use crate::abi::{XENVER_build_id, XENVER_extraversion, XENVER_version};

const ENODATA: i64 = libc::ENODATA as i64;

/// `sizeof(xen_extraversion_t)`.
const EXTRAVERSION_SIZE: usize = 16;

/// What the simulated hypervisor says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XenInfo {
    /// Major version (4).
    pub major: u16,
    /// Minor version (17).
    pub minor: u16,
    /// The extra version (`.7`, `-pre`); Xen copies at most 15 bytes and a NUL.
    pub extraversion: Vec<u8>,
    /// The build id (20 bytes of SHA-1 in a real build); `None`: a build
    /// without one (`XENVER_build_id` answers ENODATA).
    pub build_id: Option<Vec<u8>>,
}

/// The default build id: 20 fixed bytes (the length of a SHA-1 build id).
pub const DEFAULT_BUILD_ID: [u8; 20] = [
    0x5e, 0x6d, 0x0b, 0x1c, 0x27, 0x38, 0x49, 0x5a, 0x6b, 0x7c, 0x8d, 0x9e, 0xaf, 0xb0, 0xc1, 0xd2, 0xe3, 0xf4, 0x05,
    0x16,
];

impl Default for XenInfo {
    /// Debian 12's Xen: 4.17.7 (".7"), with [`DEFAULT_BUILD_ID`].
    fn default() -> Self {
        XenInfo { major: 4, minor: 17, extraversion: b".7".to_vec(), build_id: Some(DEFAULT_BUILD_ID.to_vec()) }
    }
}

impl XenInfo {
    /// Whether this is Xen `major.minor` or later.
    pub fn at_least(&self, major: u16, minor: u16) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// The 16 bytes `XENVER_extraversion` copies: at most 15 bytes of the
    /// extra version, NUL-padded (Xen's `safe_strcpy` into a zeroed array).
    fn extraversion_bytes(&self) -> [u8; EXTRAVERSION_SIZE] {
        let mut out = [0u8; EXTRAVERSION_SIZE];
        let s = self.extraversion.split(|&b| b == 0).next().unwrap_or(&[]);
        let n = s.len().min(EXTRAVERSION_SIZE - 1);
        out[..n].copy_from_slice(&s[..n]);
        out
    }
}

/// `do_xen_version(cmd, arg)`; `arg` 0 is a NULL handle.
pub(super) fn xen_version(st: &State, mem: &dyn GuestMemory, cmd: u64, arg: u64) -> i64 {
    let info = &st.cfg.xen;
    // The hypercall's cmd is an int: the upper half of the register is not read.
    match cmd as u32 {
        c if c == XENVER_version => i64::from((u32::from(info.major) << 16) | u32::from(info.minor)),
        c if c == XENVER_extraversion => {
            // Every domain may read it under the dummy policy; a FLASK
            // denial gives "<denied>" rather than an error.
            let bytes = if st.cfg.xsm == Xsm::DenyFlask {
                XenInfo { extraversion: b"<denied>".to_vec(), ..info.clone() }.extraversion_bytes()
            } else {
                info.extraversion_bytes()
            };
            if mem.write(arg, &bytes) {
                0
            } else {
                -EFAULT
            }
        }
        c if c == XENVER_build_id => build_id(st, mem, arg),
        _ => -ENOSYS,
    }
}

/// `XENVER_build_id`: `struct xen_build_id { uint32_t len; unsigned char buf[]; }`.
fn build_id(st: &State, mem: &dyn GuestMemory, arg: u64) -> i64 {
    // Only the control domain (XSM_PRIV) may read it.
    if st.cfg.xsm != Xsm::Allow {
        return -EPERM;
    }
    let mut len = [0u8; 4];
    if arg != 0 {
        if !mem.read(arg, &mut len) {
            return -EFAULT;
        }
        if u32::from_ne_bytes(len) == 0 {
            return -EINVAL;
        }
    }
    let Some(id) = st.cfg.xen.build_id.as_deref() else { return -ENODATA };
    if arg == 0 {
        return id.len() as i64;
    }
    if id.len() as u64 > u64::from(u32::from_ne_bytes(len)) {
        return -ENOBUFS;
    }
    if !mem.write(arg.wrapping_add(4), id) {
        return -EFAULT;
    }
    id.len() as i64
}
