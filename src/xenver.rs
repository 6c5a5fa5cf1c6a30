//! Which hypervisor this is: the `xen_version` hypercall's version,
//! extraversion and build id (xen-facts §9.4), generic over [`Hypervisor`].
//! A live patch names the build id of the hypervisor it was made for; this
//! is what it is compared with.

use crate::abi::{XENVER_build_id, XENVER_extraversion, XENVER_version};
use crate::error::{Error, Result};
use crate::sysctl::{Buffer, Hypervisor};

/// The largest build id read (Xen's are 20 bytes, SHA-1; a longer one fails
/// with the hypervisor's ENOBUFS).
pub const BUILD_ID_MAX: usize = 256;
/// The size of `XENVER_extraversion`'s buffer (`xen_extraversion_t`).
const EXTRAVERSION_SIZE: usize = 16;

/// The running hypervisor's version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XenVersion {
    /// Major version (4).
    pub major: u32,
    /// Minor version (17).
    pub minor: u32,
    /// The extraversion, up to its NUL: `.7`, `-pre`, `.0-rc`.
    pub extra: Vec<u8>,
}

impl XenVersion {
    /// Whether this hypervisor takes `LIVEPATCH_FLAG_FORCE` in the op's
    /// flags word (Xen 4.19+; before, the word is `pad` and any bit in it is
    /// EINVAL).
    pub fn takes_force(&self) -> bool {
        (self.major, self.minor) >= (4, 19)
    }
}

impl core::fmt::Display for XenVersion {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}{}", self.major, self.minor, String::from_utf8_lossy(&self.extra))
    }
}

/// The hypervisor's version and extraversion.
pub fn version<H: Hypervisor>(hv: &H) -> Result<XenVersion> {
    let v = hv.xen_version(XENVER_version, None)?;
    let v = u32::try_from(v).map_err(|_| Error::Overflow("XENVER_version beyond 32 bits"))?;
    let mut buf = hv.alloc(EXTRAVERSION_SIZE)?;
    buf.as_mut_slice()[..EXTRAVERSION_SIZE].fill(0);
    let r = hv.xen_version(XENVER_extraversion, Some(&mut buf))?;
    if r != 0 {
        return Err(Error::Overflow("XENVER_extraversion returned a value other than 0"));
    }
    let extra = &buf.as_slice()[..EXTRAVERSION_SIZE];
    let end = extra.iter().position(|&b| b == 0).unwrap_or(EXTRAVERSION_SIZE);
    Ok(XenVersion { major: v >> 16, minor: v & 0xffff, extra: extra[..end].to_vec() })
}

/// The hypervisor's build id (`xl info`'s `build_id`; `build-id:` on its
/// console at boot): the bytes, to be shown as lowercase hex.
pub fn build_id<H: Hypervisor>(hv: &H) -> Result<Vec<u8>> {
    let mut buf = hv.alloc(4 + BUILD_ID_MAX)?;
    buf.as_mut_slice()[..4].copy_from_slice(&(BUILD_ID_MAX as u32).to_ne_bytes());
    let n = hv.xen_version(XENVER_build_id, Some(&mut buf))?;
    match usize::try_from(n) {
        Ok(n @ 1..=BUILD_ID_MAX) => Ok(buf.as_slice()[4..4 + n].to_vec()),
        _ => Err(Error::Overflow("a build id length outside 1..=256")),
    }
}

/// Lowercase hex, as Xen prints a build id.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
