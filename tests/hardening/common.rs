//! Caller buffers with canaries, and a consistent-snapshot check, shared by
//! the hardening tests.

#![allow(dead_code)]

use xc_livepatch::list;
use xc_livepatch::sim::{CallerBuffers, Payload};
use xc_livepatch::{Error, Hypervisor};

/// Caller buffers poisoned and between poisoned canaries.
pub type Bufs = CallerBuffers;

/// Metadata that names its payload, so a listing can be checked entry by
/// entry against what was uploaded under that name.
pub fn meta_for(name: &str) -> Vec<u8> {
    let mut m = format!("NAME={name}\0").into_bytes();
    // Vary the size with the name so offsets matter.
    let extra = name.bytes().map(usize::from).sum::<usize>() % 37;
    m.extend(std::iter::repeat_n(b'm', extra));
    m.push(0);
    m
}

pub fn payload(name: &str) -> Payload {
    Payload::new(name, meta_for(name))
}

/// A snapshot is consistent if every entry carries the metadata uploaded
/// under its name, state/rc are the uploaded ones, and no name repeats.
pub fn assert_consistent(ps: &[Payload]) {
    let mut seen = std::collections::HashSet::new();
    for p in ps {
        let name = String::from_utf8(p.name.clone()).expect("utf8 name");
        assert!(seen.insert(name.clone()), "duplicate {name}");
        assert_eq!(p.metadata, meta_for(&name), "metadata of {name}");
        assert_eq!((p.state, p.rc), (1, 0), "state of {name}");
    }
}

/// get_sizes, as a comparable value.
pub fn sizes_as_payloads<H: Hypervisor>(hv: &H) -> Result<Vec<Payload>, Error> {
    list::get_sizes(hv)
        .map(|s| vec![Payload::new(format!("{}/{}/{}", s.nr, s.name_total_size, s.metadata_total_size), "")])
}

/// A list call into canaried caller buffers: the entries on success, and on
/// failure a check that nothing was written.
pub fn list_canaried<H: Hypervisor>(
    hv: &H,
    max: usize,
    name_cap: usize,
    meta_cap: usize,
) -> Result<Vec<Payload>, Error> {
    let mut b = Bufs::new(max, name_cap, meta_cap);
    match b.list(hv, 0) {
        Ok(r) => Ok(b.entries(&r)),
        Err(e) => {
            b.assert_untouched();
            Err(e)
        }
    }
}

/// The Rust API (get_sizes + list), as comparable payloads.
pub fn api_as_payloads<H: Hypervisor>(hv: &H) -> Result<Vec<Payload>, Error> {
    xc_livepatch::list_from(hv).map(|v| v.iter().map(|p| Payload::new(p.name_bytes(), p.metadata_raw())).collect())
}
