//! Where the live patches come from: the real hypervisor through
//! `/dev/xen/privcmd`, or, only when `--sim SCENARIO` is given, the
//! library's simulated one. With `--sim-state FILE` the simulated
//! hypervisor's changing state (the format of fakexen's `FAKEXEN_STATE`) is
//! read from FILE at the start and written back, atomically, after every
//! upload and action and at the end, so that a sequence of commands, or a
//! command killed half-way, sees one hypervisor.

use crate::control::Control;
use crate::identity::Identity;
use std::path::Path;
use xc_livepatch::{Action, ActionOptions, Error, Failure, Snapshot, Status, XenVersion};

/// The hypervisor to ask.
#[derive(Debug)]
pub enum Source {
    /// The hypervisor this dom0 runs on.
    Xen,
    /// A simulated hypervisor running a scenario file.
    #[cfg(feature = "sim")]
    Sim(Box<xc_livepatch::sim::scenario::ScenarioHypervisor>, Option<std::path::PathBuf>),
}

impl Source {
    /// The real hypervisor, or the scenario at `sim`. The error is one line
    /// (the scenario file cannot be read, or is invalid or out of bounds).
    pub fn open(sim: Option<&Path>, state: Option<&Path>) -> Result<Source, String> {
        match sim {
            None => Ok(Source::Xen),
            Some(path) => simulated(path, state),
        }
    }

    /// Writes the simulated hypervisor's state to its `--sim-state` file
    /// (nothing for the real hypervisor). Atomic: a temporary file in the
    /// same directory, then a rename.
    pub fn save(&self) -> Result<(), String> {
        #[cfg(feature = "sim")]
        {
            if let Source::Sim(hv, Some(path)) = self {
                let text = hv.inner().sim().save_state(true);
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let write = || -> std::io::Result<()> {
                    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
                    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
                    tmp.persist(path).map(drop).map_err(|e| e.error)
                };
                return write().map_err(|e| format!("cannot write the simulator's state to {}: {e}", path.display()));
            }
        }
        Ok(())
    }

    /// [`Source::save`], its failure one line on stderr (the step it
    /// follows has happened either way).
    fn save_or_say(&self) {
        if let Err(m) = self.save() {
            let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("xc-livepatch: {m}\n").as_bytes());
        }
    }

    /// `xen` or `simulator` (the JSON document's `source`).
    pub fn name(&self) -> &'static str {
        match self {
            Source::Xen => "xen",
            #[cfg(feature = "sim")]
            Source::Sim(..) => "simulator",
        }
    }

    /// One consistent listing.
    pub fn snapshot(&self) -> Result<Snapshot, Failure> {
        match self {
            Source::Xen => xc_livepatch::snapshot(),
            #[cfg(feature = "sim")]
            Source::Sim(hv, _) => xc_livepatch::snapshot_from(hv.as_ref()),
        }
    }

    /// The sysctl interface version.
    pub fn interface_version(&self) -> Result<u32, Error> {
        match self {
            Source::Xen => xc_livepatch::interface_version(),
            #[cfg(feature = "sim")]
            Source::Sim(hv, _) => xc_livepatch::interface_version_of(hv.as_ref()),
        }
    }
}

impl Source {
    /// The hypervisor's version and build id, each as far as it could be read.
    pub fn identity(&self) -> Identity {
        let (version, build_id): (Result<XenVersion, Error>, _) = match self {
            Source::Xen => (xc_livepatch::xen_version(), xc_livepatch::build_id()),
            #[cfg(feature = "sim")]
            Source::Sim(hv, _) => {
                (xc_livepatch::xenver::version(hv.as_ref()), xc_livepatch::xenver::build_id(hv.as_ref()))
            }
        };
        Identity { version: version.ok().map(|v| v.to_string()), build_id: build_id.ok() }
    }
}

impl Control for Source {
    fn status(&self, name: &[u8]) -> Result<Status, Error> {
        match self {
            Source::Xen => xc_livepatch::status(name),
            #[cfg(feature = "sim")]
            Source::Sim(hv, _) => {
                // A scheduled action may have run by now: keep the file current.
                let r = xc_livepatch::manage::status(hv.as_ref(), name);
                self.save_or_say();
                r
            }
        }
    }

    fn upload(&self, name: &[u8], payload: &[u8], force: bool) -> Result<(), Error> {
        match self {
            Source::Xen => xc_livepatch::upload_with(name, payload, force),
            #[cfg(feature = "sim")]
            Source::Sim(hv, _) => {
                let r = xc_livepatch::manage::upload_with(hv.as_ref(), name, payload, force);
                self.save_or_say();
                r
            }
        }
    }

    fn takes_force(&self) -> bool {
        let version = match self {
            Source::Xen => xc_livepatch::xen_version(),
            #[cfg(feature = "sim")]
            Source::Sim(hv, _) => xc_livepatch::xenver::version(hv.as_ref()),
        };
        version.is_ok_and(|v| v.takes_force())
    }

    fn act(&self, name: &[u8], action: Action, options: ActionOptions) -> Result<(), Error> {
        match self {
            Source::Xen => xc_livepatch::act(name, action, options),
            #[cfg(feature = "sim")]
            Source::Sim(hv, _) => {
                let r = xc_livepatch::manage::act(hv.as_ref(), name, action, options);
                self.save_or_say();
                r
            }
        }
    }

    fn build_id(&self) -> Result<Vec<u8>, Error> {
        match self {
            Source::Xen => xc_livepatch::build_id(),
            #[cfg(feature = "sim")]
            Source::Sim(hv, _) => xc_livepatch::xenver::build_id(hv.as_ref()),
        }
    }
}

#[cfg(feature = "sim")]
fn simulated(path: &Path, state: Option<&Path>) -> Result<Source, String> {
    use xc_livepatch::sim::scenario::{parse, read_file, ScenarioHypervisor};
    let text = read_file(path)?;
    let sc = parse(&text).map_err(|e| format!("scenario {}: {e}", path.display()))?;
    let hv = ScenarioHypervisor::new(&sc);
    if let Some(st) = state {
        // A file that does not exist yet, or is empty: the scenario's start.
        match std::fs::read_to_string(st) {
            Ok(t) if !t.is_empty() => {
                hv.inner().sim().load_state(&t).map_err(|e| format!("simulator state {}: {e}", st.display()))?
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read the simulator's state {}: {e}", st.display())),
        }
    }
    Ok(Source::Sim(Box::new(hv), state.map(Path::to_path_buf)))
}

#[cfg(not(feature = "sim"))]
fn simulated(_path: &Path, _state: Option<&Path>) -> Result<Source, String> {
    Err("this xc-livepatch was built without the simulator (cargo feature `sim`)".into())
}

/// Whether `e` says there is no privcmd device (not a Xen dom0).
pub fn privcmd_missing(e: &Error) -> bool {
    matches!(e, Error::Os { call, errno: libc::ENOENT } if call.contains("privcmd"))
}
