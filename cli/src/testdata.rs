//! Snapshots for the formatters' tests, made by the library itself over the
//! simulated hypervisor (a payload has no public constructor).

use xc_livepatch::error::Error;
use xc_livepatch::list::Sizes;
use xc_livepatch::sim::{Config, Payload, SimHypervisor};
use xc_livepatch::{Failure, Snapshot};

/// A payload as the hypervisor holds it.
pub fn payload(name: impl AsRef<[u8]>, state: u32, rc: i32, metadata: &[u8]) -> Payload {
    Payload::new(name, metadata).with_state(state, rc)
}

/// What the library lists from a hypervisor holding `payloads`.
pub fn snapshot(payloads: Vec<Payload>) -> Snapshot {
    xc_livepatch::snapshot_from(&SimHypervisor::new(payloads, Config::default())).expect("simulated listing")
}

/// A failure with the hypervisor's `errno`, after a size probe that found
/// `nr` payloads (or before any).
pub fn failed(errno: i32, nr: Option<u32>) -> Failure {
    Failure {
        error: Error::Hypervisor { errno },
        sizes: nr.map(|nr| Sizes { nr, name_total_size: 0, metadata_total_size: 0, version: 1 }),
        interface_version: nr.map(|_| 0x15),
    }
}
