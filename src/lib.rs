//! # xc-livepatch
//!
//! A drop-in, memory-safe replacement for the live-patch part of Xen's
//! libxenctrl: `xc_livepatch_list_get_sizes()`, `xc_livepatch_list()`,
//! `xc_livepatch_upload()`, `xc_livepatch_get()` and the four actions
//! (`xc_livepatch_apply/revert/unload/replace()`), with the exact C
//! signatures of Debian 12's Xen 4.17 `<xenctrl.h>`, talking to the
//! hypervisor itself through Linux `/dev/xen/privcmd` with the sysctl
//! interface version it probes, so one build serves Xen 4.14 to 4.22.
//!
//! From Rust, use [`list()`], [`upload()`], [`status()`] and [`act()`]:
//!
//! ```no_run
//! for p in xc_livepatch::list()? {
//!     println!("{} {:?} rc={}", p.name(), p.state, p.rc);
//!     for (k, v) in p.metadata() {
//!         println!("  {k} = {v}");
//!     }
//! }
//! # Ok::<(), xc_livepatch::Error>(())
//! ```
//!
//! ```no_run
//! use xc_livepatch::{Action, ActionOptions, State};
//! let elf = std::fs::read("xsa-123.livepatch").expect("payload");
//! xc_livepatch::upload(b"xsa-123", &elf)?;
//! xc_livepatch::act(b"xsa-123", Action::Apply, ActionOptions::default())?;
//! // The apply runs on every CPU after the call returns: rc is -EAGAIN until then.
//! while xc_livepatch::status(b"xsa-123")?.rc == -libc::EAGAIN {
//!     std::thread::sleep(std::time::Duration::from_millis(5));
//! }
//! assert_eq!(xc_livepatch::status(b"xsa-123")?.state, State::Applied);
//! # Ok::<(), xc_livepatch::Error>(())
//! ```
//!
//! Layers, one job each: [`abi`] (Xen's types), [`privcmd`] (the device),
//! [`hypercall_buffer`] (hypercall-safe memory), [`sysctl`] (the LIST
//! hypercall and interface-version probe), [`mod@list`] (the algorithm),
//! [`manage`] (upload, status, actions), [`xenver`] (version and build id), [`error`]
//! (errors and errno), [`ffi`] (the C functions) and, with feature `sim`,
//! [`sim`] (a model of the hypervisor).

#![warn(missing_docs)]

pub mod abi;
pub mod error;
pub mod ffi;
mod fork_guard;
pub mod hypercall_buffer;
pub mod list;
pub mod manage;
mod page;
pub mod privcmd;
#[cfg(feature = "sim")]
pub mod sim;
mod state;
pub mod sysctl;
pub mod xen;
pub mod xenver;

pub use error::{Error, Result};
pub use manage::{Action, ActionOptions, Status};
pub use state::State;
pub use sysctl::Hypervisor;
pub use xen::Xen;
pub use xenver::XenVersion;

use abi::xen_livepatch_status;
use list::{Out, Output};
use std::borrow::Cow;

/// One loaded live patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    name: Vec<u8>,
    /// Its state.
    pub state: State,
    /// The result of its last action: 0, or a negative errno (-EAGAIN while
    /// an action is in progress).
    pub rc: i32,
    metadata: Vec<u8>,
}

impl Payload {
    /// The name (without its NUL), lossily decoded as UTF-8.
    pub fn name(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.name)
    }

    /// The name's exact bytes (without its NUL).
    pub fn name_bytes(&self) -> &[u8] {
        &self.name
    }

    /// The raw metadata: the payload's `.modinfo`, NUL-separated strings.
    pub fn metadata_raw(&self) -> &[u8] {
        &self.metadata
    }

    /// The metadata as ordered `key=value` pairs. A string without `=` gives
    /// an empty value; empty strings are skipped.
    pub fn metadata(&self) -> Vec<(String, String)> {
        self.metadata
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let s = String::from_utf8_lossy(s);
                match s.split_once('=') {
                    Some((k, v)) => (k.to_string(), v.to_string()),
                    None => (s.into_owned(), String::new()),
                }
            })
            .collect()
    }
}

/// Lists the live patches of the hypervisor this process runs on.
pub fn list() -> Result<Vec<Payload>> {
    list_from(&Xen)
}

/// Uploads the live patch `payload` (an ELF file's bytes) as `name`: see
/// [`manage::upload`] (over any hypervisor) for the errors.
pub fn upload(name: impl AsRef<[u8]>, payload: &[u8]) -> Result<()> {
    manage::upload(&Xen, name.as_ref(), payload)
}

/// [`upload`], with `force` sent as `LIVEPATCH_FLAG_FORCE` (Xen 4.19+; an
/// older hypervisor answers EINVAL: [`XenVersion::takes_force`] tells). See
/// [`manage::upload_with`].
pub fn upload_with(name: impl AsRef<[u8]>, payload: &[u8], force: bool) -> Result<()> {
    manage::upload_with(&Xen, name.as_ref(), payload, force)
}

/// The state of payload `name` and the result of its last action: see
/// [`manage::status`].
pub fn status(name: impl AsRef<[u8]>) -> Result<Status> {
    manage::status(&Xen, name.as_ref())
}

/// Asks the hypervisor to apply, revert, unload or replace with payload
/// `name`; returns once it is scheduled (poll [`status()`] until `rc` is no
/// longer `-EAGAIN`): see [`manage::act`].
pub fn act(name: impl AsRef<[u8]>, action: Action, options: ActionOptions) -> Result<()> {
    manage::act(&Xen, name.as_ref(), action, options)
}

/// The running hypervisor's build id: see [`xenver::build_id`].
pub fn build_id() -> Result<Vec<u8>> {
    xenver::build_id(&Xen)
}

/// The running hypervisor's version: see [`xenver::version`].
pub fn xen_version() -> Result<XenVersion> {
    xenver::version(&Xen)
}

/// [`list()`] with the list's version and the interface version: see
/// [`snapshot_from`].
pub fn snapshot() -> core::result::Result<Snapshot, Failure> {
    snapshot_from(&Xen)
}

/// The sysctl interface version of the hypervisor this process runs on
/// (probed once, then cached): 0x15 for Xen 4.17-4.20, 0x16 for 4.21+.
pub fn interface_version() -> Result<u32> {
    interface_version_of(&Xen)
}

/// [`interface_version`] for any hypervisor.
pub fn interface_version_of<H: Hypervisor>(hv: &H) -> Result<u32> {
    let mut buf = hv.alloc(sysctl::SYSCTL_SIZE)?;
    sysctl::interface_version(hv, &mut buf)
}

/// One consistent listing of a hypervisor's live patches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The payloads, in the hypervisor's order.
    pub payloads: Vec<Payload>,
    /// The list's generation counter the payloads were read at.
    pub version: u32,
    /// The sysctl interface version the hypervisor accepted.
    pub interface_version: u32,
}

/// Why [`snapshot_from`] failed, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub error: Error,
    /// The latest successful size probe, if any: `None` when the failure
    /// came before the sizes were known (what `xen-livepatch list` reports
    /// as "Failed to get list sizes"), otherwise the listing itself failed.
    pub sizes: Option<list::Sizes>,
    /// The sysctl interface version, when it was found before the failure.
    pub interface_version: Option<u32>,
}

/// Lists the live patches of `hv`: probes the sizes, lists, and tries again
/// (a few times, then [`Error::ListUnstable`]) if the list grew in between.
/// The result is always one consistent snapshot.
pub fn list_from<H: Hypervisor>(hv: &H) -> Result<Vec<Payload>> {
    snapshot_from(hv).map(|s| s.payloads).map_err(|f| f.error)
}

/// [`list_from`] with the list's version and the interface version, or on
/// failure, how far the listing got.
pub fn snapshot_from<H: Hypervisor>(hv: &H) -> core::result::Result<Snapshot, Failure> {
    let mut probed = None;
    let iface = || match hv.interface_cache().load(core::sync::atomic::Ordering::Relaxed) {
        0 => None,
        v => Some(v),
    };
    let fail = |error, sizes| Failure { error, sizes, interface_version: iface() };
    let mut last = Error::ListUnstable;
    for _ in 0..=list::MAX_RESTARTS {
        let sizes = list::get_sizes(hv).map_err(|e| fail(e, probed))?;
        probed = Some(sizes);
        let interface_version = iface().unwrap_or(0);
        if sizes.nr == 0 {
            return Ok(Snapshot { payloads: Vec::new(), version: sizes.version, interface_version });
        }
        let n = sizes.nr as usize;
        let mut info = vec![xen_livepatch_status::default(); n];
        let mut names = vec![0u8; sizes.name_total_size as usize];
        let mut lens = vec![0u32; n];
        let mut meta = vec![0u8; sizes.metadata_total_size as usize];
        let mut mlens = vec![0u32; n];
        let mut out = Output {
            info: Out::from_slice(&mut info),
            name: Out::from_slice(&mut names),
            len: Out::from_slice(&mut lens),
            metadata: Out::from_slice(&mut meta),
            metadata_len: Out::from_slice(&mut mlens),
        };
        let r = match list::list(hv, 0, &mut out) {
            Ok(r) => r,
            // The list grew past the probed sizes: probe again. (Before Xen
            // 4.21 the hypervisor writes on past the buffer, into its guard
            // page: EFAULT.)
            Err(
                e @ (Error::BuffersTooSmall
                | Error::Overflow(_)
                | Error::Hypervisor { errno: libc::ENOBUFS | libc::EFAULT }),
            ) => {
                last = e;
                continue;
            }
            Err(e) => return Err(fail(e, probed)),
        };
        if r.left > 0 {
            continue;
        }
        let mut payloads = Vec::with_capacity(r.done as usize);
        let (mut no, mut mo) = (0usize, 0usize);
        for i in 0..r.done as usize {
            let (l, ml) = (lens[i] as usize, mlens[i] as usize);
            payloads.push(Payload {
                name: names[no..no + l - 1].to_vec(),
                state: State::from_raw(info[i].state),
                rc: info[i].rc,
                metadata: meta[mo..mo + ml].to_vec(),
            });
            no += l;
            mo += ml;
        }
        return Ok(Snapshot { payloads, version: r.version, interface_version: iface().unwrap_or(0) });
    }
    Err(fail(last, probed))
}
