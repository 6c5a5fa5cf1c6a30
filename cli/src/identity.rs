//! Which hypervisor build answered: what `list --json` and the Prometheus
//! export show beside the payloads.

/// The running hypervisor's version and build id (`xen_version`), each
/// `None` where the hypervisor would not say (an XSM policy may deny the
/// build id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// `4.17.7`: major.minor and the extraversion.
    pub version: Option<String>,
    /// The build id's bytes (`xl info`'s `build_id` in hex).
    pub build_id: Option<Vec<u8>>,
}
