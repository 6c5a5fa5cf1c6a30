//! Caller buffers with canaries, and a consistent-snapshot check, shared by
//! the hardening tests.

#![allow(dead_code)]

use xc_livepatch::abi::xen_livepatch_status;
use xc_livepatch::list::{self, Listing, Out, Output};
use xc_livepatch::sim::Payload;
use xc_livepatch::{Error, Hypervisor};

pub const GUARD: usize = 16;
pub const POISON: u8 = 0xA5;
pub const P32: u32 = 0xA5A5_A5A5;
pub const PSTATUS: xen_livepatch_status = xen_livepatch_status { state: P32, rc: P32 as i32 };

pub struct Bufs {
    pub info: Vec<xen_livepatch_status>,
    pub name: Vec<u8>,
    pub len: Vec<u32>,
    pub meta: Vec<u8>,
    pub mlen: Vec<u32>,
    pub max: usize,
    pub name_cap: usize,
    pub meta_cap: usize,
}

impl Bufs {
    pub fn new(max: usize, name_cap: usize, meta_cap: usize) -> Bufs {
        Bufs {
            info: vec![PSTATUS; max + 2 * GUARD],
            name: vec![POISON; name_cap + 2 * GUARD],
            len: vec![P32; max + 2 * GUARD],
            meta: vec![POISON; meta_cap + 2 * GUARD],
            mlen: vec![P32; max + 2 * GUARD],
            max,
            name_cap,
            meta_cap,
        }
    }

    pub fn list<H: Hypervisor>(&mut self, hv: &H, start: u32) -> Result<Listing, Error> {
        let mut out = Output {
            info: Out::from_slice(&mut self.info[GUARD..GUARD + self.max]),
            name: Out::from_slice(&mut self.name[GUARD..GUARD + self.name_cap]),
            len: Out::from_slice(&mut self.len[GUARD..GUARD + self.max]),
            metadata: Out::from_slice(&mut self.meta[GUARD..GUARD + self.meta_cap]),
            metadata_len: Out::from_slice(&mut self.mlen[GUARD..GUARD + self.max]),
        };
        list::list(hv, start, &mut out)
    }

    pub fn assert_untouched_beyond(&self, done: usize, nb: usize, mb: usize) {
        let e = GUARD + done;
        assert!(self.info[..GUARD].iter().chain(&self.info[e..]).all(|s| *s == PSTATUS), "info written outside [0, done)");
        assert!(self.len[..GUARD].iter().chain(&self.len[e..]).all(|&x| x == P32), "len written outside [0, done)");
        assert!(self.mlen[..GUARD].iter().chain(&self.mlen[e..]).all(|&x| x == P32), "metadata_len written outside [0, done)");
        assert!(self.name[..GUARD].iter().chain(&self.name[GUARD + nb..]).all(|&b| b == POISON), "name written outside");
        assert!(self.meta[..GUARD].iter().chain(&self.meta[GUARD + mb..]).all(|&b| b == POISON), "metadata written outside");
    }

    pub fn assert_untouched(&self) {
        self.assert_untouched_beyond(0, 0, 0);
    }

    /// The listed entries; panics if lengths and NULs are inconsistent.
    pub fn entries(&self, r: &Listing) -> Vec<Payload> {
        self.assert_untouched_beyond(r.done as usize, r.name_bytes as usize, r.metadata_bytes as usize);
        let (mut no, mut mo) = (GUARD, GUARD);
        let v: Vec<Payload> = (0..r.done as usize)
            .map(|i| {
                let l = self.len[GUARD + i] as usize;
                let ml = self.mlen[GUARD + i] as usize;
                assert!((1..=128).contains(&l), "len[{i}] = {l}");
                assert_eq!(self.name[no + l - 1], 0, "name {i} not NUL-terminated");
                let p = Payload::new(&self.name[no..no + l - 1], &self.meta[mo..mo + ml])
                    .with_state(self.info[GUARD + i].state, self.info[GUARD + i].rc);
                no += l;
                mo += ml;
                p
            })
            .collect();
        assert_eq!(no - GUARD, r.name_bytes as usize, "len[] do not add up");
        assert_eq!(mo - GUARD, r.metadata_bytes as usize, "metadata_len[] do not add up");
        v
    }
}

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
