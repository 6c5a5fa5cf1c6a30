//! Where the live patches come from: the real hypervisor through
//! `/dev/xen/privcmd`, or, only when `--sim SCENARIO` is given, the
//! library's simulated one.

use std::path::Path;
use xc_livepatch::{Error, Failure, Snapshot};

/// The hypervisor to ask.
#[derive(Debug)]
pub enum Source {
    /// The hypervisor this dom0 runs on.
    Xen,
    /// A simulated hypervisor running a scenario file.
    #[cfg(feature = "sim")]
    Sim(Box<xc_livepatch::sim::scenario::ScenarioHypervisor>),
}

impl Source {
    /// The real hypervisor, or the scenario at `sim`. The error is one line
    /// (the scenario file cannot be read, or is invalid or out of bounds).
    pub fn open(sim: Option<&Path>) -> Result<Source, String> {
        match sim {
            None => Ok(Source::Xen),
            Some(path) => simulated(path),
        }
    }

    /// `xen` or `simulator` (the JSON document's `source`).
    pub fn name(&self) -> &'static str {
        match self {
            Source::Xen => "xen",
            #[cfg(feature = "sim")]
            Source::Sim(_) => "simulator",
        }
    }

    /// One consistent listing.
    pub fn snapshot(&self) -> Result<Snapshot, Failure> {
        match self {
            Source::Xen => xc_livepatch::snapshot(),
            #[cfg(feature = "sim")]
            Source::Sim(hv) => xc_livepatch::snapshot_from(hv.as_ref()),
        }
    }

    /// The sysctl interface version.
    pub fn interface_version(&self) -> Result<u32, Error> {
        match self {
            Source::Xen => xc_livepatch::interface_version(),
            #[cfg(feature = "sim")]
            Source::Sim(hv) => xc_livepatch::interface_version_of(hv.as_ref()),
        }
    }
}

#[cfg(feature = "sim")]
fn simulated(path: &Path) -> Result<Source, String> {
    use xc_livepatch::sim::scenario::{parse, read_file, ScenarioHypervisor};
    let text = read_file(path)?;
    let sc = parse(&text).map_err(|e| format!("scenario {}: {e}", path.display()))?;
    Ok(Source::Sim(Box::new(ScenarioHypervisor::new(&sc))))
}

#[cfg(not(feature = "sim"))]
fn simulated(_path: &Path) -> Result<Source, String> {
    Err("this xc-livepatch was built without the simulator (cargo feature `sim`)".into())
}

/// Whether `e` says there is no privcmd device (not a Xen dom0).
pub fn privcmd_missing(e: &Error) -> bool {
    matches!(e, Error::Os { call, errno: libc::ENOENT } if call.contains("privcmd"))
}
