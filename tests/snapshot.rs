//! `snapshot_from`: the list's version and interface version with the
//! payloads, and on failure how far the listing got (what the command's
//! table mode needs to print xen-livepatch's error lines).

use xc_livepatch::sim::{Change, Config, Payload, SimHypervisor};
use xc_livepatch::{snapshot_from, Error};

fn sample() -> Vec<Payload> {
    vec![Payload::new("a", b"A=1\0"), Payload::new("b", b"").with_state(2, -11)]
}

#[test]
fn snapshot_carries_list_version_and_interface_version() {
    let hv = SimHypervisor::new(sample(), Config { interface_version: 0x16, ..Config::default() });
    hv.sim().change(Change::Upload(Payload::new("c", b"")));
    let s = snapshot_from(&hv).unwrap();
    assert_eq!(s.payloads.len(), 3);
    assert_eq!(s.version, hv.sim().version());
    assert_eq!(s.version, 2);
    assert_eq!(s.interface_version, 0x16);
    assert_eq!(s.payloads[1].rc, -11);
}

#[test]
fn empty_list_snapshot_has_the_probed_version() {
    let hv = SimHypervisor::new(vec![], Config::default());
    let s = snapshot_from(&hv).unwrap();
    assert!(s.payloads.is_empty());
    assert_eq!((s.version, s.interface_version), (1, 0x15));
}

#[test]
fn failure_before_the_size_probe_has_no_sizes() {
    let hv = SimHypervisor::new(sample(), Config { livepatch: false, ..Config::default() });
    let f = snapshot_from(&hv).unwrap_err();
    assert_eq!(f.error.errno(), libc::ENOSYS);
    assert_eq!(f.sizes, None);
}

#[test]
fn failure_after_the_size_probe_keeps_the_probed_count() {
    let hv = SimHypervisor::new(sample(), Config::default());
    // Hypercalls 1 and 2: the version probe (0x16 refused, 0x15 answers the
    // sizes); 3: the data call.
    hv.sim().configure(|c| {
        c.inject.insert(3, libc::EAGAIN);
    });
    let f = snapshot_from(&hv).unwrap_err();
    assert_eq!(f.error, Error::Hypervisor { errno: libc::EAGAIN });
    assert_eq!(f.sizes.map(|s| s.nr), Some(2));
    assert_eq!(f.interface_version, Some(0x15));
}
